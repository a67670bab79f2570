"""The routing table: which agent consumes each task kind, and where each agent lives."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "stripe.event": "billing",
    "stripe.reconcile": "billing",
    "refund.start": "billing",
    "refund.resume": "billing",
    "approvals.expire": "billing",
    "provisioning.sync": "provisioning",
    "notification.send": "notification",
    "analytics.record": "analytics",
    "analytics.daily": "analytics",
    "analytics.narrative": "analytics",
    "noop": "noop",
}

# agent name -> "module:function" handling one task: (AgentContext, TaskInfo) -> dict | None
AGENT_HANDLERS: dict[str, str] = {
    "billing": "agents.billing.graph:handle",
    "provisioning": "agents.provisioning.graph:handle",
    "notification": "agents.notification.graph:handle",
    "analytics": "agents.analytics.graph:handle",
    "noop": "agents.noop:handle",
}

AGENTS: tuple[str, ...] = ("billing", "provisioning", "notification", "analytics")


class UnknownTaskKind(ValueError):
    pass


def agent_for(kind: str) -> str:
    try:
        return ROUTES[kind]
    except KeyError:
        raise UnknownTaskKind(f"no agent handles task kind {kind!r}") from None
