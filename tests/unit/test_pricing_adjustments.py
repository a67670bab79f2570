"""Discounts come off before tax and never below zero; tax is added on top or carved out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.pricing.discounts import AmountOff, PercentOff, discount_amount
from agents.pricing.errors import PricingError
from agents.pricing.lines import price_line
from agents.pricing.money import Money
from agents.pricing.prices import RecurringPrice, Tier, TieredGraduatedPrice
from agents.pricing.taxes import TaxRate, apply_tax

PRO_MONTHLY = RecurringPrice("usd", 9_900, "month")


def test_percent_off_rounds_half_even() -> None:
    assert discount_amount(Money(28_500, "usd"), PercentOff(Decimal(15))) == Money(4_275, "usd")
    assert discount_amount(Money(25, "usd"), PercentOff(Decimal(10))) == Money(2, "usd")  # 2.5
    assert discount_amount(Money(35, "usd"), PercentOff(Decimal(10))) == Money(4, "usd")  # 3.5


def test_amount_off_is_capped_at_the_subtotal() -> None:
    assert discount_amount(Money(1_900, "usd"), AmountOff(Money(5_000, "usd"))) == Money(
        1_900, "usd"
    )


def test_amount_off_in_another_currency_is_refused() -> None:
    with pytest.raises(PricingError) as refused:
        discount_amount(Money(1_900, "usd"), AmountOff(Money(500, "eur")))
    assert refused.value.code == "currency_mismatch"


@pytest.mark.parametrize(
    "build",
    [
        lambda: PercentOff(Decimal(0)),
        lambda: PercentOff(Decimal("100.01")),
        lambda: PercentOff(Decimal("NaN")),
        lambda: AmountOff(Money(0, "usd")),
        lambda: TaxRate(Decimal(-1)),
        lambda: TaxRate(Decimal(101)),
    ],
)
def test_a_discount_or_tax_rate_out_of_range_is_refused(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PricingError):
        build()


def test_exclusive_tax_is_added_on_top() -> None:
    taxed = apply_tax(Money(24_225, "usd"), TaxRate(Decimal(20)))
    assert (taxed.net, taxed.tax, taxed.gross) == (
        Money(24_225, "usd"),
        Money(4_845, "usd"),
        Money(29_070, "usd"),
    )


def test_inclusive_tax_is_carved_out_of_the_price() -> None:
    taxed = apply_tax(Money(12_000, "eur"), TaxRate(Decimal(20), inclusive=True))
    assert (taxed.net, taxed.tax, taxed.gross) == (
        Money(10_000, "eur"),
        Money(2_000, "eur"),
        Money(12_000, "eur"),
    )
    # German VAT 19% on EUR 99.00: 9900 x 19/119 = 1580.67 -> 1581
    assert apply_tax(Money(9_900, "eur"), TaxRate(Decimal(19), inclusive=True)).tax == Money(
        1_581, "eur"
    )


def test_a_line_takes_the_discount_before_the_tax() -> None:
    graduated = TieredGraduatedPrice(
        "usd", (Tier(1000, Decimal(5)), Tier(5000, Decimal(4)), Tier(None, Decimal(3)))
    )
    line = price_line(graduated, 7_500, discount=PercentOff(Decimal(15)), tax=TaxRate(Decimal(20)))
    assert line.subtotal == Money(28_500, "usd")
    assert line.discount == Money(4_275, "usd")
    assert line.taxable == line.net == Money(24_225, "usd")
    assert line.tax == Money(4_845, "usd")  # 20% of the discounted 24225, not of 28500
    assert line.total == Money(29_070, "usd")


def test_a_line_without_discount_or_tax_is_its_subtotal() -> None:
    line = price_line(PRO_MONTHLY, 1)
    assert line.total == line.subtotal == Money(9_900, "usd")
    assert line.discount == line.tax == Money(0, "usd")


@given(
    st.integers(min_value=0, max_value=1_000),
    st.one_of(
        st.builds(PercentOff, st.decimals(min_value="0.01", max_value=100, places=2)),
        st.builds(AmountOff, st.builds(Money, st.integers(1, 10**9), st.just("usd"))),
    ),
    st.builds(TaxRate, st.decimals(min_value=0, max_value=100, places=3), st.booleans()),
)
def test_no_line_total_is_negative_and_the_parts_add_up(
    seats: int, discount: PercentOff | AmountOff, tax: TaxRate
) -> None:
    line = price_line(PRO_MONTHLY, seats, discount=discount, tax=tax)
    assert 0 <= line.discount.amount <= line.subtotal.amount
    assert line.taxable.amount == line.subtotal.amount - line.discount.amount
    assert line.net.amount + line.tax.amount == line.total.amount
    assert min(line.net.amount, line.tax.amount, line.total.amount) >= 0
    if tax.inclusive:
        assert line.total == line.taxable
