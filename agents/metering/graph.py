"""The metering agent: one LangGraph graph routing each usage task kind to its node."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from agents.metering.alerts import raise_usage_alerts
from agents.metering.overage import bill_overage, close_period
from agents.task_graph import build_task_graph, context_of, run_task_graph


class MeteringState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def evaluate_alerts(state: MeteringState, config: RunnableConfig) -> MeteringState:
    return {"result": raise_usage_alerts(context_of(config), state["payload"])}


def close_usage_period(state: MeteringState, config: RunnableConfig) -> MeteringState:
    return {"result": close_period(context_of(config), state["payload"])}


def bill_usage_overage(state: MeteringState, config: RunnableConfig) -> MeteringState:
    return {"result": bill_overage(context_of(config), state["payload"])}


NODE_FOR_KIND = {
    "usage.evaluate_alerts": "evaluate_alerts",
    "usage.close_period": "close_usage_period",
    "usage.bill_overage": "bill_usage_overage",
}


_GRAPH = build_task_graph(
    MeteringState,
    {
        "evaluate_alerts": evaluate_alerts,
        "close_usage_period": close_usage_period,
        "bill_usage_overage": bill_usage_overage,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one metering task through the graph, inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
