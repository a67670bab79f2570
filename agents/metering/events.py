"""Validate reported usage events one by one: good ones parsed, bad ones named with a reason.

Pure: plain data in, `UsageInput` and `Rejection` out; the service resolves customers and
stores. A batch is never all-or-nothing: each event stands or falls on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from agents.metering.meters import MeterCatalog
from agents.metering.periods import timestamp_problem

MAX_BATCH = 1_000
MAX_KEY_LENGTH = 255
# Numeric(24, 6): 18 digits before the point, 6 after.
_QUANTITY_CEILING = Decimal(10) ** 18
_QUANTITY_PLACES = 6
_FIELDS = {"customer", "metric", "quantity", "timestamp", "idempotency_key", "properties"}


@dataclass(frozen=True)
class UsageInput:
    """One valid event; `customer` is the reference as sent (None: the caller's own)."""

    index: int
    customer: str | None
    metric: str
    quantity: Decimal
    occurred_at: datetime
    idempotency_key: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejection:
    """Why the event at `index` of the request was not stored."""

    index: int
    code: str
    detail: str
    idempotency_key: str | None = None


class EventProblem(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_events(
    raw: list[Any], meters: MeterCatalog, now: datetime
) -> tuple[list[UsageInput], list[Rejection]]:
    """Split `raw` into valid events and rejections, keeping each one's index."""
    good: list[UsageInput] = []
    bad: list[Rejection] = []
    for index, item in enumerate(raw):
        key = item.get("idempotency_key") if isinstance(item, dict) else None
        try:
            good.append(parse_event(index, item, meters, now))
        except EventProblem as problem:
            bad.append(
                Rejection(
                    index, problem.code, problem.detail, key if isinstance(key, str) else None
                )
            )
    return good, bad


def parse_event(index: int, item: Any, meters: MeterCatalog, now: datetime) -> UsageInput:
    if not isinstance(item, dict):
        raise EventProblem("not_an_object", "an event is a JSON object")
    unknown = set(item) - _FIELDS
    if unknown:
        raise EventProblem("unknown_field", f"unknown field(s) {sorted(unknown)}")
    key = _idempotency_key(item.get("idempotency_key"))
    metric = item.get("metric")
    if not isinstance(metric, str) or not metric:
        raise EventProblem("missing_metric", "metric is required")
    meter = meters.meters.get(metric)
    if meter is None:
        raise EventProblem("unknown_metric", f"no meter {metric!r}; one of {sorted(meters.meters)}")
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        raise EventProblem("bad_properties", "properties must be an object")
    if meter.field is not None and properties.get(meter.field) in (None, ""):
        raise EventProblem(
            "missing_property", f"{metric} counts distinct properties.{meter.field}; it is missing"
        )
    return UsageInput(
        index=index,
        customer=_customer_reference(item.get("customer")),
        metric=metric,
        quantity=_quantity(item.get("quantity", 1)),
        occurred_at=_timestamp(item.get("timestamp"), now),
        idempotency_key=key,
        properties=properties,
    )


def _idempotency_key(value: Any) -> str:
    if value is None or value == "":
        raise EventProblem("missing_idempotency_key", "idempotency_key is required")
    if not isinstance(value, str) or len(value) > MAX_KEY_LENGTH:
        raise EventProblem(
            "bad_idempotency_key", f"idempotency_key must be a string of 1-{MAX_KEY_LENGTH} chars"
        )
    return value


def _customer_reference(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise EventProblem("bad_customer", "customer is our id or a Stripe id (cus_...)")
    return str(value).strip()


def _quantity(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventProblem("bad_quantity", f"quantity must be a number, got {value!r}")
    try:
        quantity = Decimal(str(value).strip())
    except InvalidOperation:
        raise EventProblem("bad_quantity", f"quantity must be a number, got {value!r}") from None
    if not quantity.is_finite():
        raise EventProblem("bad_quantity", f"quantity must be finite, got {value!r}")
    if quantity < 0:
        raise EventProblem("negative_quantity", f"quantity must not be negative, got {value!r}")
    if quantity >= _QUANTITY_CEILING or -quantity.as_tuple().exponent > _QUANTITY_PLACES:  # type: ignore[operator]
        raise EventProblem(
            "bad_quantity", f"quantity needs < 10^18 and at most {_QUANTITY_PLACES} decimals"
        )
    return quantity


def _timestamp(value: Any, now: datetime) -> datetime:
    """ISO 8601 with a zone, or Unix seconds; absent means now."""
    if value is None:
        return now
    if isinstance(value, bool):
        raise EventProblem("bad_timestamp", "timestamp is ISO 8601 or Unix seconds")
    try:
        if isinstance(value, int | float):
            at = datetime.fromtimestamp(value, UTC)
        elif isinstance(value, str):
            at = datetime.fromisoformat(value.strip())
        else:
            raise TypeError(type(value).__name__)
    except (TypeError, ValueError, OverflowError, OSError):
        raise EventProblem(
            "bad_timestamp", f"timestamp {value!r} is not ISO 8601 or Unix seconds"
        ) from None
    if at.tzinfo is None:
        raise EventProblem("bad_timestamp", f"timestamp {value!r} needs a time zone (e.g. Z)")
    at = at.astimezone(UTC)
    problem = timestamp_problem(at, now)
    if problem == "timestamp_too_old":
        raise EventProblem(problem, f"timestamp {value!r} is more than 35 days old")
    if problem == "timestamp_in_future":
        raise EventProblem(problem, f"timestamp {value!r} is more than 5 minutes ahead")
    return at
