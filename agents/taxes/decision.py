"""Which tax rate applies to a sale: EU VAT (with reverse charge), US sales tax, or none.

Pure: a customer's tax profile and the configuration in, a TaxDecision out.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from agents.pricing.taxes import TaxRate
from agents.taxes.config import TaxConfig
from agents.taxes.vat_ids import EU_COUNTRIES, valid_vat_id
from core.errors import InvalidInput

REVERSE_CHARGE_REGION = "EU-REVERSE-CHARGE"


@dataclass(frozen=True)
class TaxProfile:
    """Where and as what a customer buys (countries ISO upper case, VAT id normalized)."""

    country: str
    state: str | None = None
    postal_code: str | None = None
    vat_id: str | None = None
    is_business: bool = False


@dataclass(frozen=True)
class TaxDecision:
    """The rate to charge (None: no tax, or Stripe decides when `automatic`) and why.

    `reason` is a machine code (domestic_vat, eu_vat, reverse_charge, us_sales_tax,
    us_untaxed, outside_tax_regions, tax_exempt_product, no_tax_profile, stripe_automatic);
    `detail` says it to a person; `region` names the Stripe tax rate (`DE`, `US-CA`).
    """

    rate: TaxRate | None
    reverse_charge: bool
    automatic: bool
    reason: str
    detail: str
    region: str | None = None
    stripe_tax_rate_id: str | None = None


def decide_tax(config: TaxConfig, profile: TaxProfile | None, tax_code: str | None) -> TaxDecision:
    """The decision for a customer with `profile` buying a product of `tax_code`."""
    if config.tax_mode == "stripe_automatic":
        return TaxDecision(None, False, True, "stripe_automatic", "Stripe Tax computes the tax")
    code = tax_code or config.default_tax_code
    if code is not None:
        known = config.tax_codes.get(code)
        if known is None:
            raise InvalidInput(f"unknown tax code {code!r}", code="unknown_tax_code")
        if known.exempt:
            return _untaxed("tax_exempt_product", f"{code} ({known.name}) is not taxed")
    if profile is None:
        return TaxDecision(None, False, False, "no_tax_profile", "no tax profile: no tax charged")
    if profile.country in EU_COUNTRIES:
        return _eu_vat(config, profile)
    if profile.country == "US":
        return _us_sales_tax(config, profile.state)
    return TaxDecision(
        None, False, False, "outside_tax_regions", f"no tax configured for {profile.country}"
    )


def _eu_vat(config: TaxConfig, profile: TaxProfile) -> TaxDecision:
    inclusive = config.eu_vat.inclusive
    country = profile.country
    if country == config.seller_country:
        percent = config.eu_vat.rates[country]
        return TaxDecision(
            TaxRate(percent, inclusive),
            False,
            False,
            "domestic_vat",
            f"{country} VAT {percent}% (the seller's country)",
            region=country,
        )
    business_id = profile.is_business and profile.vat_id and valid_vat_id(profile.vat_id, country)
    if business_id:
        return TaxDecision(
            TaxRate(Decimal(0), inclusive),
            True,
            False,
            "reverse_charge",
            f"reverse charge: {profile.vat_id} accounts for {country} VAT",
            region=REVERSE_CHARGE_REGION,
        )
    percent = config.eu_vat.rates[country]
    return TaxDecision(
        TaxRate(percent, inclusive),
        False,
        False,
        "eu_vat",
        f"{country} VAT {percent}% (the customer's country)",
        region=country,
    )


def _us_sales_tax(config: TaxConfig, state: str | None) -> TaxDecision:
    us = config.us_sales_tax
    if state is None:
        return _untaxed("us_untaxed", "no US state in the tax profile")
    percent = us.rates.get(state)
    if percent is None or percent == 0:
        return _untaxed("us_untaxed", f"US-{state}: {us.untaxed.get(state, us.otherwise)}")
    return TaxDecision(
        TaxRate(percent, us.inclusive),
        False,
        False,
        "us_sales_tax",
        f"US-{state} sales tax {percent}%",
        region=f"US-{state}",
    )


def _untaxed(reason: str, detail: str) -> TaxDecision:
    return TaxDecision(TaxRate(Decimal(0)), False, False, reason, detail)
