"""Load and validate a catalog file, reporting every problem as `file:line: field: message`.

Each product and each price is validated on its own, so one bad price never hides the
problems of the others; a file with any problem never half-loads.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from agents.catalog.lines import FieldPath, LocatedDocument, Problem, parse_located, render_path
from agents.catalog.models import REVENUE_MODELS, Catalog, Price, Product
from agents.catalog.rules import check_catalog
from core.errors import InvalidInput

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")
TOP_LEVEL_KEYS = frozenset({"products"})

_PRICE: TypeAdapter[Price] = TypeAdapter(Price)
_PRODUCT: TypeAdapter[Product] = TypeAdapter(Product)
T = TypeVar("T")
_UNION_TAG_ERRORS = frozenset({"union_tag_invalid", "union_tag_not_found"})


class CatalogError(InvalidInput):
    """The catalog file is malformed; `problems` lists each as `file:line: field: message`."""

    code = "bad_catalog"

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"catalog {source} is invalid: " + "; ".join(problems))
        self.problems = problems


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog at `path` (default: the shipped file), parsed once per path and process."""
    return _load_cached(str(path or DEFAULT_CATALOG))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Catalog:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise CatalogError(path, [f"{path}: cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_catalog(text, path)


def parse_catalog(text: str, source: str = "<text>") -> Catalog:
    """Validate catalog YAML `text`; raises CatalogError listing every problem by line."""
    try:
        document = parse_located(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise CatalogError(source, [f"{source}:{line}: not valid YAML: {exc.problem}"]) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(source, [f"{source}: not valid YAML: {exc}"]) from exc
    problems = list(document.duplicates)
    products, prices = _validate(document.data, problems)
    problems += check_catalog(products, prices)
    if problems:
        raise CatalogError(source, _render(source, document, problems))
    return Catalog(products=tuple(product for _, product in products), source=source)


def _validate(
    data: Any, problems: list[Problem]
) -> tuple[list[tuple[FieldPath, Product]], list[tuple[FieldPath, Price]]]:
    """The products valid with all their prices, and every valid price, with their paths."""
    if not isinstance(data, dict):
        problems.append(Problem((), "the top level must be a mapping with 'products'"))
        return [], []
    problems += [Problem((key,), "unknown field") for key in data if key not in TOP_LEVEL_KEYS]
    raw_products = data.get("products")
    if not isinstance(raw_products, list) or not raw_products:
        problems.append(Problem(("products",), "must be a non-empty list"))
        return [], []
    products: list[tuple[FieldPath, Product]] = []
    prices: list[tuple[FieldPath, Price]] = []
    for index, body in enumerate(raw_products):
        path: FieldPath = ("products", index)
        if not isinstance(body, dict):
            problems.append(Problem(path, "must be a mapping"))
            continue
        before = len(problems)
        raw_prices = body.get("prices", [])
        if not isinstance(raw_prices, list):
            problems.append(Problem((*path, "prices"), "must be a list"))
            raw_prices = []
        own: list[tuple[FieldPath, Price]] = []
        for position, raw in enumerate(raw_prices):
            price_path = (*path, "prices", position)
            price = _parse(_PRICE, raw, price_path, problems)
            if price is not None:
                own.append((price_path, price))
        prices += own
        product = _parse(_PRODUCT, {**body, "prices": []}, path, problems)
        if product is not None and len(problems) == before:
            products.append((path, product.model_copy(update={"prices": tuple(p for _, p in own)})))
    return products, prices


def _parse(adapter: TypeAdapter[T], raw: Any, path: FieldPath, problems: list[Problem]) -> T | None:
    try:
        return adapter.validate_python(raw)
    except ValidationError as error:
        problems += [_problem(detail, raw, path) for detail in error.errors()]
        return None


def _problem(detail: ErrorDetails, raw: Any, path: FieldPath) -> Problem:
    """A pydantic error as a Problem on the field path as written in the file."""
    loc = _as_written(detail["loc"], raw)
    if detail["type"] in _UNION_TAG_ERRORS:
        expected = ", ".join(REVENUE_MODELS)
        return Problem((*path, *loc, "revenue_model"), f"must be one of {expected}")
    return Problem((*path, *loc), _message(detail))


def _as_written(loc: tuple[int | str, ...], raw: Any) -> FieldPath:
    """Drop the union tags pydantic adds to locations (`per_unit` in `(per_unit, unit_amount)`)."""
    written: list[int | str] = []
    current = raw
    for part in loc:
        if isinstance(current, dict):
            if part not in current and part == current.get("revenue_model"):
                continue
            current = current.get(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            current = None
        written.append(part)
    return tuple(written)


def _message(detail: ErrorDetails) -> str:
    context = detail.get("ctx") or {}
    match detail["type"]:
        case "missing":
            return "required"
        case "extra_forbidden":
            return "unknown field"
        case "greater_than_equal":
            return f"must be >= {context['ge']}"
        case "literal_error":
            return f"must be {context['expected']}"
        case "string_pattern_mismatch":
            return f"must match {context['pattern']}"
    text = detail["msg"]
    return text[:1].lower() + text[1:]


def _render(source: str, document: LocatedDocument, problems: list[Problem]) -> list[str]:
    located = sorted(
        ((document.line_of(p.path), order, p) for order, p in enumerate(problems)),
        key=lambda item: item[:2],
    )
    return [
        f"{source}:{line}: {render_path(p.path)}: {p.message}"
        if p.path
        else f"{source}:{line}: {p.message}"
        for line, _, p in located
    ]
