"""Money and time as the notification e-mails show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.notification.formatting import format_money, format_utc, minor_digits


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123456, "usd", "USD 1,234.56"),
        (5, "eur", "EUR 0.05"),
        (1500, "jpy", "JPY 1,500"),
        (1234, "kwd", "KWD 1.234"),
        (-2500, "gbp", "-GBP 25.00"),
        (0, "usd", "USD 0.00"),
    ],
)
def test_money_is_shown_from_minor_units(amount: int, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize("amount", [12.5, "100", True])
def test_money_refuses_anything_but_integer_minor_units(amount: object) -> None:
    with pytest.raises(TypeError):
        format_money(amount, "usd")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["usd", "jpy", "kwd"]))
def test_money_digits_read_back_to_the_same_minor_units(amount: int, currency: str) -> None:
    number = format_money(amount, currency).split(" ", 1)[1].replace(",", "").replace(".", "")
    assert int(number) == amount
    shown_digits = len(format_money(amount, currency).partition(".")[2])
    assert shown_digits == minor_digits(currency)


def test_instants_are_shown_in_utc_from_any_form() -> None:
    plus_two = datetime(2026, 12, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    expected = "2026-12-01 09:30 UTC"
    assert format_utc(plus_two) == expected
    assert format_utc("2026-12-01T09:30:00Z") == expected
    assert format_utc(int(datetime(2026, 12, 1, 9, 30, tzinfo=UTC).timestamp())) == expected


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError):
        format_utc("2026-12-01T09:30:00")
