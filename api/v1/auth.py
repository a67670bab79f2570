"""Who calls /api/v1: a customer's API key, or an operator token acting for any customer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from api.auth.dependencies import Unauthorized, client_address
from api.dependencies import current_runtime
from api.metering.middleware import OWNER_STATE
from core.errors import Forbidden, NotFound
from db.repositories.metering import KeyOwner, resolve_customers
from orchestrator.access.accounts import authenticate_token
from orchestrator.access.api_keys import authenticate_api_key, looks_like_api_key
from orchestrator.access.roles import OPERATOR


@dataclass(frozen=True)
class Caller:
    """`customer_id` None: an operator, who names the customer in each request."""

    customer_id: int | None
    name: str
    origin: str

    def customer(self, request: Request, named: str | None) -> int:
        """The customer a read is about: the key's own, or the one an operator names."""
        if self.customer_id is not None:
            if named is not None and named != str(self.customer_id):
                own = resolve_in(request, named)
                if own != self.customer_id:
                    raise Forbidden("an API key reads its own customer only")
            return self.customer_id
        if named is None:
            raise NotFound("name the customer (our id or Stripe id)", code="missing_customer")
        return resolve_in(request, named)


def resolve_in(request: Request, reference: str) -> int:
    with current_runtime(request).database.transaction() as session:
        found = resolve_customers(session, {reference}).get(reference)
    if found is None:
        raise NotFound(f"no customer {reference!r}", code="unknown_customer")
    return found


async def current_caller(request: Request) -> Caller:
    """Async, so that a key the metering middleware already resolved costs no thread hop."""
    owner: KeyOwner | None = getattr(request.state, OWNER_STATE, None)
    if owner is not None:
        return Caller(owner.customer_id, f"api_key:{owner.prefix}", _origin(request))
    return await run_in_threadpool(_authenticated_caller, request)


def _origin(request: Request) -> str:
    return f"api:{client_address(request)}"


def _authenticated_caller(request: Request) -> Caller:
    """An API key or operator token looked up in the database."""
    origin = _origin(request)
    secret = request.headers.get("x-api-key") or _bearer(request)
    if not secret:
        raise Unauthorized("send X-API-Key (or Authorization: Bearer) with an API key")
    with current_runtime(request).database.transaction() as session:
        if looks_like_api_key(secret):
            owner = authenticate_api_key(session, secret)
            if owner is None:
                raise Unauthorized("unknown or revoked API key")
            return Caller(owner.customer_id, f"api_key:{owner.prefix}", origin)
        identity = authenticate_token(session, secret)
    if identity is None:
        raise Unauthorized("unknown or revoked API key or operator token")
    if not identity.can(OPERATOR):
        raise Forbidden(f"this needs the {OPERATOR} role; {identity.username} is {identity.role}")
    return Caller(None, identity.username, origin)


def _bearer(request: Request) -> str | None:
    scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


CallerDep = Annotated[Caller, Depends(current_caller)]
