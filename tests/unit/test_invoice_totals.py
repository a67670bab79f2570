"""Invoice money in Stripe's order: discount per line, then tax per line, half-even."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.invoices.totals import invoice_money
from agents.pricing.discounts import AmountOff, PercentOff
from agents.pricing.errors import PricingError
from agents.pricing.money import Money
from agents.pricing.taxes import TaxRate


def test_percent_discount_and_tax_are_rounded_per_line_half_even() -> None:
    # 15% of 125 = 18.75 -> 19; of 246 = 36.9 -> 37; of 9800 = 1470.
    # 4% of 106 = 4.24 -> 4; of 209 = 8.36 -> 8; of 8330 = 333.2 -> 333.
    money = invoice_money([9800, 246, 125], "usd", PercentOff(Decimal(15)), TaxRate(Decimal(4)))
    assert [(line.discount, line.tax) for line in money.lines] == [(1470, 333), (37, 8), (19, 4)]
    assert (money.subtotal, money.discount, money.tax, money.total) == (10171, 1526, 345, 8990)


def test_a_half_minor_unit_of_tax_rounds_to_even() -> None:
    # 10% of 25 = 2.5 -> 2 and of 35 = 3.5 -> 4 (half-even), not 3 and 4 (half-up).
    money = invoice_money([25, 35], "usd", None, TaxRate(Decimal(10)))
    assert [line.tax for line in money.lines] == [2, 4]
    assert money.total == 66


def test_an_amount_off_is_shared_pro_rata_and_adds_up_to_the_coupon() -> None:
    # 1000 off 1000/2000/3333 (of 6333): 157.9 -> 158, 315.8 -> 316, the rest 526.
    money = invoice_money([1000, 2000, 3333], "usd", AmountOff(Money(1000, "usd")), None)
    assert [line.discount for line in money.lines] == [158, 316, 526]
    assert money.discount == 1000 and money.total == 5333


def test_an_amount_off_larger_than_the_invoice_leaves_zero_not_a_credit() -> None:
    money = invoice_money([500], "usd", AmountOff(Money(2000, "usd")), TaxRate(Decimal(20)))
    assert (money.discount, money.tax, money.total) == (500, 0, 0)


def test_inclusive_tax_is_carved_out_of_the_total_not_added() -> None:
    # 19% inside 11900: 11900 * 19 / 119 = 1900.
    money = invoice_money([11900], "eur", None, TaxRate(Decimal(19), inclusive=True))
    assert (money.tax, money.total) == (1900, 11900)


def test_a_discount_in_another_currency_is_refused() -> None:
    with pytest.raises(PricingError) as refused:
        invoice_money([1000], "usd", AmountOff(Money(100, "eur")), None)
    assert refused.value.code == "currency_mismatch"


def test_zero_decimal_currencies_need_no_special_case() -> None:
    money = invoice_money([1999], "jpy", PercentOff(Decimal("12.5")), TaxRate(Decimal(10)))
    # 12.5% of 1999 = 249.875 -> 250; 10% of 1749 = 174.9 -> 175.
    assert (money.discount, money.tax, money.total) == (250, 175, 1924)
