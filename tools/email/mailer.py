"""The e-mail tool protocol and the message it sends.

Implementations: `tools.email.smtp.SmtpMailer` (MONETA_SMTP_URL) and
`tools.email.outbox.FileOutboxMailer` (default: `.eml` files in a folder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundEmail:
    to: str
    subject: str
    text: str
    html: str | None
    message_id: str  # derived from the notification key, never random: it is our idempotency key
    sender: str
    reply_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class MailDeliveryError(Exception):
    """Delivery failed in a way that may pass (server down, 4xx): retry."""


class MailRejected(Exception):
    """The server refused the message for good (5xx to RCPT or DATA): do not retry."""


class Mailer(Protocol):
    def send(self, email: OutboundEmail) -> None: ...
