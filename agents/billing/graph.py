"""The billing agent: one LangGraph graph that routes each task kind to the node doing it."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.approvals.expiry import expire_due_approvals
from agents.approved_actions.graph import advance_action
from agents.billing.events import apply_stripe_event as apply_event
from agents.billing.reconcile import reconcile_events
from agents.billing.refunds import advance_refund
from agents.context import AgentContext, TaskInfo
from agents.subscriptions.apply import apply_subscription_change
from agents.task_graph import build_task_graph, context_of, run_task_graph


class BillingState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def apply_stripe_event(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": apply_event(context_of(config), state["payload"])}


def reconcile_with_stripe(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": reconcile_events(context_of(config), state["payload"])}


def run_refund(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": advance_refund(context_of(config), state["kind"], state["payload"])}


def run_approved_action(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": advance_action(context_of(config), state["kind"], state["payload"])}


def change_subscription(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": apply_subscription_change(context_of(config), state["payload"])}


def expire_approvals(state: BillingState, config: RunnableConfig) -> BillingState:
    return {"result": expire_due_approvals(context_of(config), state["payload"])}


NODE_FOR_KIND = {
    "stripe.event": "apply_stripe_event",
    "stripe.reconcile": "reconcile_with_stripe",
    "refund.start": "run_refund",
    "refund.resume": "run_refund",
    "approved_action.start": "run_approved_action",
    "approved_action.resume": "run_approved_action",
    "subscription.change": "change_subscription",
    "approvals.expire": "expire_approvals",
}


_GRAPH = build_task_graph(
    BillingState,
    {
        "apply_stripe_event": apply_stripe_event,
        "reconcile_with_stripe": reconcile_with_stripe,
        "run_refund": run_refund,
        "run_approved_action": run_approved_action,
        "expire_approvals": expire_approvals,
        "change_subscription": change_subscription,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one billing task through the graph, inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
