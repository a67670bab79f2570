"""Carry out one due step of a dunning case: a reminder, the restriction, or the cancel.

The task names the case and the step it was queued for; a case that moved on (paid, voided,
another worker did the step) makes it a no-op. Effects are keyed: the e-mail by
`dunning:<invoice>:<step>`, the provisioning sync by the case, the Stripe cancel by
`dunning_cancel:<invoice>` claimed in the external-call ledger before the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from agents.context import AgentContext
from agents.dunning.cases import (
    CLOSING_STATUS,
    PROVISIONING_SYNC,
    close,
    lift_restriction,
    schedule_of,
)
from agents.dunning.schedule import Schedule
from agents.ledger import DONE, claim_call, complete_call, fail_call
from agents.notification.requests import notify
from core.clock import utcnow
from core.errors import PermanentError, RetryableError
from db.models import DunningCase, DunningStatus, Invoice
from db.repositories import dunning as repo
from tools.stripe.gateway import StripeGatewayError, StripeNotFound, StripeRequestError


@dataclass(frozen=True)
class Settled:
    """The mirrored invoice is paid, void or uncollectible: how and when."""

    status: str
    at: datetime
    amount_paid: int


@dataclass(frozen=True)
class CaseView:
    """What a step needs of the case, read before any external call."""

    case_id: int
    stripe_invoice_id: str
    stripe_subscription_id: str | None
    hard_decline: bool
    settled: Settled | None


def run_step(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Do step `payload["step"]` of case `payload["case_id"]` if it is still the one due."""
    case_id, step = int(payload["case_id"]), int(payload["step"])
    schedule = schedule_of(ctx)
    view = _due_case(ctx, case_id, step)
    if view is None:
        return {"case_id": case_id, "step": step, "done": False}
    if view.settled is not None:
        return _close_settled(ctx, case_id, view.settled)
    current = schedule.step(step)
    if current is None:  # the schedule was shortened since: nothing left to do
        return {"case_id": case_id, "step": step, "done": False}
    action = current.action
    cancel = (
        _cancel_subscription(ctx, view)
        if action == "cancel" and view.stripe_subscription_id
        else {}
    )
    if view.hard_decline:  # the same key every step: Stripe replays it after the first
        _stop_collection(ctx, view.stripe_invoice_id)
    case = repo.lock_case(ctx.session, case_id)
    if case is None or case.status != DunningStatus.OPEN or case.step != step:
        return {"case_id": case_id, "step": step, "done": False}
    if action in ("remind", "final_notice"):
        _remind(ctx, case, step, final=action == "final_notice")
    elif action == "restrict" and case.stripe_subscription_id:
        case.restricted = True
        ctx.submit(
            PROVISIONING_SYNC,
            {"customer_id": case.customer_id},
            dedupe_key=f"dunning.restrict:{case.id}",
        )
    elif action == "cancel" and cancel:
        case.status = DunningStatus.CANCELED
        case.closed_at = utcnow()
    _advance(case, schedule.due_after(step, case.next_due_at or utcnow()), schedule, step)
    ctx.session.flush()
    return {"case_id": case_id, "step": step, "action": action, "done": True}


def _due_case(ctx: AgentContext, case_id: int, step: int) -> CaseView | None:
    """The case if `step` is still its due step, with its invoice if that got settled.

    Read in a short transaction of its own: the Stripe calls and the ledger claims that follow
    must not wait on the task's session, which holds the write lock on SQLite.
    """
    with ctx.database.transaction() as session:
        case = session.get(DunningCase, case_id)
        if case is None:
            raise PermanentError(f"no dunning case {case_id}")
        if case.status != DunningStatus.OPEN or case.step != step:
            return None
        if case.next_due_at is not None and case.next_due_at > utcnow():
            return None  # queued early (by hand): a sweep queues it again when due
        invoice = session.scalars(
            select(Invoice).where(Invoice.stripe_invoice_id == case.stripe_invoice_id)
        ).one_or_none()
        settled = None
        if invoice is not None and invoice.status in CLOSING_STATUS:
            settled = Settled(
                invoice.status,
                invoice.paid_at or invoice.updated_at or utcnow(),
                invoice.amount_paid,
            )
        return CaseView(
            case.id,
            case.stripe_invoice_id,
            case.stripe_subscription_id,
            case.hard_decline,
            settled,
        )


def _close_settled(ctx: AgentContext, case_id: int, settled: Settled) -> dict[str, Any]:
    """The invoice got paid or voided without its event closing the case (yet): close it now."""
    case = repo.lock_case(ctx.session, case_id)
    if case is not None and close(case, settled.status, settled.at, settled.amount_paid):
        lift_restriction(ctx, case)
        ctx.session.flush()
    return {"case_id": case_id, "closed": settled.status, "done": False}


def _remind(ctx: AgentContext, case: DunningCase, step: int, *, final: bool) -> None:
    notify(
        ctx,
        key=f"dunning:{case.stripe_invoice_id}:{step}",
        template="dunning_reminder",
        customer_id=case.customer_id,
        context={
            "amount": case.amount_due,
            "currency": case.currency,
            "hosted_invoice_url": case.hosted_invoice_url or "",
            "final": final,
            "days_overdue": max((utcnow() - case.failed_at).days, 0),
        },
    )


def _advance(case: DunningCase, next_due: datetime | None, schedule: Schedule, step: int) -> None:
    """Move the case past `step`: the next step and its due time, or none left."""
    case.step = step + 1
    following = schedule.step(step + 1)
    if case.status != DunningStatus.OPEN or following is None:
        case.next_action, case.next_due_at = None, None
        return
    case.next_action, case.next_due_at = following.action, next_due


def _stop_collection(ctx: AgentContext, stripe_invoice_id: str) -> None:
    """After a hard decline Stripe must not retry the card: turn off automatic collection."""
    try:
        ctx.stripe.stop_invoice_collection(
            invoice=stripe_invoice_id,
            idempotency_key=f"dunning_stop_collection:{stripe_invoice_id}",
        )
    except StripeGatewayError as exc:
        raise RetryableError(f"Stripe unreachable stopping {stripe_invoice_id}: {exc}") from exc
    except (StripeRequestError, StripeNotFound):
        pass  # already paid, voided or finalized without automatic collection: nothing to stop


def _cancel_subscription(ctx: AgentContext, view: CaseView) -> dict[str, Any]:
    """Cancel the subscription at Stripe once: claimed in the ledger, called with the same key."""
    assert view.stripe_subscription_id is not None
    key = f"dunning_cancel:{view.stripe_invoice_id}"
    claim = claim_call(
        ctx.database,
        key=key,
        service="stripe",
        operation="cancel_subscription",
        request={"subscription": view.stripe_subscription_id, "reason": "dunning"},
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return claim.response or {"id": view.stripe_subscription_id}
    try:
        canceled = ctx.stripe.cancel_subscription(view.stripe_subscription_id, idempotency_key=key)
    except StripeGatewayError as exc:
        fail_call(ctx.database, claim, f"{type(exc).__name__}: {exc}")
        raise RetryableError(f"cancel {view.stripe_subscription_id}: {exc}") from exc
    except (StripeRequestError, StripeNotFound) as exc:
        fail_call(ctx.database, claim, str(exc))
        raise PermanentError(
            f"Stripe refused to cancel {view.stripe_subscription_id}: {exc}"
        ) from exc
    except Exception as exc:
        fail_call(ctx.database, claim, f"{type(exc).__name__}: {exc}")
        raise
    complete_call(ctx.database, claim, canceled)
    return canceled
