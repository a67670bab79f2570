"""`moneta dunning list|show|advance`: the dunning cases of unpaid invoices."""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import or_, select

from agents.dunning.schedule import ScheduleError, parse_schedule
from core.clock import utcnow
from db.models import DunningCase
from db.repositories.dunning import due_cases, list_cases
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.outbox import submit

app = typer.Typer(no_args_is_help=True)

COLUMNS = (
    "id",
    "invoice",
    "customer_id",
    "status",
    "amount_due",
    "currency",
    "step",
    "next_action",
    "next_due_at",
    "hard_decline",
)


def case_row(case: DunningCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "invoice": case.stripe_invoice_id,
        "customer_id": case.customer_id,
        "subscription": case.stripe_subscription_id,
        "status": case.status,
        "amount_due": case.amount_due,
        "currency": case.currency,
        "step": case.step,
        "next_action": case.next_action,
        "next_due_at": case.next_due_at,
        "hard_decline": case.hard_decline,
        "decline_code": case.decline_code,
        "restricted": case.restricted,
        "failed_at": case.failed_at,
        "closed_at": case.closed_at,
        "recovered_amount": case.recovered_amount,
        "days_to_recover": case.days_to_recover,
        "hosted_invoice_url": case.hosted_invoice_url,
    }


@app.command("list")
def list_command(
    status: str | None = typer.Option(
        None, help="open, recovered, voided, subscription_canceled or canceled"
    ),
    limit: int = typer.Option(100, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Dunning cases, newest first."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            rows = [case_row(c) for c in list_cases(session, status=status, limit=limit)]
    finally:
        runtime.close()
    emit_table(rows, COLUMNS, as_json=as_json)


@app.command("show")
def show_command(reference: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """One case, by its id or its invoice's Stripe id, with the schedule it follows."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            match = DunningCase.stripe_invoice_id == reference
            if reference.isdigit():
                match = or_(match, DunningCase.id == int(reference))
            case = session.scalars(select(DunningCase).where(match)).first()
            row = case_row(case) if case is not None else None
        schedule = runtime.settings.dunning_schedule
    finally:
        runtime.close()
    if row is None:
        fail(f"no dunning case {reference!r}")
    row["schedule"] = schedule
    if as_json:
        emit_json(row)
        return
    for key, value in row.items():
        typer.echo(f"{key:>18}: {'-' if value is None else value}")


@app.command("advance")
def advance_command() -> None:
    """Queue the sweep that carries out every due step now (the scheduler does it every
    15 minutes); workers run it. Checks the schedule setting first."""
    runtime = cli_runtime()
    try:
        try:
            parse_schedule(runtime.settings.dunning_schedule)
        except ScheduleError as exc:
            fail(str(exc))
        now = utcnow()
        with runtime.database.transaction() as session:
            task_id = submit(
                session, "dunning.advance", {}, dedupe_key=f"dunning.advance:cli:{now.isoformat()}"
            )
            due = due_cases(session, now)
    finally:
        runtime.close()
    typer.echo(f"queued task {task_id}: {len(due)} case(s) have a step due")
