"""The billing agent's `subscription.change`: call Stripe once, mirror its answer, gate refunds.

The change row is read in its own transaction and the Stripe key (`subscription-change:<id>`)
is claimed in the external-call ledger before the call; the task's session is touched only
after it (on SQLite its first write takes the lock the ledger's commits need). Stripe's answer
is mirrored like a webhook stamped with the time we got it, so a later webhook still wins and
an older one is stale. The refund a cancel-now implies is only requested: an operator decides.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from agents.approvals.service import request_refund
from agents.billing.subscription_events import announce_transition, mirror_subscription
from agents.context import AgentContext
from agents.ledger import DONE, claim_call, complete_call, fail_call
from agents.subscriptions import repository as repo
from agents.subscriptions.terms import CHANGEABLE_STATUSES
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, PermanentError, RetryableError
from db.models import ChangeStatus, Subscription, SubscriptionChange
from tools.stripe.gateway import (
    StripeGateway,
    StripeGatewayError,
    StripeNotFound,
    StripeRequestError,
)

REQUESTER = "agent:subscriptions"


def apply_subscription_change(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply one requested change; a change already settled is reported, not redone."""
    change_id = int(payload["change_id"])
    plan = _plan(ctx, change_id)
    if "failure" in plan:
        return _record_failed(ctx, change_id, plan["failure"])
    if "settled" in plan:
        return {"change_id": change_id, "status": plan["settled"]}
    claim = claim_call(
        ctx.database,
        key=plan["idempotency_key"],
        service="stripe",
        operation=f"subscription.{plan['action']}",
        request=plan,
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return _record_applied(ctx, change_id, claim.response or {})
    try:
        response = call_stripe(ctx.stripe, plan)
    except (StripeRequestError, StripeNotFound) as error:
        fail_call(ctx.database, claim, str(error))
        return _record_failed(ctx, change_id, f"Stripe refused the change: {error}")
    except Exception as error:
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        if isinstance(error, StripeGatewayError):
            raise RetryableError(f"subscription change {change_id}: {error}") from error
        raise
    complete_call(ctx.database, claim, response)
    return _record_applied(ctx, change_id, response)


def _plan(ctx: AgentContext, change_id: int) -> dict[str, Any]:
    """What to send, read in its own transaction; `settled` or `failure` when nothing is."""
    with ctx.database.transaction() as session:
        change = session.get(SubscriptionChange, change_id)
        if change is None:
            raise PermanentError(f"no subscription change {change_id}")
        if change.status != ChangeStatus.REQUESTED:
            return {"settled": change.status}
        subscription = session.get(Subscription, change.subscription_id)
        if subscription is None or subscription.status not in CHANGEABLE_STATUSES:
            status = subscription.status if subscription else "gone"
            return {"failure": f"the subscription is {status}"}
        return {
            "change_id": change.id,
            "action": change.action,
            "subscription": change.stripe_subscription_id,
            "price": change.preview.get("stripe_price_id"),
            "quantity": change.to_quantity,
            "proration_date": change.proration_date,
            "idempotency_key": f"subscription-change:{change.id}",
        }


def call_stripe(stripe: StripeGateway, plan: dict[str, Any]) -> dict[str, Any]:
    """The one Stripe call of the change's action, under the change's idempotency key."""
    sub, key, action = plan["subscription"], plan["idempotency_key"], plan["action"]
    match action:
        case "upgrade" | "downgrade":
            return stripe.change_subscription_plan(
                sub,
                price=plan["price"],
                quantity=plan["quantity"],
                # A downgrade lands at the period end: nothing is left to prorate.
                proration_behavior="create_prorations" if action == "upgrade" else "none",
                proration_date=plan["proration_date"],
                idempotency_key=key,
            )
        case "cancel_at_period_end" | "resume":
            cancel = action == "cancel_at_period_end"
            return stripe.set_cancel_at_period_end(sub, cancel=cancel, idempotency_key=key)
        case "cancel_now":
            return stripe.cancel_subscription(sub, idempotency_key=key)
        case "pause" | "unpause":
            behavior = "void" if action == "pause" else None
            return stripe.set_pause_collection(sub, behavior=behavior, idempotency_key=key)
    raise PermanentError(f"unknown subscription change action {action!r}")


def _record_applied(ctx: AgentContext, change_id: int, response: dict[str, Any]) -> dict[str, Any]:
    session = ctx.session
    change = repo.lock_change(session, change_id)
    if change is None or change.status != ChangeStatus.REQUESTED:
        return {"change_id": change_id, "status": change.status if change else "gone"}
    now = utcnow()
    kind = "deleted" if response.get("status") == "canceled" else "updated"
    event = {
        "id": f"moneta_change_{change_id}",
        "type": f"customer.subscription.{kind}",
        "created": int(now.timestamp()),
        "data": {"object": response},
    }
    mirrored = mirror_subscription(ctx, event)
    if mirrored.written.applied:
        announce_transition(ctx, event, mirrored)
    change.status, change.applied_at, change.updated_at = ChangeStatus.APPLIED, now, now
    if change.action == "cancel_now" and change.refund_amount > 0:
        _request_refund(ctx, change)
    return {"change_id": change_id, "status": change.status, "approval_id": change.approval_id}


def _request_refund(ctx: AgentContext, change: SubscriptionChange) -> None:
    """The unused time goes to the approval gate as a refund request; it never runs by itself."""
    subscription = ctx.session.get(Subscription, change.subscription_id)
    payment = repo.period_payment(ctx.session, subscription) if subscription else None
    if payment is None:
        change.failure_reason = "no payment of this subscription to refund"
        return

    def submit(
        session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None
    ) -> int | None:
        return ctx.submit(kind, payload, dedupe_key=dedupe_key)

    try:
        approval = request_refund(
            ctx.session,
            payment_ref=str(payment.id),
            amount=min(change.refund_amount, payment.amount - payment.amount_refunded),
            reason=f"unused time of subscription {change.stripe_subscription_id} "
            f"canceled at once (change {change.id})",
            requested_by=REQUESTER,
            submit=submit,
            settings=ctx.settings,
            origin="subscription_change",
        )
    except (Conflict, InvalidInput) as refused:
        change.failure_reason = f"refund not requested: {refused.code}: {refused.message}"
        return
    change.status, change.approval_id = ChangeStatus.AWAITING_APPROVAL, approval.id


def _record_failed(ctx: AgentContext, change_id: int, reason: str) -> dict[str, Any]:
    change = repo.lock_change(ctx.session, change_id)
    if change is not None and change.status == ChangeStatus.REQUESTED:
        change.status, change.failure_reason = ChangeStatus.FAILED, reason[:1000]
        change.updated_at = utcnow()
    return {"change_id": change_id, "status": "failed", "failure": reason}
