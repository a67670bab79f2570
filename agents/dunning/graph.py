"""The dunning agent: opens a case when an invoice payment fails, walks it through the schedule
(reminders, restriction, cancel) and closes it the moment the invoice is paid or voided."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from agents.dunning.cases import (
    close_for_invoice,
    close_for_subscription,
    open_case,
    queue_due_steps,
)
from agents.dunning.steps import run_step
from agents.task_graph import build_task_graph, context_of, run_task_graph


class DunningState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def open_dunning_case(state: DunningState, config: RunnableConfig) -> DunningState:
    return {"result": open_case(context_of(config), state["payload"])}


def close_for_invoice_outcome(state: DunningState, config: RunnableConfig) -> DunningState:
    return {"result": close_for_invoice(context_of(config), state["payload"])}


def close_for_ended_subscription(state: DunningState, config: RunnableConfig) -> DunningState:
    return {"result": close_for_subscription(context_of(config), state["payload"])}


def queue_due(state: DunningState, config: RunnableConfig) -> DunningState:
    return {"result": queue_due_steps(context_of(config), state["payload"])}


def run_due_step(state: DunningState, config: RunnableConfig) -> DunningState:
    return {"result": run_step(context_of(config), state["payload"])}


NODE_FOR_KIND = {
    "dunning.payment_failed": "open_dunning_case",
    "dunning.invoice_closed": "close_for_invoice_outcome",
    "dunning.subscription_ended": "close_for_ended_subscription",
    "dunning.advance": "queue_due",
    "dunning.step": "run_due_step",
}

_GRAPH = build_task_graph(
    DunningState,
    {
        "open_dunning_case": open_dunning_case,
        "close_for_invoice_outcome": close_for_invoice_outcome,
        "close_for_ended_subscription": close_for_ended_subscription,
        "queue_due": queue_due,
        "run_due_step": run_due_step,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one dunning task through the graph, inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
