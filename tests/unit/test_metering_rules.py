"""Metering rules as pure functions: the meters file, periods, event checks, limits, prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from agents.metering.events import parse_events
from agents.metering.limits import crossed_thresholds, percent_used
from agents.metering.meters import (
    DEFAULT_FILE,
    MetersFileError,
    OveragePrice,
    load_meters,
    parse_meters,
)
from agents.metering.overage import overage_amount
from agents.metering.periods import parse_period, period_of
from scheduler.jobs import usage_period_to_close

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
METERS = load_meters()


def _document() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(DEFAULT_FILE.read_text())  # type: ignore[no-any-return]


def test_shipped_meters_file_loads_with_the_seed_prices() -> None:
    api_calls = METERS.meters["api_calls"].overage
    assert api_calls == OveragePrice(Decimal("0.05"), 1000, "usd")
    assert {m.aggregation for m in METERS.meters.values()} == {
        "count",
        "sum",
        "max",
        "unique_count",
    }
    assert METERS.rate_limit_for("no-such-plan") == METERS.rate_limits["default"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["meters"]["api_calls"].update(aggregation="avg"), "meter 'api_calls'"),
        (lambda d: d["meters"]["active_users"].pop("field"), "meter 'active_users'"),
        (lambda d: d["meters"]["ai_tokens"]["overage"].update(amount="ten"), "overage.amount"),
        (lambda d: d["meters"]["ai_tokens"]["overage"].update(per=0), "overage.per"),
        (lambda d: d["rate_limits"].pop("default"), "default"),
        (lambda d: d["rate_limits"]["pro"].update(burst=0), "rate_limits.pro"),
        (lambda d: d["meters"]["seats"].update(colour="red"), "meter 'seats': unknown field"),
    ],
)
def test_a_malformed_meters_file_is_refused_naming_the_place(edit, message) -> None:  # type: ignore[no-untyped-def]
    document = _document()
    edit(document)
    with pytest.raises(MetersFileError, match=message):
        parse_meters(document)


def test_periods_are_utc_calendar_months() -> None:
    last_moment = datetime(2026, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert period_of(last_moment).label == "2026-01"
    assert period_of(last_moment + timedelta(microseconds=1)).label == "2026-02"
    december = parse_period("2025-12")
    assert december.end == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_period("2025-13")


def test_close_job_names_the_month_that_ended_a_grace_day_before() -> None:
    assert usage_period_to_close(datetime(2026, 3, 2, 0, 30, tzinfo=UTC)) == {"period": "2026-02"}
    assert usage_period_to_close(datetime(2026, 3, 1, 0, 30, tzinfo=UTC)) == {"period": "2026-01"}


def _event(**fields: object) -> dict[str, object]:
    return {"customer": "1", "metric": "api_calls", "idempotency_key": "k", **fields}


def test_timestamps_are_accepted_from_35_days_back_to_5_minutes_ahead() -> None:
    edges = [
        NOW - timedelta(days=35),
        NOW - timedelta(days=35, seconds=1),
        NOW + timedelta(minutes=5),
        NOW + timedelta(minutes=5, seconds=1),
    ]
    good, bad = parse_events([_event(timestamp=at.isoformat()) for at in edges], METERS, NOW)
    assert [e.index for e in good] == [0, 2]
    assert [(r.index, r.code) for r in bad] == [
        (1, "timestamp_too_old"),
        (3, "timestamp_in_future"),
    ]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"idempotency_key": None}, "missing_idempotency_key"),
        ({"metric": "telepathy"}, "unknown_metric"),
        ({"quantity": "lots"}, "bad_quantity"),
        ({"quantity": -1}, "negative_quantity"),
        ({"quantity": float("nan")}, "bad_quantity"),
        ({"quantity": True}, "bad_quantity"),
        ({"quantity": "0.0000001"}, "bad_quantity"),
        ({"timestamp": "2026-03-10T12:00:00"}, "bad_timestamp"),
        ({"timestamp": "yesterday"}, "bad_timestamp"),
        ({"metric": "active_users"}, "missing_property"),
        ({"colour": "red"}, "unknown_field"),
    ],
)
def test_each_bad_event_gets_its_own_code(fields: dict[str, object], code: str) -> None:
    good, bad = parse_events([_event(**fields)], METERS, NOW)
    assert good == [] and [r.code for r in bad] == [code]


def test_overage_is_priced_in_decimals_and_rounded_half_even_to_cents() -> None:
    price = OveragePrice(Decimal("0.05"), 1000, "usd")
    assert overage_amount(Decimal(1500), price) == 8  # 7.5 cents -> 8
    assert overage_amount(Decimal(2500), price) == 12  # 12.5 cents -> 12
    assert overage_amount(Decimal(1_000_000), price) == 5000
    assert overage_amount(Decimal(1500), OveragePrice(Decimal("5"), 1000, "jpy")) == 8


def test_alert_thresholds_crossed_and_percent_used() -> None:
    assert crossed_thresholds(Decimal(799), 1000) == []
    assert crossed_thresholds(Decimal(800), 1000) == [80]
    assert crossed_thresholds(Decimal(1200), 1000) == [80, 90, 100]
    assert crossed_thresholds(Decimal(5), None) == []
    assert percent_used(Decimal(1), 3) == Decimal("33.33")
