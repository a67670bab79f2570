"""`moneta usage record|show|check`: report usage, read a period's totals, check a limit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

import typer
from sqlalchemy.orm import Session

from agents.metering.ingest import ACCEPTED, record_usage
from agents.metering.limits import check
from agents.metering.meters import load_meters
from agents.metering.periods import parse_period, period_of
from agents.metering.summary import usage_summary
from agents.provisioning.plans import load_catalog
from core.clock import utcnow
from core.errors import MonetaError
from core.settings import Settings
from db.repositories.metering import resolve_customers
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)

SHOW_COLUMNS = ("metric", "used", "limit", "remaining", "percent_used", "unit")


@contextmanager
def _unit_of_work() -> Iterator[tuple[Settings, Session]]:
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            yield runtime.settings, session
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()


def _customer_id(session: Session, reference: str) -> int:
    found = resolve_customers(session, {reference}).get(reference)
    if found is None:
        fail(f"no customer {reference!r} (our id or Stripe id)")
    return found


@app.command("record")
def record_command(
    customer: str = typer.Option(..., help="Our customer id or Stripe id (cus_...)"),
    metric: str = typer.Option(...),
    idempotency_key: str = typer.Option(..., "--idempotency-key", help="Same key: counted once"),
    quantity: str = typer.Option("1"),
    timestamp: str | None = typer.Option(None, help="ISO 8601 with zone; default now"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Record one usage event (a repeated idempotency key is acknowledged, not counted)."""
    event = {
        "customer": customer,
        "metric": metric,
        "quantity": quantity,
        "idempotency_key": idempotency_key,
    }
    if timestamp:
        event["timestamp"] = timestamp
    with _unit_of_work() as (settings, session):
        result = record_usage(
            session, load_meters(settings.meters_file), [event], caller_customer_id=None
        )
    outcome = result.outcomes[0].as_dict()
    if outcome["status"] == "rejected":
        fail(f"{outcome['code']}: {outcome['detail']}")
    if as_json:
        emit_json(outcome)
        return
    counted = "counted" if outcome["status"] == ACCEPTED else "already recorded, not counted"
    typer.echo(f"{metric} +{quantity} for customer {customer}: {counted}")


@app.command("show")
def show_command(
    customer: str = typer.Option(..., help="Our customer id or Stripe id (cus_...)"),
    metric: str | None = typer.Option(None),
    period: str | None = typer.Option(None, help="YYYY-MM; default the current month"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A customer's usage per meter in a period, with the limit that applies."""
    now = utcnow()
    try:
        chosen = parse_period(period) if period else period_of(now)
    except ValueError as exc:
        fail(str(exc))
    with _unit_of_work() as (settings, session):
        rows = usage_summary(
            session,
            load_meters(settings.meters_file),
            load_catalog(settings.catalog_file),
            customer_id=_customer_id(session, customer),
            period=chosen,
            now=now,
            metric=metric,
        )
    table = [{**row, "limit": row["limit"]["limit"] or "unlimited"} for row in rows]
    emit_table(rows if as_json else table, SHOW_COLUMNS, as_json=as_json)


@app.command("check")
def check_command(
    customer: str = typer.Option(..., help="Our customer id or Stripe id (cus_...)"),
    metric: str = typer.Option(...),
    quantity: str = typer.Option("1"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Would `quantity` more of `metric` fit in this period's limit?"""
    try:
        amount = Decimal(quantity)
    except InvalidOperation:
        fail(f"quantity {quantity!r} is not a number")
    with _unit_of_work() as (settings, session):
        result = check(
            session,
            load_meters(settings.meters_file),
            load_catalog(settings.catalog_file),
            customer_id=_customer_id(session, customer),
            metric=metric,
            quantity=amount,
        )
    view = result.as_dict()
    if as_json:
        emit_json(view)
        return
    limit = view["limit"]["limit"]
    verdict = "allowed" if result.allowed else "refused"
    typer.echo(
        f"{verdict}: used {view['used']} of {limit if limit is not None else 'unlimited'} "
        f"({view['limit']['source']}, plan {view['limit']['plan']}), remaining {view['remaining']}"
    )
