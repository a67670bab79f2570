"""`moneta subscriptions`: previews print the money and record nothing; changes are recorded
for the billing agent; refusals are one clear line with the machine code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from db.models import SubscriptionChange, Task
from db.session import Database
from orchestrator.cli import app as moneta
from tests.support.subscriptions import seed_subscription, seed_synced_prices

NOW = datetime.now(UTC).replace(microsecond=0)
PERIOD = (NOW - timedelta(days=10), NOW + timedelta(days=20))


def subscribe(database: Database) -> None:
    seed_synced_prices(database, {"starter_monthly": "price_s", "pro_monthly": "price_p"})
    seed_subscription(
        database,
        stripe_customer_id="cus_cli",
        stripe_subscription_id="sub_cli",
        stripe_price_id="price_s",
        plan="price_s",
        unit_amount=1_900,
        period=PERIOD,
    )


def counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        changes = session.scalar(select(func.count()).select_from(SubscriptionChange)) or 0
        tasks = session.scalar(
            select(func.count()).select_from(Task).where(Task.kind == "subscription.change")
        )
        return int(changes), int(tasks or 0)


def test_preview_prints_the_money_and_records_nothing(
    cli_env: CliRunner, database: Database
) -> None:
    subscribe(database)
    shown = cli_env.invoke(
        moneta, ["subscriptions", "preview", "--customer", "cus_cli", "--price", "pro_monthly"]
    )
    assert shown.exit_code == 0, shown.output
    assert "upgrade, effective" in shown.output and "next invoice: USD " in shown.output
    assert "Unused time on starter_monthly" in shown.output
    assert counts(database) == (0, 0)


def test_change_records_it_for_billing_and_show_reports_it(
    cli_env: CliRunner, database: Database
) -> None:
    subscribe(database)
    changed = cli_env.invoke(
        moneta,
        ["subscriptions", "change", "--customer", "cus_cli", "--quantity", "3", "--json"],
    )
    assert changed.exit_code == 0, changed.output
    body = json.loads(changed.output)
    assert (body["action"], body["to_quantity"], body["status"]) == ("upgrade", 3, "requested")
    assert counts(database) == (1, 1)

    shown = cli_env.invoke(moneta, ["subscriptions", "show", "--customer", "cus_cli"])
    assert "price: starter_monthly" in shown.output and "USD 19.00 per month" in shown.output


def test_cancel_now_preview_and_refusals(cli_env: CliRunner, database: Database) -> None:
    subscribe(database)
    preview = cli_env.invoke(
        moneta, ["subscriptions", "cancel", "--customer", "cus_cli", "--now", "--preview"]
    )
    assert preview.exit_code == 0 and "cancel_now" in preview.output

    unknown = cli_env.invoke(
        moneta, ["subscriptions", "change", "--customer", "cus_cli", "--price", "gold"]
    )
    resume = cli_env.invoke(moneta, ["subscriptions", "resume", "--customer", "cus_cli"])
    nobody = cli_env.invoke(moneta, ["subscriptions", "show", "--customer", "cus_nobody"])
    assert unknown.exit_code == 1 and "(unknown_price)" in unknown.output
    assert resume.exit_code == 1 and "(no_change)" in resume.output
    assert nobody.exit_code == 1 and "no customer" in nobody.output
    assert counts(database) == (0, 0)
