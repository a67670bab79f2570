"""Proration of a plan change inside a billing period, to the second, as Stripe bills it.

The customer is credited the unused part of the old price and charged the remaining part of
the new one; both are the same fraction (remaining seconds / period seconds) of a period amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Literal

from agents.pricing.errors import PricingError
from agents.pricing.money import Money, round_minor, same_currency

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class ProrationLine:
    """A credit (negative amount) or a charge for the time from `start` to `end`."""

    kind: Literal["credit", "charge"]
    amount: Money
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Proration:
    """The two lines of a plan change and what the customer owes for it (negative: is owed)."""

    credit: ProrationLine
    charge: ProrationLine
    net: Money


def prorate_change(
    old_amount: Money,
    new_amount: Money,
    *,
    period_start: datetime,
    period_end: datetime,
    changed_at: datetime,
) -> Proration:
    """Lines for switching from `old_amount` to `new_amount` per period at `changed_at`.

    Both amounts are for the whole period (`amount_for(price, quantity)` of its interval).
    """
    same_currency(old_amount.currency, new_amount.currency)
    start, end, at = (_unix_seconds(t) for t in (period_start, period_end, changed_at))
    if start >= end:
        raise PricingError("the period must end after it starts", code="bad_period")
    if not start <= at <= end:
        raise PricingError("the change must fall inside the period", code="bad_period")
    remaining = Fraction(end - at, end - start)
    credit = Money(-round_minor(old_amount.amount * remaining), old_amount.currency)
    charge = Money(round_minor(new_amount.amount * remaining), new_amount.currency)
    return Proration(
        credit=ProrationLine("credit", credit, changed_at, period_end),
        charge=ProrationLine("charge", charge, changed_at, period_end),
        net=Money(charge.amount + credit.amount, charge.currency),
    )


def _unix_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch (Stripe's resolution), refusing naive datetimes."""
    if moment.tzinfo is None:
        raise PricingError(f"{moment} has no timezone; use aware UTC", code="bad_period")
    return (moment - _EPOCH) // _SECOND
