"""The plan catalog: which features and limits each plan grants, loaded from YAML and validated."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

DEFAULT_FILE = Path(__file__).with_name("entitlements.yaml")


class EntitlementsFileError(ValueError):
    """The entitlements file is malformed; the message names the plan and field."""


@dataclass(frozen=True)
class Plan:
    """One plan: feature -> limit (None: unlimited, or an on/off feature that is on)."""

    key: str
    grants: Mapping[str, int | None]


@dataclass(frozen=True)
class PlanCatalog:
    plans: Mapping[str, Plan]
    free_plan: str
    fallback_plan: str
    aliases: Mapping[str, str]

    @property
    def free(self) -> Plan:
        return self.plans[self.free_plan]

    def resolve(self, key: str | None) -> Plan:
        """The plan named by `key` (or an alias); unknown keys fall back, with a warning."""
        if key is not None and key in self.plans:
            return self.plans[key]
        if key is not None and key in self.aliases:
            return self.plans[self.aliases[key]]
        log.warning("plan %r is not in the entitlements file; using %r", key, self.fallback_plan)
        return self.plans[self.fallback_plan]


def load_catalog(path: Path | None = None) -> PlanCatalog:
    """The catalog from `path` (default: the shipped file), parsed once per path and process:
    restart workers after editing the file."""
    return _load_cached(str((path or DEFAULT_FILE).resolve()))


@lru_cache(maxsize=8)
def _load_cached(path: str) -> PlanCatalog:
    try:
        document = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise EntitlementsFileError(f"entitlements file {path}: cannot read: {exc}") from exc
    try:
        return parse_catalog(document)
    except EntitlementsFileError as exc:
        raise EntitlementsFileError(f"entitlements file {path}: {exc}") from None


def parse_catalog(document: Any) -> PlanCatalog:
    """Validate the YAML document and build the catalog."""
    if not isinstance(document, dict):
        raise EntitlementsFileError("top level must be a mapping")
    raw_plans = document.get("plans")
    if not isinstance(raw_plans, dict) or not raw_plans:
        raise EntitlementsFileError("'plans' must be a non-empty mapping of plan -> definition")
    plans = {str(key): _parse_plan(str(key), body) for key, body in raw_plans.items()}
    free_plan = _plan_reference(document, "free_plan", plans, default="free")
    fallback_plan = _plan_reference(document, "fallback_plan", plans, default=free_plan)
    aliases = _parse_aliases(document.get("aliases") or {}, plans)
    return PlanCatalog(plans, free_plan, fallback_plan, aliases)


def _parse_plan(key: str, body: Any) -> Plan:
    if not isinstance(body, dict):
        raise EntitlementsFileError(f"plan {key!r}: definition must be a mapping")
    unknown = set(body) - {"features", "limits"}
    if unknown:
        raise EntitlementsFileError(f"plan {key!r}: unknown field(s) {sorted(unknown)}")
    features = _section(key, body, "features")
    limits = _section(key, body, "limits")
    grants: dict[str, int | None] = {}
    for feature, enabled in features.items():
        if not isinstance(enabled, bool):
            raise EntitlementsFileError(
                f"plan {key!r}: features.{feature} must be true or false, got {enabled!r}"
            )
        if enabled:
            grants[feature] = None
    for feature, limit in limits.items():
        if feature in features:
            raise EntitlementsFileError(
                f"plan {key!r}: {feature!r} is listed under both features and limits"
            )
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise EntitlementsFileError(
                f"plan {key!r}: limits.{feature} must be a non-negative integer or null, "
                f"got {limit!r}"
            )
        grants[feature] = limit
    return Plan(key, grants)


def _section(key: str, body: dict[str, Any], name: str) -> dict[str, Any]:
    section = body.get(name) or {}
    if not isinstance(section, dict):
        raise EntitlementsFileError(f"plan {key!r}: {name} must be a mapping")
    return {str(feature): value for feature, value in section.items()}


def _plan_reference(
    document: dict[str, Any], field: str, plans: dict[str, Plan], *, default: str
) -> str:
    value = document.get(field, default)
    if value not in plans:
        raise EntitlementsFileError(f"{field} {value!r} is not one of the plans {sorted(plans)}")
    return str(value)


def _parse_aliases(raw: Any, plans: dict[str, Plan]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise EntitlementsFileError("aliases must be a mapping of key -> plan")
    for alias, target in raw.items():
        if target not in plans:
            raise EntitlementsFileError(f"aliases.{alias}: {target!r} is not one of the plans")
    return {str(alias): str(target) for alias, target in raw.items()}
