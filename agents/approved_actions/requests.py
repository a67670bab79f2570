"""Requests for the two actions operators ask for directly: a manual charge and a write-off.

Both are checked here (clear 4xx, nothing written when refused), then become pending approvals
whose graph waits at the gate (`request_action`). Callers own the transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.approvals.repository import OPEN_STATUSES
from agents.approvals.service import SubmitTask, request_action
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from db.models import Approval, Customer, Invoice

MAX_DESCRIPTION = 500


def request_manual_charge(
    session: Session,
    *,
    customer_id: int,
    amount: int,
    currency: str,
    description: str,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    origin: str | None = None,
) -> Approval:
    """Ask to charge `amount` minor units to the customer's default payment method, now."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidInput("a charge is a positive number of minor units", code="amount_invalid")
    currency = currency.strip().lower()
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(f"{currency!r} is no ISO currency code", code="currency_invalid")
    description = description.strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"a description of 1 to {MAX_DESCRIPTION} characters is required",
            code="description_invalid",
        )
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}", code="unknown_customer")
    if not customer.stripe_customer_id:
        raise Conflict(f"customer {customer_id} has no Stripe customer", code="no_stripe_customer")
    return request_action(
        session,
        action="manual_charge",
        subject_type="customer",
        subject_id=str(customer_id),
        customer_id=customer_id,
        amount=amount,
        currency=currency,
        reason=reason,
        requested_by=requested_by,
        submit=submit,
        settings=settings,
        origin=origin,
        details={"description": description},
    )


def request_write_off(
    session: Session,
    *,
    invoice: str,
    reason: str,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    origin: str | None = None,
) -> Approval:
    """Ask to write an open invoice off as uncollectible (what is still due on it)."""
    found = session.scalars(
        select(Invoice).where(Invoice.stripe_invoice_id == invoice.strip()).with_for_update()
    ).first()
    if found is None:
        raise NotFound(f"no invoice {invoice!r}", code="unknown_invoice")
    if found.status != "open":
        raise Conflict(f"invoice {invoice} is {found.status}, not open", code="invoice_not_open")
    due = found.amount_due - found.amount_paid
    if due <= 0:
        raise Conflict(f"nothing is due on invoice {invoice}", code="nothing_due")
    open_request = session.scalar(
        select(Approval.id).where(
            Approval.action == "write_off",
            Approval.subject_id == found.stripe_invoice_id,
            Approval.status.in_(OPEN_STATUSES),
        )
    )
    if open_request is not None:
        raise Conflict(
            f"approval {open_request} already asks to write invoice {invoice} off",
            code="already_requested",
        )
    return request_action(
        session,
        action="write_off",
        subject_type="invoice",
        subject_id=found.stripe_invoice_id,
        customer_id=found.customer_id,
        amount=due,
        currency=found.currency,
        reason=reason,
        requested_by=requested_by,
        submit=submit,
        settings=settings,
        origin=origin,
    )
