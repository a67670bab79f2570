"""SMTP mailer (MONETA_SMTP_URL): `smtp://user:pass@host:587?starttls=true` or `smtps://...`.

Failures that may pass (no connection, timeouts, 4xx replies) raise `MailDeliveryError` so the
task is retried; a 5xx refusal of the recipients or the message raises `MailRejected`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from tools.email.mailer import MailDeliveryError, MailRejected, OutboundEmail
from tools.email.message import build_mime

__all__ = ["MailDeliveryError", "MailRejected", "SmtpMailer"]

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


@dataclass
class SmtpMailer:
    """Sends each message over a fresh SMTP connection (plain, STARTTLS or implicit TLS)."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 30.0
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)

    @classmethod
    def from_url(cls, url: str) -> SmtpMailer:
        """Parse `smtp[s]://[user[:pass]@]host[:port][?starttls=true&timeout=SECONDS]`."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an smtp:// or smtps:// URL with a host: {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit_tls = parts.scheme == "smtps"
        starttls = query.get("starttls", "false").lower() in _TRUE
        if implicit_tls and starttls:
            raise ValueError("smtps:// is already TLS; starttls=true makes no sense with it")
        default_port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            host=parts.hostname,
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit_tls,
            starttls=starttls,
            timeout=float(query.get("timeout", 30.0)),
        )

    def _connect(self) -> smtplib.SMTP:
        if self.implicit_tls:
            return smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.ssl_context
            )
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def send(self, email: OutboundEmail) -> None:
        message = build_mime(email)
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as client:
                if self.starttls:
                    client.starttls(context=self.ssl_context)
                if self.username:
                    client.login(self.username, self.password or "")
                refused = client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            replies = "; ".join(
                f"{rcpt}: {code} {text!r}" for rcpt, (code, text) in exc.recipients.items()
            )
            if all(_is_permanent(code) for code, _ in exc.recipients.values()):
                raise MailRejected(f"{where} refused every recipient: {replies}") from exc
            raise MailDeliveryError(f"{where} deferred recipients: {replies}") from exc
        except smtplib.SMTPDataError as exc:
            reply = f"{exc.smtp_code} {exc.smtp_error!r}"
            if _is_permanent(exc.smtp_code):
                raise MailRejected(f"{where} refused the message: {reply}") from exc
            raise MailDeliveryError(f"{where} deferred the message: {reply}") from exc
        except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, reset, timeout, TLS
            raise MailDeliveryError(f"SMTP delivery via {where} failed: {exc!r}") from exc
        if refused:  # some recipients accepted it: delivered, but say who was left out
            log.warning("message %s refused for %s", email.message_id, sorted(refused))
