"""Drive a money-action graph (refund, payout, wallet credit) around its approval gate.

Each such graph is `plan -> await_approval (only interrupt()) -> execute -> record ...`,
checkpointed durably under the approval's thread id. The approvals table is the truth: a
start task runs the graph to the gate; a resume task hands the gate the table's decision, or,
when the thread is already past the gate but the action has no outcome yet (a run cut short
or rolled back), runs it again from the checkpoint before its execute node. Every step after
the gate is idempotent (ledger claims, unique keys), so a second run does nothing twice.
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import StateGraph
from langgraph.types import Command, StateSnapshot

from agents.checkpoints import checkpoint_before
from agents.context import AgentContext
from core.errors import PermanentError, RetryableError
from db.models import ApprovalStatus


def drive_money_graph(
    ctx: AgentContext,
    graph: StateGraph[Any, Any, Any, Any],
    *,
    thread_id: str,
    start: dict[str, Any] | None,
    resume_with: str | None,
    rerun_from: str | None,
) -> StateSnapshot:
    """Start the thread with `start` if it has no state; then, with `resume_with` (the table's
    approval status), pass the gate or re-run from `rerun_from`. Returns the final state."""
    if ctx.checkpointer_factory is None:
        raise PermanentError("money actions need a durable checkpointer")
    config: Any = {"configurable": {"thread_id": thread_id}}
    with ctx.checkpointer_factory() as saver:
        compiled = graph.compile(checkpointer=saver)
        if not compiled.get_state(config).values:
            if start is None:
                raise PermanentError(f"thread {thread_id} was never started")
            compiled.invoke(start, config, context=ctx, durability="sync")
        if resume_with is not None:
            snapshot = compiled.get_state(config)
            if snapshot.interrupts:
                if resume_with != ApprovalStatus.PENDING:
                    compiled.invoke(
                        Command(resume=resume_with), config, context=ctx, durability="sync"
                    )
            elif rerun_from is not None:
                again = _checkpoint_before(compiled, config, rerun_from, snapshot)
                compiled.invoke(None, again, context=ctx, durability="sync")
        return compiled.get_state(config)


def _checkpoint_before(graph: Any, config: Any, node: str, latest: StateSnapshot) -> Any:
    """Where to re-run `node` from. A thread with a step still open is retried later, when
    the decision can apply: one on its way to its gate (its start is running on another
    worker, or will be redone), or one whose gate step another worker's resume has finished
    but not yet checkpointed (its task has writes, so nothing is `next`). Only a thread that
    ended without reaching `node` is a permanent error."""
    try:
        return checkpoint_before(graph, config, node)
    except PermanentError:
        if latest.next or latest.tasks:
            thread = config["configurable"]["thread_id"]
            raise RetryableError(f"thread {thread} is between steps; retrying") from None
        raise
