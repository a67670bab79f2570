"""`moneta wallet show|grant` and `moneta policy validate|explain` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from db.models import Approval, Task
from db.session import Database
from orchestrator.cli import app as moneta
from orchestrator.transport import StreamTransport
from tests.support.wallets import customer_with_tokens


def test_wallet_show_prints_the_balance_and_grant_only_asks_for_approval(
    cli_env: CliRunner, database: Database, transport: StreamTransport
) -> None:
    customer = customer_with_tokens(database, 1_200, stripe_id="cus_cli_wallet")
    shown = cli_env.invoke(moneta, ["wallet", "show", "cus_cli_wallet", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["balance"] == 1_200

    asked = cli_env.invoke(
        moneta,
        [
            "wallet",
            "grant",
            str(customer),
            "--tokens",
            "500",
            "--reason",
            "outage",
            "--requested-by",
            "ann",
            "--json",
        ],
    )
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.output)
    assert (answer["status"], answer["value"]) == ("pending", "USD 0.05")
    again = cli_env.invoke(moneta, ["wallet", "show", str(customer), "--json"])
    assert json.loads(again.output)["balance"] == 1_200  # nothing credited before approval
    with database.transaction() as session:
        approval = session.get(Approval, answer["approval_id"])
        assert approval is not None and approval.action == "wallet_grant"
        kinds = set(session.scalars(select(Task.kind)))
        assert "wallet.approval.start" in kinds

    missing = cli_env.invoke(moneta, ["wallet", "show", "cus_nobody"])
    assert missing.exit_code == 1 and "no customer 'cus_nobody'" in missing.output


def test_policy_validate_names_each_broken_rule_and_explain_shows_the_decider(
    cli_env: CliRunner, tmp_path: Path
) -> None:
    assert cli_env.invoke(moneta, ["policy", "validate"]).exit_code == 0
    broken = tmp_path / "policy.yaml"
    broken.write_text(
        "rules:\n  - {id: gate, priority: 1, outcome: {allow: false}}\n"
        "  - {id: vip, priority: 2, condition: {user.teir: pro}, outcome: {allow: true}}\n"
    )
    refused = cli_env.invoke(moneta, ["policy", "validate", str(broken)])
    assert refused.exit_code == 1
    assert "rule 'gate': a deny needs a 'reason'" in refused.output
    assert "rule 'vip': condition: unknown field 'user.teir'" in refused.output

    explained = cli_env.invoke(
        moneta,
        [
            "policy",
            "explain",
            "--asset",
            "dataset:market",
            "--action",
            "read",
            "--tier",
            "free",
            "--json",
        ],
    )
    assert explained.exit_code == 0, explained.output
    answer = json.loads(explained.output)
    assert answer["decision"]["rule_id"] == "paywall"
    decided = [r["rule"] for r in answer["rules"] if r["verdict"] == "decided"]
    assert decided == ["paywall"]
    unknown = cli_env.invoke(
        moneta, ["policy", "explain", "--asset", "model:ghost", "--action", "read"]
    )
    assert unknown.exit_code == 1 and "unknown asset 'model:ghost'" in unknown.output
