"""`moneta catalog sync` on the offline sandbox and localstripe: idempotent, prices immutable."""

from __future__ import annotations

from pathlib import Path

import stripe
from sqlalchemy import delete, select
from typer.testing import CliRunner

from agents.catalog.loader import load_catalog, parse_catalog
from agents.catalog.stripe_ids import price_key_for_stripe, stripe_price_id
from agents.catalog.sync import sync_catalog
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, Price, Product
from db.session import Database
from orchestrator.cli import app
from tests.support.localstripe import TEST_API_KEY
from tools.stripe.client import StripeClientGateway
from tools.stripe.sandbox import SandboxGateway

CATALOG = """
products:
  - key: pro
    name: Pro
    type: subscription
    prices:
      - {key: pro_monthly, currency: usd, revenue_model: recurring, unit_amount: 9900,
         interval: month}
  - key: seats
    name: Seats
    type: license
    prices:
      - key: seats_volume
        currency: usd
        revenue_model: tiered_volume
        meter: seats
        interval: month
        tiers:
          - {up_to: 10, unit_amount: "1000"}
          - {up_to: null, unit_amount: "800"}
  - key: pack
    name: Token pack
    type: service
    prices:
      - {key: pack_1m, currency: usd, revenue_model: fixed, unit_amount: 10000}
"""


def price_rows(database: Database) -> list[tuple[str | None, str | None, bool]]:
    with database.transaction() as s:
        rows = s.scalars(select(Price).order_by(Price.id))
        return [(p.key, p.stripe_price_id, p.active) for p in rows]


def sandbox_count(sandbox: SandboxGateway, resource: str) -> int:
    with sandbox._connect() as db:
        return int(
            db.execute("SELECT count(*) FROM objects WHERE resource = ?", (resource,)).fetchone()[0]
        )


def test_sandbox_sync_records_ids_and_a_second_run_creates_nothing(
    database: Database, tmp_path: Path
) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    shipped = load_catalog()
    first = sync_catalog(database, sandbox, shipped)
    assert {s.outcome for s in first.steps} == {"created"}
    assert sandbox_count(sandbox, "product") == len(shipped.products)
    assert sandbox_count(sandbox, "price") == sum(len(p.prices) for p in shipped.products)
    with database.transaction() as s:
        pro_monthly = stripe_price_id(s, "pro_monthly")
        assert price_key_for_stripe(s, pro_monthly) == "pro_monthly"
    stored = sandbox.get("price", pro_monthly)
    assert stored is not None
    assert stored["metadata"] == {"plan": "pro", "price_key": "pro_monthly"}
    assert (stored["unit_amount"], stored["recurring"]) == (9900, {"interval": "month"})
    assert "lookup_key" not in stored

    second = sync_catalog(database, sandbox, shipped)
    assert {s.outcome for s in second.steps} == {"unchanged"}
    assert sandbox_count(sandbox, "price") == sum(len(p.prices) for p in shipped.products)


def test_a_changed_amount_makes_a_new_price_and_archives_the_old_one(
    database: Database, tmp_path: Path
) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sync_catalog(database, sandbox, parse_catalog(CATALOG))
    with database.transaction() as s:
        old = stripe_price_id(s, "pro_monthly")
    raised = parse_catalog(CATALOG.replace("unit_amount: 9900", "unit_amount: 10900"))
    report = sync_catalog(database, sandbox, raised)
    changed = [(s.key, s.outcome) for s in report.steps if s.outcome != "unchanged"]
    assert changed == [("pro_monthly", "archived"), ("pro_monthly", "created")]
    with database.transaction() as s:
        new = stripe_price_id(s, "pro_monthly")
        assert price_key_for_stripe(s, old) == "pro_monthly"  # old subscriptions still map
    assert new != old
    assert sandbox.get("price", old)["active"] is False  # type: ignore[index]
    assert sandbox.get("price", new)["unit_amount"] == 10900  # type: ignore[index]
    assert [r for r in price_rows(database) if r[0] == "pro_monthly"] == [
        ("pro_monthly", old, False),
        ("pro_monthly", new, True),
    ]


def test_a_rerun_after_losing_the_rows_gets_the_same_stripe_objects_back(
    database: Database, tmp_path: Path
) -> None:
    """A crash after Stripe answered but before our commit: the keys replay, no duplicates."""
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    catalog = parse_catalog(CATALOG)
    sync_catalog(database, sandbox, catalog)
    before = price_rows(database)
    with database.transaction() as s:
        s.execute(delete(Price))
        s.execute(delete(Product))
    sync_catalog(database, sandbox, catalog)
    assert price_rows(database) == before
    assert sandbox_count(sandbox, "price") == 3


def test_a_price_not_synced_yet_is_a_clear_not_found(database: Database) -> None:
    with database.transaction() as s:
        try:
            stripe_price_id(s, "pro_monthly")
        except NotFound as error:
            assert error.code == "price_not_synced"
        else:
            raise AssertionError("expected NotFound")


def test_localstripe_gets_plans_and_a_second_sync_creates_nothing(
    database: Database, localstripe: str
) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": localstripe})
    first = sync_catalog(database, gateway, parse_catalog(CATALOG))
    outcome = {(s.kind, s.key): (s.outcome, s.note) for s in first.steps}
    assert outcome[("price", "pro_monthly")] == ("created", "")
    assert outcome[("price", "seats_volume")] == ("created", "")
    skipped, note = outcome[("price", "pack_1m")]
    assert skipped == "skipped" and "one-time price needs the Prices API" in note
    plans = [plan.to_dict() for plan in client.v1.plans.list().data]
    assert len(plans) == 2
    seats = next(p for p in plans if p["metadata"]["price_key"] == "seats_volume")
    assert (seats["billing_scheme"], seats["tiers_mode"], seats["metadata"]["plan"]) == (
        "tiered",
        "volume",
        "seats",
    )
    assert len(client.v1.products.list().data) == 3

    second = sync_catalog(database, gateway, parse_catalog(CATALOG))
    assert {s.outcome for s in second.steps if s.key != "pack_1m"} == {"unchanged"}
    assert len(client.v1.plans.list().data) == 2

    with database.transaction() as s:
        old = stripe_price_id(s, "pro_monthly")
    raised = parse_catalog(CATALOG.replace("unit_amount: 9900", "unit_amount: 10900"))
    sync_catalog(database, gateway, raised)
    with database.transaction() as s:
        new = stripe_price_id(s, "pro_monthly")
    # localstripe stores an updated boolean as the form-encoded text it received.
    assert str(client.v1.plans.retrieve(old).active).lower() == "false"
    assert (client.v1.plans.retrieve(new).amount, client.v1.plans.retrieve(new).active) == (
        10900,
        True,
    )


def test_cli_sync_prints_what_it_did_and_dry_run_writes_nothing(
    cli_env: CliRunner, settings: Settings, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(CATALOG)
    dry = cli_env.invoke(app, ["catalog", "sync", "--file", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written: 6 created" in dry.output
    assert price_rows(database) == []

    done = cli_env.invoke(app, ["catalog", "sync", "--file", str(path)])
    assert done.exit_code == 0, done.output
    assert "offline sandbox" in done.output and "6 created" in done.output
    again = cli_env.invoke(app, ["catalog", "sync", "--file", str(path)])
    assert again.exit_code == 0 and "6 unchanged" in again.output
    assert len(price_rows(database)) == 3


def test_cli_checkout_prints_the_session_url_or_the_refusal(
    cli_env: CliRunner, database: Database
) -> None:
    assert cli_env.invoke(app, ["catalog", "sync"]).exit_code == 0
    with database.transaction() as s:
        customer = Customer(email="ada@example.com")
        s.add(customer)
        s.flush()
        customer_id = customer.id
    opened = cli_env.invoke(
        app, ["checkout", "create", "--customer", str(customer_id), "--price", "pro_monthly"]
    )
    assert opened.exit_code == 0, opened.output
    assert "subscription checkout cs_test_" in opened.output
    assert "14-day trial" in opened.output
    assert "/sandbox/checkout/cs_test_" in opened.output
    refused = cli_env.invoke(
        app, ["checkout", "create", "--customer", str(customer_id), "--price", "gold"]
    )
    assert refused.exit_code == 1 and "(unknown_price)" in refused.output
