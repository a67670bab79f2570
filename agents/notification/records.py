"""The `notifications` rows: one per key, created once, then marked sent or failed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import cast

from sqlalchemy import String, bindparam, select, update
from sqlalchemy.orm import Session

from agents.notification.payload import NotificationRequest
from core.clock import utcnow
from db.models import Notification
from db.models.notifications import NotificationStatus
from db.statements import insert_ignore

_RECIPIENT_WIDTH = cast(String, Notification.__table__.c.recipient.type).length or 320


def message_id_for(key: str) -> str:
    """The Message-ID of a notification: derived from its key so a re-send reuses it."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@moneta>"


def send_key(key: str) -> str:
    """The idempotency key of the notification's send in the external-call ledger."""
    return f"email:{key}"


@dataclass(frozen=True)
class NotificationRow:
    """What the agent reads back of a notification row."""

    recipient: str
    message_id: str | None
    status: str
    error: str | None


def load_or_create_notification(
    session: Session, request: NotificationRequest, *, recipient: str, error: str | None
) -> NotificationRow:
    """The row for `request.key`; the first writer's recipient and status win (a row this
    call created is not read back: it holds what was just written)."""
    new = NotificationRow(
        # The record only; the message itself carries the full list of operators.
        recipient=recipient[:_RECIPIENT_WIDTH],
        message_id=message_id_for(request.key),
        status=NotificationStatus.FAILED if error else NotificationStatus.PENDING,
        error=error,
    )
    values = {
        "key": request.key,
        "channel": "email",
        "template": request.template,
        "recipient": new.recipient,
        "customer_id": request.customer_id,
        "context": request.context,
        "status": new.status,
        "message_id": new.message_id,
        "error": new.error,
        "created_at": utcnow(),
    }
    if insert_ignore(session, Notification, values) is not None:
        return new
    found = session.execute(
        select(
            Notification.recipient, Notification.message_id, Notification.status, Notification.error
        ).where(Notification.key == request.key)
    ).one()
    return NotificationRow(*found)


def mark_notification_sent(session: Session, key: str, subject: str) -> None:
    session.connection().execute(
        _MARK_SENT, {"pending_key": key, "subject": subject, "sent_at": utcnow()}
    )


def mark_notification_failed(session: Session, key: str, error: str) -> None:
    session.connection().execute(_MARK_FAILED, {"pending_key": key, "error": error})


# Built once and run on the session's connection: building the UPDATE per call, and the
# ORM's bulk-UPDATE path, cost more than the UPDATE itself.
_STILL_PENDING = (
    Notification.key == bindparam("pending_key"),
    Notification.status == NotificationStatus.PENDING,
)
_MARK_SENT = (
    update(Notification)
    .where(*_STILL_PENDING)
    .values(
        status=NotificationStatus.SENT,
        subject=bindparam("subject"),
        sent_at=bindparam("sent_at"),
        error=None,
    )
)
_MARK_FAILED = (
    update(Notification)
    .where(*_STILL_PENDING)
    .values(status=NotificationStatus.FAILED, error=bindparam("error"))
)
