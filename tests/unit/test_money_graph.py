"""`agents.money_graph.drive_money_graph`: a decision that arrives before its thread waits at
the gate is retried later, not dead-lettered (the start may still be running elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agents.money_graph import drive_money_graph
from core.errors import PermanentError, RetryableError
from db.models import ApprovalStatus


class State(TypedDict, total=False):
    planned: bool
    decision: str
    executed: int


def _graph() -> StateGraph[Any, Any, Any, Any]:
    graph: StateGraph[Any, Any, Any, Any] = StateGraph(State)
    graph.add_node("plan", lambda state: {"planned": True})
    graph.add_node("await_approval", lambda state: {"decision": interrupt("approve?")})
    graph.add_node("execute", lambda state: {"executed": state.get("executed", 0) + 1})
    graph.add_edge(START, "plan")
    graph.add_edge("plan", "await_approval")
    graph.add_edge("await_approval", "execute")
    graph.add_edge("execute", END)
    return graph


def _context(saver: InMemorySaver) -> Any:
    @contextmanager
    def factory() -> Iterator[InMemorySaver]:
        yield saver

    return SimpleNamespace(checkpointer_factory=factory)


def _resume(ctx: Any, thread: str) -> Any:
    return drive_money_graph(
        ctx,
        _graph(),
        thread_id=thread,
        start=None,
        resume_with=ApprovalStatus.APPROVED,
        rerun_from="execute",
    )


def test_a_decision_before_the_thread_reaches_its_gate_is_retried_then_applied() -> None:
    saver = InMemorySaver()
    ctx = _context(saver)
    config: Any = {"configurable": {"thread_id": "refund:1"}}
    # The start task is mid-way: its first step is checkpointed, the gate not reached yet.
    _graph().compile(checkpointer=saver, interrupt_after=["plan"]).invoke({}, config)

    with pytest.raises(RetryableError):
        _resume(ctx, "refund:1")

    _graph().compile(checkpointer=saver).invoke(None, config)  # the start reaches the gate
    final = _resume(ctx, "refund:1")
    assert final.values["executed"] == 1 and final.values["decision"] == ApprovalStatus.APPROVED


def test_a_finished_thread_that_never_reached_the_node_is_a_permanent_error() -> None:
    saver = InMemorySaver()
    finished: StateGraph[Any, Any, Any, Any] = StateGraph(State)
    finished.add_node("plan", lambda state: {"planned": True})
    finished.add_edge(START, "plan")
    finished.add_edge("plan", END)
    config: Any = {"configurable": {"thread_id": "refund:2"}}
    finished.compile(checkpointer=saver).invoke({}, config)

    with pytest.raises(PermanentError):
        _resume(_context(saver), "refund:2")


def test_a_decision_while_another_worker_passes_the_gate_is_retried() -> None:
    saver = InMemorySaver()
    config: Any = {"configurable": {"thread_id": "refund:3"}}
    _graph().compile(checkpointer=saver).invoke({}, config)  # waiting at the gate
    at_gate = _graph().compile(checkpointer=saver).get_state(config)
    # Another worker's resume has finished the gate step (its writes are saved) but not yet
    # checkpointed the step after it: nothing is "next", and no checkpoint leads to execute.
    [gate] = at_gate.tasks
    saver.put_writes(at_gate.config, [("decision", ApprovalStatus.APPROVED)], gate.id)

    with pytest.raises(RetryableError):
        _resume(_context(saver), "refund:3")
