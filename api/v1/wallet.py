"""/api/v1/wallet: a customer's AI-token balance, history, and buying tokens through Checkout."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, StrictInt

from agents.wallet import ledger
from agents.wallet.checkout import start_token_checkout
from api.dependencies import RuntimeDep
from api.v1.access_services import AccessDep
from api.v1.auth import CallerDep

router = APIRouter(prefix="/api/v1", tags=["wallet"])


class CheckoutBody(BaseModel):
    tokens: StrictInt  # whole blocks of 1,000
    customer: str | None = None  # operators name the customer; a key buys for its own


@router.get("/wallet")
def show_wallet(
    request: Request, caller: CallerDep, access: AccessDep, customer: str | None = None
) -> dict[str, Any]:
    customer_id = caller.customer(request, customer)
    settings = access.wallet.settings
    balance = access.wallet.balance(customer_id)
    with access.wallet.database.transaction() as session:
        used = ledger.usage_by_feature(session, customer_id)
    return {
        "customer_id": customer_id,
        "balance": balance,
        "used_by_feature": used,
        "price_per_1k_tokens": settings.wallet_price_per_1k_tokens,
        "currency": settings.wallet_currency,
    }


@router.get("/wallet/history")
def wallet_history(
    request: Request,
    caller: CallerDep,
    runtime: RuntimeDep,
    customer: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    customer_id = caller.customer(request, customer)
    with runtime.database.transaction() as session:
        entries = ledger.history(session, customer_id, limit)
    return {"customer_id": customer_id, "entries": entries}


@router.post("/wallet/checkout", status_code=201)
def buy_tokens(
    body: CheckoutBody, request: Request, caller: CallerDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Open a Checkout Session; the tokens are credited when Stripe reports the payment."""
    customer_id = caller.customer(request, body.customer)
    with runtime.database.transaction() as session:
        checkout = start_token_checkout(
            session, runtime.tools["stripe"], runtime.settings, customer_id, body.tokens
        )
    return {
        "customer_id": customer_id,
        "session_id": checkout.session_id,
        "url": checkout.url,
        "tokens": checkout.tokens,
        "amount": checkout.amount,
        "currency": checkout.currency,
    }
