"""`moneta affiliates|agencies ... --json` against the configured database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.cli import app


def run(cli: CliRunner, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_cli_creates_affiliates_and_brands_agencies_with_json_output(
    cli_env: CliRunner, tmp_path: Path
) -> None:
    affiliate = run(
        cli_env, "affiliates", "create", "--name", "Affi", "--email", "affi@example.com",
        "--rate-bps", "1500", "--actor", "alice", "--json",
    )  # fmt: skip
    assert affiliate["commission_rate_bps"] == 1_500 and len(affiliate["referral_code"]) == 12
    stats = run(cli_env, "affiliates", "stats", str(affiliate["id"]), "--json")
    assert (stats["clicks"], stats["signups"], stats["money"]) == (0, 0, {})
    again = cli_env.invoke(
        app, ["affiliates", "create", "--name", "A", "--email", "AFFI@example.com", "--actor", "a"]
    )
    assert again.exit_code == 1 and "already an affiliate" in again.output

    agency = run(
        cli_env, "agencies", "create", "--name", "Acme", "--email", "ops@acme.example",
        "--actor", "alice", "--json",
    )  # fmt: skip
    css = tmp_path / "brand.css"
    css.write_text("a{color:red}@import url(https://x.example/y.css);")
    brand = run(
        cli_env, "agencies", "brand", str(agency["id"]), "--name", "Acme",
        "--primary-color", "#ABCDEF", "--css-file", str(css), "--actor", "alice", "--json",
    )  # fmt: skip
    assert brand["primary_color"] == "#abcdef" and "@import" not in brand["custom_css"]
    shown = run(cli_env, "agencies", "show", str(agency["id"]), "--json")
    assert shown["clients"] == 0 and shown["mrr"] == {}
