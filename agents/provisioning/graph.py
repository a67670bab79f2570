"""The provisioning agent: make a customer's entitlement rows match what their records grant.

State-based, so it is idempotent and order-free: every `provisioning.sync` recomputes the
desired grants from the current records and writes only the difference.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents.context import AgentContext, TaskInfo
from agents.provisioning import sync
from agents.provisioning.cache import invalidate_after_commit
from agents.provisioning.plans import load_catalog
from agents.provisioning.rules import (
    DesiredEntitlements,
    EntitlementChange,
    SubscriptionFacts,
    desired_entitlements,
    plan_changes,
)
from core.clock import utcnow
from core.errors import PermanentError, RetryableError
from db.models import Entitlement
from db.repositories import entitlements as repo


class ProvisioningState(TypedDict, total=False):
    customer_id: int
    now: datetime
    subscriptions: list[SubscriptionFacts]
    rows: dict[str, Entitlement]
    desired: DesiredEntitlements
    changes: list[EntitlementChange]
    grace_check_task: int | None


def _ctx(config: RunnableConfig) -> AgentContext:
    ctx: AgentContext = config["configurable"]["ctx"]
    return ctx


def load_records(state: ProvisioningState, config: RunnableConfig) -> ProvisioningState:
    session = _ctx(config).session
    customer_id = state["customer_id"]
    if repo.lock_customer(session, customer_id) is None:
        raise RetryableError(f"customer {customer_id} is not recorded yet")
    return {
        "now": utcnow(),
        "subscriptions": sync.subscription_facts(session, customer_id),
        "rows": repo.entitlements_of(session, customer_id),
    }


def decide_entitlements(state: ProvisioningState, config: RunnableConfig) -> ProvisioningState:
    settings = _ctx(config).settings
    desired = desired_entitlements(
        state["subscriptions"],
        load_catalog(settings.catalog_file),
        timedelta(days=settings.grace_period_days),
        state["now"],
    )
    changes = plan_changes(sync.held_entitlements(state["rows"]), desired)
    return {"desired": desired, "changes": changes}


def apply_changes(state: ProvisioningState, config: RunnableConfig) -> ProvisioningState:
    ctx = _ctx(config)
    sync.apply_changes(
        ctx.session, state["customer_id"], state["rows"], state["changes"], state["now"]
    )
    if state["changes"]:
        invalidate_after_commit(
            ctx.session, ctx.extras.get("redis"), ctx.settings.redis_prefix, state["customer_id"]
        )
    return {}


def schedule_grace_check(state: ProvisioningState, config: RunnableConfig) -> ProvisioningState:
    grace_until = state["desired"].grace_until
    if grace_until is None:
        return {"grace_check_task": None}
    task_id = sync.schedule_grace_check(_ctx(config).submit, state["customer_id"], grace_until)
    return {"grace_check_task": task_id}


def build_graph() -> Any:
    graph = StateGraph(ProvisioningState)
    graph.add_node("load_records", load_records)
    graph.add_node("decide_entitlements", decide_entitlements)
    graph.add_node("apply_changes", apply_changes)
    graph.add_node("schedule_grace_check", schedule_grace_check)
    graph.add_edge(START, "load_records")
    graph.add_edge("load_records", "decide_entitlements")
    graph.add_edge("decide_entitlements", "apply_changes")
    graph.add_edge("apply_changes", "schedule_grace_check")
    graph.add_edge("schedule_grace_check", END)
    return graph.compile()


_GRAPH = build_graph()


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one `provisioning.sync` inside the task's unit of work."""
    customer_id = task.payload.get("customer_id")
    if not isinstance(customer_id, int) or isinstance(customer_id, bool):
        raise PermanentError(f"provisioning.sync needs an integer customer_id, got {customer_id!r}")
    state = _GRAPH.invoke({"customer_id": customer_id}, config={"configurable": {"ctx": ctx}})
    grace_until = state["desired"].grace_until
    return {
        "customer_id": customer_id,
        "changes": [{"feature": c.feature, "action": c.action} for c in state["changes"]],
        "grace_until": grace_until.isoformat() if grace_until else None,
    }
