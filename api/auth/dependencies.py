"""Route guards. Every /ops and /console route depends on one; a test walks them all.

`require_role(role)` guards the REST API (bearer token); `require_console_role(role)` guards
the console (session cookie, plus the CSRF token on every unsafe request).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.dependencies import current_runtime
from core.errors import Forbidden, MonetaError
from orchestrator.access.accounts import Identity, authenticate_token
from orchestrator.access.credentials import same_secret
from orchestrator.access.logins import session_identity
from orchestrator.access.roles import ADMIN, APPROVER, OPERATOR, VIEWER, check_role

SESSION_COOKIE = "moneta_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(MonetaError):
    status_code = 401
    code = "unauthorized"


class CsrfRejected(MonetaError):
    status_code = 403
    code = "csrf_rejected"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def origin_of(request: Request) -> str:
    """Where an action came from, for the audit log: `api:<ip>` or `console:<ip>`."""
    door = "console" if request.url.path.startswith("/console") else "api"
    return f"{door}:{client_address(request)}"


def _authorize(identity: Identity, required: str) -> Identity:
    if not identity.can(required):
        raise Forbidden(f"this needs the {required} role; {identity.username} is {identity.role}")
    return identity


class BearerGate:
    """Resolves `Authorization: Bearer <operator token>` and checks the role."""

    def __init__(self, role: str) -> None:
        self.required_role = check_role(role)

    def __call__(self, request: Request) -> Identity:
        scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized("send Authorization: Bearer <operator API token>")
        runtime = current_runtime(request)
        with runtime.database.transaction() as session:
            identity = authenticate_token(session, secret.strip())
        if identity is None:
            raise Unauthorized("unknown, revoked or disabled operator token")
        request.state.identity = identity
        return _authorize(identity, self.required_role)


class ConsoleGate:
    """Resolves the console session cookie, checks the role and, on writes, the CSRF token."""

    def __init__(self, role: str) -> None:
        self.required_role = check_role(role)

    async def __call__(self, request: Request) -> Identity:
        secret = request.cookies.get(SESSION_COOKIE)
        identity = await run_in_threadpool(self._identity, request, secret) if secret else None
        if identity is None:
            raise Unauthorized("log in to the console")
        request.state.identity = identity
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, identity)
        return _authorize(identity, self.required_role)

    @staticmethod
    def _identity(request: Request, secret: str) -> Identity | None:
        with current_runtime(request).database.transaction() as session:
            return session_identity(session, secret)


async def _check_csrf(request: Request, identity: Identity) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not sent or not identity.csrf_token or not same_secret(sent, identity.csrf_token):
        raise CsrfRejected("the form's CSRF token is missing or wrong; reload the page")


def require_role(role: str) -> BearerGate:
    return BearerGate(role)


def require_console_role(role: str) -> ConsoleGate:
    return ConsoleGate(role)


Viewer = Annotated[Identity, Depends(require_role(VIEWER))]
Operator = Annotated[Identity, Depends(require_role(OPERATOR))]
Approver = Annotated[Identity, Depends(require_role(APPROVER))]
Admin = Annotated[Identity, Depends(require_role(ADMIN))]
ConsoleViewer = Annotated[Identity, Depends(require_console_role(VIEWER))]
ConsoleOperator = Annotated[Identity, Depends(require_console_role(OPERATOR))]
ConsoleApprover = Annotated[Identity, Depends(require_console_role(APPROVER))]
ConsoleAdmin = Annotated[Identity, Depends(require_console_role(ADMIN))]
