"""The payout graph: plan -> await_approval (a durable interrupt) -> accept_decision ->
execute (Connect transfer or recorded manual payout) -> record, or -> record_failure.

Like the refund graph: the approvals table holds the decision, the external-call ledger makes
the transfer happen once, nothing touches the task's session before the Stripe call, and the
journal entry, the payout's `paid` status and the approval's `executed` commit together with
the task. A failed transfer leaves the journal untouched; `retry_payout` runs it again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.approvals import repository as approvals
from agents.context import AgentContext
from agents.ledger import DONE, claim_call, complete_call, fail_call
from agents.ledger_journal import rules as posting
from agents.ledger_journal.balances import payable_balance
from agents.ledger_journal.writer import post
from agents.money_graph import drive_money_graph
from agents.notification.requests import notify
from agents.payouts import repository as repo
from agents.payouts.payees import ACTIVE
from agents.payouts.rules import APPROVED, EXPIRED, FAILED, PAID, PENDING_APPROVAL, REJECTED
from core.clock import utcnow
from core.errors import PermanentError, RetryableError
from core.money import format_money
from db.audit import record_audit
from db.models import Approval, ApprovalStatus, Payee
from tools.stripe.gateway import StripeGatewayError, StripeNotFound, StripeRequestError

S = ApprovalStatus
ACTOR = "agent:ledger"
_CLOSED_BY = {S.REJECTED: REJECTED, S.EXPIRED: EXPIRED}


class PayoutState(TypedDict, total=False):
    approval_id: int
    plan: dict[str, Any]  # payout, payee, amounts, idempotency key: fixed before the gate
    decision: str  # the approval's status when the graph resumed
    transfer: dict[str, Any]  # Stripe's transfer, or the record of a manual payout
    failure: str  # why nothing was paid


def plan_payout(state: PayoutState, runtime: Runtime[AgentContext]) -> PayoutState:
    """Fix what will be paid, to whom, under which key, before anyone decides."""
    with runtime.context.database.transaction() as session:
        payout = repo.payout_for_approval(session, state["approval_id"])
        if payout is None:
            raise PermanentError(f"approval {state['approval_id']} has no payout")
        plan = {
            "payout_id": payout.id,
            "payee_id": payout.payee_id,
            "party": payout.party,
            "account": payout.account,
            "currency": payout.currency,
            "amount": payout.amount,
            "fee": payout.fee,
            "net": payout.net,
            "idempotency_key": payout.idempotency_key or f"payout:{payout.id}",
        }
    return {"plan": plan}


def await_approval(state: PayoutState) -> PayoutState:
    """The human gate. Only interrupts: LangGraph re-runs this node from the top on resume."""
    return {"decision": interrupt({"approval_id": state["approval_id"]})}


def accept_decision(state: PayoutState, runtime: Runtime[AgentContext]) -> PayoutState:
    """Carry the decision onto the payout; a refused one ends and frees the payee's balance."""
    decision, payout_id = state["decision"], state["plan"]["payout_id"]
    target = APPROVED if decision == S.APPROVED else _CLOSED_BY.get(decision)
    if target is not None:
        with runtime.context.database.transaction() as session:
            repo.move_status(session, payout_id, PENDING_APPROVAL, target)
    return {}


def execute_payout(state: PayoutState, runtime: Runtime[AgentContext]) -> PayoutState:
    """Claim the key, re-check the payee and balance, then transfer exactly once."""
    ctx, plan = runtime.context, state["plan"]
    claim = claim_call(
        ctx.database,
        key=plan["idempotency_key"],
        service="stripe",
        operation="create_transfer",
        request=plan,
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return {"transfer": claim.response or {}}
    try:
        blocked, destination = _drift(ctx, plan)
        if blocked is not None:
            fail_call(ctx.database, claim, blocked)
            return {"failure": blocked}
        if destination is None:
            transfer = {"id": None, "method": "manual", "amount": plan["net"]}
        else:
            transfer = {
                **ctx.stripe.create_transfer(
                    destination=destination,
                    amount=plan["net"],
                    currency=plan["currency"],
                    idempotency_key=plan["idempotency_key"],
                    metadata={"payout_id": str(plan["payout_id"]), "party": plan["party"]},
                ),
                "method": "transfer",
            }
    except (StripeRequestError, StripeNotFound) as error:
        fail_call(ctx.database, claim, str(error))
        return {"failure": f"Stripe refused the transfer: {error}"}
    except Exception as error:
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        if isinstance(error, StripeGatewayError):
            raise RetryableError(f"payout {claim.key}: {error}") from error
        raise
    complete_call(ctx.database, claim, transfer)
    return {"transfer": transfer}


def _drift(ctx: AgentContext, plan: dict[str, Any]) -> tuple[str | None, str | None]:
    """(why not, None) when the payout may no longer go; else (None, Connect account or None)."""
    with ctx.database.transaction() as session:
        payee = session.get(Payee, plan["payee_id"])
        if payee is None or payee.status != ACTIVE:
            status = payee.status if payee else "gone"
            return f"the payee {plan['party']} is {status}", None
        owed = payable_balance(session, plan["account"], plan["party"], plan["currency"])
        if owed < plan["amount"]:
            return f"the payable balance is now {owed}, less than {plan['amount']}", None
        return None, payee.stripe_account_id


def record_payout(state: PayoutState, runtime: Runtime[AgentContext]) -> PayoutState:
    """Post the journal entry, mark the payout paid and the approval executed, together."""
    session, plan, transfer = runtime.context.session, state["plan"], state["transfer"]
    draft = posting.payout_paid(
        dedupe_key=plan["idempotency_key"],
        amount=plan["amount"],
        fee=plan["fee"],
        currency=plan["currency"],
        payable=plan["account"],
        payee_party=plan["party"],
        data={"payout_id": plan["payout_id"], "transfer_id": transfer.get("id")},
    )
    entry_id = post(session, draft)
    now = utcnow()
    moved = repo.move_status(
        session,
        plan["payout_id"],
        APPROVED,
        PAID,
        transfer_id=transfer.get("id"),
        method=transfer.get("method"),
        entry_id=entry_id,
        paid_at=now,
    )
    summary = {
        "payout_id": plan["payout_id"],
        "transfer_id": transfer.get("id"),
        "net": plan["net"],
    }
    if moved:
        approvals.move_status(
            session, state["approval_id"], S.APPROVED, S.EXECUTED, executed_at=now, result=summary
        )
        record_audit(
            session,
            actor=ACTOR,
            action="payout.paid",
            subject_type="payout",
            subject_id=plan["payout_id"],
            data=summary,
        )
    return {}


def record_failure(state: PayoutState, runtime: Runtime[AgentContext]) -> PayoutState:
    """approved -> failed with the reason; the operators are told; the journal is untouched."""
    ctx, plan, reason = runtime.context, state["plan"], state["failure"]
    payout = repo.get_payout(ctx.session, plan["payout_id"])
    if repo.move_status(ctx.session, payout.id, APPROVED, FAILED, error=reason[:4000]):
        record_audit(
            ctx.session,
            actor=ACTOR,
            action="payout.failed",
            subject_type="payout",
            subject_id=payout.id,
            detail=reason,
        )
        amount = format_money(plan["net"], plan["currency"])
        notify(
            ctx,
            key=f"payout_failed:{payout.id}:{payout.attempts}",
            template="operator_alert",
            context={
                "title": f"payout {payout.id} of {amount} to {plan['party']} failed",
                "detail": f"{reason}\n\nRetry with the same key: moneta payouts retry "
                f"{payout.id} --operator NAME\nor give up: moneta payouts cancel {payout.id}",
            },
        )
    return {}


def _after_decision(state: PayoutState) -> str:
    return "execute_payout" if state.get("decision") == S.APPROVED else END


def _after_execute(state: PayoutState) -> str:
    return "record_payout" if "transfer" in state else "record_failure"


def build_payout_graph() -> StateGraph[PayoutState, AgentContext, PayoutState, PayoutState]:
    graph = StateGraph(PayoutState, context_schema=AgentContext)
    graph.add_node("plan_payout", plan_payout)
    graph.add_node("await_approval", await_approval)
    graph.add_node("accept_decision", accept_decision)
    graph.add_node("execute_payout", execute_payout)
    graph.add_node("record_payout", record_payout)
    graph.add_node("record_failure", record_failure)
    graph.add_edge(START, "plan_payout")
    graph.add_edge("plan_payout", "await_approval")
    graph.add_edge("await_approval", "accept_decision")
    graph.add_conditional_edges("accept_decision", _after_decision, ["execute_payout", END])
    graph.add_conditional_edges(
        "execute_payout", _after_execute, ["record_payout", "record_failure"]
    )
    graph.add_edge("record_payout", END)
    graph.add_edge("record_failure", END)
    return graph


_PAYOUT_GRAPH = build_payout_graph()


def advance_payout(ctx: AgentContext, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`payout.start`: run to the gate. `payout.resume`: go on as the tables say."""
    approval_id = int(payload["approval_id"])
    status, payout_status, thread_id = _statuses(ctx, approval_id)
    # Past the gate with no outcome (a retry, or a run cut short): transfer again from there.
    again = status == S.APPROVED and payout_status == APPROVED
    values = drive_money_graph(
        ctx,
        _PAYOUT_GRAPH,
        thread_id=thread_id,
        start={"approval_id": approval_id},
        resume_with=status if kind == "payout.resume" else None,
        rerun_from="execute_payout" if again else None,
    )
    return {
        "approval_id": approval_id,
        "decision": values.values.get("decision"),
        "paused": bool(values.interrupts),
        "transfer_id": values.values.get("transfer", {}).get("id"),
        "failure": values.values.get("failure"),
    }


def _statuses(ctx: AgentContext, approval_id: int) -> tuple[str, str, str]:
    with ctx.database.transaction() as session:
        approval = session.get(Approval, approval_id)
        payout = repo.payout_for_approval(session, approval_id)
        if approval is None or payout is None:
            raise PermanentError(f"no payout approval {approval_id}")
        return approval.status, payout.status, approval.thread_id or f"payout:{approval_id}"
