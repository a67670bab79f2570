"""/api/v1/products (public) and /api/v1/checkout-sessions (a signed-in customer buys)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field, StrictInt

from agents.catalog.loader import load_catalog
from agents.catalog.offers import offered_products
from agents.checkout.rules import CheckoutRequest
from agents.checkout.service import start_checkout
from api.dependencies import RuntimeDep
from api.problems import problem_responses
from api.v1.customer_auth import CustomerDep

router = APIRouter(prefix="/api/v1", tags=["checkout"])


class CheckoutBody(BaseModel):
    price: str = Field(description="Catalog price key, e.g. pro_monthly")
    quantity: StrictInt = 1
    promotion_code: str | None = None
    trial: bool = Field(
        True, description="Start with the price's free trial, if it has one (one per customer)"
    )
    success_url: str | None = None
    cancel_url: str | None = None


class CheckoutOpened(BaseModel):
    session_id: str
    url: str | None
    mode: str
    price: str
    plan: str
    quantity: int
    trial_days: int | None


@router.get("/products", summary="Products and prices on offer")
def list_products(runtime: RuntimeDep) -> dict[str, Any]:
    """What is on offer: active products and their prices, amounts formatted, features, limits."""
    catalog = load_catalog(runtime.settings.catalog_file)
    return {"products": offered_products(catalog)}


@router.post(
    "/checkout-sessions",
    status_code=201,
    summary="Open a Stripe Checkout Session for a catalog price",
    responses=problem_responses(401, 404, 409, 422),
)
def open_checkout(
    body: CheckoutBody,
    principal: CustomerDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CheckoutOpened:
    """Open a Stripe Checkout Session for a catalog price; repeat with the same
    `Idempotency-Key` header to get the same session back."""
    request = CheckoutRequest(
        customer_id=principal.customer_id,
        price_key=body.price,
        quantity=body.quantity,
        promotion_code=body.promotion_code,
        trial_days=None if body.trial else 0,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
        request_key=idempotency_key,
    )
    with runtime.database.transaction() as session:
        started = start_checkout(session, runtime.tools["stripe"], runtime.settings, request)
    return CheckoutOpened(
        session_id=started.session_id,
        url=started.url,
        mode=started.mode,
        price=started.price_key,
        plan=started.plan,
        quantity=started.quantity,
        trial_days=started.trial_days,
    )
