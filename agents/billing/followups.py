"""Work the billing agent hands on (provisioning, e-mails) and the analytics events it records.

All in the event's unit of work, each under a dedupe key, so an event applied again
(redelivery, reconciliation) adds no second task and no second analytics event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents.analytics.events import record_event
from agents.billing.stripe_objects import event_time
from agents.context import AgentContext
from agents.notification.requests import notify
from db.models import Customer


def request_provisioning(ctx: AgentContext, event: dict[str, Any], customer_id: int | None) -> None:
    """Ask provisioning to bring the customer's entitlements in line with the new records."""
    if customer_id is None:
        return
    ctx.submit(
        "provisioning.sync", {"customer_id": customer_id}, dedupe_key=f"provision:{event['id']}"
    )


def record_business_event(
    ctx: AgentContext,
    event: dict[str, Any],
    kind: str,
    *,
    customer_id: int | None,
    amount: int | None = None,
    currency: str | None = None,
    data: dict[str, Any] | None = None,
    subject: str | None = None,
) -> None:
    """One analytics event per Stripe event and kind (`subject` tells apart several per event).

    Written here, with the billing records it describes, rather than handed to the analytics
    agent as a task: it is one insert-or-ignore, and a task of its own (claim, run, commit,
    stream round trips) cost several times that per renewal.
    """
    dedupe_key = f"analytics:{event['id']}:{kind}" + (f":{subject}" if subject else "")
    payload = {
        "dedupe_key": dedupe_key,
        "type": kind,
        "customer_id": customer_id,
        "occurred_at": event_time(event).isoformat(),
        "amount": amount,
        "currency": currency,
        "data": jsonable(data or {}),
    }
    record_event(ctx.session, payload)


def jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO text, so the payload survives the JSON task column."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def send_welcome(
    ctx: AgentContext, *, stripe_customer_id: str, customer_id: int, to: str | None = None
) -> None:
    """The welcome e-mail, once per Stripe customer however they arrived (checkout or API)."""
    customer = ctx.session.get(Customer, customer_id)
    notify(
        ctx,
        key=f"welcome:{stripe_customer_id}",
        template="welcome",
        customer_id=customer_id,
        to=to,
        context={"name": customer.name if customer else None},
    )
