"""An agent that does nothing: the baseline for benchmarks and runtime tests."""

from __future__ import annotations

from typing import Any

from agents.context import AgentContext, TaskInfo
from orchestrator.runtime import effect_free


@effect_free
def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    if task.payload.get("fail_times", 0) >= task.attempt:
        raise RuntimeError(f"scripted failure on attempt {task.attempt}")
    return {"echo": task.payload.get("echo")}
