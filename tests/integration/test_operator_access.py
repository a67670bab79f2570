"""Operator access: argon2 passwords, login rate limit, cookie flags, CSRF, TOTP, token scope,
revocation and disabled operators, audit of every action."""

from __future__ import annotations

import logging

import pyotp
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from api.app import create_app
from core.settings import Settings
from db.models import AuditEntry, Operator, OperatorToken
from db.session import Database
from orchestrator.access.credentials import digest, token_prefix
from orchestrator.access.roles import ADMIN, APPROVER, OPERATOR, VIEWER
from orchestrator.cli import app as moneta
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import (
    PASSWORD,
    console_csrf,
    console_login,
    csrf_of,
    make_operator,
)
from tests.support.refunds import PaidCustomer, seed_paid_customer


@pytest.fixture
def app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> FastAPI:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


def browser(app: FastAPI) -> TestClient:
    """A client on https, as the console's Secure cookies require."""
    return TestClient(app, base_url="https://testserver")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(database: Database, actor: str) -> list[str]:
    with database.transaction() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.actor == actor)))


def test_passwords_and_tokens_are_stored_hashed(database: Database) -> None:
    token = make_operator(database, "olga", OPERATOR)
    with database.transaction() as s:
        operator = s.scalars(select(Operator)).one()
        stored = s.scalars(select(OperatorToken)).one()
    assert (
        operator.password_hash.startswith("$argon2id$") and PASSWORD not in operator.password_hash
    )
    assert stored.token_hash == digest(token) and token.startswith(stored.prefix)


def test_login_sets_a_secure_httponly_samesite_session(app: FastAPI, database: Database) -> None:
    make_operator(database, "olga", OPERATOR)
    client = browser(app)
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": "Olga", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("moneta_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict"} <= flags
    overview = client.get("/console")
    assert overview.status_code == 200 and "olga" in overview.text
    assert "default-src 'self'" in overview.headers["content-security-policy"]
    assert "login.succeeded" in audit_actions(database, "olga")


def test_wrong_password_is_refused_and_repeated_failures_lock_the_name(
    app: FastAPI, database: Database, settings: Settings
) -> None:
    make_operator(database, "olga", OPERATOR)
    client = browser(app)
    for _ in range(settings.login_max_failures):
        assert console_login(client, "olga", "wrong password!") == 401
    # Locked now: even the right password is refused until the window passes.
    assert console_login(client, "olga") == 429
    assert client.get("/console", follow_redirects=False).status_code == 303
    actions = audit_actions(database, "olga")
    assert actions.count("login.failed") == settings.login_max_failures
    assert "login.throttled" in actions


def test_unsafe_console_requests_need_the_session_csrf_token(
    app: FastAPI, database: Database, paid: PaidCustomer
) -> None:
    make_operator(database, "olga", OPERATOR)
    client = browser(app)
    assert console_login(client, "olga") == 303
    no_token = client.post("/console/inbox/evt_x/replay", data={"reason": "x"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong = client.post("/console/inbox/evt_x/replay", data={"reason": "x", "csrf_token": "no"})
    assert wrong.status_code == 403
    right = client.post(
        "/console/inbox/evt_x/replay", data={"reason": "x", "csrf_token": console_csrf(client)}
    )
    assert right.status_code == 404  # past the guard: the event does not exist
    login_without_token = browser(app).post(
        "/console/login", data={"username": "olga", "password": PASSWORD}
    )
    assert login_without_token.status_code == 403


@pytest.fixture
def paid(database: Database) -> PaidCustomer:
    return seed_paid_customer(database, amount=9_000)


def test_totp_operators_need_the_current_code(app: FastAPI, database: Database) -> None:
    make_operator(database, "tess", APPROVER, with_totp=True)
    with database.transaction() as s:
        secret = s.scalars(select(Operator.totp_secret)).one()
    assert secret
    client = browser(app)
    assert console_login(client, "tess") == 401
    assert console_login(client, "tess", totp="000000") in (401, 303)  # 1 in 10^6 it is valid
    fresh = browser(app)
    assert console_login(fresh, "tess", totp=pyotp.TOTP(secret).now()) == 303


def test_token_scope_and_four_eyes(app: FastAPI, database: Database, paid: PaidCustomer) -> None:
    client = TestClient(app)
    viewer = make_operator(database, "vic", VIEWER)
    operator = make_operator(database, "ole", OPERATOR)
    approver = make_operator(database, "amy", APPROVER)
    assert client.get("/ops/tasks", headers=bearer(viewer)).status_code == 200
    refused = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 100, "reason": "x"},
        headers=bearer(viewer),
    )
    assert refused.status_code == 403
    created = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 100, "reason": "x"},
        headers=bearer(operator),
    ).json()
    path = f"/ops/approvals/{created['id']}/approve"
    assert client.post(path, json={}, headers=bearer(viewer)).status_code == 403
    assert client.post(path, json={}, headers=bearer(operator)).status_code == 403

    own = client.post(
        "/ops/refunds",
        json={"payment": paid.charge, "amount": 100, "reason": "x"},
        headers=bearer(approver),
    ).json()
    self_approval = client.post(
        f"/ops/approvals/{own['id']}/approve", json={}, headers=bearer(approver)
    )
    assert self_approval.status_code == 403 and self_approval.json()["code"] == "self_approval"
    assert client.post(path, json={}, headers=bearer(approver)).json()["status"] == "approved"
    assert "approval.approve" in audit_actions(database, "amy")


def test_narrow_tokens_revocation_and_disabled_operators(
    app: FastAPI, database: Database, cli_env: CliRunner
) -> None:
    client = TestClient(app)
    make_operator(database, "root", ADMIN)
    issued = cli_env.invoke(moneta, ["operators", "token", "root", "--role", "viewer"])
    assert issued.exit_code == 0, issued.output
    narrow = issued.output.strip()
    assert client.get("/ops/tasks", headers=bearer(narrow)).status_code == 200
    assert (
        client.post("/ops/tasks/1/retry", json={"reason": "x"}, headers=bearer(narrow)).status_code
        == 403
    )
    prefix = token_prefix(narrow)
    assert prefix is not None
    revoked = cli_env.invoke(moneta, ["operators", "token", "root", "--revoke", prefix])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/ops/tasks", headers=bearer(narrow)).status_code == 401

    token = make_operator(database, "dora", OPERATOR)
    console = browser(app)
    assert console_login(console, "dora") == 303
    assert client.get("/ops/tasks", headers=bearer(token)).status_code == 200
    assert cli_env.invoke(moneta, ["operators", "disable", "dora"]).exit_code == 0
    assert client.get("/ops/tasks", headers=bearer(token)).status_code == 401
    assert console.get("/console", follow_redirects=False).status_code == 303
    assert console_login(browser(app), "dora") == 401


def test_cli_creates_lists_operators_and_never_logs_secrets(
    cli_env: CliRunner, app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = cli_env.invoke(
        moneta,
        ["operators", "create", "Root", "--role", "admin", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert created.exit_code == 0, created.output
    assert "operator root created (admin)" in created.output
    weak = cli_env.invoke(moneta, ["operators", "create", "x", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "at least 12 characters" in weak.output
    token = cli_env.invoke(moneta, ["operators", "token", "root"]).output.strip()
    listed = cli_env.invoke(moneta, ["operators", "list"]).output
    prefix = token_prefix(token)
    assert prefix is not None
    assert "root" in listed and "admin" in listed and prefix in listed
    assert token not in listed
    client = browser(app)
    assert console_login(client, "root") == 303
    pages = "".join(client.get(p).text for p in ("/console", "/console/tasks"))
    for secret in (PASSWORD, token):
        assert secret not in caplog.text and secret not in pages
