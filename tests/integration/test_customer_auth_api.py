"""Customer sign-up and sign-in through the real app: accounts, JWTs and what they refuse."""

from __future__ import annotations

import stat
import threading
from datetime import timedelta
from typing import Any

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.clock import frozen, utcnow
from core.errors import Conflict
from core.settings import Settings
from db.models import Customer, CustomerAccount
from db.session import Database
from orchestrator.access.customer_accounts import register
from orchestrator.access.customer_tokens import AUDIENCE, ISSUER, KEY_FILE, signing_key
from tests.support.customer_api import DEFAULT_PASSWORD, register_and_login
from tests.support.metering import AppFactory


def client(app_factory: AppFactory, **changes: object) -> TestClient:
    return TestClient(app_factory(**changes), base_url="https://testserver")


def token_for(api: TestClient, email: str, password: str = DEFAULT_PASSWORD) -> str:
    answer = api.post("/api/v1/token", data={"username": email, "password": password})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def me(api: TestClient, token: str) -> Any:
    return api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def test_register_sign_in_and_read_me(metering_app: AppFactory, database: Database) -> None:
    api = client(metering_app)
    created = api.post(
        "/api/v1/register",
        json={"email": "  Ada@Example.COM ", "password": DEFAULT_PASSWORD, "name": "Ada L"},
    )
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["email"] == "ada@example.com"
    with database.transaction() as s:
        customer = s.get(Customer, account["customer_id"])
        assert customer is not None and (customer.email, customer.name) == (
            "ada@example.com",
            "Ada L",
        )
        stored = s.scalars(select(CustomerAccount)).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert DEFAULT_PASSWORD not in stored.password_hash

    issued = api.post(
        "/api/v1/token", data={"username": "ADA@example.com", "password": DEFAULT_PASSWORD}
    )
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["aud"], claims["iss"]) == (str(account["id"]), AUDIENCE, ISSUER)
    assert claims["exp"] - claims["iat"] == 3600

    who = me(api, body["access_token"])
    assert who.status_code == 200, who.text
    assert who.json() == account


def test_a_taken_email_is_refused_whatever_its_case(
    metering_app: AppFactory, database: Database
) -> None:
    api = client(metering_app)
    register_and_login(api, "grace@example.com")
    again = api.post(
        "/api/v1/register", json={"email": "GRACE@example.com", "password": "another one 123"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "email_taken")
    with database.transaction() as s:
        assert len(s.scalars(select(Customer)).all()) == 1  # nothing half-applied


def test_weak_passwords_and_bad_emails_are_refused(metering_app: AppFactory) -> None:
    api = client(metering_app)
    cases = [
        ({"email": "a@example.com", "password": "short1!"}, "weak_password"),
        ({"email": "a@example.com", "password": "aaaaabbbbbaaaaa"}, "weak_password"),
        ({"email": "linus@example.com", "password": "my-linus-password"}, "weak_password"),
        ({"email": "not-an-email", "password": DEFAULT_PASSWORD}, "bad_email"),
        ({"email": "a@localhost", "password": DEFAULT_PASSWORD}, "bad_email"),
    ]
    for body, code in cases:
        answer = api.post("/api/v1/register", json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), body


def test_wrong_password_and_unknown_email_get_the_same_refusal(metering_app: AppFactory) -> None:
    api = client(metering_app)
    register_and_login(api, "hedy@example.com")
    wrong = api.post("/api/v1/token", data={"username": "hedy@example.com", "password": "nope"})
    unknown = api.post(
        "/api/v1/token", data={"username": "nobody@example.com", "password": DEFAULT_PASSWORD}
    )
    for answer in (wrong, unknown):
        assert (answer.status_code, answer.json()["code"]) == (401, "login_failed")
        assert answer.json()["detail"] == "wrong e-mail or password"


def test_failed_logins_are_throttled_per_email(metering_app: AppFactory) -> None:
    api = client(metering_app, login_max_failures=2)
    register_and_login(api, "joan@example.com")
    register_and_login(api, "kate@example.com")
    for _ in range(2):
        bad = api.post("/api/v1/token", data={"username": "joan@example.com", "password": "x"})
        assert bad.status_code == 401
    right = api.post(
        "/api/v1/token", data={"username": "JOAN@example.com", "password": DEFAULT_PASSWORD}
    )
    assert (right.status_code, right.json()["code"]) == (429, "login_throttled")
    token_for(api, "kate@example.com")  # another e-mail from the same address still signs in


def test_an_expired_token_is_refused(metering_app: AppFactory) -> None:
    api = client(metering_app)
    register_and_login(api, "lise@example.com")
    token = token_for(api, "lise@example.com")
    with frozen(utcnow() + timedelta(minutes=59)):
        assert me(api, token).status_code == 200
    with frozen(utcnow() + timedelta(minutes=61)):
        late = me(api, token)
    assert (late.status_code, late.json()["code"]) == (401, "invalid_token")


def test_forged_tokens_are_refused(
    metering_app: AppFactory, database: Database, settings: Settings
) -> None:
    api = client(metering_app)
    register_and_login(api, "mary@example.com")
    register_and_login(api, "nora@example.com")
    token = token_for(api, "mary@example.com")
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    other = jwt.encode({**claims, "sub": str(int(claims["sub"]) + 1)}, "x" * 32, algorithm="HS256")
    key = signing_key(settings)
    forged = {
        "tampered payload": ".".join([header, other.split(".")[1], signature]),
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "alg none, unsigned header": ".".join(
            [jwt.encode(claims, None, algorithm="none").split(".")[0], payload, ""]
        ),
        "other algorithm": jwt.encode(claims, key, algorithm="HS512"),
        "wrong audience": jwt.encode({**claims, "aud": "moneta-ops"}, key, algorithm="HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "someone"}, key, algorithm="HS256"),
        "no expiry": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, key, algorithm="HS256"
        ),
        "other key": jwt.encode(claims, "not-the-secret-" * 4, algorithm="HS256"),
        "garbage": "not.a.jwt",
    }
    for name, bad in forged.items():
        answer = me(api, bad)
        assert (answer.status_code, answer.json()["code"]) == (401, "invalid_token"), name
    assert me(api, token).status_code == 200  # the genuine one still works


def test_a_missing_token_asks_for_a_bearer(metering_app: AppFactory) -> None:
    answer = client(metering_app).get("/api/v1/users/me")
    assert (answer.status_code, answer.json()["code"]) == (401, "unauthorized")
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_disabled_accounts_tokens_stop_working(
    metering_app: AppFactory, database: Database
) -> None:
    api = client(metering_app)
    register_and_login(api, "olga@example.com")
    token = token_for(api, "olga@example.com")
    with database.transaction() as s:
        s.scalars(select(CustomerAccount)).one().disabled_at = utcnow()
    assert me(api, token).status_code == 401
    refused = api.post(
        "/api/v1/token", data={"username": "olga@example.com", "password": DEFAULT_PASSWORD}
    )
    assert refused.status_code == 401


def test_the_signing_key_is_generated_once_and_kept(
    metering_app: AppFactory, settings: Settings
) -> None:
    api = client(metering_app)
    register_and_login(api, "pia@example.com")
    token = token_for(api, "pia@example.com")
    key_file = settings.data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text()) >= 64
    assert me(client(metering_app), token).status_code == 200  # a new app, the same key

    configured = client(metering_app, customer_jwt_secret="s" * 64)
    assert me(configured, token).status_code == 401  # a configured secret replaces the file's
    assert me(configured, token_for(configured, "pia@example.com")).status_code == 200


def test_a_racing_sign_up_with_the_same_email_loses_cleanly(database: Database) -> None:
    """The second sign-up passes the e-mail check before the first commits; the unique
    constraint then refuses it as `email_taken` and nothing of it is kept."""
    outcome: list[object] = []
    with database.transaction() as first:
        register(first, email="race@example.com", password=DEFAULT_PASSWORD)

        def second() -> None:
            try:
                with database.transaction() as s:
                    register(s, email="RACE@example.com", password=DEFAULT_PASSWORD)
                outcome.append("registered")
            except Conflict as exc:
                outcome.append(exc.code)

        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=0.5)  # it waits on the first transaction (row or write lock)
        assert racer.is_alive()
    racer.join(timeout=30)
    assert outcome == ["email_taken"]
    with database.transaction() as s:
        assert len(s.scalars(select(Customer)).all()) == 1
        assert len(s.scalars(select(CustomerAccount)).all()) == 1
