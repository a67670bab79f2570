"""What an approved action will do, fixed before anyone decides: read from the approval row and
the details its request recorded. The Stripe idempotency key derives from the approval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import PermanentError
from db.models import Approval, AuditEntry, Customer, Subscription


class Unplannable(Exception):
    """The approval names something that cannot be acted on; recorded as its failure."""


def plan_action(session: Session, approval_id: int) -> dict[str, Any]:
    """The plan of approval `approval_id` (PermanentError if it does not exist)."""
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise PermanentError(f"no approval {approval_id}")
    plan: dict[str, Any] = {
        "action": approval.action,
        "approval_id": approval.id,
        "customer_id": approval.customer_id,
        "subject": approval.subject_id,
        "amount": approval.amount,
        "currency": approval.currency,
        "idempotency_key": f"approval:{approval.id}:{approval.action}",
    }
    details = _requested_details(session, approval)
    match approval.action:
        case "credit" | "manual_charge":
            plan["stripe_customer"] = _stripe_customer(session, approval.customer_id)
            plan["description"] = details.get("description") or approval.reason.splitlines()[0]
        case "extend_trial":
            plan["trial_end"] = _extended_trial_end(session, approval.subject_id, details)
        case "cancel" | "write_off" | "retry_task":
            pass
        case other:
            raise PermanentError(f"approval {approval.id}: no executor for {other!r}")
    return plan


def _requested_details(session: Session, approval: Approval) -> dict[str, Any]:
    """The details `request_action` kept in the request's audit entry (e.g. a trial's days)."""
    data = session.scalar(
        select(AuditEntry.data).where(
            AuditEntry.action == f"{approval.action}.requested",
            AuditEntry.subject_type == "approval",
            AuditEntry.subject_id == str(approval.id),
        )
    )
    return dict((data or {}).get("details") or {})


def _stripe_customer(session: Session, customer_id: int | None) -> str:
    customer = session.get(Customer, customer_id) if customer_id is not None else None
    if customer is None or not customer.stripe_customer_id:
        raise Unplannable(f"customer {customer_id} has no Stripe customer")
    return customer.stripe_customer_id


def _extended_trial_end(session: Session, subscription_id: str, details: dict[str, Any]) -> int:
    """The new trial end, from the trial end mirrored at request time plus the days asked."""
    days = details.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        raise Unplannable(f"a trial extension needs a positive number of days, got {days!r}")
    trial_end = session.scalar(
        select(Subscription.trial_end).where(Subscription.stripe_subscription_id == subscription_id)
    )
    if trial_end is None:
        raise Unplannable(f"subscription {subscription_id} has no trial to extend")
    return int((trial_end + timedelta(days=days)).timestamp())
