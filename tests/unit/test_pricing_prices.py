"""Price models refuse what cannot be billed, with a machine-readable code."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from agents.pricing.amounts import amount_for
from agents.pricing.errors import PricingError
from agents.pricing.money import Money
from agents.pricing.prices import (
    FixedPrice,
    PackagePrice,
    PerUnitPrice,
    RecurringPrice,
    Tier,
    TieredGraduatedPrice,
    TieredVolumePrice,
)
from core.errors import InvalidInput

CASES: list[tuple[Callable[[], object], str]] = [
    (lambda: FixedPrice("usd", -1), "negative_price"),
    (lambda: FixedPrice("usd", 1.5), "bad_price"),  # type: ignore[arg-type]
    (lambda: FixedPrice("USD", 100), "bad_currency"),
    (lambda: RecurringPrice("usd", 1900, "week"), "bad_interval"),  # type: ignore[arg-type]
    (lambda: PerUnitPrice("usd", Decimal("-0.5")), "negative_price"),
    (lambda: PerUnitPrice("usd", Decimal("NaN")), "bad_price"),
    (lambda: PerUnitPrice("usd", 0.5), "bad_price"),  # type: ignore[arg-type]
    (lambda: PackagePrice("usd", 500, 0), "bad_package"),
    (lambda: PackagePrice("usd", 500, 10, "nearest"), "bad_package"),  # type: ignore[arg-type]
    (lambda: TieredVolumePrice("usd", ()), "bad_tiers"),
    (lambda: TieredVolumePrice("usd", (Tier(100, Decimal(1)),)), "bad_tiers"),
    (lambda: TieredVolumePrice("usd", (Tier(None), Tier(None))), "bad_tiers"),
    (lambda: TieredGraduatedPrice("usd", (Tier(100), Tier(100), Tier(None))), "bad_tiers"),
    (lambda: TieredGraduatedPrice("usd", (Tier(100), Tier(50), Tier(None))), "bad_tiers"),
    (lambda: Tier(0), "bad_tiers"),
    (lambda: Tier(None, Decimal(1), -5), "negative_price"),
]


@pytest.mark.parametrize(("build", "code"), CASES)
def test_an_unbillable_price_is_refused_with_its_code(
    build: Callable[[], object], code: str
) -> None:
    with pytest.raises(PricingError) as refused:
        build()
    assert refused.value.code == code
    assert isinstance(refused.value, InvalidInput)  # maps to a 4xx


@pytest.mark.parametrize(
    ("quantity", "whole"),
    [
        (-1, False),
        (Decimal("-0.1"), False),
        (Decimal("Infinity"), False),
        (10**16, False),
        (Decimal("1E-13"), False),
        (1.0, False),
        (True, False),
        (Decimal("1.5"), True),
    ],
)
def test_a_negative_absurd_or_float_quantity_is_refused(quantity: object, whole: bool) -> None:
    price = FixedPrice("usd", 100) if whole else PerUnitPrice("usd", Decimal(1))
    with pytest.raises(PricingError) as refused:
        amount_for(price, quantity)  # type: ignore[arg-type]
    assert refused.value.code == "bad_quantity"


def test_money_holds_only_integer_minor_units() -> None:
    with pytest.raises(TypeError):
        Money(12.5, "usd")  # type: ignore[arg-type]
    assert str(Money(1500, "jpy")) == "JPY 1,500"
