"""Errors outside the console are RFC 9457 problem details, with the `code` clients read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.problems import MEDIA_TYPE, TYPE_BASE
from tests.support.customer_api import DEFAULT_PASSWORD, register_and_login
from tests.support.metering import AppFactory

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code"}


def problem(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = answer.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert (body["status"], body["code"], body["type"]) == (status, code, TYPE_BASE + code)
    return body


def test_a_business_error_is_a_problem(metering_app: AppFactory) -> None:
    api = TestClient(metering_app())
    register_and_login(api, "ada@example.com")
    again = api.post(
        "/api/v1/register", json={"email": "ada@example.com", "password": DEFAULT_PASSWORD}
    )
    body = problem(again, 409, "email_taken")
    assert body == {
        "type": "https://moneta.dev/problems/email_taken",
        "title": "Email taken",
        "status": 409,
        "detail": "ada@example.com already has an account",
        "instance": "/api/v1/register",
        "code": "email_taken",
    }


def test_a_validation_error_lists_the_fields_without_echoing_input(
    metering_app: AppFactory,
) -> None:
    answer = TestClient(metering_app()).post(
        "/api/v1/register", json={"email": ["secret-list"], "name": "x" * 300}
    )
    body = problem(answer, 422, "validation_failed")
    locations = sorted(tuple(e["location"]) for e in body["errors"])
    assert locations == [("body", "email"), ("body", "name"), ("body", "password")]
    assert all({"location", "message", "type"} == e.keys() for e in body["errors"])
    assert body["detail"] == "the request is invalid: body.email, body.password, body.name"
    assert "secret-list" not in answer.text


def test_an_unknown_route_and_a_wrong_method_are_problems(metering_app: AppFactory) -> None:
    api = TestClient(metering_app())
    missing = problem(api.get("/api/v1/no-such-thing"), 404, "not_found")
    assert (missing["detail"], missing["instance"]) == ("Not Found", "/api/v1/no-such-thing")
    problem(api.delete("/api/v1/register"), 405, "method_not_allowed")


def test_an_operator_route_refusal_is_a_problem_too(metering_app: AppFactory) -> None:
    answer = TestClient(metering_app()).get("/ops/tasks")
    problem(answer, 401, "unauthorized")
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_the_console_keeps_its_html_error_pages(metering_app: AppFactory) -> None:
    api = TestClient(metering_app(), follow_redirects=False)
    signed_out = api.get("/console")
    assert signed_out.status_code == 303  # to the login page, not a problem body
    assert signed_out.headers["location"] == "/console/login"


def test_openapi_documents_problems_and_the_bearer_scheme(metering_app: AppFactory) -> None:
    spec = TestClient(metering_app()).get("/openapi.json").json()
    register = spec["paths"]["/api/v1/register"]["post"]
    conflict = register["responses"]["409"]["content"][MEDIA_TYPE]["schema"]
    assert conflict["properties"].keys() >= PROBLEM_MEMBERS
    assert register["tags"] == ["customer accounts"] and register["summary"]
    me = spec["paths"]["/api/v1/users/me"]["get"]
    assert me["security"] == [{"CustomerToken": []}]
    flow = spec["components"]["securitySchemes"]["CustomerToken"]["flows"]["password"]
    assert flow["tokenUrl"] == "/api/v1/token"


def test_the_api_key_middlewares_refusal_is_a_problem(metering_app: AppFactory) -> None:
    answer = TestClient(metering_app()).get("/api/v1/wallet", headers={"X-API-Key": "mck_0_x"})
    body = problem(answer, 401, "unauthorized")
    assert (body["detail"], body["instance"]) == ("unknown or revoked API key", "/api/v1/wallet")
