"""Revenue analytics over a real database: two months of subscription history backfilled into
daily snapshots, then read by `moneta analytics report`, /ops/analytics/revenue and the console.

Hand-computed history (USD, versions at 10:00 UTC):
  c1 Pro 9900 from Oct 20; quantity 2 on Nov 10            new 9900 (Oct), expansion 9900
  c2 Starter yearly 19900 from Nov 3                        new 1658 (19900 / 12 = 1658.33)
  c3 Pro trial from Nov 1, converts Nov 15                  trial ended + converted, new 9900
  c4 Pro trial from Nov 2, canceled Nov 16                  trial ended, not converted
  c5 Pro 9900 from Oct 1, canceled Nov 12, Starter Nov 25   new (Oct), churn 9900, reactivation 1900
  c6 Pro 9900 -20% from Oct 5, Starter 1900 on Nov 20       new 7920 (Oct), contraction 6020
  c7 Starter 1900 from Oct 8, canceled Nov 5                new (Oct), churn 1900
MRR: Oct 1 00:00 = 0; Oct 31 end = 9900 + 7920 + 1900 + 9900 = 29620;
Nov 30 end = 19800 + 1658 + 9900 + 1900 + 1900 = 35158 = 29620 + 11558 + 9900 - 6020 - 11800 + 1900.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from agents.analytics.daily import backfill
from api.app import create_app
from core.settings import Settings
from db.models import Customer, MetricSnapshot, SubscriptionVersion
from db.session import Database
from orchestrator.access.roles import VIEWER
from orchestrator.commands.analytics import app as analytics_cli
from orchestrator.revenue_chart import SERIES_KEY
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.operators import console_login, make_operator

START, END = date(2026, 10, 1), date(2026, 11, 30)
PERIOD_HEADERS = ["MRR", "NEW", "EXPANSION", "CONTRACTION", "CHURN", "REACTIVATION", "NET"]
PRO, STARTER = {"plan": "pro", "unit_amount": 9900}, {"plan": "starter", "unit_amount": 1900}
HISTORY: dict[int, list[tuple[str, str, dict[str, Any]]]] = {
    1: [("10-20", "active", PRO), ("11-10", "active", PRO | {"quantity": 2})],
    2: [("11-03", "active", {"plan": "starter", "unit_amount": 19_900, "interval": "year"})],
    3: [("11-01", "trialing", PRO), ("11-15", "active", PRO)],
    4: [("11-02", "trialing", PRO), ("11-16", "canceled", PRO)],
    5: [("10-01", "active", PRO), ("11-12", "canceled", PRO)],
    6: [("10-05", "active", PRO | {"discount_percent_off": "20"}), ("11-20", "active", STARTER)],
    7: [("10-08", "active", STARTER), ("11-05", "canceled", STARTER)],
}
COMEBACK = ("11-25", "active", STARTER)  # c5's second subscription


def at(month_day: str) -> datetime:
    return datetime.fromisoformat(f"2026-{month_day}T10:00:00+00:00")


@pytest.fixture
def backfilled(database: Database) -> Iterator[dict[int, int]]:
    """The history above, with every day from Oct 1 to Nov 30 backfilled."""
    with database.transaction() as s:
        customers = {
            n: Customer(stripe_customer_id=f"cus_rev{n}", email=f"r{n}@x.io") for n in HISTORY
        }
        s.add_all(customers.values())
        s.flush()
        ids = {n: c.id for n, c in customers.items()}
        for n, versions in HISTORY.items():
            for when, status, values in versions:
                s.add(version(f"sub_rev{n}", ids[n], at(when), status, values))
        s.add(version("sub_rev5b", ids[5], at(COMEBACK[0]), COMEBACK[1], COMEBACK[2]))
    assert backfill(database, START, END) == 61
    yield ids


def version(
    sid: str, customer_id: int, when: datetime, status: str, values: dict[str, Any]
) -> SubscriptionVersion:
    return SubscriptionVersion(
        stripe_subscription_id=sid,
        customer_id=customer_id,
        valid_from=when,
        status=status,
        currency="usd",
        **values,
    )


def snapshots(database: Database, plan: str = "*") -> dict[date, dict[str, Any]]:
    with database.transaction() as s:
        rows = s.scalars(select(MetricSnapshot).where(MetricSnapshot.plan == plan))
        return {row.day: row.metrics for row in rows}


def test_each_days_movements_are_recorded_and_add_up(
    database: Database, backfilled: dict[int, int]
) -> None:
    days = snapshots(database)
    picked = {
        "mrr_expansion": (date(2026, 11, 10), 9900),
        "mrr_churn": (date(2026, 11, 12), 9900),
        "mrr_new": (date(2026, 11, 15), 9900),
        "mrr_contraction": (date(2026, 11, 20), 6020),
        "mrr_reactivation": (date(2026, 11, 25), 1900),
    }
    for key, (day, amount) in picked.items():
        assert days[day][key] == amount, (key, day)
    assert days[date(2026, 11, 3)]["mrr_new"] == 1658
    assert (
        days[date(2026, 11, 15)]["trials_ended"],
        days[date(2026, 11, 15)]["trials_converted"],
    ) == (1, 1)
    assert (
        days[date(2026, 11, 16)]["trials_ended"],
        days[date(2026, 11, 16)]["trials_converted"],
    ) == (1, 0)
    # per plan, c5's comeback on Starter is new to Starter; its Pro churn stays on Pro
    assert snapshots(database, "starter")[date(2026, 11, 25)]["mrr_new"] == 1900
    assert snapshots(database, "pro")[date(2026, 11, 12)]["mrr_churn"] == 9900
    previous_end = 0
    for day in sorted(days):
        m = days[day]
        gains = m["mrr_new"] + m["mrr_expansion"] + m["mrr_reactivation"]
        assert m["mrr_start"] == previous_end, day
        assert m["mrr"] == m["mrr_start"] + gains - m["mrr_contraction"] - m["mrr_churn"], day
        previous_end = m["mrr"]
    assert previous_end == 35_158


def test_report_cli_prints_monthly_movements_and_writes_the_chart(
    cli_env: CliRunner, database: Database, backfilled: dict[int, int], tmp_path: Path
) -> None:
    chart = tmp_path / "mrr.png"
    args = ["report", "--from", "2026-10-01", "--to", "2026-11-30", "--currency", "usd"]
    result = cli_env.invoke(analytics_cli, [*args, "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    table = result.output.split("\n\n")[0].splitlines()
    assert table[1].split() == ["PERIOD", *PERIOD_HEADERS]
    rows = {line.split()[0]: line.split()[1:] for line in table[2:]}
    assert rows["2026-10"][0::2] == ["USD"] * 7
    assert rows["2026-10"][1::2] == ["296.20", "296.20", "0.00", "0.00", "0.00", "0.00", "296.20"]
    assert rows["2026-11"][1::2] == [
        "351.58",
        "115.58",
        "99.00",
        "60.20",
        "118.00",
        "19.00",
        "55.38",
    ]
    assert "Trial conversion: 1 of 2 ended trials, rate 0.500000" in result.output
    assert "ARPU: USD 70.32" in result.output  # 35158 / 5 paying customers
    assert "least-squares linear trend" in result.output

    report = json.loads(cli_env.invoke(analytics_cli, [*args, "--json"]).output)[0]
    # Oct cohort c1, c5, c6, c7: all paying at Oct's end, c7 gone at Nov's; Nov cohort c2, c3
    assert report["cohorts"] == [
        {
            "cohort": "2026-10",
            "customers": 4,
            "retained": [4, 3],
            "retention": ["1.000000", "0.750000"],
        },
        {"cohort": "2026-11", "customers": 2, "retained": [2], "retention": ["1.000000"]},
    ]
    exposure = (
        4 * 9900 + 3 * 17_820 + 12 * 19_720 + 14 * 29_620 + 2 * 31_278 + 5 * 29_378
        + 2 * 39_278 + 3 * 29_378 + 5 * 39_278 + 5 * 33_258 + 5 * 35_158
    )  # fmt: skip
    churn = Decimal(11_800) * Decimal(365) / 12 / exposure
    summary = report["summary"]
    assert summary["revenue_churn_rate_monthly"] == str(churn.quantize(Decimal("0.000001")))
    assert summary["ltv"] == int((Decimal(7032) / churn).quantize(Decimal(1), ROUND_HALF_EVEN))

    image = Image.open(BytesIO(chart.read_bytes()))
    assert image.format == "PNG" and image.size == (1000, 560)
    plotted = json.loads(image.text[SERIES_KEY])  # type: ignore[attr-defined]
    nov_30 = snapshots(database)[date(2026, 11, 30)]
    assert plotted["periods"][-1]["mrr"] == nov_30["mrr"] == 35_158
    assert [p["mrr_churn"] for p in plotted["periods"]] == [0, 11_800]


def test_report_cli_refuses_bad_options(cli_env: CliRunner, backfilled: dict[int, int]) -> None:
    week = cli_env.invoke(
        analytics_cli, ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "week"]
    )
    assert week.exit_code == 1 and "--by must be day or month" in week.output
    backwards = cli_env.invoke(
        analytics_cli, ["report", "--from", "2026-11-30", "--to", "2026-11-01"]
    )
    assert backwards.exit_code == 1 and "is before" in backwards.output


def test_ops_and_console_show_the_revenue_report(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    backfilled: dict[int, int],
) -> None:
    app = create_app(Runtime(settings, database, redis_client, transport, {}))
    token = make_operator(database, "vera", VIEWER)
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    params = {"start": "2026-11-01", "end": "2026-11-30", "by": "day"}
    report = api.get("/ops/analytics/revenue", params=params).json()
    assert len(report["periods"]) == 30 and report["currency"] == "usd"
    assert (report["periods"][24]["period"], report["periods"][24]["mrr_reactivation"]) == (
        "2026-11-25",
        1900,
    )
    assert report["summary"]["trial_conversion_rate"] == "0.500000"
    assert report["forecast"]["points"][0]["day"] == "2026-12-30"
    bad = api.get("/ops/analytics/revenue", params=params | {"by": "week"})
    assert bad.status_code == 422 and "bad_period" in bad.text
    rows = api.get("/ops/analytics", params={"start": "2026-11-25", "end": "2026-11-25"}).json()
    assert {(r["plan"], r["mrr_reactivation"]) for r in rows} >= {("*", 1900)}

    console = TestClient(app, base_url="https://testserver")
    assert console_login(console, "vera") == 303
    page = console.get("/console/analytics", params={"start": "2026-10-01", "end": "2026-11-30"})
    assert page.status_code == 200
    assert "Revenue by month" in page.text and "USD 115.58" in page.text
    assert "Cohort retention" in page.text and "0.750000 (3)" in page.text


def test_snapshots_from_before_revenue_analytics_are_listed_as_missing(
    settings: Settings, database: Database, redis_client: redis.Redis, transport: StreamTransport
) -> None:
    with database.transaction() as s:
        for day, mrr in ((date(2026, 3, 1), 1000), (date(2026, 3, 2), 1500)):
            s.add(MetricSnapshot(day=day, currency="usd", plan="*", metrics={"mrr": mrr}))
    app = create_app(Runtime(settings, database, redis_client, transport, {}))
    token = make_operator(database, "vic", VIEWER)
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    params = {"start": "2026-03-01", "end": "2026-03-02"}
    report = api.get("/ops/analytics/revenue", params=params).json()
    assert report["missing_days"] == ["2026-03-01", "2026-03-02"]
    assert report["periods"][0]["mrr"] == 1500 and report["periods"][0]["mrr_net"] == 0
    assert report["summary"]["ltv"] is None and report["summary"]["ltv_reason"]
    console = TestClient(app, base_url="https://testserver")
    assert console_login(console, "vic") == 303
    page = console.get("/console/analytics", params=params)
    assert page.status_code == 200 and "moneta analytics backfill" in page.text
