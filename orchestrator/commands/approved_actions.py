"""`moneta approvals request-charge|request-write-off`: ask for gated operator actions."""

from __future__ import annotations

import typer

from agents.approvals.views import approval_view
from agents.approved_actions.requests import request_manual_charge, request_write_off
from core.money import format_money as money
from orchestrator.commands.approvals import _unit_of_work
from orchestrator.commands.output import emit_json
from orchestrator.outbox import submit


def request_charge_command(
    customer: int = typer.Option(..., help="Our customer id"),
    amount: int = typer.Option(..., help="Amount in minor units (cents)"),
    currency: str = typer.Option(..., help="ISO currency code, e.g. usd"),
    description: str = typer.Option(..., help="The invoice line the customer sees"),
    reason: str = typer.Option(..., help="Why the customer is charged"),
    requested_by: str = typer.Option(..., help="Who asks (cannot approve it too)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask for a manual charge (an invoice paid at once): a pending approval."""
    with _unit_of_work() as (runtime, session):
        view = approval_view(
            request_manual_charge(
                session,
                customer_id=customer,
                amount=amount,
                currency=currency,
                description=description,
                reason=reason,
                requested_by=requested_by,
                submit=submit,
                settings=runtime.settings,
                origin="cli",
            )
        )
    _report(view, as_json)


def request_write_off_command(
    invoice: str = typer.Option(..., help="Stripe invoice id (in_...)"),
    reason: str = typer.Option(..., help="Why it will not be collected"),
    requested_by: str = typer.Option(..., help="Who asks (cannot approve it too)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask to write an open invoice off as uncollectible: a pending approval."""
    with _unit_of_work() as (runtime, session):
        view = approval_view(
            request_write_off(
                session,
                invoice=invoice,
                reason=reason,
                requested_by=requested_by,
                submit=submit,
                settings=runtime.settings,
                origin="cli",
            )
        )
    _report(view, as_json)


def _report(view: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(view)
        return
    amount = money(int(str(view["amount"])), str(view["currency"]))
    typer.echo(
        f"approval {view['id']} pending: {view['action']} of {amount} "
        f"needs {view['required_approvals']} approver(s); expires {view['expires_at']}"
    )


def register(approvals_app: typer.Typer) -> None:
    """Add the request commands to `moneta approvals`."""
    approvals_app.command("request-charge")(request_charge_command)
    approvals_app.command("request-write-off")(request_write_off_command)
