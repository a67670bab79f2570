"""The notification agent: one e-mail per notification key.

Flow: `load_or_create_notification` -> `render` -> `send` -> `mark_sent`, stopping after the
first step when the notification was already sent or failed. A straight line with one early
exit, so `handle` calls the steps in turn: LangGraph's Pregel loop cost about a quarter of the
agent's CPU per e-mail and added nothing here (no checkpoint, interrupt, retry or branch).

Exactly once per key, by two records. The `notifications` row (unique key) says whether the
e-mail went out; the `external_calls` row `email:<key>` is claimed (agents.ledger) in the
transaction that records a pending notification, committed before the message is rendered and
leaves, and marked succeeded right after the send, in the commit that marks the notification
sent. A task redelivered after the send finds them done and sends nothing; one that finds a
fresh claim of another worker raises RetryableError (recording nothing) and comes back later;
a render that fails releases the claim. Every write here commits on its own rather than with
the task: the e-mail cannot be rolled back, so neither may its record (and SQLite allows one
writer, so the task's session stays unused).

At-least-once in one window only: a worker that dies between handing the message to the mail
server and marking the claim succeeded leaves it 'claimed'. Once that claim is older than
`settings.task_lease_seconds`, the next attempt sends again with the same Message-ID
(`<sha256(key)[:32]@moneta>`), so the copy is recognisable (many mail stores drop it). A transient
failure (`MailDeliveryError`) releases the claim and propagates, so the runtime retries with
backoff; a permanent refusal (`MailRejected`) records the notification failed and raises
`PermanentError`. A notification with no address to write to is recorded failed, not retried.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import formataddr, parseaddr
from typing import Any, Literal, TypedDict

import jinja2
from sqlalchemy.orm import Session

from agents.context import AgentContext, TaskInfo
from agents.ledger import DONE, Claim, claim_call_in, complete_call_in, fail_call
from agents.notification.catalog import TEMPLATE_AUDIENCE
from agents.notification.payload import NotificationRequest
from agents.notification.recipients import MissingRecipient, resolve_recipient
from agents.notification.records import (
    load_or_create_notification as load_or_create_row,
)
from agents.notification.records import (
    mark_notification_failed,
    mark_notification_sent,
    message_id_for,
    send_key,
)
from agents.notification.rendering import render_email
from agents.notification.wording import wording_for
from core.errors import PermanentError
from db.models.notifications import NotificationStatus
from db.repositories.branding import Branding, branding_for_customer
from tools.email.mailer import MailRejected, OutboundEmail

Outcome = Literal["sent", "already_sent", "failed"]


class NotificationState(TypedDict, total=False):
    request: NotificationRequest
    recipient: str
    message_id: str
    status: str  # the notification row's status when loaded
    error: str | None
    branding: Branding | None  # the customer's white-label branding, read with the row
    claim: Claim  # the ledger's claim of the send, taken with a pending row
    email: OutboundEmail
    outcome: Outcome


def load_or_create_notification(state: NotificationState, ctx: AgentContext) -> NotificationState:
    """Record the notification (or find it); for a pending one, read the branding it is sent
    under and claim its send, in the same transaction (one commit instead of two: the claim is
    committed before anything is rendered or sent). One without a recipient is recorded failed.
    """
    request = state["request"]
    with ctx.database.transaction() as session:
        try:
            recipient, error = resolve_recipient(session, request, ctx.settings), None
        except MissingRecipient as exc:
            recipient, error = "", str(exc)
        row = load_or_create_row(session, request, recipient=recipient, error=error)
        found: NotificationState = {
            "recipient": row.recipient,
            "message_id": row.message_id or message_id_for(request.key),
            "status": row.status,
            "error": row.error,
        }
        if row.status == NotificationStatus.PENDING:
            found["branding"] = _branding(session, request)
            found["claim"] = claim_call_in(
                session,
                key=send_key(request.key),
                service="email",
                operation=request.template,
                # The subject is not rendered yet; the notification row records it when sent.
                request={"to": row.recipient, "message_id": found["message_id"]},
                stale_after=timedelta(seconds=ctx.settings.task_lease_seconds),
            )
    if found["status"] == NotificationStatus.SENT:
        found["outcome"] = "already_sent"
    elif found["status"] == NotificationStatus.FAILED:
        found["outcome"] = "failed"
    return found


def render(state: NotificationState, ctx: AgentContext) -> NotificationState:
    """Subject, text and HTML from the facts (model-worded when it passes validation)."""
    request = state["request"]
    branding = state["branding"]
    brand = branding.name if branding else parseaddr(ctx.settings.email_from)[0] or "Moneta"
    wording = wording_for(ctx, request)
    sheet = wording.sheet
    try:
        rendered = render_email(
            request.template,
            request.context,
            brand=brand,
            wording=wording.text,
            link=sheet.link if sheet else None,
            link_label=sheet.link_label if sheet else None,
            branding=branding,
        )
    except (jinja2.TemplateError, TypeError, ValueError) as exc:
        raise PermanentError(f"template {request.template!r} failed to render: {exc}") from exc
    email = OutboundEmail(
        to=state["recipient"],
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=state["message_id"],
        sender=branded_sender(ctx.settings.email_from, branding),
        reply_to=branding.reply_to if branding else None,
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Moneta-Template": request.template,
            "X-Moneta-Wording": wording.source,
        },
    )
    return {"email": email}


def _branding(session: Session, request: NotificationRequest) -> Branding | None:
    """A customer's e-mail carries their agency's white-label branding; operators' never do."""
    if request.customer_id is None or TEMPLATE_AUDIENCE[request.template] != "customer":
        return None
    return branding_for_customer(session, request.customer_id)


def branded_sender(default_sender: str, branding: Branding | None) -> str:
    """Our address, under the agency's from-name when it has one (the address stays ours)."""
    if branding is None:
        return default_sender
    return formataddr((branding.email_from_name or branding.name, parseaddr(default_sender)[1]))


def send(state: NotificationState, ctx: AgentContext) -> NotificationState:
    """Send under our claim, unless the ledger says an earlier attempt sent it already."""
    request, email, claim = state["request"], state["email"], state["claim"]
    if claim.state == DONE:
        return {"outcome": "already_sent"}
    try:
        ctx.mailer.send(email)
    except MailRejected as exc:
        fail_call(ctx.database, claim, str(exc))
        with ctx.database.transaction() as session:
            mark_notification_failed(session, request.key, str(exc))
        raise PermanentError(f"e-mail {request.key!r} rejected: {exc}") from exc
    except Exception as exc:  # transient (MailDeliveryError) or unknown: release, let it retry
        fail_call(ctx.database, claim, repr(exc))
        raise
    return {"outcome": "sent"}


def mark_sent(state: NotificationState, ctx: AgentContext) -> NotificationState:
    """Settle our ledger claim as succeeded and mark the notification sent, in one commit."""
    request, email = state["request"], state["email"]
    with ctx.database.transaction() as session:
        if state["outcome"] == "sent":
            complete_call_in(session, state["claim"], {"message_id": email.message_id})
        mark_notification_sent(session, request.key, email.subject)
    return {}


def handle(ctx: AgentContext, task: TaskInfo) -> dict[str, Any] | None:
    """Run one `notification.send` task."""
    request = NotificationRequest.from_payload(task.payload)
    state: NotificationState = {"request": request}
    state.update(load_or_create_notification(state, ctx))
    if "outcome" not in state:  # pending and claimed: render, send, and record it sent
        try:
            state.update(render(state, ctx))
        except Exception as exc:  # nothing left: release the claim, a retry may take it at once
            fail_call(ctx.database, state["claim"], repr(exc))
            raise
        for step in (send, mark_sent):
            state.update(step(state, ctx))
    return {
        "key": request.key,
        "outcome": state["outcome"],
        "message_id": state["message_id"],
        "error": state.get("error"),
    }
