"""The partners agent: one LangGraph graph routing each `partners.*` task to its node."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig

from agents.context import AgentContext, TaskInfo
from agents.partners.attribution import apply_checkout_referral
from agents.partners.clawbacks import (
    DISPUTE,
    REFUND,
    apply_money_taken_back,
    restore_after_dispute_won,
)
from agents.partners.conversions import PaidInvoice, apply_invoice_paid
from agents.task_graph import build_task_graph, context_of, run_task_graph


class PartnersState(TypedDict, total=False):
    kind: str
    payload: dict[str, Any]
    result: dict[str, Any]


def earn_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    invoice = PaidInvoice.from_payload(state["payload"])
    return {"result": apply_invoice_paid(context_of(config), invoice)}


def claw_back_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    payload = state["payload"]
    cause = DISPUTE if state["kind"] == "partners.payment_disputed" else REFUND
    result = apply_money_taken_back(
        context_of(config).session,
        stripe_charge_id=payload["stripe_charge_id"],
        cause=cause,
        cause_id=payload["cause_id"],
    )
    return {"result": result}


def restore_commissions(state: PartnersState, config: RunnableConfig) -> PartnersState:
    payload = state["payload"]
    result = restore_after_dispute_won(
        context_of(config).session,
        stripe_charge_id=payload["stripe_charge_id"],
        cause_id=payload["cause_id"],
    )
    return {"result": result}


def attribute_checkout(state: PartnersState, config: RunnableConfig) -> PartnersState:
    return {"result": apply_checkout_referral(context_of(config), state["payload"])}


NODE_FOR_KIND = {
    "partners.invoice_paid": "earn_commissions",
    "partners.payment_refunded": "claw_back_commissions",
    "partners.payment_disputed": "claw_back_commissions",
    "partners.dispute_won": "restore_commissions",
    "partners.checkout_referral": "attribute_checkout",
}


_GRAPH = build_task_graph(
    PartnersState,
    {
        "earn_commissions": earn_commissions,
        "claw_back_commissions": claw_back_commissions,
        "restore_commissions": restore_commissions,
        "attribute_checkout": attribute_checkout,
    },
    NODE_FOR_KIND,
)


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one partners task through the graph, inside the task's unit of work."""
    return run_task_graph(_GRAPH, ctx, task)
