"""Queries of a customer's mirrored invoices and their lines, newest first, by cursor."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Invoice, InvoiceLine


def invoices_of(
    session: Session, customer_id: int, *, limit: int, starting_after: Invoice | None
) -> Sequence[Invoice]:
    """Up to `limit` invoices of the customer, newest first, after the cursor invoice."""
    query = select(Invoice).where(Invoice.customer_id == customer_id)
    if starting_after is not None:
        query = query.where(Invoice.id < starting_after.id)
    return list(session.scalars(query.order_by(Invoice.id.desc()).limit(limit)))


def invoice_of_customer(
    session: Session, customer_id: int, stripe_invoice_id: str
) -> Invoice | None:
    return session.scalars(
        select(Invoice).where(
            Invoice.customer_id == customer_id, Invoice.stripe_invoice_id == stripe_invoice_id
        )
    ).one_or_none()


def lines_of(session: Session, stripe_invoice_ids: Sequence[str]) -> dict[str, list[InvoiceLine]]:
    """The mirrored lines of each invoice, in invoice order."""
    lines: dict[str, list[InvoiceLine]] = {invoice_id: [] for invoice_id in stripe_invoice_ids}
    rows = session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.stripe_invoice_id.in_(list(stripe_invoice_ids)))
        .order_by(InvoiceLine.stripe_invoice_id, InvoiceLine.position)
    )
    for row in rows:
        lines[row.stripe_invoice_id].append(row)
    return lines
