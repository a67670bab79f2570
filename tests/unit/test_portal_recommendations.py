"""Plan recommendations: each number below is worked out by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

from agents.metering.meters import Meter, OveragePrice
from agents.portal.plan_options import PlanOption
from agents.portal.recommendations import MonthUsage, Recommendation, month_cost, recommend

# $1.00 per 1,000 API calls past the limit; seats have no overage (over the limit is refused).
METERS = {
    "api_calls": Meter(
        "api_calls", "sum", "API calls", None, OveragePrice(Decimal("1"), 1000, "usd")
    ),
    "seats": Meter("seats", "max", "seats"),
}
FREE = PlanOption("free", "Free", 0, {"api_calls": 1_000, "seats": 1})
STARTER = PlanOption("starter", "Starter", 1_900, {"api_calls": 50_000, "seats": 3})
PRO = PlanOption("pro", "Pro", 9_900, {"api_calls": 500_000, "seats": 20})
ENTERPRISE = PlanOption("enterprise", "Enterprise", None, {"api_calls": None, "seats": None})
LADDER = [FREE, STARTER, PRO, ENTERPRISE]
PERIODS = ("2026-08", "2026-09", "2026-10")


def months(*usage: dict[str, int]) -> list[MonthUsage]:
    return [
        MonthUsage(period, {k: Decimal(v) for k, v in used.items()})
        for period, used in zip(PERIODS, usage, strict=True)
    ]


def only(found: list[Recommendation]) -> Recommendation:
    assert len(found) == 1, found
    return found[0]


def test_a_month_costs_the_plan_price_plus_overage() -> None:
    month = months({"api_calls": 150_000, "seats": 2}, {}, {})[0]
    # Starter: 1,900 + (150,000 - 50,000) / 1,000 * $1.00 = 1,900 + 10,000 cents
    assert month_cost(STARTER, METERS, month, "usd", must_fit=True) == 11_900
    assert month_cost(PRO, METERS, month, "usd", must_fit=True) == 9_900  # within its limits
    # Free: 2 seats past its 1 have no overage price: it does not fit; counted anyway, its
    # overage is (150,000 - 1,000) / 1,000 x 100 = 14,900
    assert month_cost(FREE, METERS, month, "usd", must_fit=True) is None
    assert month_cost(FREE, METERS, month, "usd", must_fit=False) == 14_900
    assert month_cost(ENTERPRISE, METERS, month, "usd", must_fit=True) is None


def test_heavy_overage_on_starter_recommends_pro_when_it_costs_less() -> None:
    usage = months({"api_calls": 150_000}, {"api_calls": 140_000}, {"api_calls": 160_000})
    found = only(recommend(STARTER, LADDER, METERS, usage, "usd"))
    # Staying: 3 x 1,900 + (100 + 90 + 110) x 100 = 5,700 + 30,000 = 35,700
    # Pro: 3 x 9,900 = 29,700 (no overage under 500,000): 6,000 less
    assert found.code == "upgrade_saves"
    assert found.numbers == {
        "plan": "starter",
        "to_plan": "pro",
        "metric": "api_calls",
        "limit": 50_000,
        "months": list(PERIODS),
        "percent_used": ["300.00", "280.00", "320.00"],
        "currency": "usd",
        "cost_staying": 35_700,
        "cost_switching": 29_700,
        "saving": 6_000,
    }
    assert found.message == (
        "You used at least 280% of Starter's API calls in each of the last 3 months: "
        "Pro would have cost USD 297.00 instead of USD 357.00, USD 60.00 less."
    )


def test_near_the_limit_but_cheaper_to_stay_recommends_nothing() -> None:
    # 60,000 calls: Starter 1,900 + 10 x 100 = 2,900 a month, far under Pro's 9,900
    usage = months(*[{"api_calls": 60_000}] * 3)
    assert recommend(STARTER, LADDER, METERS, usage, "usd") == []


def test_92_percent_of_pro_every_month_suggests_talking_to_sales_for_enterprise() -> None:
    usage = months({"api_calls": 460_000}, {"api_calls": 470_000}, {"api_calls": 459_500})
    found = only(recommend(PRO, LADDER, METERS, usage, "usd"))
    assert found.code == "talk_to_sales"
    assert found.numbers["percent_used"] == ["92.00", "94.00", "91.90"]
    assert found.message == (
        "You used at least 91% of Pro's API calls in each of the last 3 months: "
        "Enterprise is sized for that; talk to our sales team."
    )


def test_high_usage_on_two_of_three_months_is_not_enough() -> None:
    usage = months({"api_calls": 460_000}, {"api_calls": 100_000}, {"api_calls": 470_000})
    assert recommend(PRO, LADDER, METERS, usage, "usd") == []


def test_light_use_of_pro_recommends_starter_with_the_saving() -> None:
    usage = months(
        {"api_calls": 40_000, "seats": 2},
        {"api_calls": 30_000, "seats": 2},
        {"api_calls": 45_000, "seats": 2},
    )
    found = only(recommend(PRO, LADDER, METERS, usage, "usd"))
    # Pro: 3 x 9,900 = 29,700; Starter fits (45,000 < 50,000 calls, 2 < 3 seats): 3 x 1,900
    # = 5,700; Free does not fit (2 seats > 1, no seat overage). Saving 24,000.
    assert found.code == "downgrade_saves"
    assert found.numbers == {
        "plan": "pro",
        "to_plan": "starter",
        "months": list(PERIODS),
        "percent_used": {
            "api_calls": ["8.00", "6.00", "9.00"],
            "seats": ["10.00", "10.00", "10.00"],
        },
        "currency": "usd",
        "cost_staying": 29_700,
        "cost_switching": 5_700,
        "saving": 24_000,
    }
    assert found.message == (
        "You used under 20% of Pro's API calls and seats in each of the last 3 months: "
        "Starter would have cost USD 57.00 instead of USD 297.00, saving USD 240.00."
    )


def test_the_cheapest_plan_that_fits_wins_even_with_overage() -> None:
    usage = months(*[{"api_calls": 1_500}] * 3)  # no seats reported: 0 of 3
    found = only(recommend(STARTER, LADDER, METERS, usage, "usd"))
    # Free: 3 x (500 calls over x $1.00 / 1,000) = 3 x 50 = 150 < Starter's 3 x 1,900
    assert (found.code, found.numbers["to_plan"]) == ("downgrade_saves", "free")
    assert (found.numbers["cost_switching"], found.numbers["saving"]) == (150, 5_550)


def test_one_busy_metric_blocks_a_downgrade() -> None:
    usage = months(*[{"api_calls": 10_000, "seats": 5}] * 3)  # seats at 25% of Pro's 20
    assert recommend(PRO, LADDER, METERS, usage, "usd") == []


def test_fewer_than_three_closed_months_recommend_nothing() -> None:
    usage = months({"api_calls": 0}, {"api_calls": 0}, {"api_calls": 0})[1:]
    assert recommend(PRO, LADDER, METERS, usage, "usd") == []


def test_contact_sales_and_free_plans_get_no_downgrade() -> None:
    usage = months(*[{"api_calls": 0, "seats": 0}] * 3)
    assert recommend(ENTERPRISE, LADDER, METERS, usage, "usd") == []
    assert recommend(FREE, LADDER, METERS, usage, "usd") == []
