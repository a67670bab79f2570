"""The shape every queue-consuming agent shares: a graph whose entry routes a task's kind to
the node that does it. One builder and one runner, so each agent lists only its nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.context import AgentContext, TaskInfo


def context_of(config: RunnableConfig) -> AgentContext:
    """The task's AgentContext, passed to every node through the run's configuration."""
    ctx: AgentContext = config["configurable"]["ctx"]
    return ctx


def build_task_graph(
    state: type[Any], nodes: Mapping[str, Callable[..., Any]], node_for_kind: Mapping[str, str]
) -> Any:
    """START -> the node `node_for_kind` names for the task's kind -> END."""
    graph = StateGraph(state)
    for name, node in nodes.items():
        graph.add_node(name, node)
    targets = sorted(set(node_for_kind.values()))
    graph.add_conditional_edges(START, lambda s: node_for_kind[s["kind"]], targets)
    for name in targets:
        graph.add_edge(name, END)
    return graph.compile()


def run_task_graph(graph: Any, ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one task through `graph` inside the task's unit of work; its result, if any."""
    state = graph.invoke(
        {"kind": task.kind, "payload": task.payload},
        config={"configurable": {"ctx": ctx}},
    )
    result: dict[str, Any] | None = state.get("result")
    return result
