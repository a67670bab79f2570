"""Money typed by people and shown to people, in integer minor units."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.money import format_money, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("15", "usd", 1500),
        ("15.5", "usd", 1550),
        ("1,234.56", "usd", 123456),
        ("1500", "jpy", 1500),
        ("1.234", "kwd", 1234),
        (" 0.01 ", "eur", 1),
    ],
)
def test_parse_amount_reads_what_operators_type(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["-5", "1.234", "abc", "", "1e3", "15.00.1", "1.5x"])
def test_parse_amount_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(text, "usd")


def test_zero_decimal_currency_takes_no_decimals() -> None:
    with pytest.raises(InvalidInput, match="no decimals"):
        parse_amount("10.5", "jpy")


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["usd", "jpy", "kwd"]))
def test_formatted_amounts_parse_back(minor: int, currency: str) -> None:
    shown = format_money(minor, currency).split(" ", 1)[1]
    assert parse_amount(shown, currency) == minor
