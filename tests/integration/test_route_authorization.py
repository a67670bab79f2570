"""Every /console and /ops route of the app is guarded, and each role gets exactly its share.

The walk reads the guards off the routes themselves, then calls every route as nobody, as
each role, and checks the answer: refused below the route's role, let through at or above it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth.dependencies import BearerGate, ConsoleGate
from core.settings import Settings
from db.session import Database
from orchestrator.access.roles import ROLES, has_role
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import console_csrf, console_login, make_operator

# Reachable without a login, on purpose: the login form itself.
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}
GUARDED_PREFIXES = ("/console", "/ops")
REFUSED = {401, 403}


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, including those of routers the app includes lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def guards(route: APIRoute) -> list[BearerGate | ConsoleGate]:
    found: list[BearerGate | ConsoleGate] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, BearerGate | ConsoleGate):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def required_role(route: APIRoute) -> str:
    """The strictest role among the route's guards."""
    return max((g.required_role for g in guards(route)), key=ROLES.index)


@pytest.fixture
def app(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> FastAPI:
    return create_app(Runtime(settings, database, redis_client, transport, {}))


def guarded_endpoints(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    return [
        (method, route.path, route)
        for route in api_routes(app.routes)
        if route.path.startswith(GUARDED_PREFIXES)
        for method in sorted(route.methods or ())
        if (method, route.path) not in PUBLIC
    ]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_console_and_ops_route_has_a_guard(app: FastAPI) -> None:
    endpoints = guarded_endpoints(app)
    assert len(endpoints) > 25
    unguarded = [f"{m} {p}" for m, p, route in endpoints if not guards(route)]
    assert unguarded == []
    wrong_door = [
        f"{m} {p}"
        for m, p, route in endpoints
        for g in guards(route)
        if isinstance(g, ConsoleGate) != p.startswith("/console")
    ]
    assert wrong_door == []


def test_route_by_role_matrix(app: FastAPI, database: Database) -> None:
    tokens = {role: make_operator(database, f"{role}-user", role) for role in ROLES}
    consoles: dict[str, tuple[TestClient, str]] = {}
    for role in ROLES:
        client = TestClient(app, base_url="https://testserver")
        assert console_login(client, f"{role}-user") == 303
        consoles[role] = (client, console_csrf(client))
    anonymous = TestClient(app, base_url="https://testserver")

    failures = []
    # Logging out ends the session the other calls use: walk it last.
    endpoints = sorted(guarded_endpoints(app), key=lambda e: e[1] == "/console/logout")
    for method, path, route in endpoints:
        needed = required_role(route)
        url = concrete(path)
        nobody = anonymous.request(method, url, follow_redirects=False)
        if nobody.status_code not in (401, 303):
            failures.append(f"{method} {path} anonymous -> {nobody.status_code}")
        for role in ROLES:
            if path.startswith("/console"):
                client, csrf = consoles[role]
                response = client.request(
                    method,
                    url,
                    data={"csrf_token": csrf, "reason": "matrix", "note": "matrix"}
                    if method == "POST"
                    else None,
                    follow_redirects=False,
                )
            else:
                response = anonymous.request(
                    method,
                    url,
                    headers={"Authorization": f"Bearer {tokens[role]}"},
                    json={"reason": "matrix"} if method == "POST" else None,
                )
            allowed = has_role(role, needed)
            if allowed == (response.status_code in REFUSED):
                failures.append(
                    f"{method} {path} as {role} (needs {needed}) -> {response.status_code}"
                )
    assert failures == []


def test_viewer_sees_no_decision_buttons_and_cannot_post_them(
    app: FastAPI, database: Database
) -> None:
    make_operator(database, "vic", "viewer")
    client = TestClient(app, base_url="https://testserver")
    assert console_login(client, "vic") == 303
    response = client.post(
        "/console/approvals/1/approve", data={"csrf_token": console_csrf(client)}
    )
    assert response.status_code == 403 and "approver" in response.text
