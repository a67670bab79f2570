"""Customer sign-up and sign-in: POST /api/v1/register, POST /api/v1/token, GET /users/me."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.auth.dependencies import client_address
from api.dependencies import RuntimeDep
from api.problems import problem_responses
from api.v1.customer_auth import CustomerDep
from db.models import CustomerAccount
from db.repositories.customer_accounts import active_account
from orchestrator.access.customer_accounts import log_in, register
from orchestrator.access.customer_tokens import issue_token
from orchestrator.access.logins import LoginFailed, LoginThrottled

router = APIRouter(prefix="/api/v1", tags=["customer accounts"])


class Registration(BaseModel):
    email: str = Field(max_length=320, examples=["ada@example.com"])
    password: str = Field(max_length=1024, description="at least 10 varied characters")
    name: str | None = Field(default=None, max_length=255)


class AccountOut(BaseModel):
    id: int
    email: str
    customer_id: int
    created_at: datetime

    @classmethod
    def of(cls, account: CustomerAccount) -> AccountOut:
        return cls(
            id=account.id,
            email=account.email,
            customer_id=account.customer_id,
            created_at=account.created_at,
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="seconds until the token expires")


@router.post(
    "/register",
    status_code=201,
    summary="Create a customer account",
    responses=problem_responses(409, 422),
)
def register_account(body: Registration, runtime: RuntimeDep) -> AccountOut:
    """A new account and its customer; sign in next with POST /api/v1/token."""
    with runtime.database.transaction() as session:
        account = register(session, email=body.email, password=body.password, name=body.name)
        return AccountOut.of(account)


@router.post(
    "/token",
    summary="Sign in: trade e-mail and password for an access token",
    responses=problem_responses(401, 422, 429),
)
def issue_access_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, runtime: RuntimeDep
) -> TokenOut:
    """OAuth2 password flow: form fields `username` (the e-mail) and `password`."""
    with runtime.database.transaction() as session:
        outcome = log_in(
            session,
            email=form.username,
            password=form.password,
            address=client_address(request),
            settings=runtime.settings,
        )
        account_id = outcome.id if isinstance(outcome, CustomerAccount) else None
    if isinstance(outcome, LoginFailed | LoginThrottled):
        raise outcome  # after the commit, so the failed attempt stays on record
    assert account_id is not None
    issued = issue_token(runtime.settings, account_id)
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get(
    "/users/me", summary="The signed-in customer's account", responses=problem_responses(401)
)
def who_am_i(customer: CustomerDep, runtime: RuntimeDep) -> AccountOut:
    with runtime.database.transaction() as session:
        account = active_account(session, customer.account_id)
        assert account is not None  # the dependency just found it
        return AccountOut.of(account)
