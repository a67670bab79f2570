"""Tax decisions (EU VAT, reverse charge, US sales tax, Stripe Tax), VAT id formats, rounding."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agents.config_file import ConfigFileError
from agents.pricing.money import Money
from agents.pricing.taxes import TaxRate, apply_tax
from agents.taxes.config import TaxConfig
from agents.taxes.decision import REVERSE_CHARGE_REGION, TaxProfile, decide_tax
from agents.taxes.loader import DEFAULT_TAXES, load_taxes, parse_taxes
from agents.taxes.profiles import normalized_profile
from agents.taxes.vat_ids import EU_COUNTRIES, valid_vat_id
from core.errors import InvalidInput


@pytest.fixture
def config() -> TaxConfig:
    return load_taxes()  # the shipped file: seller in DE


def test_the_shipped_file_has_every_eu_member_state() -> None:
    config = load_taxes()
    assert set(config.eu_vat.rates) == EU_COUNTRIES and len(EU_COUNTRIES) == 27
    assert config.eu_vat.rates["DE"] == Decimal(19) and config.eu_vat.rates["FI"] == Decimal("25.5")


def test_a_customer_in_the_sellers_country_pays_its_vat_even_as_a_business(
    config: TaxConfig,
) -> None:
    business = TaxProfile("DE", vat_id="DE123456789", is_business=True)
    decision = decide_tax(config, business, None)
    assert decision.rate == TaxRate(Decimal(19))
    assert (decision.reason, decision.reverse_charge, decision.region) == (
        "domestic_vat",
        False,
        "DE",
    )


def test_a_business_with_a_valid_vat_id_in_another_eu_country_is_reverse_charged(
    config: TaxConfig,
) -> None:
    decision = decide_tax(config, TaxProfile("FR", vat_id="FR12345678901", is_business=True), None)
    assert decision.rate == TaxRate(Decimal(0))
    assert decision.reverse_charge and decision.reason == "reverse_charge"
    assert decision.region == REVERSE_CHARGE_REGION


def test_a_consumer_in_another_eu_country_pays_their_countrys_rate(config: TaxConfig) -> None:
    decision = decide_tax(config, TaxProfile("FR"), None)
    assert decision.rate == TaxRate(Decimal(20))
    assert (decision.reason, decision.reverse_charge, decision.region) == ("eu_vat", False, "FR")


def test_a_business_without_a_vat_id_pays_like_a_consumer(config: TaxConfig) -> None:
    decision = decide_tax(config, TaxProfile("IT", is_business=True), None)
    assert decision.rate == TaxRate(Decimal(22)) and decision.reason == "eu_vat"


def test_outside_the_eu_and_the_us_there_is_no_tax(config: TaxConfig) -> None:
    decision = decide_tax(config, TaxProfile("JP"), None)
    assert decision.rate is None and decision.reason == "outside_tax_regions"


@pytest.mark.parametrize(
    ("state", "percent", "reason"),
    [
        ("CA", Decimal("7.25"), "us_sales_tax"),
        ("NY", Decimal(4), "us_sales_tax"),
        ("OR", Decimal(0), "us_untaxed"),
        ("OH", Decimal(0), "us_untaxed"),
    ],
)
def test_us_sales_tax_by_state(
    config: TaxConfig, state: str, percent: Decimal, reason: str
) -> None:
    decision = decide_tax(config, TaxProfile("US", state=state), None)
    assert decision.rate is not None and decision.rate.percent == percent
    assert decision.reason == reason


def test_an_untaxed_state_says_why(config: TaxConfig) -> None:
    assert "no sales tax" in decide_tax(config, TaxProfile("US", state="OR"), None).detail
    assert "nexus" in decide_tax(config, TaxProfile("US", state="OH"), None).detail


def test_an_exempt_tax_code_is_never_taxed_and_an_unknown_one_is_refused(
    config: TaxConfig,
) -> None:
    exempt = decide_tax(config, TaxProfile("DE"), "txcd_00000000")
    assert exempt.rate == TaxRate(Decimal(0)) and exempt.reason == "tax_exempt_product"
    with pytest.raises(InvalidInput) as error:
        decide_tax(config, TaxProfile("DE"), "txcd_99999999")
    assert error.value.code == "unknown_tax_code"


def test_stripe_automatic_mode_delegates_everything(config: TaxConfig) -> None:
    automatic = config.model_copy(update={"tax_mode": "stripe_automatic"})
    decision = decide_tax(automatic, TaxProfile("FR"), None)
    assert decision.automatic and decision.rate is None and decision.reason == "stripe_automatic"


def test_no_profile_means_no_tax_said_so(config: TaxConfig) -> None:
    decision = decide_tax(config, None, None)
    assert decision.rate is None and decision.reason == "no_tax_profile"


@pytest.mark.parametrize(
    ("vat_id", "country", "valid"),
    [
        ("DE123456789", "DE", True),
        ("de 123 456 789", "DE", True),
        ("DE12345678", "DE", False),
        ("ATU12345678", "AT", True),
        ("AT12345678", "AT", False),
        ("EL123456789", "GR", True),
        ("GR123456789", "GR", False),
        ("NL123456789B01", "NL", True),
        ("FR12345678901", "FR", True),
        ("FR12345678901", "BE", False),
        ("IE1234567T", "IE", True),
        ("US123456789", "US", False),
    ],
)
def test_vat_id_formats_per_country(vat_id: str, country: str, valid: bool) -> None:
    assert valid_vat_id(vat_id, country) is valid


def test_a_profile_with_a_malformed_vat_id_or_no_us_state_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        normalized_profile(TaxProfile("fr", vat_id="FR123", is_business=True))
    assert error.value.code == "bad_vat_id" and "no VIES" in error.value.message
    with pytest.raises(InvalidInput) as error:
        normalized_profile(TaxProfile("US"))
    assert error.value.code == "bad_state"
    clean = normalized_profile(TaxProfile("fr", vat_id="fr 12 345678901", is_business=True))
    assert (clean.country, clean.vat_id) == ("FR", "FR12345678901")


@pytest.mark.parametrize(
    ("amount", "percent", "inclusive", "tax"),
    [
        (Money(1000, "jpy"), Decimal("7.25"), False, 72),  # 72.5 -> 72 (half-even)
        (Money(1100, "jpy"), Decimal("7.5"), False, 82),  # 82.5 -> 82
        (Money(1300, "jpy"), Decimal("7.5"), False, 98),  # 97.5 -> 98
        (Money(9900, "usd"), Decimal(19), False, 1881),
        (Money(11900, "eur"), Decimal(19), True, 1900),  # carved out of a gross price
    ],
)
def test_tax_rounds_half_even_to_the_currencys_minor_unit(
    amount: Money, percent: Decimal, inclusive: bool, tax: int
) -> None:
    assert apply_tax(amount, TaxRate(percent, inclusive)).tax.amount == tax


def test_tax_file_problems_are_reported_by_line() -> None:
    shipped = DEFAULT_TAXES.read_text()
    with pytest.raises(ConfigFileError) as error:
        parse_taxes(shipped.replace("tax_mode: manual", "tax_mode: sometimes"), "t.yaml")
    assert error.value.problems == ["t.yaml:15: tax_mode: must be 'manual' or 'stripe_automatic'"]
    text = shipped.replace("    AT: 20\n", "    XX: 20\n")
    text = text.replace("default_tax_code: txcd_10103001", "default_tax_code: txcd_12345678")
    with pytest.raises(ConfigFileError) as error:
        parse_taxes(text, "t.yaml")
    assert error.value.code == "bad_taxes"
    assert error.value.problems == [
        "t.yaml:17: default_tax_code: not one of tax_codes",
        "t.yaml:27: eu_vat.rates: missing member states: AT",
        "t.yaml:28: eu_vat.rates.XX: not an EU member state",
    ]


def test_a_catalog_tax_code_the_tax_file_does_not_know_is_named_by_catalog_line(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        """products:
  - key: ebook
    name: E-book
    type: content
    tax_code: txcd_10302000
    prices:
      - {key: ebook_once, currency: eur, revenue_model: fixed, unit_amount: 900}
"""
    )
    with pytest.raises(ConfigFileError) as error:
        load_taxes(None, catalog)
    assert error.value.code == "bad_catalog"
    assert error.value.problems == [
        f"{catalog}:5: products[0].tax_code: unknown tax code 'txcd_10302000' ({DEFAULT_TAXES})"
    ]
