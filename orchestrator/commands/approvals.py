"""`moneta approvals list|show|approve|reject` and `moneta refunds request`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy.orm import Session

from agents.approvals import service
from agents.approvals.views import approval_detail_view, approval_view
from core.errors import MonetaError
from core.money import format_money as money
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

app = typer.Typer(no_args_is_help=True)
refunds_app = typer.Typer(no_args_is_help=True)

COLUMNS = ("id", "status", "action", "amount", "subject", "requested_by", "approvers", "expires")


@contextmanager
def _unit_of_work() -> Iterator[tuple[Runtime, Session]]:
    """One transaction on the configured database; business errors become one clear line."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            yield runtime, session
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()


def _table_row(view: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": view["id"],
        "status": view["status"],
        "action": view["action"],
        "amount": money(view["amount"], view["currency"]),
        "subject": f"{view['subject_type']} {view['subject_id']}",
        "requested_by": view["requested_by"],
        "approvers": view["required_approvals"],
        "expires": view["expires_at"][:19].replace("T", " "),
    }


@app.command("list")
def list_command(
    status: str | None = typer.Option(None, help="pending, approved, rejected, expired, ..."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List approvals, newest first."""
    with _unit_of_work() as (_, session):
        views = [approval_view(a) for a in service.list_approvals(session, status)]
    if as_json:
        emit_json(views)
    else:
        emit_table([_table_row(v) for v in views], COLUMNS, as_json=False)


@app.command("show")
def show_command(approval_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one approval with every decision recorded on it."""
    with _unit_of_work() as (_, session):
        view = approval_detail_view(service.get_approval(session, approval_id))
    if as_json:
        emit_json(view)
        return
    _print_detail(view)


def _print_detail(view: dict[str, Any]) -> None:
    typer.echo(
        f"approval {view['id']}: {view['action']} of {money(view['amount'], view['currency'])}"
    )
    for key in (
        "status",
        "subject_id",
        "reason",
        "requested_by",
        "required_approvals",
        "created_at",
        "expires_at",
        "decided_at",
        "executed_at",
        "result",
        "error",
    ):
        typer.echo(f"  {key:>18}: {view[key] if view[key] is not None else '-'}")
    for d in view["decisions"]:
        typer.echo(
            f"  {d['decision']:>18}: {d['operator']} at {d['decided_at']}  {d['note'] or ''}"
        )


@app.command("approve")
def approve_command(
    approval_id: int,
    operator: str = typer.Option(..., help="Who approves (not the requester)"),
    note: str | None = typer.Option(None, help="Why, for the audit log"),
) -> None:
    """Approve a pending request; the last needed approval resumes its action in a worker."""
    _decide(approval_id, operator, approve=True, note=note)


@app.command("reject")
def reject_command(
    approval_id: int,
    operator: str = typer.Option(..., help="Who rejects"),
    reason: str = typer.Option(..., help="Why (required)"),
) -> None:
    """Reject a pending request; its graph ends without moving money."""
    _decide(approval_id, operator, approve=False, note=reason)


def _decide(approval_id: int, operator: str, *, approve: bool, note: str | None) -> None:
    with _unit_of_work() as (_, session):
        approval = service.decide(
            session,
            approval_id,
            operator=operator,
            approve=approve,
            note=note,
            submit=submit,
            origin="cli",
        )
        status, required, action = approval.status, approval.required_approvals, approval.action
    if status == "pending":
        typer.echo(
            f"approval {approval_id}: approval recorded; {required} distinct approvers needed"
        )
    elif approve:
        typer.echo(f"approval {approval_id} approved: a worker will now execute the {action}")
    else:
        typer.echo(f"approval {approval_id} rejected")


@refunds_app.command("request")
def request_command(
    payment: str = typer.Option(..., help="Payment: our id, Stripe charge or payment intent id"),
    amount: int = typer.Option(..., help="Amount in minor units (cents)"),
    reason: str = typer.Option(..., help="Why the customer is refunded"),
    requested_by: str = typer.Option(..., help="Who asks (cannot approve it too)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask for a refund: creates a pending approval that operators decide on."""
    with _unit_of_work() as (runtime, session):
        approval = service.request_refund(
            session,
            payment_ref=payment,
            amount=amount,
            reason=reason,
            requested_by=requested_by,
            submit=submit,
            settings=runtime.settings,
            origin="cli",
        )
        view = approval_view(approval)
    if as_json:
        emit_json(view)
        return
    typer.echo(
        f"approval {view['id']} pending: refund of {money(view['amount'], view['currency'])} "
        f"needs {view['required_approvals']} approver(s); expires {view['expires_at']}"
    )
