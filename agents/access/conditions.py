"""Compile a rule's `condition` mapping into plain Python predicates over a `Subject`.

A condition maps a field to a test; all tests must hold. Tests: a value (equality, or
membership for list fields), a list (any of), a comparison string such as "> 0", or a
mapping with one operator: in, not_in, eq, ne, gt, gte, lt, lte, contains, contains_all,
prefix, not.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from agents.access.subject import ACTIONS, Subject

Predicate = Callable[[Subject], bool]

SCALAR, NUMBER, SET = "scalar", "number", "set"
# condition field -> (Subject attribute, kind)
FIELDS: dict[str, tuple[str, str]] = {
    "user.tier": ("tier", SCALAR),
    "user.token_balance": ("token_balance", NUMBER),
    "user.entitlements": ("entitlements", SET),
    "user.id": ("customer_id", NUMBER),
    "asset.id": ("asset_id", SCALAR),
    "asset.type": ("asset_type", SCALAR),
    "asset.tags": ("asset_tags", SET),
    "action": ("action", SCALAR),
}
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}
_SYMBOLS = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "==": "eq", "!=": "ne"}
_COMPARISON_TEXT = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?\d+)\s*$")


class ConditionError(ValueError):
    """A condition the engine cannot compile; the message names the field."""


@dataclass(frozen=True)
class Test:
    """One compiled field test and how to show it."""

    field: str
    text: str
    predicate: Predicate
    read: Callable[[Subject], Any]


def compile_condition(condition: Any) -> tuple[Test, ...]:
    if condition is None:
        return ()
    if not isinstance(condition, dict):
        raise ConditionError("'condition' must be a mapping of field -> test")
    return tuple(compile_test(str(field), spec) for field, spec in condition.items())


def compile_test(field: str, spec: Any) -> Test:
    if field not in FIELDS:
        raise ConditionError(f"unknown field {field!r}; known: {', '.join(FIELDS)}")
    attribute, kind = FIELDS[field]
    read = attrgetter(attribute)
    predicate = _predicate(field, kind, read, spec)
    return Test(field, f"{field} {_describe(spec, kind)}", predicate, read)


def _predicate(field: str, kind: str, read: Callable[[Subject], Any], spec: Any) -> Predicate:
    if isinstance(spec, dict):
        if len(spec) != 1:
            raise ConditionError(f"{field}: an operator mapping takes exactly one operator")
        [(op, value)] = spec.items()
        return _operator(field, kind, read, str(op), value)
    if isinstance(spec, str) and kind == NUMBER:
        match = _COMPARISON_TEXT.match(spec)
        if not match:
            raise ConditionError(f"{field}: {spec!r} is not a comparison such as '> 0'")
        return _operator(field, kind, read, _SYMBOLS[match.group(1)], int(match.group(2)))
    if isinstance(spec, list):
        return _operator(field, kind, read, "in", spec)
    if kind == SET:
        return _operator(field, kind, read, "contains", spec)
    return _operator(field, kind, read, "eq", spec)


def _operator(
    field: str, kind: str, read: Callable[[Subject], Any], op: str, value: Any
) -> Predicate:
    if op == "not":
        inner = _predicate(field, kind, read, value)
        return lambda s: not inner(s)
    if op in ("in", "not_in"):
        options = frozenset(_values(field, kind, value, many=True))
        if kind == SET:
            hit: Predicate = lambda s: not options.isdisjoint(read(s))  # noqa: E731
        else:
            hit = lambda s: read(s) in options  # noqa: E731
        return hit if op == "in" else (lambda s: not hit(s))
    if op in ("contains", "contains_all"):
        if kind != SET:
            raise ConditionError(f"{field}: '{op}' applies to list fields only")
        wanted = frozenset(_values(field, kind, value, many=op == "contains_all"))
        return lambda s: wanted <= read(s)
    if op == "prefix":
        if kind != SCALAR or not isinstance(value, str):
            raise ConditionError(f"{field}: 'prefix' takes a string on a text field")
        return lambda s: str(read(s)).startswith(value)
    if op in COMPARISONS:
        [target] = _values(field, kind, value, many=False)
        if op not in ("eq", "ne") and kind != NUMBER:
            raise ConditionError(f"{field}: '{op}' compares numbers only")
        compare = COMPARISONS[op]
        if kind == SET:
            raise ConditionError(f"{field}: use contains or in on a list field")
        return lambda s: compare(read(s), target)
    raise ConditionError(f"{field}: unknown operator {op!r}")


def _values(field: str, kind: str, value: Any, *, many: bool) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    if many and not isinstance(value, list) and not isinstance(value, str | int):
        raise ConditionError(f"{field}: expected a list of values")
    if not many and isinstance(value, list):
        raise ConditionError(f"{field}: expected one value, got a list")
    if not items:
        raise ConditionError(f"{field}: the list of values is empty")
    for item in items:
        if kind == NUMBER and (not isinstance(item, int) or isinstance(item, bool)):
            raise ConditionError(f"{field}: {item!r} is not a whole number")
        if kind != NUMBER and not isinstance(item, str):
            raise ConditionError(f"{field}: {item!r} is not text")
        if field == "action" and item not in ACTIONS:
            raise ConditionError(f"action: {item!r} is not one of {', '.join(ACTIONS)}")
    return items


def _describe(spec: Any, kind: str) -> str:
    if isinstance(spec, dict):
        [(op, value)] = spec.items()
        return f"{op} {value!r}"
    if isinstance(spec, str) and kind == NUMBER:
        return spec.strip()
    if isinstance(spec, list):
        return f"any of {spec!r}" if kind == SET else f"in {spec!r}"
    return f"contains {spec!r}" if kind == SET else f"= {spec!r}"


def all_of(tests: tuple[Test, ...]) -> Predicate:
    """One predicate for the whole condition, short-circuiting like `and`."""
    predicates = tuple(t.predicate for t in tests)
    if not predicates:
        return lambda s: True
    if len(predicates) == 1:
        return predicates[0]
    if len(predicates) == 2:
        first, second = predicates
        return lambda s: first(s) and second(s)
    return lambda s: all(p(s) for p in predicates)
