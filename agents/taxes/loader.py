"""Load and validate the tax file, and the catalog's product tax codes against it."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import TypeAdapter

from agents.catalog.lines import Problem
from agents.catalog.loader import load_catalog
from agents.catalog.models import Catalog
from agents.config_file import LocatedFile
from agents.taxes.config import TaxConfig
from agents.taxes.vat_ids import EU_COUNTRIES
from core.settings import Settings

DEFAULT_TAXES = Path(__file__).with_name("taxes.yaml")
_CONFIG: TypeAdapter[TaxConfig] = TypeAdapter(TaxConfig)


def taxes_of(settings: Settings) -> TaxConfig:
    """The operator's tax configuration (MONETA_TAXES), the operator's catalog checked by it."""
    return load_taxes(settings.tax_file, settings.catalog_file)


def load_taxes(path: Path | None = None, catalog_path: Path | None = None) -> TaxConfig:
    """The tax file at `path` (default: the shipped one); raises ConfigFileError by line."""
    return _load_cached(str(path or DEFAULT_TAXES), str(catalog_path or ""))


@lru_cache(maxsize=8)
def _load_cached(path: str, catalog_path: str) -> TaxConfig:
    located = LocatedFile.read(Path(path), what="tax file", code="bad_taxes")
    config = _validated(located)
    check_catalog_tax_codes(load_catalog(Path(catalog_path) if catalog_path else None), config)
    return config


def parse_taxes(text: str, source: str = "<text>") -> TaxConfig:
    """Validate tax YAML `text` on its own (no catalog check)."""
    return _validated(LocatedFile(text, source, what="tax file", code="bad_taxes"))


def _validated(located: LocatedFile) -> TaxConfig:
    data = located.data
    if "source" in (data if isinstance(data, dict) else {}):
        located.problems.append(Problem(("source",), "unknown field"))
    config = located.parse(_CONFIG, data, ())
    if config is not None:
        located.problems += _cross_field_problems(config)
    located.raise_if_problems()
    assert config is not None
    return config.model_copy(update={"source": located.source})


def _cross_field_problems(config: TaxConfig) -> list[Problem]:
    problems = [
        Problem(("eu_vat", "rates", country), "not an EU member state")
        for country in config.eu_vat.rates
        if country not in EU_COUNTRIES
    ]
    missing = sorted(EU_COUNTRIES - set(config.eu_vat.rates))
    if missing:
        problems.append(
            Problem(("eu_vat", "rates"), f"missing member states: {', '.join(missing)}")
        )
    both = sorted(set(config.us_sales_tax.rates) & set(config.us_sales_tax.untaxed))
    problems += [Problem(("us_sales_tax", "untaxed", s), "also has a rate") for s in both]
    if config.default_tax_code and config.default_tax_code not in config.tax_codes:
        problems.append(Problem(("default_tax_code",), "not one of tax_codes"))
    return problems


def check_catalog_tax_codes(catalog: Catalog, config: TaxConfig) -> None:
    """Every product's tax code is one the tax file knows; else ConfigFileError on the catalog."""
    unknown = [
        (index, product.tax_code)
        for index, product in enumerate(catalog.products)
        if product.tax_code is not None and product.tax_code not in config.tax_codes
    ]
    if not unknown:
        return
    located = LocatedFile.read(Path(catalog.source), what="catalog", code="bad_catalog")
    located.problems += [
        Problem(("products", index, "tax_code"), f"unknown tax code {code!r} ({config.source})")
        for index, code in unknown
    ]
    located.raise_if_problems()
