"""How other agents ask for an e-mail: `notify(...)` submits one `notification.send` task."""

from __future__ import annotations

from typing import Any

from agents.context import AgentContext
from agents.notification.payload import NotificationRequest


def notify(
    ctx: AgentContext,
    *,
    key: str,
    template: str,
    to: str | None = None,
    customer_id: int | None = None,
    context: dict[str, Any],
) -> None:
    """Queue the e-mail `key` (sent once, however often this is called), in ctx's transaction.

    `to=None` writes to the operators for operator templates (approval_needed) and to the
    customer's address (`customer_id`) for the others. Datetimes in `context` are stored as
    ISO 8601. A bad template name or key raises here, in the caller, not in the worker.
    """
    request = NotificationRequest(
        key=key, template=template, to=to, customer_id=customer_id, context=context
    )
    ctx.submit("notification.send", request.model_dump(mode="json"), dedupe_key=f"notify:{key}")
