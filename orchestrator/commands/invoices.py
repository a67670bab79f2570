"""`moneta invoices list|estimate`: a customer's mirrored invoices and their next one."""

from __future__ import annotations

from typing import Any

import typer

from agents.invoices.estimate import estimate_next_invoice
from core.clock import utcnow
from core.money import format_money
from db.repositories.invoices import invoices_of
from db.repositories.metering import resolve_customers
from orchestrator.commands.common import unit_of_work
from orchestrator.commands.output import emit_json, emit_table, fail

app = typer.Typer(no_args_is_help=True)
CustomerArg = typer.Argument(help="Our customer id or the Stripe customer id")


def _customer(session: Any, reference: str) -> int:
    found = resolve_customers(session, {reference}).get(reference)
    if found is None:
        fail(f"no customer {reference!r} (our id or Stripe id)")
    return found


@app.command("list")
def list_command(
    customer: str = CustomerArg,
    limit: int = typer.Option(20, min=1, max=1000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The customer's invoices as mirrored from Stripe, newest first."""
    with unit_of_work() as (_, session):
        rows = [
            {
                "invoice": row.stripe_invoice_id,
                "number": row.number,
                "status": row.status,
                "total": row.total,
                "amount_due": row.amount_due,
                "amount_paid": row.amount_paid,
                "currency": row.currency,
                "period_end": row.period_end,
            }
            for row in invoices_of(
                session, _customer(session, customer), limit=limit, starting_after=None
            )
        ]
    columns = ("invoice", "number", "status", "total", "amount_paid", "currency", "period_end")
    emit_table(rows, columns, as_json=as_json)


@app.command("estimate")
def estimate_command(
    customer: str = CustomerArg, as_json: bool = typer.Option(False, "--json")
) -> None:
    """The customer's next invoice, line by line (base, usage, overage, discount, tax)."""
    with unit_of_work() as (runtime, session):
        estimate = estimate_next_invoice(
            session, runtime.settings, _customer(session, customer), at=utcnow()
        )
    lines = [
        {
            "kind": line.kind,
            "description": line.description,
            "quantity": line.quantity,
            "amount": line.amount,
            "discount": line.discount,
            "tax": line.tax,
        }
        for line in estimate.lines
    ]
    if as_json:
        totals = ("subtotal", "discount", "tax", "total")
        emit_json(
            {"currency": estimate.currency, "lines": lines}
            | {name: getattr(estimate, name) for name in totals}
            | {"period_start": estimate.period_start, "period_end": estimate.period_end}
        )
        return
    emit_table(
        lines, ("kind", "description", "quantity", "amount", "discount", "tax"), as_json=False
    )
    currency = estimate.currency
    typer.echo(
        f"subtotal {format_money(estimate.subtotal, currency)}"
        f"  - discount {format_money(estimate.discount, currency)}"
        f"  + tax {format_money(estimate.tax, currency)}"
        f"  = total {format_money(estimate.total, currency)}  ({estimate.tax_note})"
    )
