"""The refund graph: plan -> await_approval (a durable interrupt) -> execute -> record -> notify.

The approvals table is the truth: a resume reads the decision from it, not from the message.
Before the Stripe call nothing touches the task's session (on SQLite its first statement takes
the writer lock, which the ledger's own commits need); from `record_refund` on, effects join
the task's unit of work. Every step after the gate is idempotent, so a thread whose effects
were rolled back is simply run again from the gate.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt
from sqlalchemy import func, select, update

from agents.approvals import repository as approvals
from agents.billing.partner_tasks import request_clawback
from agents.billing.refundable import RefundBlock, refund_block
from agents.context import AgentContext
from agents.ledger import DONE, RETAKEN, Claim, claim_call, complete_call, fail_call
from agents.ledger_journal.stripe_postings import post_refund
from agents.money_graph import drive_money_graph
from core.clock import from_timestamp, utcnow
from core.errors import PermanentError, RetryableError
from db.audit import record_audit
from db.models import Approval, ApprovalStatus, Payment, Refund
from db.statements import insert_ignore
from tools.stripe.gateway import (
    IDEMPOTENCY_METADATA_KEY,
    StripeGatewayError,
    StripeNotFound,
    StripeRequestError,
)

S = ApprovalStatus
ACTOR = "agent:billing"


class RefundState(TypedDict, total=False):
    approval_id: int
    plan: dict[str, Any]  # payment, amount, currency, idempotency key: fixed before the gate
    decision: str  # the approval's status in the table when the graph resumed
    refund: dict[str, Any]  # Stripe's refund object
    failure: str  # why no refund was made


def plan_refund(state: RefundState, runtime: Runtime[AgentContext]) -> RefundState:
    """Fix what will be refunded, and under which idempotency key, before anyone decides."""
    with runtime.context.database.transaction() as session:
        approval = session.get(Approval, state["approval_id"])
        if approval is None:
            raise PermanentError(f"no approval {state['approval_id']}")
        payment = session.get(Payment, int(approval.subject_id))
        if payment is None:
            raise PermanentError(f"approval {approval.id}: payment {approval.subject_id} is gone")
        plan = {
            "payment_id": payment.id,
            "charge": payment.stripe_charge_id,
            "payment_intent": payment.stripe_payment_intent_id,
            "customer_id": approval.customer_id,
            "amount": approval.amount,
            "currency": approval.currency,
            "reason": approval.reason,
            "idempotency_key": f"refund:{approval.id}",
        }
    return {"plan": plan}


def await_approval(state: RefundState) -> RefundState:
    """The human gate. Only interrupts: LangGraph re-runs this node from the top on resume."""
    return {"decision": interrupt({"approval_id": state["approval_id"]})}


def execute_refund(state: RefundState, runtime: Runtime[AgentContext]) -> RefundState:
    """Claim the key, re-check the payment, then ask Stripe for the refund exactly once."""
    ctx, plan = runtime.context, state["plan"]
    claim = claim_call(
        ctx.database,
        key=plan["idempotency_key"],
        service="stripe",
        operation="create_refund",
        request=plan,
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return {"refund": claim.response or {}}
    try:
        return _refund_under_claim(ctx, plan, claim, state["approval_id"])
    except Exception as error:
        # Release the claim so the retry retakes it at once (and first looks for our refund).
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        if isinstance(error, StripeGatewayError):
            raise RetryableError(f"refund {claim.key}: {error}") from error
        raise


def _refund_under_claim(
    ctx: AgentContext, plan: dict[str, Any], claim: Claim, approval_id: int
) -> RefundState:
    if claim.state == RETAKEN:
        earlier = _refund_made_before(ctx, plan)
        if earlier is not None:
            complete_call(ctx.database, claim, earlier)
            return {"refund": earlier}
    block = _drift(ctx, plan)
    if block is not None:
        fail_call(ctx.database, claim, block.message)
        return {"failure": f"no longer refundable: {block.message}"}
    try:
        refund = ctx.stripe.create_refund(
            amount=plan["amount"],
            idempotency_key=plan["idempotency_key"],
            charge=plan["charge"],
            payment_intent=None if plan["charge"] else plan["payment_intent"],
            metadata={"approval_id": str(approval_id)},
        )
    except (StripeRequestError, StripeNotFound) as error:
        fail_call(ctx.database, claim, str(error))
        return {"failure": f"Stripe refused the refund: {error}"}
    complete_call(ctx.database, claim, refund)
    return {"refund": refund}


def _refund_made_before(ctx: AgentContext, plan: dict[str, Any]) -> dict[str, Any] | None:
    """A refund an earlier, interrupted attempt made with our key (found by its metadata)."""
    if not plan["charge"]:
        return None  # only the idempotency key itself can dedupe a payment-intent refund
    for refund in ctx.stripe.list_refunds(charge=plan["charge"]):
        if (refund.get("metadata") or {}).get(IDEMPOTENCY_METADATA_KEY) == plan["idempotency_key"]:
            return refund
    return None


def _drift(ctx: AgentContext, plan: dict[str, Any]) -> RefundBlock | None:
    """Drift guard: the payment as it is now must still allow this refund."""
    with ctx.database.transaction() as session:
        payment = session.get(Payment, plan["payment_id"])
        if payment is None:
            return RefundBlock("payment_missing", "the payment no longer exists")
        return refund_block(approvals.payment_facts(session, payment), plan["amount"])


def record_refund(state: RefundState, runtime: Runtime[AgentContext]) -> RefundState:
    """Store the refund, linked to its approval, and mark the approval executed."""
    session, plan, refund = runtime.context.session, state["plan"], state["refund"]
    approval_id = state["approval_id"]
    created = insert_ignore(
        session,
        Refund,
        {
            "stripe_refund_id": refund["id"],
            "payment_id": plan["payment_id"],
            "stripe_charge_id": refund.get("charge") or plan["charge"],
            "approval_id": approval_id,
            "amount": refund["amount"],
            "currency": refund.get("currency") or plan["currency"],
            "status": refund.get("status") or "succeeded",
            "reason": refund.get("reason"),
            "refunded_at": from_timestamp(refund["created"]) if refund.get("created") else utcnow(),
            "created_at": utcnow(),
        },
    )
    if created is None:  # the charge.refunded webhook got here first: link it
        session.execute(
            update(Refund)
            .where(Refund.stripe_refund_id == refund["id"], Refund.approval_id.is_(None))
            .values(approval_id=approval_id)
        )
    post_refund(session, refund["id"])
    _sync_amount_refunded(runtime.context, plan["payment_id"])
    charge_id = refund.get("charge") or plan["charge"]
    request_clawback(runtime.context, charge_id=charge_id, cause="refund", ref=refund["id"])
    summary = {
        "refund_id": refund["id"],
        "amount": refund["amount"],
        "status": refund.get("status"),
    }
    if approvals.move_status(
        session, approval_id, S.APPROVED, S.EXECUTED, executed_at=utcnow(), result=summary
    ):
        record_audit(
            session,
            actor=ACTOR,
            action="refund.executed",
            subject_type="approval",
            subject_id=approval_id,
            data=summary,
        )
    return {}


def _sync_amount_refunded(ctx: AgentContext, payment_id: int) -> None:
    """Count our refund at once (so new requests see it) without double-counting webhooks."""
    recorded = select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.payment_id == payment_id, Refund.status.in_(("succeeded", "pending"))
    )
    ctx.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.amount_refunded < recorded.scalar_subquery())
        .values(amount_refunded=recorded.scalar_subquery(), updated_at=utcnow())
    )


def notify_customer(state: RefundState, runtime: Runtime[AgentContext]) -> RefundState:
    """Queue the customer's 'refund issued' e-mail, once per Stripe refund."""
    ctx, plan, refund = runtime.context, state["plan"], state["refund"]
    if plan["customer_id"] is None:
        return {}  # a payment with no customer on file: nobody to write to
    key = f"refund_issued:{refund['id']}"
    ctx.submit(
        "notification.send",
        {
            "template": "refund_issued",
            "key": key,
            "to": None,  # the notification agent writes to the customer's address
            "customer_id": plan["customer_id"],
            "context": {
                "refund_id": refund["id"],
                "amount": refund["amount"],
                "currency": refund.get("currency") or plan["currency"],
                "charge": plan["charge"],
                "approval_id": state["approval_id"],
            },
        },
        dedupe_key=f"notify:{key}",
    )
    return {}


def record_failure(state: RefundState, runtime: Runtime[AgentContext]) -> RefundState:
    """approved -> failed with the reason, audited; `moneta approvals list` shows it."""
    ctx, approval_id, reason = runtime.context, state["approval_id"], state["failure"]
    if approvals.move_status(ctx.session, approval_id, S.APPROVED, S.FAILED, error=reason):
        record_audit(
            ctx.session,
            actor=ACTOR,
            action="refund.failed",
            subject_type="approval",
            subject_id=approval_id,
            detail=reason,
        )
    return {}


def _after_gate(state: RefundState) -> str:
    return "execute_refund" if state.get("decision") == S.APPROVED else END


def _after_execute(state: RefundState) -> str:
    return "record_refund" if "refund" in state else "record_failure"


def build_refund_graph() -> StateGraph[RefundState, AgentContext, RefundState, RefundState]:
    graph = StateGraph(RefundState, context_schema=AgentContext)
    graph.add_node("plan_refund", plan_refund)
    graph.add_node("await_approval", await_approval)
    graph.add_node("execute_refund", execute_refund)
    graph.add_node("record_refund", record_refund)
    graph.add_node("notify_customer", notify_customer)
    graph.add_node("record_failure", record_failure)
    graph.add_edge(START, "plan_refund")
    graph.add_edge("plan_refund", "await_approval")
    graph.add_conditional_edges("await_approval", _after_gate, ["execute_refund", END])
    graph.add_conditional_edges(
        "execute_refund", _after_execute, ["record_refund", "record_failure"]
    )
    graph.add_edge("record_refund", "notify_customer")
    graph.add_edge("notify_customer", END)
    graph.add_edge("record_failure", END)
    return graph


_REFUND_GRAPH = build_refund_graph()


def advance_refund(ctx: AgentContext, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`refund.start`: run to the gate. `refund.resume`: go on as the approvals table says."""
    approval_id = int(payload["approval_id"])
    status, thread_id = _approval_status(ctx, approval_id)
    values = drive_money_graph(
        ctx,
        _REFUND_GRAPH,
        thread_id=thread_id,
        start={"approval_id": approval_id},
        resume_with=status if kind == "refund.resume" else None,
        rerun_from="execute_refund" if status == S.APPROVED else None,
    )
    return {
        "approval_id": approval_id,
        "decision": values.values.get("decision"),
        "paused": bool(values.interrupts),
        "refund_id": values.values.get("refund", {}).get("id"),
        "failure": values.values.get("failure"),
    }


def _approval_status(ctx: AgentContext, approval_id: int) -> tuple[str, str]:
    with ctx.database.transaction() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise PermanentError(f"no approval {approval_id}")
        return approval.status, approval.thread_id or f"refund:{approval_id}"
