"""The amount for a quantity under each revenue model: golden amounts by hand, then properties."""

from __future__ import annotations

from decimal import Decimal, localcontext

from hypothesis import given
from hypothesis import strategies as st

from agents.pricing.amounts import TierCharge, amount_for, graduated_charges
from agents.pricing.money import Money
from agents.pricing.prices import (
    FixedPrice,
    PackagePrice,
    PerUnitPrice,
    Price,
    RecurringPrice,
    Tier,
    TieredGraduatedPrice,
    TieredVolumePrice,
)

# $0.05 for units 1-1000, $0.04 for 1001-5000, $0.03 beyond (unit amounts in cents).
SEED_TIERS = (Tier(1000, Decimal(5)), Tier(5000, Decimal(4)), Tier(None, Decimal(3)))


# Golden amounts, computed by hand.


def test_fixed_one_time_bills_each_item() -> None:
    setup_fee = FixedPrice("usd", 4900)  # $49.00
    assert amount_for(setup_fee, 2) == Money(9800, "usd")  # 2 x $49 = $98.00


def test_recurring_bills_the_interval_price_per_seat() -> None:
    assert amount_for(RecurringPrice("usd", 9900, "month"), 3) == Money(29700, "usd")  # $297
    assert amount_for(RecurringPrice("usd", 99900, "year"), 1) == Money(99900, "usd")  # $999


def test_per_unit_rounds_half_even_once_at_the_end() -> None:
    per_call = PerUnitPrice("usd", Decimal("0.15"))  # $0.0015 per API call
    assert amount_for(per_call, 12_345) == Money(1852, "usd")  # 1851.75 c -> $18.52
    assert amount_for(per_call, 12_350) == Money(1852, "usd")  # 1852.5 c -> even 1852
    assert amount_for(per_call, 12_370) == Money(1856, "usd")  # 1855.5 c -> even 1856
    assert amount_for(per_call, Decimal("0.5")) == Money(0, "usd")  # 0.075 c -> 0


def test_per_unit_in_a_three_decimal_currency_counts_fils() -> None:
    per_seat = PerUnitPrice("kwd", Decimal(125))  # KWD 0.125
    assert str(amount_for(per_seat, 3)) == "KWD 0.375"
    assert amount_for(PerUnitPrice("kwd", Decimal("0.5")), 3) == Money(2, "kwd")  # 1.5 -> 2


def test_graduated_prices_each_tier_its_own_units() -> None:
    price = TieredGraduatedPrice("usd", SEED_TIERS)
    # 1000 x 5c + 4000 x 4c + 2500 x 3c = 5000 + 16000 + 7500 = 28500 c
    assert amount_for(price, 7_500) == Money(28_500, "usd")
    assert graduated_charges(price, 7_500) == (
        TierCharge(0, 1000, 5000),
        TierCharge(1, 4000, 16000),
        TierCharge(2, 2500, 7500),
    )
    assert amount_for(price, 1_001) == Money(5_004, "usd")  # 1000 x 5c + 1 x 4c


def test_graduated_flat_amount_is_billed_once_the_tier_is_reached() -> None:
    # $10 covers the first 10 units, then $1 each.
    price = TieredGraduatedPrice("usd", (Tier(10, Decimal(0), 1000), Tier(None, Decimal(100))))
    assert amount_for(price, 0) == Money(0, "usd")
    assert amount_for(price, 1) == Money(1000, "usd")
    assert amount_for(price, 25) == Money(2500, "usd")  # 1000 + 15 x 100


def test_volume_prices_every_unit_at_the_reached_tier() -> None:
    price = TieredVolumePrice("usd", SEED_TIERS)
    assert amount_for(price, 7_500) == Money(22_500, "usd")  # 7500 x 3c
    assert amount_for(price, 1_000) == Money(5_000, "usd")  # 1000 x 5c
    # Crossing a bound lowers every unit's rate: one more unit can cost less (as in Stripe).
    assert amount_for(price, 1_001) == Money(4_004, "usd")  # 1001 x 4c


def test_volume_in_a_zero_decimal_currency_rounds_to_whole_yen() -> None:
    price = TieredVolumePrice(
        "jpy", (Tier(100, Decimal(10)), Tier(1000, Decimal(8)), Tier(None, Decimal("6.5")))
    )
    assert amount_for(price, 50) == Money(500, "jpy")  # 50 x ¥10
    assert amount_for(price, 1_500) == Money(9_750, "jpy")  # 1500 x ¥6.5
    assert amount_for(price, 1_501) == Money(9_756, "jpy")  # ¥9756.5 -> even ¥9756
    assert str(amount_for(price, 1_500)) == "JPY 9,750"


def test_package_bills_whole_blocks() -> None:
    per_thousand = PackagePrice("usd", 500, 1000)  # $5 per 1,000 units
    assert amount_for(per_thousand, 2_001) == Money(1_500, "usd")  # 3 blocks = $15.00
    assert amount_for(per_thousand, 2_000) == Money(1_000, "usd")
    assert amount_for(per_thousand, 0) == Money(0, "usd")
    assert amount_for(PackagePrice("usd", 500, 1000, "down"), 2_001) == Money(1_000, "usd")


# Properties.

unit_amounts = st.decimals(min_value=0, max_value=10_000, places=4, allow_nan=False)
quantities = st.integers(min_value=0, max_value=10**7) | st.decimals(
    min_value=0, max_value=10**7, places=3, allow_nan=False
)


@st.composite
def tier_lists(draw: st.DrawFn) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.integers(1, 10**6), max_size=4)))
    return tuple(
        Tier(up_to, draw(unit_amounts), draw(st.integers(0, 10_000))) for up_to in [*bounds, None]
    )


@st.composite
def prices(draw: st.DrawFn) -> Price:
    currency = draw(st.sampled_from(["usd", "jpy", "kwd"]))
    minor = st.integers(0, 10**7)
    return draw(
        st.one_of(
            st.builds(FixedPrice, st.just(currency), minor),
            st.builds(RecurringPrice, st.just(currency), minor, st.sampled_from(["month", "year"])),
            st.builds(PerUnitPrice, st.just(currency), unit_amounts),
            st.builds(TieredGraduatedPrice, st.just(currency), tier_lists()),
            st.builds(TieredVolumePrice, st.just(currency), tier_lists()),
            st.builds(PackagePrice, st.just(currency), minor, st.integers(1, 10_000)),
        )
    )


def _half_even(exact: Decimal) -> int:
    with localcontext(prec=100):
        return int(exact.quantize(Decimal(1), rounding="ROUND_HALF_EVEN"))


@given(tier_lists(), quantities)
def test_graduated_equals_the_sum_of_its_tiers_computed_separately(
    tiers: tuple[Tier, ...], quantity: int | Decimal
) -> None:
    expected = 0
    lower: int | Decimal = 0
    with localcontext(prec=100):
        for tier in tiers:
            upper = quantity if tier.up_to is None else tier.up_to
            units = max(Decimal(0), min(Decimal(quantity), Decimal(upper)) - lower)
            if units > 0:
                expected += _half_even(units * tier.unit_amount + tier.flat_amount)
            lower = upper
    assert amount_for(TieredGraduatedPrice("usd", tiers), quantity).amount == expected


@given(tier_lists(), quantities, quantities)
def test_volume_is_monotonic_within_a_tier(
    tiers: tuple[Tier, ...], first: int | Decimal, second: int | Decimal
) -> None:
    price = TieredVolumePrice("usd", tiers)
    low, high = sorted((first, second))
    bounds = [t.up_to for t in tiers if t.up_to is not None]
    if low > 0 and all(not low <= b < high for b in bounds):  # same tier
        assert amount_for(price, low).amount <= amount_for(price, high).amount


@given(tier_lists(), st.integers(min_value=0, max_value=10**7))
def test_volume_drops_with_one_more_unit_only_at_a_tier_bound(
    tiers: tuple[Tier, ...], quantity: int
) -> None:
    price = TieredVolumePrice("usd", tiers)
    if amount_for(price, quantity + 1).amount < amount_for(price, quantity).amount:
        assert quantity in {t.up_to for t in tiers}


@given(prices(), st.integers(min_value=0, max_value=10**7))
def test_no_quantity_yields_a_negative_amount(price: Price, quantity: int) -> None:
    total = amount_for(price, quantity)
    assert total.amount >= 0
    assert total.currency == price.currency


@given(unit_amounts, quantities)
def test_per_unit_rounding_stays_within_half_a_minor_unit(
    unit_amount: Decimal, quantity: int | Decimal
) -> None:
    billed = amount_for(PerUnitPrice("usd", unit_amount), quantity).amount
    with localcontext(prec=100):
        assert abs(billed - unit_amount * quantity) <= Decimal("0.5")
