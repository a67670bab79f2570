"""Subscription changes for the API and CLI: preview, request, read. Callers own the transaction.

A request records a `subscription_changes` row (its idempotency key derived from the request)
and submits `subscription.change` to the billing agent in the same transaction; the agent
calls Stripe. A downgrade waits for the period end: its task is due `APPLY_LEAD` before it,
so the renewal already bills the new plan and no credit for the old one is ever given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.orm import Session

from agents.catalog.models import Catalog
from agents.subscriptions import repository as repo
from agents.subscriptions.planning import ChangeRequest, current_terms, plan_change
from agents.subscriptions.previews import ChangePreview
from core.clock import utcnow
from core.errors import Conflict, NotFound
from core.settings import Settings, get_settings
from db.models import ChangeStatus, Subscription, SubscriptionChange
from db.statements import insert_ignore

APPLY_LEAD = timedelta(hours=1)
CHANGE_TASK = "subscription.change"


class SubmitTask(Protocol):
    """`orchestrator.outbox.submit`'s shape: queue a task (optionally due later) in `session`."""

    def __call__(
        self,
        session: Session,
        kind: str,
        payload: dict[str, Any],
        *,
        dedupe_key: str | None = None,
        available_at: datetime | None = None,
    ) -> int | None: ...


def customer_subscription(session: Session, customer_id: int) -> Subscription:
    subscription = repo.customer_subscription(session, customer_id)
    if subscription is None:
        raise NotFound("the customer has no subscription", code="no_subscription")
    return subscription


def preview_change(
    session: Session,
    catalog: Catalog,
    subscription: Subscription,
    change: ChangeRequest,
    at: datetime,
    *,
    settings: Settings | None = None,
) -> ChangePreview:
    """The money of `change` at `at`, refused exactly as `request_change` would refuse it."""
    return plan_change(
        session, settings or get_settings(), catalog, subscription, change, at
    ).preview


def request_change(
    session: Session,
    catalog: Catalog,
    customer_id: int,
    change: ChangeRequest,
    *,
    client_key: str | None,
    requested_by: str,
    submit: SubmitTask,
    settings: Settings | None = None,
    at: datetime | None = None,
) -> SubscriptionChange:
    """Validate, record and hand the change to billing; the same request again returns the row.

    Without a `client_key`, the request is keyed to the subscription's mirrored state: a retry
    finds the same change, and once Stripe's answer changed the state it is a new request.
    """
    subscription = customer_subscription(session, customer_id)
    client_key = client_key or f"state:{subscription.stripe_watermark}"
    key = change.idempotency_key(subscription.stripe_subscription_id, client_key)
    if repo.change_by_key(session, key) is not None:
        return _recorded(session, key)
    at = (at or utcnow()).replace(microsecond=0)
    planned = plan_change(session, settings or get_settings(), catalog, subscription, change, at)
    _supersede_open_changes(session, subscription.id, at)
    preview = planned.preview
    values = dict(
        idempotency_key=key,
        customer_id=customer_id,
        subscription_id=subscription.id,
        stripe_subscription_id=subscription.stripe_subscription_id,
        action=preview.action,
        status=ChangeStatus.REQUESTED,
        from_price_key=planned.current.price_key,
        to_price_key=planned.target.price_key,
        from_quantity=planned.current.quantity,
        to_quantity=planned.target.quantity,
        currency=preview.currency,
        effective_at=preview.effective_at,
        proration_date=preview.proration_date,
        preview={**preview.as_dict(), "stripe_price_id": planned.stripe_price_id},
        refund_amount=preview.refund_amount,
        requested_by=requested_by,
        created_at=at,
        updated_at=at,
    )
    change_id = insert_ignore(session, SubscriptionChange, values)
    if change_id is None:  # the same request, recorded concurrently
        return _recorded(session, key)
    # Only a downgrade waits; other changes are sent now (a cancel at period end included).
    due = max(preview.effective_at - APPLY_LEAD, at) if preview.action == "downgrade" else None
    _submit_change_task(submit, session, change_id, due)
    return _recorded(session, key)


def _recorded(session: Session, key: str) -> SubscriptionChange:
    row = repo.change_by_key(session, key)
    if row is None:
        raise LookupError(f"subscription change {key} vanished")
    return row


def _submit_change_task(
    submit: SubmitTask, session: Session, change_id: int, due: datetime | None
) -> None:
    submit(
        session,
        CHANGE_TASK,
        {"change_id": change_id},
        dedupe_key=f"subscription-change:{change_id}",
        available_at=due,
    )


def _supersede_open_changes(session: Session, subscription_id: int, at: datetime) -> None:
    """A new request replaces a change waiting for the period end; one still running blocks it."""
    for open_change in repo.open_changes(session, subscription_id):
        if open_change.action != "downgrade":
            raise Conflict(
                f"change {open_change.id} is still being applied; try again shortly",
                code="change_in_progress",
            )
        open_change.status = ChangeStatus.SUPERSEDED
        open_change.updated_at = at


def subscription_view(session: Session, catalog: Catalog, customer_id: int) -> dict[str, Any]:
    """Current plan, status, period, and the change waiting to take effect, if any."""
    subscription = customer_subscription(session, customer_id)
    terms = current_terms(session, catalog, subscription)
    pending = repo.open_changes(session, subscription.id)
    return {
        "subscription": subscription.stripe_subscription_id,
        "status": subscription.status,
        "price": terms.price_key,
        "plan": subscription.plan,
        "quantity": subscription.quantity,
        "amount": terms.total,
        "currency": terms.currency,
        "interval": terms.interval,
        "current_period_start": _iso(subscription.current_period_start),
        "current_period_end": _iso(subscription.current_period_end),
        "cancel_at_period_end": subscription.cancel_at_period_end,
        "collection_paused": repo.collection_paused(session, subscription.id),
        "pending_change": change_view(pending[-1]) if pending else None,
    }


def change_view(change: SubscriptionChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "action": change.action,
        "status": change.status,
        "from_price": change.from_price_key,
        "to_price": change.to_price_key,
        "from_quantity": change.from_quantity,
        "to_quantity": change.to_quantity,
        "effective_at": change.effective_at.isoformat(),
        "refund_amount": change.refund_amount,
        "currency": change.currency,
        "approval_id": change.approval_id,
        "failure_reason": change.failure_reason,
        "preview": change.preview,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
