"""The shape every queue-consuming agent shares: a graph whose entry routes a task's kind to
the node that does it. One builder and one runner, so each agent lists only its nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from core.errors import PermanentError

Node = Callable[[Any, RunnableConfig], Mapping[str, Any]]


def context_of(config: RunnableConfig) -> AgentContext:
    """The task's AgentContext, passed to every node through the run's configuration."""
    ctx: AgentContext = config["configurable"]["ctx"]
    return ctx


@dataclass(frozen=True)
class TaskGraph:
    """START -> the node `node_for_kind` names for the task's kind -> END.

    The route has one step, so it runs as one call of that node with LangGraph's node
    signature (state, config): Pregel's channels, tasks and stream loop cost ~1 ms of CPU per
    task and add nothing to a graph without checkpoints, retries, interrupts or fan-out.
    """

    state: type[Any]
    nodes: Mapping[str, Node]
    node_for_kind: Mapping[str, str]

    def run(self, ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
        name = self.node_for_kind.get(task.kind)
        if name is None:
            raise PermanentError(f"no node handles task kind {task.kind!r}")
        config: RunnableConfig = {"configurable": {"ctx": ctx}}
        update = self.nodes[name](self.state(kind=task.kind, payload=task.payload), config)
        result: dict[str, Any] | None = update.get("result")
        return result


def build_task_graph(
    state: type[Any], nodes: Mapping[str, Node], node_for_kind: Mapping[str, str]
) -> TaskGraph:
    """The routing graph of `state` over `nodes`; every routed-to node must exist."""
    missing = sorted(set(node_for_kind.values()) - set(nodes))
    if missing:
        raise ValueError(f"routes name nodes that do not exist: {missing}")
    return TaskGraph(state, dict(nodes), dict(node_for_kind))


def run_task_graph(graph: TaskGraph, ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one task through `graph` inside the task's unit of work; its result, if any."""
    return graph.run(ctx, task)
