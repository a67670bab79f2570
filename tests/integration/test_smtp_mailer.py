"""SmtpMailer against real aiosmtpd servers: implicit TLS, STARTTLS with login, refusals."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.smtp import RecordingHandler, SmtpServer, unused_port
from tools.email.mailer import MailDeliveryError, MailRejected, OutboundEmail
from tools.email.smtp import SmtpMailer

EMAIL = OutboundEmail(
    to="ada@example.com",
    subject="Receipt",
    text="Paid",
    html="<p>Paid</p>",
    message_id="<tls-test@moneta>",
    sender="Moneta <billing@moneta.local>",
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made with the openssl command)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    command += " -addext subjectAltName=IP:127.0.0.1"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _serve(handler: RecordingHandler, **options: Any) -> Iterator[SmtpServer]:
    controller = Controller(handler, hostname="127.0.0.1", port=unused_port(), **options)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", controller.port, handler)
    finally:
        controller.stop()


@pytest.fixture
def smtps_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    yield from _serve(RecordingHandler(), ssl_context=_server_tls(certificate))


def _accept_ada(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ada", b"s3cret")
    return AuthResult(success=ok, handled=False)  # False: the server replies 535 itself


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    yield from _serve(
        RecordingHandler(),
        tls_context=_server_tls(certificate),
        require_starttls=True,
        authenticator=_accept_ada,
        auth_require_tls=True,
    )


def _trusting(mailer: SmtpMailer, certificate: tuple[Path, Path]) -> SmtpMailer:
    return replace(mailer, ssl_context=ssl.create_default_context(cafile=str(certificate[0])))


def test_smtps_delivers_over_implicit_tls(
    smtps_server: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    url = f"smtps://127.0.0.1:{smtps_server.port}?timeout=5"
    _trusting(SmtpMailer.from_url(url), certificate).send(EMAIL)
    [message] = smtps_server.messages
    assert message["Message-ID"] == "<tls-test@moneta>"


def test_starttls_with_login_delivers(
    starttls_server: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    url = f"smtp://ada:s3cret@127.0.0.1:{starttls_server.port}?starttls=true&timeout=5"
    _trusting(SmtpMailer.from_url(url), certificate).send(EMAIL)
    assert len(starttls_server.messages) == 1


def test_wrong_password_is_a_delivery_error_not_a_rejection(
    starttls_server: SmtpServer, certificate: tuple[Path, Path]
) -> None:
    url = f"smtp://ada:wrong@127.0.0.1:{starttls_server.port}?starttls=true&timeout=5"
    with pytest.raises(MailDeliveryError, match="535"):
        _trusting(SmtpMailer.from_url(url), certificate).send(EMAIL)
    assert starttls_server.messages == []


def test_untrusted_certificate_is_a_delivery_error(smtps_server: SmtpServer) -> None:
    with pytest.raises(MailDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        SmtpMailer.from_url(f"smtps://127.0.0.1:{smtps_server.port}?timeout=5").send(EMAIL)


def test_recipient_refusals_are_told_apart(smtp_server: SmtpServer) -> None:
    mailer = SmtpMailer.from_url(smtp_server.url)
    smtp_server.refuse("gone@example.com", "550 5.1.1 no such user")
    smtp_server.refuse("later@example.com", "451 4.7.1 try again later")
    with pytest.raises(MailRejected, match="550"):
        mailer.send(replace(EMAIL, to="gone@example.com"))
    with pytest.raises(MailDeliveryError, match="451"):
        mailer.send(replace(EMAIL, to="later@example.com"))
    mailer.send(replace(EMAIL, to="gone@example.com, ada@example.com"))  # one accepted: sent
    [message] = smtp_server.messages
    assert message["To"] == "gone@example.com, ada@example.com"


def test_server_that_never_answers_is_a_delivery_error_after_the_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"smtp://127.0.0.1:{silent.getsockname()[1]}?timeout=0.5"
        with pytest.raises(MailDeliveryError, match="timed out"):
            SmtpMailer.from_url(url).send(EMAIL)
