"""Load and validate the discounts file; every problem reported as `file:line: field: message`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from agents.catalog.lines import FieldPath, Problem
from agents.catalog.loader import load_catalog
from agents.catalog.models import Catalog
from agents.config_file import LocatedFile
from agents.discounts.config import Coupon, Discounts, PromotionCode
from core.settings import Settings

DEFAULT_DISCOUNTS = Path(__file__).with_name("discounts.yaml")
TOP_LEVEL_KEYS = frozenset({"coupons", "promotion_codes"})
_COUPON: TypeAdapter[Coupon] = TypeAdapter(Coupon)
_CODE: TypeAdapter[PromotionCode] = TypeAdapter(PromotionCode)
_WHAT, _CODE_BAD = "discounts file", "bad_discounts"
T = TypeVar("T")


def load_discounts(path: Path | None = None, catalog_path: Path | None = None) -> Discounts:
    """The discounts at `path` (default: the shipped file), checked against the catalog."""
    return _load_cached(str(path or DEFAULT_DISCOUNTS), str(catalog_path or ""))


def discounts_of(settings: Settings) -> Discounts:
    """The operator's discounts (MONETA_DISCOUNTS), checked against the operator's catalog."""
    return load_discounts(settings.discounts_file, settings.catalog_file)


@lru_cache(maxsize=8)
def _load_cached(path: str, catalog_path: str) -> Discounts:
    located = LocatedFile.read(Path(path), what=_WHAT, code=_CODE_BAD)
    return _validated(located, load_catalog(Path(catalog_path) if catalog_path else None))


def parse_discounts(text: str, catalog: Catalog, source: str = "<text>") -> Discounts:
    """Validate discounts YAML `text`; raises ConfigFileError listing every problem by line."""
    return _validated(LocatedFile(text, source, what=_WHAT, code=_CODE_BAD), catalog)


def _validated(located: LocatedFile, catalog: Catalog) -> Discounts:
    data = located.data if located.data is not None else {}
    if not isinstance(data, dict):
        located.problems.append(Problem((), "the top level must be a mapping"))
        located.raise_if_problems()
    located.problems += [Problem((k,), "unknown field") for k in data if k not in TOP_LEVEL_KEYS]
    coupons = _items(located, data, "coupons", _COUPON)
    codes = _items(located, data, "promotion_codes", _CODE)
    located.problems += _coupon_problems(coupons, {p.key for p in catalog.products})
    located.problems += _code_problems(codes, {c.key: c for _, c in coupons})
    located.raise_if_problems()
    return Discounts(
        coupons=tuple(c for _, c in coupons),
        promotion_codes=tuple(p for _, p in codes),
        source=located.source,
    )


def _items(
    located: LocatedFile, data: dict[str, Any], name: str, adapter: TypeAdapter[T]
) -> list[tuple[FieldPath, T]]:
    raw = data.get(name) or []
    if not isinstance(raw, list):
        located.problems.append(Problem((name,), "must be a list"))
        return []
    parsed = [((name, i), located.parse(adapter, body, (name, i))) for i, body in enumerate(raw)]
    return [(path, item) for path, item in parsed if item is not None]


def _coupon_problems(coupons: list[tuple[FieldPath, Coupon]], products: set[str]) -> list[Problem]:
    """Exactly one amount, currency with amount_off only, months with repeating only."""
    problems: list[Problem] = []
    seen: dict[str, FieldPath] = {}
    for path, c in coupons:
        if c.key in seen:
            problems.append(Problem((*path, "key"), f"duplicate key {c.key!r}"))
        seen.setdefault(c.key, path)
        if (c.percent_off is None) == (c.amount_off is None):
            problems.append(
                Problem((*path, "percent_off"), "set percent_off or amount_off, not both")
            )
        if (c.amount_off is not None) != (c.currency is not None):
            problems.append(Problem((*path, "currency"), "required with amount_off, only then"))
        if (c.duration == "repeating") != (c.duration_in_months is not None):
            problems.append(
                Problem((*path, "duration_in_months"), "required with repeating, only then")
            )
        problems += [
            Problem((*path, "applies_to", i), f"unknown product {key!r} in the catalog")
            for i, key in enumerate(c.applies_to)
            if key not in products
        ]
    return problems


def _code_problems(
    codes: list[tuple[FieldPath, PromotionCode]], coupons: dict[str, Coupon]
) -> list[Problem]:
    """Codes unique ignoring case, pointing at a coupon, within its limit and deadline."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for path, p in codes:
        if p.normalized in seen:
            problems.append(Problem((*path, "code"), f"duplicate code {p.code!r} (case ignored)"))
        seen.add(p.normalized)
        coupon = coupons.get(p.coupon)
        if coupon is None:
            problems.append(Problem((*path, "coupon"), f"unknown coupon {p.coupon!r}"))
            continue
        limit = coupon.max_redemptions
        if limit is not None and p.max_redemptions is not None and p.max_redemptions > limit:
            problems.append(Problem((*path, "max_redemptions"), f"above the coupon's {limit}"))
        deadline = coupon.redeem_by
        if deadline is not None and p.expires_at is not None and p.expires_at > deadline:
            problems.append(Problem((*path, "expires_at"), "after the coupon's redeem_by"))
    return problems
