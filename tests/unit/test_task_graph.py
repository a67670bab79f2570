"""The routing graph every queue-consuming agent shares: kind -> node -> result."""

from __future__ import annotations

from typing import Any, TypedDict, cast

import pytest
from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from agents.task_graph import build_task_graph, context_of, run_task_graph
from core.errors import PermanentError


class State(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def echo(state: State, config: RunnableConfig) -> State:
    ctx = context_of(config)
    return {"result": {"kind": state["kind"], "payload": state["payload"], "ctx": id(ctx)}}


def silent(state: State, config: RunnableConfig) -> State:
    return {}


GRAPH = build_task_graph(
    State, {"echo": echo, "silent": silent}, {"a.echo": "echo", "a.silent": "silent"}
)
CTX = cast(AgentContext, object())


def task(kind: str) -> TaskInfo:
    return TaskInfo(id=1, kind=kind, payload={"n": 7}, attempt=1, max_attempts=3)


def test_a_task_runs_the_node_its_kind_routes_to_with_the_context() -> None:
    result = run_task_graph(GRAPH, CTX, task("a.echo"))
    assert result == {"kind": "a.echo", "payload": {"n": 7}, "ctx": id(CTX)}


def test_a_node_that_sets_no_result_gives_none() -> None:
    assert run_task_graph(GRAPH, CTX, task("a.silent")) is None


def test_an_unrouted_kind_fails_permanently() -> None:
    with pytest.raises(PermanentError, match="unknown"):
        run_task_graph(GRAPH, CTX, task("a.unknown"))


def test_a_route_to_a_missing_node_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="nowhere"):
        build_task_graph(State, {"echo": echo}, {"a.echo": "echo", "a.lost": "nowhere"})
