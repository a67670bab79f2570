"""Revenue report over snapshots: periods, trial conversion, LTV, cohorts, forecast, chart."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from agents.analytics.cohorts import cohort_triangle, months_between
from agents.analytics.forecast import forecast_mrr, months_after
from agents.analytics.revenue_report import DayFigures, period_rows, summary
from orchestrator.revenue_chart import SERIES_KEY, chart_series, render_revenue_chart

ZERO = {
    f"mrr_{k}": 0 for k in ("new", "expansion", "contraction", "churn", "reactivation", "net")
} | {"trials_ended": 0, "trials_converted": 0}


def figures(day: str, **values: int) -> DayFigures:
    return DayFigures(date.fromisoformat(day), ZERO | values)


DAYS = [
    figures(
        "2026-10-30", mrr_start=10_000, mrr=12_000, mrr_new=2000, mrr_net=2000, arpu=6000,
        trials_ended=1, trials_converted=1,
    ),
    figures(
        "2026-10-31", mrr_start=12_000, mrr=11_000, mrr_churn=1000, mrr_net=-1000, arpu=5500,
        trials_ended=1,
    ),
    figures(
        "2026-11-01", mrr_start=11_000, mrr=14_000, mrr_expansion=2000, mrr_contraction=500,
        mrr_reactivation=1500, mrr_net=3000, arpu=7000,
    ),
]  # fmt: skip


def test_months_sum_their_days_and_keep_the_identity() -> None:
    october, november = period_rows(DAYS, "month")
    assert october == {
        "period": "2026-10",
        "mrr_start": 10_000,
        "mrr": 11_000,
        "mrr_new": 2000,
        "mrr_expansion": 0,
        "mrr_contraction": 0,
        "mrr_churn": 1000,
        "mrr_reactivation": 0,
        "mrr_net": 1000,
        "trials_ended": 2,
        "trials_converted": 1,
    }
    assert (november["mrr_start"], november["mrr"], november["mrr_net"]) == (11_000, 14_000, 3000)
    for row in (october, november):
        assert row["mrr"] == row["mrr_start"] + row["mrr_net"]
    assert [r["period"] for r in period_rows(DAYS, "day")] == [
        "2026-10-30",
        "2026-10-31",
        "2026-11-01",
    ]
    with pytest.raises(ValueError, match="week"):
        period_rows(DAYS, "week")


def test_summary_trial_conversion_churn_and_ltv_by_hand() -> None:
    result = summary(DAYS)
    assert result["trial_conversion_rate"] == "0.500000"  # 1 of 2 ended trials
    assert (result["mrr"], result["arpu"]) == (14_000, 7000)
    # 1000 churned over 10000 + 12000 + 11000 MRR-days: 1000 * (365 / 12) / 33000
    assert result["revenue_churn_rate_monthly"] == "0.921717"
    # 7000 / (365000 / 396000) = 7594.52...
    assert (result["ltv"], result["ltv_reason"]) == (7595, None)


def test_ltv_is_null_with_a_reason_without_churn() -> None:
    no_churn = summary([figures("2026-11-01", mrr_start=5000, mrr=5000, arpu=5000)])
    assert no_churn["ltv"] is None and "unbounded" in no_churn["ltv_reason"]
    assert no_churn["revenue_churn_rate_monthly"] == "0.000000"
    assert no_churn["trial_conversion_rate"] is None
    assert no_churn["trial_conversion_reason"] == "no trial ended in the range"
    no_mrr = summary([figures("2026-11-01", mrr_start=0, mrr=0, arpu=0)])
    assert no_mrr["ltv"] is None and no_mrr["revenue_churn_rate_monthly"] is None
    assert "no MRR" in no_mrr["ltv_reason"]


def test_cohort_triangle_by_hand() -> None:
    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=UTC)

    months = months_between(date(2026, 10, 15), date(2026, 12, 20))
    signups = {1: at("2026-10-05"), 2: at("2026-10-20"), 3: at("2026-11-02"), 4: at("2026-09-30")}
    paying = {
        date(2026, 10, 1): {1, 2, 4},
        date(2026, 11, 1): {1, 3, 4},
        date(2026, 12, 1): {1, 2, 3},
    }
    assert cohort_triangle(signups, months, paying) == [
        {
            "cohort": "2026-10",
            "customers": 2,
            "retained": [2, 1, 2],  # customer 2 leaves in November and comes back
            "retention": ["1.000000", "0.500000", "1.000000"],
        },
        {"cohort": "2026-11", "customers": 1, "retained": [1, 1], "retention": ["1.000000"] * 2},
        {"cohort": "2026-12", "customers": 0, "retained": [0], "retention": [None]},
    ]


def test_forecast_is_the_least_squares_trend_by_hand() -> None:
    series = [(date(2026, 11, 28), 1000), (date(2026, 11, 29), 1100), (date(2026, 11, 30), 1300)]
    result = forecast_mrr(series)
    # slope (3*3700 - 3*3400) / (3*5 - 9) = 150 a day, intercept 3400/3 - 150 = 983.33
    # x = 32, 63, 92 days after Nov 28 (Feb 28 is the clamped Feb 30)
    assert result["points"] == [
        {"day": "2026-12-30", "mrr": 5783},
        {"day": "2027-01-30", "mrr": 10_433},
        {"day": "2027-02-28", "mrr": 14_783},
    ]
    assert result["slope_per_day"] == "150.00"
    assert result["method"].startswith("least-squares linear trend of daily MRR")


def test_forecast_rounds_half_even_and_never_goes_negative() -> None:
    half = forecast_mrr([(date(2026, 1, 1), 0), (date(2026, 1, 3), 1)])
    assert [p["mrr"] for p in half["points"]] == [16, 30, 46]  # 16.5, 30.5, 46.0
    falling = forecast_mrr([(date(2026, 1, 1), 1000), (date(2026, 1, 2), 500)])
    assert [p["mrr"] for p in falling["points"]] == [0, 0, 0]
    alone = forecast_mrr([(date(2026, 1, 1), 1000)])
    assert alone["points"] == [] and alone["reason"] == "needs at least two days of MRR"
    assert months_after(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_chart_is_a_png_of_the_reported_figures() -> None:
    report: dict[str, Any] = {
        "currency": "usd",
        "plan": "*",
        "start": "2026-10-30",
        "end": "2026-11-01",
        "periods": period_rows(DAYS, "day"),
    }
    png = render_revenue_chart(report)
    image = Image.open(BytesIO(png))
    assert (image.format, image.size) == ("PNG", (1000, 560))
    assert json.loads(image.text[SERIES_KEY]) == chart_series(report)  # type: ignore[attr-defined]
    colours = {colour for _, colour in image.getcolors(1_000_000) or []}
    churn_red, mrr_blue = (0xC9, 0x2A, 0x2A), (0x3B, 0x5B, 0xDB)
    assert churn_red in colours and mrr_blue in colours
