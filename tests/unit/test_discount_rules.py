"""Coupons file validation by line, and which invoices a once/repeating/forever discount covers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agents.catalog.loader import load_catalog
from agents.config_file import ConfigFileError
from agents.discounts.loader import parse_discounts
from agents.pricing.discounts import (
    AmountOff,
    DiscountTerm,
    PercentOff,
    discount_amount,
    discount_covers,
)
from agents.pricing.errors import PricingError
from agents.pricing.money import Money

START = datetime(2026, 1, 31, 12, tzinfo=UTC)


def _at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def test_once_covers_the_first_invoice_only() -> None:
    term = DiscountTerm("once")
    assert discount_covers(term, started=START, period_start=START, invoices_before=0)
    assert not discount_covers(term, started=START, period_start=_at(2, 28), invoices_before=1)


def test_repeating_covers_invoices_starting_within_its_months() -> None:
    """Jan 31 + 3 months is Apr 30 (clamped): Jan, Feb, Mar periods get it, April's does not."""
    term = DiscountTerm("repeating", 3)
    covered = [
        discount_covers(term, started=START, period_start=start, invoices_before=n)
        for n, start in enumerate([START, _at(2, 28), _at(3, 31), _at(4, 30)])
    ]
    assert covered == [True, True, True, False]


def test_repeating_on_a_yearly_plan_covers_only_the_first_year() -> None:
    term = DiscountTerm("repeating", 3)
    assert discount_covers(term, started=START, period_start=START, invoices_before=0)
    yearly = datetime(2027, 1, 31, 12, tzinfo=UTC)
    assert not discount_covers(term, started=START, period_start=yearly, invoices_before=1)


def test_forever_covers_every_later_invoice_but_none_before_redemption() -> None:
    term = DiscountTerm("forever")
    later = datetime(2031, 5, 1, tzinfo=UTC)
    assert discount_covers(term, started=START, period_start=later, invoices_before=64)
    assert not discount_covers(term, started=START, period_start=_at(1, 1), invoices_before=0)


@pytest.mark.parametrize(
    ("duration", "months"), [("repeating", None), ("once", 3), ("repeating", 0)]
)
def test_a_term_takes_months_exactly_when_repeating(duration: str, months: int | None) -> None:
    with pytest.raises(PricingError) as error:
        DiscountTerm(duration, months)  # type: ignore[arg-type]
    assert error.value.code == "bad_discount"


def test_percent_off_rounds_half_even_in_yen() -> None:
    """12.5% of ¥1,100 is ¥137.5: half-even gives ¥138; of ¥1,300 it is ¥162.5 -> ¥162."""
    off = PercentOff(Decimal("12.5"))
    assert discount_amount(Money(1100, "jpy"), off) == Money(138, "jpy")
    assert discount_amount(Money(1300, "jpy"), off) == Money(162, "jpy")
    assert discount_amount(Money(500, "jpy"), AmountOff(Money(1000, "jpy"))) == Money(500, "jpy")


def test_a_valid_file_parses_with_its_terms() -> None:
    discounts = parse_discounts(
        """
coupons:
  - {key: spring, percent_off: 12.5, duration: repeating, duration_in_months: 2,
     applies_to: [pro], max_redemptions: 10, redeem_by: 2027-01-01T00:00:00Z}
  - {key: tenoff, amount_off: 1000, currency: usd, duration: once, first_time_only: true}
promotion_codes:
  - {code: Spring-26, coupon: spring, max_redemptions: 5}
  - {code: TENOFF, coupon: tenoff}
""",
        load_catalog(),
    )
    assert discounts.find_code("spring-26") is discounts.promotion_codes[0]
    assert discounts.coupon("spring").discount() == PercentOff(Decimal("12.5"))
    assert discounts.coupon("tenoff").discount() == AmountOff(Money(1000, "usd"))
    assert discounts.coupon("spring").term() == DiscountTerm("repeating", 2)


def test_every_problem_is_reported_with_its_file_line_and_field() -> None:
    text = """coupons:
  - key: both
    percent_off: 10
    amount_off: 500
    duration: forever
  - key: months
    percent_off: 10
    duration: repeating
  - key: nowhere
    amount_off: 100
    duration: once
    applies_to: [starter, moon]
  - key: capped
    percent_off: 5
    duration: once
    max_redemptions: 3
    redeem_by: 2026-06-01T00:00:00Z
promotion_codes:
  - {code: ONE, coupon: both}
  - {code: one, coupon: both}
  - {code: GHOST, coupon: missing}
  - {code: BIG, coupon: capped, max_redemptions: 4, expires_at: 2026-07-01T00:00:00Z}
  - {code: "no spaces", coupon: capped}
"""
    with pytest.raises(ConfigFileError) as error:
        parse_discounts(text, load_catalog(), "d.yaml")
    assert error.value.code == "bad_discounts"
    problems = error.value.problems
    assert "d.yaml:3: coupons[0].percent_off: set percent_off or amount_off, not both" in problems
    assert "d.yaml:2: coupons[0].currency: required with amount_off, only then" in problems
    assert "d.yaml:6: coupons[1].duration_in_months: required with repeating, only then" in problems
    assert "d.yaml:9: coupons[2].currency: required with amount_off, only then" in problems
    assert "d.yaml:12: coupons[2].applies_to[1]: unknown product 'moon' in the catalog" in problems
    assert "d.yaml:20: promotion_codes[1].code: duplicate code 'one' (case ignored)" in problems
    assert "d.yaml:21: promotion_codes[2].coupon: unknown coupon 'missing'" in problems
    assert "d.yaml:22: promotion_codes[3].max_redemptions: above the coupon's 3" in problems
    assert "d.yaml:22: promotion_codes[3].expires_at: after the coupon's redeem_by" in problems
    assert any(p.startswith("d.yaml:23: promotion_codes[4].code: must match") for p in problems)
    assert len(problems) == 10


def test_yaml_syntax_errors_name_the_line() -> None:
    with pytest.raises(ConfigFileError) as error:
        parse_discounts("coupons:\n  - {key: a,\n", load_catalog(), "d.yaml")
    assert error.value.problems[0].startswith("d.yaml:3: not valid YAML")


def test_the_shipped_file_is_valid() -> None:
    from agents.discounts.loader import load_discounts

    shipped = load_discounts()
    assert {p.normalized for p in shipped.promotion_codes} >= {"WELCOME20"}
