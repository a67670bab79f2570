"""The e-mail tool's pure parts: SMTP URL parsing, the MIME builder, outbox file names."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import pytest

from core.clock import frozen, utcnow
from tools.email.mailer import OutboundEmail
from tools.email.message import build_mime
from tools.email.outbox import eml_filename
from tools.email.smtp import SmtpMailer


def test_smtp_url_with_starttls_and_escaped_credentials() -> None:
    mailer = SmtpMailer.from_url(
        "smtp://user%40corp:p%3Ass@mail.example.com?starttls=true&timeout=7"
    )
    assert (mailer.host, mailer.port) == ("mail.example.com", 587)
    assert (mailer.username, mailer.password) == ("user@corp", "p:ss")
    assert mailer.starttls and not mailer.implicit_tls and mailer.timeout == 7.0


def test_smtps_url_is_implicit_tls_on_465() -> None:
    mailer = SmtpMailer.from_url("smtps://mail.example.com")
    assert (mailer.port, mailer.implicit_tls, mailer.starttls) == (465, True, False)
    assert mailer.username is None


def test_plain_smtp_url_keeps_its_port() -> None:
    mailer = SmtpMailer.from_url("smtp://localhost:2525")
    assert (mailer.host, mailer.port, mailer.starttls, mailer.implicit_tls) == (
        "localhost",
        2525,
        False,
        False,
    )


@pytest.mark.parametrize(
    "url", ["http://mail.example.com", "smtp://", "smtps://host?starttls=true"]
)
def test_unusable_smtp_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        SmtpMailer.from_url(url)


def test_mime_message_has_text_then_html_and_our_headers() -> None:
    email = OutboundEmail(
        to="ada@example.com",
        subject="Receipt",
        text="Paid USD 1.00",
        html="<p>Paid <b>USD 1.00</b></p>",
        message_id="<abc@moneta>",
        sender="Moneta <billing@moneta.local>",
        reply_to="support@moneta.local",
        headers={"X-Moneta-Template": "receipt"},
    )
    message = build_mime(email)

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["Message-ID"] == "<abc@moneta>"
    assert message["From"] == "Moneta <billing@moneta.local>"
    assert message["Reply-To"] == "support@moneta.local"
    assert message["X-Moneta-Template"] == "receipt"
    assert message["Date"]


def test_mime_message_without_html_is_plain_text() -> None:
    email = OutboundEmail("a@b.c", "Hi", "text only", None, "<x@moneta>", "m@moneta.local")
    message = build_mime(email)
    assert message.get_content_type() == "text/plain"
    assert message["Reply-To"] is None


def test_outbox_file_name_is_safe_and_distinct_for_distinct_ids() -> None:
    assert eml_filename("<0123abcd@moneta>") == "0123abcd@moneta.eml"
    hostile = [eml_filename("<../../etc/passwd@x>"), eml_filename("<.._.._etc_passwd@x>")]
    assert all("/" not in name for name in hostile)
    assert hostile[0] != hostile[1]


def _parsed_everywhere(email: OutboundEmail) -> EmailMessage:
    """`build_mime` as it was: every header parsed into a header object (the reference)."""
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


@pytest.mark.parametrize(
    ("sender", "to", "subject"),
    [
        ("Moneta <billing@moneta.local>", "ada@example.com", "Receipt for INV-1: USD 1.00 paid"),
        (
            formataddr(("Acme, Inc.", "billing@moneta.local")),
            "ops1@moneta.local, ops2@moneta.local",
            "Approval needed: refund of EUR 1,234.56 for customer 42 (requested by bob)",
        ),
        (
            formataddr(("Zürich Agentur", "billing@moneta.local")),
            "Ada Lovelace <ada@example.com>",
            "Reçu pour la facture INV-7 : 12,00 € payés",
        ),
        ("m@moneta.local", "a@b.c", "=?utf-8?q?looks_encoded?= " + "long " * 20),
    ],
)
def test_mime_bytes_are_those_of_fully_parsed_headers(sender: str, to: str, subject: str) -> None:
    email = OutboundEmail(
        to=to,
        subject=subject,
        text="Paid USD 1.00\n",
        html="<p>Paid</p>",
        message_id="<0123456789abcdef0123456789abcdef@moneta>",
        sender=sender,
        reply_to="Support <support@agency.example>",
        headers={"Auto-Submitted": "auto-generated", "X-Moneta-Template": "receipt"},
    )
    with frozen(datetime(2026, 11, 20, 14, 3, tzinfo=UTC)):
        fast, reference = build_mime(email), _parsed_everywhere(email)
    for message in (fast, reference):
        message.set_boundary("b")
    assert fast.as_bytes() == reference.as_bytes()
    assert fast["To"] == reference["To"] and fast["Subject"] == reference["Subject"]


def test_a_header_value_with_a_line_break_is_refused() -> None:
    email = OutboundEmail("a@b.c", "Hi\r\nBcc: x@evil.example", "text", None, "<x@m>", "m@m.local")
    with pytest.raises(ValueError):
        build_mime(email)
