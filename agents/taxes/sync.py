"""`moneta taxes sync`: one Stripe tax rate per taxed region, so invoices can carry them.

Regions: each EU member state (its VAT), the 0% reverse-charge rate, and each US state with a
sales tax rate. localstripe refuses `country`, `state` and `tax_type`, so the region is told
by `jurisdiction` and metadata, which Stripe shows on invoices and keeps.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from agents.config_sync import SyncReport, sync_object
from agents.taxes.config import TaxConfig
from agents.taxes.decision import REVERSE_CHARGE_REGION
from agents.taxes.service import TAX_RATE_KIND
from db.session import Database
from tools.stripe.gateway import StripeGateway


def tax_rate_params(config: TaxConfig) -> dict[str, dict[str, Any]]:
    """Stripe tax rate parameters by region (`DE`, `US-CA`, the reverse-charge rate)."""
    eu, us = config.eu_vat, config.us_sales_tax
    regions = {
        country: _params("VAT", percent, eu.inclusive, country, f"{country} VAT")
        for country, percent in sorted(eu.rates.items())
    }
    regions[REVERSE_CHARGE_REGION] = _params(
        "VAT", Decimal(0), eu.inclusive, "EU", "Reverse charge: VAT due by the customer"
    )
    for state, percent in sorted(us.rates.items()):
        if percent > 0:
            region = f"US-{state}"
            regions[region] = _params("Sales tax", percent, us.inclusive, region, region)
    return regions


def sync_tax_rates(database: Database, gateway: StripeGateway, config: TaxConfig) -> SyncReport:
    """Create the tax rates Stripe lacks; a second run with the same file creates nothing."""
    report = SyncReport()
    for region, params in tax_rate_params(config).items():

        def create(params: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
            return gateway.create_tax_rate(params=params, idempotency_key=idempotency_key)

        report.items.append(sync_object(database, TAX_RATE_KIND, region, params, create))
    return report


def _params(
    name: str, percent: Decimal, inclusive: bool, jurisdiction: str, description: str
) -> dict[str, Any]:
    return {
        "display_name": name,
        "percentage": format(percent, "f"),
        "inclusive": inclusive,
        "jurisdiction": jurisdiction,
        "description": description,
        "metadata": {"moneta_tax_region": jurisdiction},
    }
