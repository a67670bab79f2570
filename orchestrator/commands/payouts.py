"""`moneta payouts create|list|show|retry|cancel|payees|payee`: approval-gated payouts."""

from __future__ import annotations

from typing import Any

import typer

from agents.payouts import repository as repo
from agents.payouts import service
from agents.payouts.payees import list_payees, payee_view, update_payee
from core.money import format_money
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json, emit_table
from orchestrator.outbox import submit

app = typer.Typer(no_args_is_help=True)

COLUMNS = ("id", "status", "party", "amount", "fee", "net", "approval_id", "method")


def _row(view: dict[str, Any]) -> dict[str, Any]:
    money = {k: format_money(view[k], view["currency"]) for k in ("amount", "fee", "net")}
    return {**view, **money}


@app.command("create")
def create_command(
    requested_by: str = typer.Option(..., help="Who asks (cannot approve it too)"),
    party: str | None = typer.Option(None, help="Payee: owner:<id>, affiliate:<id>, agency:<id>"),
    process: int | None = typer.Option(None, help="Or a process: pays its owner"),
    currency: str | None = typer.Option(None, help="Needed when owed in several currencies"),
    amount: int | None = typer.Option(None, help="Minor units; default: all that is available"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Ask to pay a payee's payable balance: creates a pending approval."""
    with unit_of_work() as (runtime, session):
        view = service.payout_view(
            service.create_payout(
                session,
                requested_by=requested_by,
                submit=submit,
                party=party,
                process_id=process,
                currency=currency,
                amount=amount,
                settings=runtime.settings,
                origin="cli",
            )
        )
    if as_json:
        emit_json(view)
        return
    row = _row(view)
    typer.echo(
        f"payout {view['id']} to {view['party']}: {row['amount']}, fee {row['fee']}, net "
        f"{row['net']}; approval {view['approval_id']} pending "
        f"(moneta approvals approve {view['approval_id']} --operator NAME)"
    )


@app.command("list")
def list_command(
    status: str | None = typer.Option(None),
    party: str | None = typer.Option(None),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Payouts, newest first."""
    with unit_of_work() as (_, session):
        views = [
            service.payout_view(p)
            for p in service.list_payouts(session, status=status, party=party)
        ]
    if as_json:
        emit_json(views)
    else:
        emit_table([_row(v) for v in views], COLUMNS, as_json=False)


@app.command("show")
def show_command(payout_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One payout: amounts, status, approval, transfer and journal entry."""
    with unit_of_work() as (_, session):
        view = service.payout_view(repo.get_payout(session, payout_id))
    if as_json:
        emit_json(view)
        return
    for key, value in _row(view).items():
        typer.echo(f"{key:>16}: {value if value is not None else '-'}")


@app.command("retry")
def retry_command(
    payout_id: int,
    operator: str = typer.Option(..., help="Who retries"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run a failed payout's transfer again, with the same idempotency key."""
    with unit_of_work() as (_, session):
        view = service.payout_view(
            service.retry_payout(session, payout_id, operator=operator, submit=submit, origin="cli")
        )
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"payout {payout_id} approved again: a worker will retry the transfer")


@app.command("cancel")
def cancel_command(
    payout_id: int,
    operator: str = typer.Option(...),
    reason: str = typer.Option(..., help="Why (required)"),
) -> None:
    """Give up a failed payout; the balance stays payable."""
    with unit_of_work() as (_, session):
        service.cancel_payout(session, payout_id, operator=operator, reason=reason, origin="cli")
    typer.echo(f"payout {payout_id} canceled")


@app.command("payees")
def payees_command(
    kind: str | None = typer.Option(None, help="owner, affiliate or agency"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Everyone Moneta may owe money to."""
    with unit_of_work() as (_, session):
        views = [payee_view(p) for p in list_payees(session, kind)]
    emit_table(views, ("party", "status", "name", "fee_bps", "stripe_account_id"), as_json=as_json)


@app.command("payee")
def payee_command(
    party: str,
    operator: str = typer.Option(..., help="Who changes it, for the audit log"),
    status: str | None = typer.Option(None, help="active, on_hold or retired"),
    stripe_account: str | None = typer.Option(None, help="Connect account (acct_...); '' clears"),
    fee_bps: int | None = typer.Option(None, help="Platform fee override, basis points"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Hold or release a payee, set its Connect account or its platform fee."""
    with unit_of_work() as (_, session):
        view = payee_view(
            update_payee(
                session,
                party,
                actor=operator,
                status=status,
                stripe_account_id=stripe_account,
                fee_bps=fee_bps,
                origin="cli",
            )
        )
    if as_json:
        emit_json(view)
    else:
        typer.echo(f"{view['party']}: {view['status']}, account {view['stripe_account_id']}")
