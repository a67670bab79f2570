"""Plans as provisioning sees them: each plan's grants, read from the product catalog.

The catalog (`agents/catalog/catalog.yaml`, or MONETA_CATALOG) is the one place features and
limits are written: a product with features or limits is a plan, keyed by the product's key,
and each of its price keys names it too. The `free_plan: true` product is what a customer
without a paying subscription holds (none in the catalog: nothing is granted).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from agents.catalog.loader import load_catalog as load_product_catalog
from agents.catalog.models import Catalog, Product

log = logging.getLogger(__name__)

NO_FREE_PLAN = "free"  # the empty plan's key when the catalog has no free plan


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
    aliases: Mapping[str, str]  # price key -> plan key

    @property
    def free(self) -> Plan:
        return self.plans[self.free_plan]

    def resolve(self, key: str | None) -> Plan:
        """The plan named by `key` (or one of its prices); unknown keys fall back, logged."""
        if key is not None and key in self.plans:
            return self.plans[key]
        if key is not None and key in self.aliases:
            return self.plans[self.aliases[key]]
        log.warning("plan %r is not in the catalog; using %r", key, self.fallback_plan)
        return self.plans[self.fallback_plan]


def load_catalog(path: Path | None = None) -> PlanCatalog:
    """The plans of the catalog at `path` (default: the shipped catalog), once per process."""
    return _plans_cached(path)


@lru_cache(maxsize=8)
def _plans_cached(path: Path | None) -> PlanCatalog:
    return plans_of(load_product_catalog(path))


def plans_of(catalog: Catalog) -> PlanCatalog:
    """Every product with features or limits, whatever its lifecycle (subscribers keep
    retired plans), as a plan; the free plan also stands in for unknown plan keys."""
    plans = {
        p.key: Plan(p.key, grants_of(p))
        for p in catalog.products
        if p.features or p.limits or p.free_plan
    }
    free = next((p.key for p in catalog.products if p.free_plan), None)
    if free is None:
        free = NO_FREE_PLAN
        plans.setdefault(free, Plan(free, {}))
    aliases = {
        price.key: product.key
        for product in catalog.products
        if product.key in plans
        for price in product.prices
    }
    return PlanCatalog(plans, free, free, aliases)


def grants_of(product: Product) -> dict[str, int | None]:
    """Switched-on features (no limit) and every limit (None: unlimited)."""
    grants: dict[str, int | None] = {f: None for f, on in product.features.items() if on}
    grants.update(product.limits)
    return grants
