"""The meters file: how each metric aggregates, what its overage costs, per-plan rate limits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).with_name("meters.yaml")
AGGREGATIONS = ("count", "sum", "max", "unique_count")
DEFAULT_RATE_PLAN = "default"


class MetersFileError(ValueError):
    """The meters file is malformed; the message names the meter or plan and the field."""


@dataclass(frozen=True)
class OveragePrice:
    """`amount` (major units of `currency`) per `per` units beyond the limit."""

    amount: Decimal
    per: int
    currency: str


@dataclass(frozen=True)
class Meter:
    metric: str
    aggregation: str
    unit: str
    field: str | None = None
    overage: OveragePrice | None = None


@dataclass(frozen=True)
class RateLimit:
    """GCRA parameters: `per_second` sustained, `burst` admitted at once."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class MeterCatalog:
    meters: Mapping[str, Meter]
    rate_limits: Mapping[str, RateLimit]

    def rate_limit_for(self, plan: str | None) -> RateLimit:
        if plan is not None and plan in self.rate_limits:
            return self.rate_limits[plan]
        return self.rate_limits[DEFAULT_RATE_PLAN]


def format_quantity(quantity: Decimal) -> str:
    """`Decimal("1234.500000")` -> `1,234.5`: as people read it, without trailing zeros."""
    return f"{quantity.normalize():,f}"


def load_meters(path: Path | None = None) -> MeterCatalog:
    """The meters from `path` (default: the shipped file), parsed once per path and process."""
    return _load_cached(str((path or DEFAULT_FILE).resolve()))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> MeterCatalog:
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MetersFileError(f"meters file {path}: cannot read: {exc}") from exc
    try:
        return parse_meters(document)
    except MetersFileError as exc:
        raise MetersFileError(f"meters file {path}: {exc}") from None


def parse_meters(document: Any) -> MeterCatalog:
    """Validate the YAML document and build the catalog."""
    if not isinstance(document, dict):
        raise MetersFileError("top level must be a mapping")
    unknown = set(document) - {"meters", "rate_limits"}
    if unknown:
        raise MetersFileError(f"unknown top-level field(s) {sorted(unknown)}")
    raw_meters = document.get("meters")
    if not isinstance(raw_meters, dict) or not raw_meters:
        raise MetersFileError("'meters' must be a non-empty mapping of metric -> meter")
    meters = {str(metric): _parse_meter(str(metric), body) for metric, body in raw_meters.items()}
    raw_limits = document.get("rate_limits")
    if not isinstance(raw_limits, dict) or DEFAULT_RATE_PLAN not in raw_limits:
        raise MetersFileError(f"'rate_limits' must be a mapping with a {DEFAULT_RATE_PLAN!r} plan")
    limits = {str(plan): _parse_rate_limit(str(plan), body) for plan, body in raw_limits.items()}
    return MeterCatalog(meters, limits)


def _parse_meter(metric: str, body: Any) -> Meter:
    where = f"meter {metric!r}"
    if not metric.replace("_", "").isalnum() or len(metric) > 64:
        raise MetersFileError(f"{where}: a metric name is letters, digits and '_' (at most 64)")
    if not isinstance(body, dict):
        raise MetersFileError(f"{where}: definition must be a mapping")
    unknown = set(body) - {"aggregation", "field", "unit", "overage"}
    if unknown:
        raise MetersFileError(f"{where}: unknown field(s) {sorted(unknown)}")
    aggregation = body.get("aggregation")
    if aggregation not in AGGREGATIONS:
        raise MetersFileError(f"{where}: aggregation must be one of {list(AGGREGATIONS)}")
    field = body.get("field")
    if (aggregation == "unique_count") != (field is not None):
        raise MetersFileError(f"{where}: 'field' is required for unique_count and only for it")
    if field is not None and (not isinstance(field, str) or not field):
        raise MetersFileError(f"{where}: field must be a property name")
    unit = body.get("unit", metric)
    if not isinstance(unit, str) or not unit:
        raise MetersFileError(f"{where}: unit must be a non-empty string")
    overage = _parse_overage(where, body["overage"]) if body.get("overage") is not None else None
    return Meter(metric, str(aggregation), unit, field, overage)


def _parse_overage(where: str, body: Any) -> OveragePrice:
    if not isinstance(body, dict) or set(body) != {"amount", "per", "currency"}:
        raise MetersFileError(f"{where}: overage needs exactly amount, per and currency")
    try:
        amount = Decimal(str(body["amount"]))
    except InvalidOperation:
        raise MetersFileError(
            f"{where}: overage.amount {body['amount']!r} is not a number"
        ) from None
    if not amount.is_finite() or amount < 0:
        raise MetersFileError(f"{where}: overage.amount must be a non-negative number")
    per = body["per"]
    if isinstance(per, bool) or not isinstance(per, int) or per <= 0:
        raise MetersFileError(f"{where}: overage.per must be a positive integer")
    currency = body["currency"]
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MetersFileError(f"{where}: overage.currency must be an ISO code like usd")
    return OveragePrice(amount, per, currency.lower())


def _parse_rate_limit(plan: str, body: Any) -> RateLimit:
    where = f"rate_limits.{plan}"
    if not isinstance(body, dict) or set(body) != {"per_second", "burst"}:
        raise MetersFileError(f"{where}: needs exactly per_second and burst")
    rate, burst = body["per_second"], body["burst"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise MetersFileError(f"{where}: per_second must be a positive number")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise MetersFileError(f"{where}: burst must be a positive integer")
    return RateLimit(float(rate), burst)
