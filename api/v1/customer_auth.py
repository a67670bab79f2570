"""Who calls the customer API: a signed-in customer, by the JWT from POST /api/v1/token.

Other customer routers depend on `CustomerDep`; the account is re-read on every request, so
a disabled account's unexpired tokens stop working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from api.auth.dependencies import Unauthorized
from api.dependencies import current_runtime
from db.repositories.customer_accounts import active_account
from orchestrator.access.customer_tokens import account_of

TOKEN_URL = "/api/v1/token"

bearer_token = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    scheme_name="CustomerToken",
    description="A customer's access token from POST /api/v1/token (e-mail and password).",
    auto_error=False,
)


@dataclass(frozen=True)
class CustomerPrincipal:
    account_id: int
    customer_id: int
    email: str


def current_customer(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> CustomerPrincipal:
    if not token:
        raise Unauthorized(f"send Authorization: Bearer <token from {TOKEN_URL}>")
    runtime = current_runtime(request)
    account_id = account_of(runtime.settings, token)
    if account_id is None:
        raise Unauthorized("invalid or expired access token", code="invalid_token")
    with runtime.database.transaction() as session:
        account = active_account(session, account_id)
        if account is None:
            raise Unauthorized("this account no longer exists or is disabled", code="invalid_token")
        return CustomerPrincipal(account.id, account.customer_id, account.email)


CustomerDep = Annotated[CustomerPrincipal, Depends(current_customer)]
