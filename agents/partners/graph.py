"""The partners agent: one LangGraph graph routing each `partners.*` task to its node."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.context import AgentContext, TaskInfo
from agents.partners.attribution import apply_checkout_referral
from agents.partners.clawbacks import (
    DISPUTE,
    REFUND,
    apply_money_taken_back,
    restore_after_dispute_won,
)
from agents.partners.conversions import PaidInvoice, apply_invoice_paid


class PartnersState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def _ctx(config: RunnableConfig) -> AgentContext:
    ctx: AgentContext = config["configurable"]["ctx"]
    return ctx


def earn_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    invoice = PaidInvoice.from_payload(state["payload"])
    return {"result": apply_invoice_paid(_ctx(config), invoice)}


def claw_back_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    payload = state["payload"]
    cause = DISPUTE if state["kind"] == "partners.payment_disputed" else REFUND
    result = apply_money_taken_back(
        _ctx(config).session,
        stripe_charge_id=payload["stripe_charge_id"],
        cause=cause,
        cause_id=payload["cause_id"],
    )
    return {"result": result}


def restore_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    payload = state["payload"]
    result = restore_after_dispute_won(
        _ctx(config).session,
        stripe_charge_id=payload["stripe_charge_id"],
        cause_id=payload["cause_id"],
    )
    return {"result": result}


def attribute_checkout(state: PartnersState, config: RunnableConfig) -> PartnersState:
    return {"result": apply_checkout_referral(_ctx(config), state["payload"])}


NODE_FOR_KIND = {
    "partners.invoice_paid": "earn_commissions",
    "partners.payment_refunded": "claw_back_commissions",
    "partners.payment_disputed": "claw_back_commissions",
    "partners.dispute_won": "restore_commissions",
    "partners.checkout_referral": "attribute_checkout",
}


def _route(state: PartnersState) -> str:
    return NODE_FOR_KIND[state["kind"]]


def build_graph() -> Any:
    graph = StateGraph(PartnersState)
    graph.add_node("earn_commissions", earn_commissions)
    graph.add_node("claw_back_commissions", claw_back_commissions)
    graph.add_node("restore_commissions", restore_commissions)
    graph.add_node("attribute_checkout", attribute_checkout)
    graph.add_conditional_edges(START, _route, sorted(set(NODE_FOR_KIND.values())))
    for node in set(NODE_FOR_KIND.values()):
        graph.add_edge(node, END)
    return graph.compile()


_GRAPH = build_graph()


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one partners task through the graph, inside the task's unit of work."""
    state = _GRAPH.invoke(
        {"kind": task.kind, "payload": task.payload}, config={"configurable": {"ctx": ctx}}
    )
    result: dict[str, Any] | None = state.get("result")
    return result
