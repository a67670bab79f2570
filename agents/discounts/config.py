"""Coupons and promotion codes as the operator writes them (`discounts.yaml`), typed and frozen."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from agents.catalog.models import Currency, Key
from agents.pricing.discounts import AmountOff, Discount, DiscountTerm, PercentOff
from agents.pricing.money import Money
from core.errors import NotFound

# Stripe's alphabet for customer-facing codes; matching ignores case.
CodeText = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{2,50}$")]
Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=2, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coupon(_Strict):
    """The terms of a discount: how much, how long, for whom, how many times, until when."""

    key: Key
    name: str = ""
    percent_off: Percent | None = None
    amount_off: Count | None = None  # minor units of `currency`
    currency: Currency | None = None
    duration: Literal["once", "repeating", "forever"]
    duration_in_months: Count | None = None
    max_redemptions: Count | None = None
    redeem_by: AwareDatetime | None = None
    applies_to: tuple[Key, ...] = ()  # catalog product keys; empty: every product
    first_time_only: bool = False

    def discount(self) -> Discount:
        """The pricing engine's view of the amount (the loader checked exactly one is set)."""
        if self.percent_off is not None:
            return PercentOff(self.percent_off)
        assert self.amount_off is not None and self.currency is not None
        return AmountOff(Money(self.amount_off, self.currency))

    def term(self) -> DiscountTerm:
        return DiscountTerm(self.duration, self.duration_in_months)


class PromotionCode(_Strict):
    """A code customers type, pointing at a coupon, with its own switch, limit and expiry."""

    code: CodeText
    coupon: Key
    active: bool = True
    max_redemptions: Count | None = None
    expires_at: AwareDatetime | None = None

    @property
    def normalized(self) -> str:
        return normalize_code(self.code)


class Discounts(_Strict):
    """The validated file: coupon keys unique, codes unique ignoring case, references whole."""

    coupons: tuple[Coupon, ...] = ()
    promotion_codes: tuple[PromotionCode, ...] = ()
    source: str = "<text>"

    def coupon(self, key: str) -> Coupon:
        for coupon in self.coupons:
            if coupon.key == key:
                return coupon
        raise NotFound(f"unknown coupon {key!r}", code="unknown_coupon")

    def find_code(self, code: str) -> PromotionCode | None:
        wanted = normalize_code(code)
        return next((p for p in self.promotion_codes if p.normalized == wanted), None)


def normalize_code(code: str) -> str:
    """Codes are matched case-insensitively and stored upper-case, without surrounding blanks."""
    return code.strip().upper()


def expired(deadline: datetime | None, at: datetime) -> bool:
    return deadline is not None and at >= deadline
