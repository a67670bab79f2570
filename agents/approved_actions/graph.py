"""The approved-action graph: plan -> await_approval (a durable interrupt) -> execute ->
record | record_failure, driven by `drive_money_graph` like refunds and payouts.

Execution claims `approval:<id>:<action>` in the external-call ledger (its own commit) before
Stripe is called with that key, so two resumes make one call and a Stripe 5xx is retried with
the same key. Until the call nothing touches the task's session; from `record` on, effects
join the task's unit of work, so a run rolled back is run again from `execute`. A retry of a
dead task is no Stripe call: it is a compare-and-set on the task, committed with the approval.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.approvals import repository as approvals
from agents.approvals.service import ACTION_RESUME
from agents.approved_actions.executors import execute
from agents.approved_actions.plans import Unplannable, plan_action
from agents.approved_actions.records import record_effects
from agents.context import AgentContext
from agents.ledger import DONE, RETAKEN, claim_call, complete_call, fail_call
from agents.money_graph import drive_money_graph
from agents.notification.requests import notify
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound, PermanentError, RetryableError
from db.audit import record_audit
from db.models import Approval, ApprovalStatus
from orchestrator.task_admin import retry_task
from tools.stripe.gateway import StripeGatewayError, StripeNotFound, StripeRequestError

S = ApprovalStatus
ACTOR = "agent:billing"


class ActionState(TypedDict, total=False):
    approval_id: int
    plan: dict[str, Any]  # fixed before the gate (plans.py)
    decision: str  # the approval's status in the table when the graph resumed
    response: dict[str, Any]  # Stripe's answer (or the retried task)
    failure: str  # why nothing was done


def plan(state: ActionState, runtime: Runtime[AgentContext]) -> ActionState:
    """Fix what will be done, and under which key, before anyone decides."""
    with runtime.context.database.transaction() as session:
        try:
            return {"plan": plan_action(session, state["approval_id"])}
        except Unplannable as problem:
            return {"plan": {"approval_id": state["approval_id"]}, "failure": str(problem)}


def await_approval(state: ActionState) -> ActionState:
    """The human gate. Only interrupts: LangGraph re-runs this node from the top on resume."""
    return {"decision": interrupt({"approval_id": state["approval_id"]})}


def execute_action(state: ActionState, runtime: Runtime[AgentContext]) -> ActionState:
    """Claim the approval's key, then carry the action out exactly once."""
    ctx, action_plan = runtime.context, state["plan"]
    if "failure" in state:
        return {}
    if action_plan["action"] == "retry_task":
        return _retry_dead_task(ctx, action_plan)
    claim = claim_call(
        ctx.database,
        key=action_plan["idempotency_key"],
        service="stripe",
        operation=f"approved_action.{action_plan['action']}",
        request=action_plan,
        stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
    )
    if claim.state == DONE:
        return {"response": claim.response or {}}
    try:
        outcome = execute(ctx.stripe, action_plan, retaken=claim.state == RETAKEN)
    except (StripeRequestError, StripeNotFound) as error:
        fail_call(ctx.database, claim, str(error))
        return {"failure": f"Stripe refused it: {error}"}
    except Exception as error:
        # Release the claim so the retry retakes it at once, with the same key.
        fail_call(ctx.database, claim, f"{type(error).__name__}: {error}")
        if isinstance(error, StripeGatewayError):
            raise RetryableError(f"{claim.key}: {error}") from error
        raise
    if outcome.response is None:
        fail_call(ctx.database, claim, outcome.refusal or "refused")
        return {"failure": outcome.refusal or "refused"}
    complete_call(ctx.database, claim, outcome.response)
    return {"response": outcome.response}


def _retry_dead_task(ctx: AgentContext, action_plan: dict[str, Any]) -> ActionState:
    """Dead -> pending, once: a task no longer dead (retried meanwhile) refuses."""
    task_id, approval_id = int(action_plan["subject"]), action_plan["approval_id"]
    try:
        task = retry_task(
            ctx.session, task_id, actor=ACTOR, reason=f"approved retry (approval {approval_id})"
        )
    except (Conflict, NotFound, InvalidInput) as refused:
        return {"failure": f"task {task_id} cannot be retried: {refused.message}"}
    return {"response": {"task_id": task.id, "kind": task.kind, "status": task.status}}


def record(state: ActionState, runtime: Runtime[AgentContext]) -> ActionState:
    """Mirror, post and tell, then mark the approval executed (a compare-and-set)."""
    ctx, action_plan, approval_id = runtime.context, state["plan"], state["approval_id"]
    summary = record_effects(ctx, action_plan, state["response"])
    if approvals.move_status(
        ctx.session, approval_id, S.APPROVED, S.EXECUTED, executed_at=utcnow(), result=summary
    ):
        record_audit(
            ctx.session,
            actor=ACTOR,
            action=f"{action_plan['action']}.executed",
            subject_type="approval",
            subject_id=approval_id,
            data=summary,
        )
    return {}


def record_failure(state: ActionState, runtime: Runtime[AgentContext]) -> ActionState:
    """approved -> failed with the reason, audited, and the operators told."""
    ctx, approval_id, reason = runtime.context, state["approval_id"], state["failure"]
    if not approvals.move_status(ctx.session, approval_id, S.APPROVED, S.FAILED, error=reason):
        return {}
    approval = ctx.session.get(Approval, approval_id)
    action = approval.action if approval else "action"
    record_audit(
        ctx.session,
        actor=ACTOR,
        action=f"{action}.failed",
        subject_type="approval",
        subject_id=approval_id,
        detail=reason,
    )
    notify(
        ctx,
        key=f"approval_failed:{approval_id}",
        template="operator_alert",
        context={
            "title": f"Approved {action} (approval {approval_id}) was not carried out",
            "detail": reason,
        },
    )
    return {}


def _after_gate(state: ActionState) -> str:
    return "execute_action" if state.get("decision") == S.APPROVED else END


def _after_execute(state: ActionState) -> str:
    return "record_failure" if "failure" in state else "record"


def build_action_graph() -> StateGraph[ActionState, AgentContext, ActionState, ActionState]:
    graph = StateGraph(ActionState, context_schema=AgentContext)
    graph.add_node("plan", plan)
    graph.add_node("await_approval", await_approval)
    graph.add_node("execute_action", execute_action)
    graph.add_node("record", record)
    graph.add_node("record_failure", record_failure)
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "await_approval")
    graph.add_conditional_edges("await_approval", _after_gate, ["execute_action", END])
    graph.add_conditional_edges("execute_action", _after_execute, ["record", "record_failure"])
    graph.add_edge("record", END)
    graph.add_edge("record_failure", END)
    return graph


_GRAPH = build_action_graph()


def advance_action(ctx: AgentContext, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """`approved_action.start`: run to the gate. `...resume`: go on as the approvals table says
    (a resume that finds no thread starts it first)."""
    approval_id = int(payload["approval_id"])
    with ctx.database.transaction() as session:
        approval = session.get(Approval, approval_id)
        if approval is None:
            raise PermanentError(f"no approval {approval_id}")
        status, thread_id = (
            approval.status,
            approval.thread_id or f"{approval.action}:{approval_id}",
        )
    snapshot = drive_money_graph(
        ctx,
        _GRAPH,
        thread_id=thread_id,
        start={"approval_id": approval_id},
        resume_with=status if kind == ACTION_RESUME else None,
        rerun_from="execute_action" if status == S.APPROVED else None,
    )
    values = snapshot.values
    return {
        "approval_id": approval_id,
        "decision": values.get("decision"),
        "paused": bool(snapshot.interrupts),
        "response_id": (values.get("response") or {}).get("id"),
        "failure": values.get("failure"),
    }
