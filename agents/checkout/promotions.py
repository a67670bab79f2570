"""A promotion code at checkout: the discounts module decides, Stripe gets its synced id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from agents.discounts.validation import validate_code
from core.errors import InvalidInput
from core.settings import Settings


def checkout_discounts(
    session: Session,
    settings: Settings,
    code: str | None,
    *,
    customer_id: int,
    price_key: str,
    at: datetime,
) -> list[dict[str, str]]:
    """Checkout's `discounts` for `code` (none without one); a refused code is a 422 whose
    machine code is the refusal reason (`expired`, `not_for_plan`, `unknown_code`...)."""
    if not code:
        return []
    check = validate_code(
        session, code, customer_id=customer_id, price_key=price_key, at=at, settings=settings
    )
    if not check.valid:
        raise InvalidInput(
            f"promotion code {code!r} cannot be used: {check.reason}",
            code=check.reason or "invalid_code",
        )
    if check.stripe_promotion_code_id:
        return [{"promotion_code": check.stripe_promotion_code_id}]
    if check.stripe_coupon_id:
        return [{"coupon": check.stripe_coupon_id}]
    raise InvalidInput(
        f"promotion code {code!r} is not on Stripe yet: sync the discounts first",
        code="promotion_not_synced",
    )
