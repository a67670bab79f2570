"""POST /api/v1/discounts/validate: may this promotion code be used, and what does it take off.

Signing in is optional: anonymously, the rules that depend on the customer (first-time
only, already redeemed) are not checked, and the answer says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from agents.catalog.loader import load_catalog
from agents.catalog.models import FixedPrice, RecurringPrice
from agents.discounts.validation import CodeCheck, validate_code
from agents.pricing.discounts import discount_amount
from agents.pricing.money import Money
from api.dependencies import RuntimeDep
from api.v1.customer_auth import CustomerPrincipal, bearer_token, current_customer
from core.clock import utcnow
from core.money import format_money
from core.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["discounts"])


def optional_customer(
    request: Request, token: Annotated[str | None, Depends(bearer_token)]
) -> CustomerPrincipal | None:
    """The signed-in customer, or None without a token (a bad token is still a 401)."""
    return current_customer(request, token) if token else None


class ValidateBody(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="The promotion code, any case")
    price: str | None = Field(None, description="Catalog price key it is for, e.g. pro_monthly")


class DiscountTerms(BaseModel):
    name: str
    percent_off: Decimal | None
    amount_off: int | None = Field(description="Minor units of `currency`")
    currency: str | None
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: int | None
    applies_to: list[str] = Field(description="Product keys; empty: every product")


class AmountOff(BaseModel):
    amount: int = Field(description="Minor units taken off one billing of the price")
    currency: str
    formatted: str


class CodeVerdict(BaseModel):
    code: str
    valid: bool
    reason: str | None = Field(
        description="unknown_code, inactive, expired, exhausted, not_for_plan, "
        "currency_mismatch, already_redeemed or first_time_only; null when valid"
    )
    discount: DiscountTerms | None
    amount_off: AmountOff | None = Field(description="For `price`, when it has a fixed amount")
    customer_checked: bool
    note: str | None = None


@router.post("/discounts/validate")
def validate_discount(
    body: ValidateBody,
    runtime: RuntimeDep,
    principal: Annotated[CustomerPrincipal | None, Depends(optional_customer)],
) -> CodeVerdict:
    """Check a promotion code for the caller (signed in or not) and, given `price`, the amount
    it takes off; a refused code is `valid: false` with its `reason`, not an error."""
    customer_id = principal.customer_id if principal else None
    with runtime.database.transaction() as session:
        check = validate_code(
            session,
            body.code,
            customer_id=customer_id,
            price_key=body.price,
            at=utcnow(),
            settings=runtime.settings,
        )
    return CodeVerdict(
        code=check.code,
        valid=check.valid,
        reason=check.reason,
        discount=_terms(check),
        amount_off=_amount_off(check, body.price, runtime.settings),
        customer_checked=check.customer_checked,
        note=None
        if check.customer_checked
        else "not signed in: first-time and already-redeemed rules were not checked",
    )


def _terms(check: CodeCheck) -> DiscountTerms | None:
    coupon = check.coupon
    if coupon is None or not check.valid:
        return None
    return DiscountTerms(
        name=coupon.name or coupon.key,
        percent_off=coupon.percent_off,
        amount_off=coupon.amount_off,
        currency=coupon.currency,
        duration=coupon.duration,
        duration_in_months=coupon.duration_in_months,
        applies_to=list(coupon.applies_to),
    )


def _amount_off(check: CodeCheck, price_key: str | None, settings: Settings) -> AmountOff | None:
    """What the discount takes off one billing of a fixed or recurring price."""
    if check.discount is None or price_key is None:
        return None
    price = load_catalog(settings.catalog_file).price(price_key)
    if not isinstance(price, FixedPrice | RecurringPrice):
        return None
    off = discount_amount(Money(price.unit_amount, price.currency), check.discount)
    return AmountOff(
        amount=off.amount, currency=off.currency, formatted=format_money(off.amount, off.currency)
    )
