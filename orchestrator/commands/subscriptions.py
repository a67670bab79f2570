"""`moneta subscriptions show|preview|change|cancel|resume|pause --customer ...`.

Each change prints its preview first; `--preview` stops there and records nothing. A change is
recorded and handed to the billing agent, which makes the Stripe call (run a worker).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from agents.catalog.loader import load_catalog
from agents.subscriptions.planning import ChangeRequest
from agents.subscriptions.previews import ChangePreview
from agents.subscriptions.service import (
    change_view,
    customer_subscription,
    preview_change,
    request_change,
    subscription_view,
)
from core.clock import utcnow
from core.money import format_money
from db.repositories.metering import resolve_customers
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.outbox import submit

app = typer.Typer(no_args_is_help=True)

CustomerOption = Annotated[str, typer.Option("--customer", help="Our customer id or Stripe id")]
PreviewOption = Annotated[bool, typer.Option("--preview", help="Show the money; change nothing")]
KeyOption = Annotated[
    str | None, typer.Option("--key", help="Idempotency key: the same key makes one change")
]
JsonOption = Annotated[bool, typer.Option("--json")]
LINE_COLUMNS = ("kind", "description", "amount", "start", "end")


@app.command("show")
def show_command(customer: CustomerOption, as_json: JsonOption = False) -> None:
    """The customer's plan, status, period and pending change."""
    with unit_of_work() as (runtime, session):
        view = subscription_view(
            session, load_catalog(runtime.settings.catalog_file), _customer_id(session, customer)
        )
    if as_json:
        emit_json(view)
        return
    for name in ("subscription", "status", "price", "quantity", "current_period_end"):
        typer.echo(f"{name}: {view[name]}")
    typer.echo(f"amount: {format_money(view['amount'], view['currency'])} per {view['interval']}")
    typer.echo(f"cancel_at_period_end: {view['cancel_at_period_end']}")
    typer.echo(f"collection_paused: {view['collection_paused']}")
    pending = view["pending_change"]
    typer.echo(
        f"pending: {pending['action']} -> {pending['to_price']}" if pending else "pending: -"
    )


@app.command("preview")
def preview_command(
    customer: CustomerOption,
    price: Annotated[str | None, typer.Option(help="Catalog price key to move to")] = None,
    quantity: Annotated[int | None, typer.Option(help="New quantity")] = None,
    as_json: JsonOption = False,
) -> None:
    """The money of a plan or quantity change, without making it (same as `change --preview`)."""
    _run(customer, ChangeRequest("plan", price, quantity), True, None, as_json)


@app.command("change")
def change_command(
    customer: CustomerOption,
    price: Annotated[str | None, typer.Option(help="Catalog price key to move to")] = None,
    quantity: Annotated[int | None, typer.Option(help="New quantity")] = None,
    preview: PreviewOption = False,
    key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Upgrade (now, prorated), downgrade (at the period end) or change the quantity."""
    _run(customer, ChangeRequest("plan", price, quantity), preview, key, as_json)


@app.command("cancel")
def cancel_command(
    customer: CustomerOption,
    now: Annotated[
        bool, typer.Option("--now", help="End it now (refund is approval-gated)")
    ] = False,
    preview: PreviewOption = False,
    key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cancel at the period end, or now with `--now`."""
    _run(customer, ChangeRequest("cancel", at_period_end=not now), preview, key, as_json)


@app.command("resume")
def resume_command(
    customer: CustomerOption,
    preview: PreviewOption = False,
    key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Undo a cancel at the period end, or resume paused collection."""
    _run(customer, ChangeRequest("resume"), preview, key, as_json)


@app.command("pause")
def pause_command(
    customer: CustomerOption,
    preview: PreviewOption = False,
    key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pause collection (invoices are voided until resumed)."""
    _run(customer, ChangeRequest("pause"), preview, key, as_json)


def _run(
    customer: str, change: ChangeRequest, preview: bool, key: str | None, as_json: bool
) -> None:
    with unit_of_work() as (runtime, session):
        catalog, settings = load_catalog(runtime.settings.catalog_file), runtime.settings
        customer_id = _customer_id(session, customer)
        subscription = customer_subscription(session, customer_id)
        money = preview_change(
            session,
            catalog,
            subscription,
            change,
            utcnow().replace(microsecond=0),
            settings=settings,
        )
        recorded = None
        if not preview:
            row = request_change(
                session,
                catalog,
                customer_id,
                change,
                client_key=key,
                requested_by="operator:cli",
                submit=submit,
                settings=settings,
            )
            recorded = change_view(row)
    if as_json:
        emit_json(recorded if recorded is not None else money.as_dict())
        return
    _print_preview(money)
    if recorded is not None:
        typer.echo(
            f"change {recorded['id']} ({recorded['action']}) {recorded['status']}: "
            "the billing agent applies it"
        )


def _print_preview(money: ChangePreview) -> None:
    data: dict[str, Any] = money.as_dict()
    typer.echo(f"{money.action}, effective {data['effective_at']}")
    if money.lines:
        rows = [
            {**line, "amount": format_money(line["amount"], money.currency)}
            for line in data["lines"]
        ]
        emit_table(rows, LINE_COLUMNS, as_json=False)
    typer.echo(f"due now: {format_money(money.amount_due_now, money.currency)}")
    when = data["next_invoice_date"] or "none"
    typer.echo(f"next invoice: {format_money(money.next_invoice_amount, money.currency)} on {when}")
    if money.refund_amount:
        refund = format_money(money.refund_amount, money.currency)
        typer.echo(f"refund to request (an operator approves it): {refund}")


def _customer_id(session: Session, reference: str) -> int:
    found = resolve_customers(session, {reference}).get(reference)
    if found is None:
        fail(f"no customer {reference!r} (our id or Stripe id)")
    return found
