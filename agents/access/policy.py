"""Load and validate a policy file: rules, the asset registry and bundles.

Every problem is reported at once, each naming its rule, asset or bundle, so a broken file
never half-loads. Rules are ordered by priority (highest first), then id: the order of the
file does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agents.access.conditions import ConditionError, Test, all_of, compile_condition
from agents.access.subject import Asset, Subject
from core.errors import InvalidInput

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
RULE_KEYS = frozenset({"id", "priority", "condition", "outcome", "description"})

Tokens = int | Fraction
"""An exact amount of tokens: an int while it is whole (int arithmetic is several times
faster than Fraction's, and most costs and multipliers are whole), a Fraction otherwise."""
CostFn = Callable[[Subject, Asset], Tokens]


def exact(value: Fraction) -> Tokens:
    """`value` as an int when it is whole."""
    return value.numerator if value.denominator == 1 else value


class PolicyError(InvalidInput):
    """The policy file is malformed; `problems` lists each error with what it names."""

    code = "bad_policy"

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"policy {source}: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Outcome:
    allow: bool
    reason: str | None
    redirect: str | None
    cost: CostFn | None  # None: free


class Rule:
    """A rule with its condition compiled once into one predicate, `matches`."""

    __slots__ = ("id", "matches", "outcome", "priority", "tests")

    def __init__(self, rule_id: str, priority: int, tests: tuple[Test, ...], outcome: Outcome):
        self.id = rule_id
        self.priority = priority
        self.tests = tests
        self.outcome = outcome
        self.matches: Callable[[Subject], bool] = all_of(tests)


@dataclass(frozen=True)
class Bundle:
    id: str
    assets: frozenset[str]
    multiplier: Tokens


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    assets: dict[str, Asset]
    bundles: tuple[Bundle, ...]
    source: str


def load_policy(path: Path | None = None) -> Policy:
    """The policy at `path` (default: the shipped file), parsed and compiled once per path."""
    return _load_cached(str((path or DEFAULT_POLICY).resolve()))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> Policy:
    try:
        document = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise PolicyError(path, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(path, [f"not valid YAML: {exc}"]) from exc
    return parse_policy(document, path)


def parse_policy(document: Any, source: str = "<text>") -> Policy:
    """Validate and compile a parsed YAML document; raises PolicyError listing every problem."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise PolicyError(source, ["the top level must be a mapping with 'rules'"])
    assets = _parse_assets(document.get("assets") or [], problems)
    bundles = _parse_bundles(document.get("bundles") or [], assets, problems)
    rules = _parse_rules(document.get("rules"), problems)
    if problems:
        raise PolicyError(source, problems)
    ordered = tuple(sorted(rules, key=lambda r: (-r.priority, r.id)))
    return Policy(ordered, assets, bundles, source)


def _parse_rules(raw: Any, problems: list[str]) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        problems.append("'rules' must be a non-empty list")
        return []
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, body in enumerate(raw):
        name = f"rule #{index + 1}"
        if not isinstance(body, dict):
            problems.append(f"{name}: must be a mapping")
            continue
        rule_id = body.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip():
            problems.append(f"{name}: 'id' must be a non-empty string")
            continue
        name = f"rule {rule_id!r}"
        if rule_id in seen:
            problems.append(f"{name}: duplicate id")
            continue
        seen.add(rule_id)
        rule = _parse_rule(rule_id, body, name, problems)
        if rule is not None:
            rules.append(rule)
    return rules


def _parse_rule(rule_id: str, body: dict[str, Any], name: str, problems: list[str]) -> Rule | None:
    before = len(problems)
    unknown = sorted(set(map(str, body)) - RULE_KEYS)
    if unknown:
        problems.append(f"{name}: unknown keys {unknown}; allowed: {sorted(RULE_KEYS)}")
    priority = body.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool):
        problems.append(f"{name}: 'priority' must be a whole number")
    try:
        tests = compile_condition(body.get("condition"))
    except ConditionError as exc:
        problems.append(f"{name}: condition: {exc}")
        tests = ()
    outcome = _parse_outcome(body.get("outcome"), name, problems)
    if len(problems) > before or outcome is None or not isinstance(priority, int):
        return None
    return Rule(rule_id, priority, tests, outcome)


def _parse_outcome(raw: Any, name: str, problems: list[str]) -> Outcome | None:
    if not isinstance(raw, dict):
        problems.append(f"{name}: 'outcome' must be a mapping with 'allow'")
        return None
    allow = raw.get("allow")
    if not isinstance(allow, bool):
        problems.append(f"{name}: outcome 'allow' must be true or false")
        return None
    reason, redirect = raw.get("reason"), raw.get("redirect")
    if not allow and not (isinstance(reason, str) and reason.strip()):
        problems.append(f"{name}: a deny needs a 'reason'")
    if reason is not None and not isinstance(reason, str):
        problems.append(f"{name}: 'reason' must be text")
    if redirect is not None and not (isinstance(redirect, str) and redirect.startswith("/")):
        problems.append(f"{name}: 'redirect' must be a path such as /pricing")
    if not allow and raw.get("cost") not in (None, 0):
        problems.append(f"{name}: a deny cannot cost tokens")
    cost = _parse_cost(raw.get("cost"), name, problems) if allow else None
    return Outcome(allow, reason, redirect, cost)


def _parse_cost(raw: Any, name: str, problems: list[str]) -> CostFn | None:
    """A whole number of tokens, or {base: n | asset, multipliers: [{if: condition, value}]}."""
    if raw is None or raw == 0:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
        return lambda s, a: raw
    if not isinstance(raw, dict):
        problems.append(f"{name}: 'cost' must be a whole number or a mapping with 'base'")
        return None
    base = raw.get("base", "asset")
    if base != "asset" and (not isinstance(base, int) or isinstance(base, bool) or base < 0):
        problems.append(f"{name}: cost 'base' must be a whole number or 'asset'")
        return None
    multipliers: list[tuple[Callable[[Subject], bool], Tokens]] = []
    for index, item in enumerate(raw.get("multipliers") or []):
        where = f"{name}: multiplier #{index + 1}"
        if not isinstance(item, dict) or "value" not in item:
            problems.append(f"{where}: needs 'if' and 'value'")
            continue
        factor = _positive_fraction(item["value"])
        if factor is None:
            problems.append(f"{where}: 'value' must be a positive number")
            continue
        try:
            tests = compile_condition(item.get("if"))
        except ConditionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        multipliers.append((all_of(tests), exact(factor)))
    fixed_base = None if base == "asset" else base

    def cost(subject: Subject, asset: Asset) -> Tokens:
        value: Tokens = asset.cost if fixed_base is None else fixed_base
        for applies, factor in multipliers:
            if applies(subject):
                value *= factor
        return value

    return cost


def _positive_fraction(value: Any) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Fraction(str(value))
    except ValueError:
        return None
    return number if number > 0 else None


def _parse_assets(raw: Any, problems: list[str]) -> dict[str, Asset]:
    if not isinstance(raw, list):
        problems.append("'assets' must be a list")
        return {}
    assets: dict[str, Asset] = {}
    for index, body in enumerate(raw):
        asset_id = body.get("id") if isinstance(body, dict) else None
        name = f"asset {asset_id!r}" if isinstance(asset_id, str) else f"asset #{index + 1}"
        if not isinstance(asset_id, str) or not asset_id:
            problems.append(f"{name}: needs an 'id'")
            continue
        if asset_id in assets:
            problems.append(f"{name}: duplicate id")
            continue
        kind, tags, cost = body.get("type"), body.get("tags") or [], body.get("cost", 1)
        if not isinstance(kind, str) or not kind:
            problems.append(f"{name}: needs a 'type'")
            continue
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append(f"{name}: 'tags' must be a list of text")
            continue
        if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
            problems.append(f"{name}: 'cost' must be a whole number of tokens")
            continue
        assets[asset_id] = Asset(asset_id, kind, frozenset(tags), cost)
    return assets


def _parse_bundles(raw: Any, assets: dict[str, Asset], problems: list[str]) -> tuple[Bundle, ...]:
    if not isinstance(raw, list):
        problems.append("'bundles' must be a list")
        return ()
    bundles: list[Bundle] = []
    for index, body in enumerate(raw):
        bundle_id = body.get("id") if isinstance(body, dict) else None
        name = f"bundle {bundle_id!r}" if isinstance(bundle_id, str) else f"bundle #{index + 1}"
        if not isinstance(body, dict) or not isinstance(bundle_id, str):
            problems.append(f"{name}: needs an 'id'")
            continue
        members = body.get("assets")
        if not isinstance(members, list) or len(set(map(str, members))) < 2:
            problems.append(f"{name}: 'assets' must list at least two assets")
            continue
        unknown = [m for m in members if m not in assets]
        if unknown:
            problems.append(f"{name}: unknown assets {unknown}")
            continue
        multiplier = _positive_fraction(body.get("price_multiplier"))
        if multiplier is None:
            problems.append(f"{name}: 'price_multiplier' must be a positive number")
            continue
        bundles.append(Bundle(bundle_id, frozenset(members), exact(multiplier)))
    # Larger bundles first: an asset is priced in at most one bundle.
    return tuple(sorted(bundles, key=lambda b: (-len(b.assets), b.id)))
