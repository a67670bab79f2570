"""Proration of a plan change to the second: credit the unused old time, charge the new."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.pricing.errors import PricingError
from agents.pricing.money import Money
from agents.pricing.proration import prorate_change

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)  # 365 days = 31,536,000 s


def test_yearly_upgrade_in_october_prorates_the_last_92_days() -> None:
    changed_at = datetime(2026, 10, 1, tzinfo=UTC)  # Oct + Nov + Dec = 92 days left
    proration = prorate_change(
        Money(19_900, "usd"),  # Starter $199/year
        Money(99_900, "usd"),  # Pro $999/year
        period_start=YEAR_START,
        period_end=YEAR_END,
        changed_at=changed_at,
    )
    assert proration.credit.amount == Money(-5_016, "usd")  # 19900 x 92/365 = 5015.89
    assert proration.charge.amount == Money(25_180, "usd")  # 99900 x 92/365 = 25180.27
    assert proration.net == Money(20_164, "usd")
    assert (proration.credit.kind, proration.charge.kind) == ("credit", "charge")
    assert proration.charge.start == changed_at and proration.charge.end == YEAR_END


def test_yearly_proration_counts_whole_seconds() -> None:
    # $315,360.00 a year is exactly one cent a second; the new plan costs twice as much.
    one_cent_a_second = Money(31_536_000, "usd")
    changed_at = datetime(2026, 7, 2, 12, 0, 1, 999_999, tzinfo=UTC)  # counts as 12:00:01
    proration = prorate_change(
        one_cent_a_second,
        Money(63_072_000, "usd"),
        period_start=YEAR_START,
        period_end=YEAR_END,
        changed_at=changed_at,
    )
    # 2026-07-02 12:00:00 is exactly half-way (182.5 days left); one second later:
    assert proration.credit.amount == Money(-15_767_999, "usd")
    assert proration.charge.amount == Money(31_535_998, "usd")
    assert proration.net == Money(15_767_999, "usd")


def test_a_downgrade_nets_a_credit() -> None:
    proration = prorate_change(
        Money(9_900, "usd"),
        Money(1_900, "usd"),
        period_start=datetime(2026, 2, 1, tzinfo=UTC),
        period_end=datetime(2026, 3, 1, tzinfo=UTC),  # 28 days
        changed_at=datetime(2026, 2, 15, tzinfo=UTC),  # 14 days left: half
    )
    assert proration.net == Money(-4_000, "usd")  # -4950 + 950


@pytest.mark.parametrize(
    ("start", "end", "at", "old_currency"),
    [
        (YEAR_END, YEAR_START, YEAR_START, "usd"),  # period ends before it starts
        (YEAR_START, YEAR_END, YEAR_END + timedelta(seconds=1), "usd"),  # after the period
        (YEAR_START, YEAR_END, YEAR_START - timedelta(seconds=1), "usd"),  # before it
        (YEAR_START.replace(tzinfo=None), YEAR_END, YEAR_START, "usd"),  # naive
        (YEAR_START, YEAR_END, YEAR_START, "eur"),  # currency mismatch
    ],
)
def test_a_change_outside_its_period_or_across_currencies_is_refused(
    start: datetime, end: datetime, at: datetime, old_currency: str
) -> None:
    with pytest.raises(PricingError):
        prorate_change(
            Money(100, old_currency),
            Money(200, "usd"),
            period_start=start,
            period_end=end,
            changed_at=at,
        )


amounts = st.integers(min_value=0, max_value=10**9)
periods = st.tuples(
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=400 * 86_400),
)


@given(amounts, amounts, periods)
def test_a_change_at_the_period_start_is_the_full_difference(
    old: int, new: int, period: tuple[datetime, int]
) -> None:
    start, seconds = period
    start = start.replace(microsecond=0)
    proration = prorate_change(
        Money(old, "usd"),
        Money(new, "usd"),
        period_start=start,
        period_end=start + timedelta(seconds=seconds),
        changed_at=start,
    )
    assert proration.credit.amount.amount == -old
    assert proration.charge.amount.amount == new
    assert proration.net.amount == new - old


@given(amounts, amounts, periods)
def test_a_change_at_the_period_end_is_zero(
    old: int, new: int, period: tuple[datetime, int]
) -> None:
    start, seconds = period
    end = start + timedelta(seconds=seconds)
    proration = prorate_change(
        Money(old, "usd"), Money(new, "usd"), period_start=start, period_end=end, changed_at=end
    )
    assert proration.credit.amount.amount == proration.charge.amount.amount == 0
    assert proration.net.amount == 0


@given(amounts, amounts, periods, st.integers(min_value=0, max_value=1_000_000))
def test_proration_lines_stay_within_the_period_amounts(
    old: int, new: int, period: tuple[datetime, int], parts_per_million: int
) -> None:
    start, seconds = period
    start = start.replace(microsecond=0)
    at = start + timedelta(seconds=seconds * parts_per_million // 1_000_000)
    proration = prorate_change(
        Money(old, "usd"),
        Money(new, "usd"),
        period_start=start,
        period_end=start + timedelta(seconds=seconds),
        changed_at=at,
    )
    assert -old <= proration.credit.amount.amount <= 0
    assert 0 <= proration.charge.amount.amount <= new
