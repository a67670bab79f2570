"""A signed-in customer's invoices (mirrored from Stripe, with lines) and next-invoice estimate."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from agents.invoices.estimate import Estimate, estimate_next_invoice
from api.dependencies import RuntimeDep
from api.v1.customer_auth import CustomerDep
from core.clock import utcnow
from core.errors import NotFound
from db.models import Invoice, InvoiceLine
from db.repositories.invoices import invoice_of_customer, invoices_of, lines_of

router = APIRouter(prefix="/api/v1", tags=["invoices"])


class InvoiceLineOut(BaseModel):
    id: str
    description: str | None
    amount: int
    currency: str
    quantity: int
    period_start: datetime | None
    period_end: datetime | None
    proration: bool
    discount_amount: int
    tax_amount: int


class InvoiceOut(BaseModel):
    id: str
    number: str | None
    status: str
    currency: str
    subtotal: int | None
    discount: int | None
    tax: int | None
    total: int | None
    amount_due: int
    amount_paid: int
    hosted_invoice_url: str | None
    period_start: datetime | None
    period_end: datetime | None
    paid_at: datetime | None
    lines: list[InvoiceLineOut]


class InvoicePage(BaseModel):
    data: list[InvoiceOut]
    has_more: bool


class EstimateLineOut(BaseModel):
    kind: str
    description: str
    amount: int
    quantity: str | None
    discount: int
    tax: int
    period_start: datetime | None
    period_end: datetime | None


class EstimateOut(BaseModel):
    currency: str
    period_start: datetime | None
    period_end: datetime | None
    lines: list[EstimateLineOut]
    subtotal: int
    discount: int
    tax: int
    total: int
    tax_note: str


@router.get("/invoices")
def list_invoices(
    principal: CustomerDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    starting_after: Annotated[str | None, Query(max_length=255)] = None,
) -> InvoicePage:
    """Your invoices, newest first, each with its lines; page on with `starting_after=<id>`."""
    with runtime.database.transaction() as session:
        cursor = None
        if starting_after is not None:
            cursor = invoice_of_customer(session, principal.customer_id, starting_after)
            if cursor is None:
                raise NotFound(f"no invoice {starting_after} to page after", code="unknown_invoice")
        rows = invoices_of(session, principal.customer_id, limit=limit + 1, starting_after=cursor)
        page = rows[:limit]
        lines = lines_of(session, [row.stripe_invoice_id for row in page])
        data = [_invoice_out(row, lines[row.stripe_invoice_id]) for row in page]
    return InvoicePage(data=data, has_more=len(rows) > limit)


@router.get("/invoices/{invoice_id}")
def get_invoice(invoice_id: str, principal: CustomerDep, runtime: RuntimeDep) -> InvoiceOut:
    """One of your invoices with its lines (404 `unknown_invoice` for anyone else's)."""
    with runtime.database.transaction() as session:
        row = invoice_of_customer(session, principal.customer_id, invoice_id)
        if row is None:
            raise NotFound(f"no invoice {invoice_id}", code="unknown_invoice")
        return _invoice_out(row, lines_of(session, [invoice_id])[invoice_id])


@router.get("/billing/estimate")
def get_estimate(principal: CustomerDep, runtime: RuntimeDep) -> EstimateOut:
    """Your next invoice, line by line: base + usage + overage - discount + tax = total
    (404 `no_upcoming_invoice` when no subscription renews)."""
    with runtime.database.transaction() as session:
        estimate = estimate_next_invoice(
            session, runtime.settings, principal.customer_id, at=utcnow()
        )
    return _estimate_out(estimate)


def _invoice_out(row: Invoice, lines: list[InvoiceLine]) -> InvoiceOut:
    return InvoiceOut(
        id=row.stripe_invoice_id,
        number=row.number,
        status=row.status,
        currency=row.currency,
        subtotal=row.subtotal,
        discount=row.total_discount,
        tax=row.tax,
        total=row.total,
        amount_due=row.amount_due,
        amount_paid=row.amount_paid,
        hosted_invoice_url=row.hosted_invoice_url,
        period_start=row.period_start,
        period_end=row.period_end,
        paid_at=row.paid_at,
        lines=[
            InvoiceLineOut(
                id=line.stripe_line_id,
                description=line.description,
                amount=line.amount,
                currency=line.currency,
                quantity=line.quantity,
                period_start=line.period_start,
                period_end=line.period_end,
                proration=line.proration,
                discount_amount=line.discount_amount,
                tax_amount=line.tax_amount,
            )
            for line in lines
        ],
    )


def _estimate_out(estimate: Estimate) -> EstimateOut:
    return EstimateOut(
        currency=estimate.currency,
        period_start=estimate.period_start,
        period_end=estimate.period_end,
        lines=[
            EstimateLineOut(
                kind=line.kind,
                description=line.description,
                amount=line.amount,
                quantity=None if line.quantity is None else f"{line.quantity.normalize():f}",
                discount=line.discount,
                tax=line.tax,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in estimate.lines
        ],
        subtotal=estimate.subtotal,
        discount=estimate.discount,
        tax=estimate.tax,
        total=estimate.total,
        tax_note=estimate.tax_note,
    )
