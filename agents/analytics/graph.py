"""The analytics agent: records business events, writes daily snapshots and their narrative."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.analytics.daily import aggregate_day
from agents.analytics.events import record_event
from agents.analytics.narrative import write_narrative
from agents.context import AgentContext, TaskInfo
from agents.task_graph import build_task_graph, context_of, run_task_graph
from core.errors import PermanentError


class AnalyticsState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def record_business_event(state: AnalyticsState, config: RunnableConfig) -> AnalyticsState:
    return {"result": record_event(context_of(config).session, state["payload"])}


def _day(state: AnalyticsState) -> date:
    raw = state["payload"].get("day")
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise PermanentError(f"{state['kind']} needs day as YYYY-MM-DD, got {raw!r}") from None


def write_daily_snapshot(state: AnalyticsState, config: RunnableConfig) -> AnalyticsState:
    """Rewrite the day's snapshot, then ask for its narrative (once per day)."""
    ctx, day = context_of(config), _day(state)
    snapshots = aggregate_day(ctx.session, day)
    ctx.submit(
        "analytics.narrative", {"day": day.isoformat()}, dedupe_key=f"narrative:{day.isoformat()}"
    )
    return {"result": {"day": day.isoformat(), "snapshots": len(snapshots)}}


def write_day_narrative(state: AnalyticsState, config: RunnableConfig) -> AnalyticsState:
    return {"result": write_narrative(context_of(config), _day(state))}


NODE_FOR_KIND = {
    "analytics.record": "record_business_event",
    "analytics.daily": "write_daily_snapshot",
    "analytics.narrative": "write_day_narrative",
}


_GRAPH = build_task_graph(
    AnalyticsState,
    {
        "record_business_event": record_business_event,
        "write_daily_snapshot": write_daily_snapshot,
        "write_day_narrative": write_day_narrative,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one analytics task inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
