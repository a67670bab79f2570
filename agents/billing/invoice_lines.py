"""Invoice lines mirrored with their invoice: read from the event, or fetched when truncated.

The lines of an invoice are replaced as a whole, and only when the invoice snapshot itself was
applied (not older than the mirror): a late event never brings back lines Stripe dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from agents.billing.stripe_invoices import sum_of_amounts
from agents.billing.stripe_objects import expandable_id, snapshot_columns, sub_field, timestamp
from agents.context import AgentContext
from core.errors import RetryableError
from db.models import InvoiceLine
from db.statements import insert_ignore, insert_ignore_many
from tools.stripe.gateway import StripeGatewayError


@dataclass(frozen=True)
class LineSnapshot:
    """One invoice line; `columns()` matches db.models.InvoiceLine (minus keys)."""

    stripe_line_id: str
    description: str | None
    amount: int
    currency: str
    quantity: int
    period_start: datetime | None
    period_end: datetime | None
    proration: bool
    stripe_price_id: str | None
    stripe_subscription_id: str | None
    discount_amount: int
    tax_amount: int

    def columns(self) -> dict[str, Any]:
        return snapshot_columns(self, "stripe_line_id")


def _parent_detail(line: dict[str, Any], field: str) -> Any:
    """`field` of the endive parent (subscription item or invoice item details)."""
    for kind in ("subscription_item_details", "invoice_item_details"):
        value = sub_field(line, "parent", kind, field)
        if value is not None:
            return value
    return None


def read_line(line: dict[str, Any]) -> LineSnapshot:
    """An endive line (`pricing`, `parent`, `taxes`) or a legacy one (`plan`, `tax_amounts`)."""
    price = (
        sub_field(line, "pricing", "price_details", "price")
        or line.get("price")
        or line.get("plan")
    )
    proration = _parent_detail(line, "proration")
    taxes = line.get("taxes") if line.get("taxes") is not None else line.get("tax_amounts")
    return LineSnapshot(
        stripe_line_id=line["id"],
        description=line.get("description"),
        amount=int(line.get("amount") or 0),
        currency=(line.get("currency") or "usd").lower(),
        quantity=line["quantity"] if isinstance(line.get("quantity"), int) else 1,
        period_start=timestamp(sub_field(line, "period", "start")),
        period_end=timestamp(sub_field(line, "period", "end")),
        proration=bool(line.get("proration") if proration is None else proration),
        stripe_price_id=expandable_id(price),
        stripe_subscription_id=expandable_id(_parent_detail(line, "subscription"))
        or expandable_id(line.get("subscription")),
        discount_amount=sum_of_amounts(line.get("discount_amounts")) or 0,
        tax_amount=sum_of_amounts(taxes) or 0,
    )


def invoice_line_dicts(ctx: AgentContext, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Every line of the invoice: the event's list, or Stripe's when the list is truncated."""
    lines = invoice.get("lines") or {}
    if not lines.get("has_more"):
        return list(lines.get("data") or [])
    try:
        return ctx.stripe.list_invoice_lines(invoice=invoice["id"])
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable listing lines of {invoice['id']}: {exc}") from exc


def replace_invoice_lines(
    ctx: AgentContext, invoice: dict[str, Any], created: int, *, new_invoice: bool
) -> list[LineSnapshot]:
    """Make the invoice's mirrored lines those of `invoice` (a snapshot already applied).

    `new_invoice`: this unit of work inserted the invoice row, so it has no lines yet (lines
    are written here only, after their invoice): they are inserted in one statement, with no
    DELETE of stale lines and no read of existing ones.
    """
    invoice_id = invoice["id"]
    snapshots = [read_line(line) for line in invoice_line_dicts(ctx, invoice)]
    if new_invoice:
        rows = [
            {"stripe_line_id": s.stripe_line_id, "stripe_invoice_id": invoice_id}
            | s.columns()
            | {"position": position, "stripe_watermark": created}
            for position, s in enumerate(snapshots)
        ]
        insert_ignore_many(ctx.session, InvoiceLine, rows, "stripe_line_id")
        return snapshots
    keep = [s.stripe_line_id for s in snapshots]
    ctx.session.execute(
        delete(InvoiceLine).where(
            InvoiceLine.stripe_invoice_id == invoice_id,
            InvoiceLine.stripe_line_id.not_in(keep),
        )
    )
    existing = {
        row.stripe_line_id: row
        for row in ctx.session.scalars(
            select(InvoiceLine).where(InvoiceLine.stripe_line_id.in_(keep))
        )
    }
    for position, snapshot in enumerate(snapshots):
        values = {**snapshot.columns(), "position": position, "stripe_watermark": created}
        row = existing.get(snapshot.stripe_line_id)
        if row is None:
            insert_ignore(
                ctx.session,
                InvoiceLine,
                {"stripe_line_id": snapshot.stripe_line_id, "stripe_invoice_id": invoice_id}
                | values,
            )
        elif row.stripe_watermark <= created:
            for name, value in values.items():
                setattr(row, name, value)
    ctx.session.flush()
    return snapshots
