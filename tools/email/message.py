"""The one MIME builder, shared by SMTP and the file outbox so both send the same bytes."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime

from core.clock import utcnow
from tools.email.mailer import OutboundEmail


def build_mime(email: OutboundEmail) -> EmailMessage:
    """A multipart/alternative message (text, then HTML when given) with our Message-ID."""
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(utcnow())
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message
