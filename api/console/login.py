"""Console log in and log out. The login form carries a double-submit CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from api.auth.dependencies import (
    SESSION_COOKIE,
    ConsoleViewer,
    CsrfRejected,
    client_address,
)
from api.console.rendering import render
from api.dependencies import RuntimeDep
from orchestrator.access.credentials import random_secret, same_secret
from orchestrator.access.logins import OpenedSession, log_in, log_out

router = APIRouter(prefix="/console")

LOGIN_CSRF_COOKIE = "moneta_login_csrf"
COOKIE_FLAGS = {"httponly": True, "secure": True, "samesite": "strict", "path": "/console"}


def _login_page(
    request: Request, *, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    csrf = random_secret()
    response = render(
        request, "login.html", None, status_code, csrf=csrf, error=error, username=username
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, **COOKIE_FLAGS)  # type: ignore[arg-type]
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not expected or not same_secret(csrf_token, expected):
        raise CsrfRejected("the login form expired; reload the page")
    with runtime.database.transaction() as session:
        outcome = log_in(
            session,
            username=username,
            password=password,
            totp_code=totp or None,
            address=client_address(request),
            settings=runtime.settings,
        )
    if not isinstance(outcome, OpenedSession):
        return _login_page(
            request, error=outcome.message, username=username, status_code=outcome.status_code
        )
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.secret,
        max_age=runtime.settings.console_session_hours * 3600,
        **COOKIE_FLAGS,  # type: ignore[arg-type]
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(request: Request, runtime: RuntimeDep, me: ConsoleViewer) -> Response:
    with runtime.database.transaction() as session:
        log_out(session, request.cookies.get(SESSION_COOKIE, ""), address=client_address(request))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
