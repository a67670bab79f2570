"""Operators for tests: accounts with API tokens, and console clients already logged in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from db.session import Database
from orchestrator.access.accounts import create_operator, issue_token

PASSWORD = "correct horse battery"


def make_operator(database: Database, username: str, role: str, *, with_totp: bool = False) -> str:
    """Create the operator and return a bearer token for them."""
    with database.transaction() as session:
        create_operator(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            actor="test",
            with_totp=with_totp,
        )
        _, secret = issue_token(session, username, actor="test")
    return secret


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def console_login(
    client: TestClient, username: str, password: str = PASSWORD, totp: str = ""
) -> int:
    """Log `client` in through the form; returns the login response's status."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={
            "username": username,
            "password": password,
            "totp": totp,
            "csrf_token": csrf_of(page.text),
        },
        follow_redirects=False,
    )
    return response.status_code


def console_csrf(client: TestClient) -> str:
    """The CSRF token of the logged-in session (every page carries it)."""
    return csrf_of(client.get("/console").text)
