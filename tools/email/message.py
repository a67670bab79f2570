"""The one MIME builder, shared by SMTP and the file outbox so both send the same bytes."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from core.clock import utcnow
from tools.email.mailer import OutboundEmail

_MAX_LINE = 78  # email.policy.default.max_line_length: longer headers are folded


def build_mime(email: OutboundEmail) -> EmailMessage:
    """A multipart/alternative message (text, then HTML when given) with our Message-ID."""
    message = EmailMessage()
    set_header(message, "From", email.sender)
    set_header(message, "To", email.to)
    set_header(message, "Subject", email.subject)
    set_header(message, "Message-ID", email.message_id)
    set_header(message, "Date", format_datetime(utcnow()))
    if email.reply_to:
        set_header(message, "Reply-To", email.reply_to)
    for name, value in email.headers.items():
        set_header(message, name, value)
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def set_header(message: EmailMessage, name: str, value: str) -> None:
    """Add a header once. A one-line printable ASCII value with no encoded-word is stored as
    its wire text, which is what the email package writes for it anyway, without parsing it
    into a header object (most of the cost of building a message); any other value is parsed,
    checked and encoded by the email package."""
    if (
        value.isascii()
        and value.isprintable()  # no CR or LF: no header injection
        and "=?" not in value
        and len(name) + 2 + len(value) <= _MAX_LINE
        and name not in message
    ):
        message.set_raw(name, value)
    else:
        message[name] = value
