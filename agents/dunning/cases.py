"""Open and close dunning cases from what billing reports about invoices.

A case is opened under a lock on the mirrored invoice, so a payment that lands at the same
moment either is seen here (no case) or closes the case right after. Every function is safe to
run again: a case is unique per invoice and only an open case changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agents.context import AgentContext
from agents.dunning.declines import failed_payment_decline
from agents.dunning.schedule import Schedule, ScheduleError, is_hard_decline, parse_schedule
from core.clock import utcnow
from core.errors import PermanentError
from db.models import DunningCase, DunningStatus
from db.repositories import dunning as repo

# Mirrored invoice status -> how its dunning case ends.
CLOSING_STATUS = {
    "paid": DunningStatus.RECOVERED,
    "void": DunningStatus.VOIDED,
    "uncollectible": DunningStatus.VOIDED,
}
STEP_TASK = "dunning.step"
PROVISIONING_SYNC = "provisioning.sync"


def schedule_of(ctx: AgentContext) -> Schedule:
    try:
        return parse_schedule(ctx.settings.dunning_schedule)
    except ScheduleError as exc:
        raise PermanentError(str(exc)) from None


def submit_step(ctx: AgentContext, case_id: int, step: int, due: datetime) -> None:
    """Queue step `step` of a case, due at `due`; the key makes every sweep queue it once.

    The due time is part of the key: a case whose step was re-timed (a hard decline) gets its
    task again, and the step itself only acts while the case still waits for it.
    """
    ctx.submit(
        STEP_TASK,
        {"case_id": case_id, "step": step},
        dedupe_key=f"{STEP_TASK}:{case_id}:{step}:{int(due.timestamp())}",
    )


def queue_due_steps(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The scheduled sweep: one step task per open case whose next step is due."""
    due = repo.due_cases(ctx.session, utcnow())
    for case_id, step, due_at in due:
        submit_step(ctx, case_id, step, due_at)
    return {"due": len(due)}


def open_case(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Start dunning the invoice (first failure), or jump to the final notice on a hard decline."""
    invoice_id = payload["stripe_invoice_id"]
    failed_at = datetime.fromisoformat(payload["failed_at"])
    schedule = schedule_of(ctx)
    invoice = repo.lock_invoice(ctx.session, invoice_id)
    if invoice is None:  # billing commits the invoice before it reports the failure
        raise PermanentError(f"invoice {invoice_id} is not mirrored")
    case = repo.case_for_invoice(ctx.session, invoice_id)
    if case is None:
        first = schedule.steps[0]
        repo.insert_case(
            ctx.session,
            {
                "stripe_invoice_id": invoice_id,
                "customer_id": invoice.customer_id,
                "stripe_subscription_id": invoice.stripe_subscription_id,
                "amount_due": invoice.amount_due,
                "currency": invoice.currency,
                "hosted_invoice_url": invoice.hosted_invoice_url,
                "status": DunningStatus.OPEN,
                "step": 0,
                "next_action": first.action,
                "next_due_at": failed_at + timedelta(days=first.day),
                "hard_decline": False,
                "restricted": False,
                "failed_at": failed_at,
                "created_at": utcnow(),
                "updated_at": utcnow(),
            },
        )
        case = repo.case_for_invoice(ctx.session, invoice_id)
        assert case is not None
    if invoice.status in CLOSING_STATUS:  # settled before this (late) report ran
        if close(case, invoice.status, invoice.paid_at or utcnow(), invoice.amount_paid):
            lift_restriction(ctx, case)
        return _summary(case)
    if case.status == DunningStatus.OPEN:
        case.amount_due, case.hosted_invoice_url = invoice.amount_due, invoice.hosted_invoice_url
        decline = failed_payment_decline(ctx, invoice_id, payload.get("payment_intent"))
        if decline and not case.hard_decline and is_hard_decline(*decline):
            jump_to_final_notice(case, schedule, decline[1], utcnow())
        # Due now (day 0, a final notice): no wait for the next sweep.
        if case.next_due_at is not None and case.next_due_at <= utcnow():
            submit_step(ctx, case.id, case.step, case.next_due_at)
    ctx.session.flush()
    return _summary(case)


def jump_to_final_notice(
    case: DunningCase, schedule: Schedule, decline_code: str | None, now: datetime
) -> None:
    """No more retries: the final notice is due now; later steps keep their spacing from it."""
    case.hard_decline = True
    case.decline_code = decline_code
    final = schedule.final_reminder()
    if final >= case.step:
        case.step = final
        case.next_action = schedule.steps[final].action
        case.next_due_at = now


def close(case: DunningCase, invoice_status: str, at: datetime, amount_paid: int) -> bool:
    """End an open case as the invoice status says; a paid one records the recovery."""
    if case.status != DunningStatus.OPEN:
        return False
    case.status = CLOSING_STATUS[invoice_status]
    case.closed_at = at
    case.next_action = case.next_due_at = None
    if case.status == DunningStatus.RECOVERED:
        case.recovered_amount = amount_paid
        case.days_to_recover = max((at - case.failed_at).days, 0)
    return True


def lift_restriction(ctx: AgentContext, case: DunningCase) -> None:
    """A closed case restricts no more: provisioning recomputes the customer's access."""
    if case.restricted:
        ctx.submit(
            PROVISIONING_SYNC,
            {"customer_id": case.customer_id},
            dedupe_key=f"dunning.unrestrict:{case.id}",
        )


def close_for_invoice(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The invoice was paid, voided or written off: stop its dunning at once."""
    case = repo.case_for_invoice(ctx.session, payload["stripe_invoice_id"])
    if case is None:
        return {"stripe_invoice_id": payload["stripe_invoice_id"], "status": None}
    at = datetime.fromisoformat(payload["at"])
    if close(case, payload["outcome"], at, int(payload["amount_paid"])):
        lift_restriction(ctx, case)
    ctx.session.flush()
    return _summary(case)


def close_for_subscription(ctx: AgentContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The subscription ended (canceled by anyone): its invoices' dunning stops."""
    at = datetime.fromisoformat(payload["at"])
    closed = []
    for invoice_id in repo.open_case_ids_of_subscription(
        ctx.session, payload["stripe_subscription_id"]
    ):
        case = repo.case_for_invoice(ctx.session, invoice_id)
        if case is not None and case.status == DunningStatus.OPEN:
            case.status = DunningStatus.SUBSCRIPTION_CANCELED
            case.closed_at = at
            case.next_action = case.next_due_at = None
            closed.append(invoice_id)
    ctx.session.flush()
    return {"stripe_subscription_id": payload["stripe_subscription_id"], "closed": closed}


def _summary(case: DunningCase) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "stripe_invoice_id": case.stripe_invoice_id,
        "status": case.status,
        "step": case.step,
        "next_action": case.next_action,
        "hard_decline": case.hard_decline,
    }
