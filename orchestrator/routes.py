"""The routing table: which agent consumes each task kind, and where each agent lives."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "stripe.event": "billing",
    "stripe.reconcile": "billing",
    "refund.start": "billing",
    "refund.resume": "billing",
    "approved_action.start": "billing",
    "approved_action.resume": "billing",
    "subscription.change": "billing",
    "approvals.expire": "billing",
    "provisioning.sync": "provisioning",
    "notification.send": "notification",
    "analytics.record": "analytics",
    "analytics.daily": "analytics",
    "analytics.narrative": "analytics",
    "wallet.credit": "wallet",
    "wallet.refund": "wallet",
    "wallet.approval.start": "wallet",
    "wallet.approval.resume": "wallet",
    "usage.evaluate_alerts": "metering",
    "usage.close_period": "metering",
    "usage.bill_overage": "metering",
    "partners.invoice_paid": "partners",
    "partners.payment_refunded": "partners",
    "partners.payment_disputed": "partners",
    "partners.dispute_won": "partners",
    "partners.checkout_referral": "partners",
    "ledger.check": "ledger",
    "payout.start": "ledger",
    "payout.resume": "ledger",
    "dunning.payment_failed": "dunning",
    "dunning.invoice_closed": "dunning",
    "dunning.subscription_ended": "dunning",
    "dunning.advance": "dunning",
    "dunning.step": "dunning",
    "noop": "noop",
}

# agent name -> "module:function" handling one task: (AgentContext, TaskInfo) -> dict | None
AGENT_HANDLERS: dict[str, str] = {
    "billing": "agents.billing.graph:handle",
    "provisioning": "agents.provisioning.graph:handle",
    "notification": "agents.notification.graph:handle",
    "analytics": "agents.analytics.graph:handle",
    "wallet": "agents.wallet.graph:handle",
    "metering": "agents.metering.graph:handle",
    "partners": "agents.partners.graph:handle",
    "ledger": "agents.ledger_journal.agent:handle",
    "dunning": "agents.dunning.graph:handle",
    "noop": "agents.noop:handle",
}

AGENTS: tuple[str, ...] = (
    "billing",
    "provisioning",
    "notification",
    "analytics",
    "wallet",
    "metering",
    "partners",
    "ledger",
    "dunning",
)


class UnknownTaskKind(ValueError):
    pass


def agent_for(kind: str) -> str:
    try:
        return ROUTES[kind]
    except KeyError:
        raise UnknownTaskKind(f"no agent handles task kind {kind!r}") from None
