"""The wallet agent: credits paid purchases, takes refunded ones back, runs gated actions."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from agents.task_graph import build_task_graph, context_of, run_task_graph
from agents.wallet.approvals import advance_wallet_approval
from agents.wallet.credits import credit_purchase
from agents.wallet.refunds import take_back_refund


class WalletState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def credit_tokens(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": credit_purchase(context_of(config), state["payload"])}


def revoke_refunded_tokens(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": take_back_refund(context_of(config), state["payload"])}


def run_gated_action(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": advance_wallet_approval(context_of(config), state["kind"], state["payload"])}


NODE_FOR_KIND = {
    "wallet.credit": "credit_tokens",
    "wallet.refund": "revoke_refunded_tokens",
    "wallet.approval.start": "run_gated_action",
    "wallet.approval.resume": "run_gated_action",
}


_GRAPH = build_task_graph(
    WalletState,
    {
        "credit_tokens": credit_tokens,
        "revoke_refunded_tokens": revoke_refunded_tokens,
        "run_gated_action": run_gated_action,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one wallet task through the graph, inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
