"""Errors as RFC 9457 problem details (`application/problem+json`), outside the console.

Every body carries `type`, `title`, `status`, `detail`, `instance` and the extension member
`code` (the machine-readable reason clients switch on); request validation errors add
`errors`, one per offending field. The console keeps its own HTML error pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

TYPE_BASE = "https://moneta.dev/problems/"
MEDIA_TYPE = "application/problem+json"
CONSOLE_PREFIX = "/console"
_CODE_BY_STATUS = {429: "rate_limited"}  # the name the metering middleware already answers


class ProblemDetails(BaseModel):
    """What every error answer looks like (for the OpenAPI document)."""

    type: str = Field(examples=[f"{TYPE_BASE}email_taken"])
    title: str = Field(examples=["Email taken"])
    status: int = Field(examples=[409])
    detail: str = Field(examples=["ada@example.com already has an account"])
    instance: str = Field(examples=["/api/v1/register"])
    code: str = Field(examples=["email_taken"], description="machine-readable reason")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="validation errors only: one {location, message, type} per field",
    )


class MonetaProblemResponse(JSONResponse):
    media_type = MEDIA_TYPE


def problem_body(
    instance: str, status: int, code: str, detail: str, **extensions: Any
) -> dict[str, Any]:
    """`instance` is the request's path: the occurrence, without its query string."""
    return {
        "type": TYPE_BASE + code,
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extensions,
    }


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> Response:
    """The problem answer; a 401 names the scheme to retry with (RFC 9110 section 11.6.1)."""
    merged = dict(headers or {})
    if status == 401:
        merged.setdefault("WWW-Authenticate", "Bearer")
    body = problem_body(request.url.path, status, code, detail, **extensions)
    return MonetaProblemResponse(body, status_code=status, headers=merged)


def code_for_status(status: int) -> str:
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented as a problem details body."""
    schema = ProblemDetails.model_json_schema()
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in statuses
    }


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _console(request):
        return await http_exception_handler(request, exc)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    code = code_for_status(exc.status_code)
    return problem_response(request, exc.status_code, code, detail, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _console(request):
        return await request_validation_exception_handler(request, exc)
    # The rejected input is left out on purpose: it may be a password.
    errors = [
        {"location": list(e["loc"]), "message": e["msg"], "type": e["type"]} for e in exc.errors()
    ]
    fields = ", ".join(".".join(str(part) for part in e["location"]) for e in errors)
    detail = f"the request is invalid: {fields}" if fields else "the request is invalid"
    return problem_response(request, 422, "validation_failed", detail, errors=errors)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    if _console(request):
        return PlainTextResponse("Internal Server Error", status_code=500)
    return problem_response(request, 500, "internal_error", "an unexpected error; it is logged")


def install_problem_details(app: FastAPI) -> None:
    """Answer HTTP, validation and unexpected errors as problem details (business errors are
    the app's own `MonetaError` handler, which calls `problem_response`)."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


def _console(request: Request) -> bool:
    return request.url.path.startswith(CONSOLE_PREFIX)
