"""The wallet agent: credits paid purchases, takes refunded ones back, runs gated actions."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.context import AgentContext, TaskInfo
from agents.wallet.approvals import advance_wallet_approval
from agents.wallet.credits import credit_purchase
from agents.wallet.refunds import take_back_refund


class WalletState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def _ctx(config: RunnableConfig) -> AgentContext:
    ctx: AgentContext = config["configurable"]["ctx"]
    return ctx


def credit_tokens(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": credit_purchase(_ctx(config), state["payload"])}


def revoke_refunded_tokens(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": take_back_refund(_ctx(config), state["payload"])}


def run_gated_action(state: WalletState, config: RunnableConfig) -> WalletState:
    return {"result": advance_wallet_approval(_ctx(config), state["kind"], state["payload"])}


NODE_FOR_KIND = {
    "wallet.credit": "credit_tokens",
    "wallet.refund": "revoke_refunded_tokens",
    "wallet.approval.start": "run_gated_action",
    "wallet.approval.resume": "run_gated_action",
}


def _route(state: WalletState) -> str:
    return NODE_FOR_KIND[state["kind"]]


def build_graph() -> Any:
    graph = StateGraph(WalletState)
    graph.add_node("credit_tokens", credit_tokens)
    graph.add_node("revoke_refunded_tokens", revoke_refunded_tokens)
    graph.add_node("run_gated_action", run_gated_action)
    graph.add_conditional_edges(START, _route, list(set(NODE_FOR_KIND.values())))
    for node in set(NODE_FOR_KIND.values()):
        graph.add_edge(node, END)
    return graph.compile()


_GRAPH = build_graph()


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one wallet task through the graph, inside the task's unit of work."""
    state = _GRAPH.invoke(
        {"kind": task.kind, "payload": task.payload}, config={"configurable": {"ctx": ctx}}
    )
    result: dict[str, Any] | None = state.get("result")
    return result
