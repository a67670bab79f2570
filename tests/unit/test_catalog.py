"""The catalog file: the shipped default, line-precise validation, lifecycles and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.catalog.loader import CatalogError, load_catalog, parse_catalog
from agents.catalog.models import REVENUE_MODELS, RecurringPrice
from core.errors import NotFound
from core.settings import reset_settings
from orchestrator.cli import app

VALID = """\
products:
  - key: starter
    name: Starter
    type: subscription
    prices:
      - key: starter_monthly
        currency: usd
        revenue_model: recurring
        unit_amount: 1900
        interval: month
      - key: starter_monthly_2024
        currency: usd
        revenue_model: recurring
        unit_amount: 1500
        interval: month
        lifecycle: retired
  - key: legacy_addon
    name: Legacy add-on
    type: service
    lifecycle: paused
    prices:
      - {key: addon_setup, currency: usd, revenue_model: fixed, unit_amount: 500}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(CatalogError) as raised:
        parse_catalog(text, "catalog.yaml")
    return raised.value.problems


def test_the_shipped_catalog_sells_starter_and_pro_monthly_and_yearly() -> None:
    catalog = load_catalog()
    amounts = {
        key: (price.unit_amount, price.interval, price.currency)
        for key in ("starter_monthly", "starter_yearly", "pro_monthly", "pro_yearly")
        if isinstance(price := catalog.price(key), RecurringPrice)
    }
    assert amounts == {
        "starter_monthly": (1900, "month", "usd"),
        "starter_yearly": (19900, "year", "usd"),
        "pro_monthly": (9900, "month", "usd"),
        "pro_yearly": (99900, "year", "usd"),
    }
    assert [p.key for p in catalog.product("starter").prices] == [
        "starter_monthly",
        "starter_yearly",
    ]
    assert [p.key for p in catalog.product("pro").prices] == ["pro_monthly", "pro_yearly"]


def test_the_shipped_enterprise_plan_is_contact_sales_without_a_public_price() -> None:
    enterprise = load_catalog().product("enterprise")
    assert enterprise.contact_sales and enterprise.prices == ()
    assert enterprise.offerable_prices() == ()


def test_the_shipped_free_plan_has_limits_and_no_price() -> None:
    free = load_catalog().product("free")
    assert free.free_plan and free.prices == () and free.offerable_prices() == ()
    assert free.limits == {"api_calls": 1000, "seats": 1, "projects": 1, "ai_tokens": 10000}


def test_the_shipped_catalog_shows_every_revenue_model() -> None:
    catalog = load_catalog()
    shown = {price.revenue_model for price in catalog.offerable_prices()}
    assert shown == set(REVENUE_MODELS)
    assert catalog.price("ai_tokens_1m").revenue_model == "fixed"
    assert catalog.price("api_calls_per_unit").revenue_model == "per_unit"


def test_a_retired_price_is_not_offered_but_still_resolves() -> None:
    catalog = parse_catalog(VALID)
    assert [p.key for p in catalog.offerable_prices()] == ["starter_monthly"]
    retired = catalog.price("starter_monthly_2024")
    assert isinstance(retired, RecurringPrice)
    assert (retired.lifecycle, retired.unit_amount) == ("retired", 1500)
    assert catalog.product_of("starter_monthly_2024").key == "starter"


def test_a_paused_product_offers_none_of_its_prices() -> None:
    catalog = parse_catalog(VALID)
    assert catalog.product("legacy_addon").offerable_prices() == ()
    assert catalog.price("addon_setup").lifecycle == "active"


def test_an_unknown_price_is_not_found_with_its_code() -> None:
    with pytest.raises(NotFound) as raised:
        parse_catalog(VALID).price("nope")
    assert raised.value.code == "unknown_price"


def test_bad_yaml_names_the_line() -> None:
    assert problems_of("products:\n  - key: a\n    name: [unclosed\n") == [
        "catalog.yaml:4: not valid YAML: expected ',' or ']', but got '<stream end>'"
    ]


def test_a_negative_amount_names_line_and_field() -> None:
    text = VALID.replace("unit_amount: 1500", "unit_amount: -1")
    assert problems_of(text) == ["catalog.yaml:14: products[0].prices[1].unit_amount: must be >= 0"]


def test_an_unknown_revenue_model_names_line_and_field() -> None:
    text = VALID.replace("revenue_model: fixed", "revenue_model: barter")
    assert problems_of(text) == [
        "catalog.yaml:22: products[1].prices[0].revenue_model: must be one of "
        + ", ".join(REVENUE_MODELS)
    ]


def test_tiers_out_of_order_name_the_offending_tier() -> None:
    text = """\
products:
  - key: api
    name: API
    type: service
    prices:
      - key: api_graduated
        currency: usd
        revenue_model: tiered_graduated
        meter: api_calls
        tiers:
          - {up_to: 1000, unit_amount: "1"}
          - {up_to: 500, unit_amount: "0.5"}
          - {up_to: null, unit_amount: "0.1"}
          - {up_to: 9000, unit_amount: "0.1"}
"""
    assert problems_of(text) == [
        "catalog.yaml:12: products[0].prices[0].tiers[1].up_to: "
        "must be greater than the previous tier's 1000",
        "catalog.yaml:13: products[0].prices[0].tiers[2].up_to: "
        "only the last tier may be unbounded (null)",
        "catalog.yaml:14: products[0].prices[0].tiers[3].up_to: "
        "the last tier must be unbounded (up_to: null)",
    ]


def test_duplicate_price_and_product_keys_are_refused() -> None:
    text = VALID.replace("key: starter_monthly_2024", "key: starter_monthly").replace(
        "key: legacy_addon", "key: starter"
    )
    assert problems_of(text) == [
        "catalog.yaml:11: products[0].prices[1].key: "
        "duplicate key 'starter_monthly' (also products[0].prices[0])",
        "catalog.yaml:17: products[1].key: duplicate key 'starter' (also products[0])",
    ]


def test_a_mapping_key_written_twice_is_refused() -> None:
    text = VALID.replace(
        "        interval: month\n", "        interval: month\n        unit_amount: 1\n", 1
    )
    assert problems_of(text) == [
        "catalog.yaml:11: products[0].prices[0].unit_amount: duplicate key (first at line 9)"
    ]


def test_every_problem_is_listed_in_line_order() -> None:
    text = (
        VALID.replace("type: service", "type: gadget")
        .replace("interval: month\n      - key", "interval: weekly\n      - key")
        .replace("currency: usd, revenue_model: fixed", "currency: USD, revenue_model: fixed")
        .replace("    name: Starter\n", "")
    )
    assert problems_of(text) == [
        "catalog.yaml:2: products[0].name: required",
        "catalog.yaml:9: products[0].prices[0].interval: must be 'month' or 'year'",
        "catalog.yaml:18: products[1].type: "
        "must be 'service', 'content', 'license' or 'subscription'",
        "catalog.yaml:21: products[1].prices[0].currency: must match ^[a-z]{3}$",
    ]


def test_a_product_without_prices_must_be_contact_sales() -> None:
    text = "products:\n  - {key: a, name: A, type: service}\n"
    assert problems_of(text) == [
        "catalog.yaml:2: products[0]: needs at least one price, or contact_sales: true"
    ]


def test_one_unpriced_free_plan_naming_each_feature_once() -> None:
    text = """\
products:
  - {key: a, name: A, type: service, free_plan: true, limits: {seats: 1}}
  - key: b
    name: B
    type: service
    free_plan: true
    features: {sso: true}
    limits: {sso: 1}
    prices:
      - {key: b1, currency: usd, revenue_model: fixed, unit_amount: 100}
"""
    assert problems_of(text) == [
        "catalog.yaml:6: products[1].free_plan: only one product may be the free plan",
        "catalog.yaml:8: products[1].limits.sso: also listed under features",
        "catalog.yaml:9: products[1].prices: a contact-sales or free plan has no public price",
    ]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.delenv("MONETA_CATALOG", raising=False)
    reset_settings()
    yield CliRunner()
    reset_settings()


def test_cli_validate_passes_the_shipped_catalog(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "validate"])
    assert result.exit_code == 0, result.output
    assert "valid: 7 products, 9 prices" in result.output


def test_cli_validate_lists_every_problem_and_exits_1(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(VALID.replace("unit_amount: 1900", "unit_amount: -5").replace("usd", "us"))
    monkeypatch.setenv("MONETA_CATALOG", str(broken))
    reset_settings()
    result = runner.invoke(app, ["catalog", "validate"])
    assert result.exit_code == 1
    assert "4 problem(s)" in result.output
    assert f"{broken}:9: products[0].prices[0].unit_amount: must be >= 0" in result.output
    assert f"{broken}:22: products[1].prices[0].currency: must match" in result.output


def test_cli_validate_takes_a_file_option(runner: CliRunner, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(VALID)
    result = runner.invoke(app, ["catalog", "validate", "--file", str(good)])
    assert result.exit_code == 0, result.output
    assert "valid: 2 products, 3 prices" in result.output


def test_cli_show_json_lists_products_with_their_prices(runner: CliRunner) -> None:
    result = runner.invoke(app, ["catalog", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    products = {p["key"]: p for p in shown["products"]}
    assert [p["unit_amount"] for p in products["pro"]["prices"]] == [9900, 99900]
    graduated = next(
        p for p in products["api_usage"]["prices"] if p["key"] == "api_calls_graduated"
    )
    assert graduated["tiers"][1] == {"up_to": 1000000, "unit_amount": "0.005", "flat_amount": 0}
    assert products["enterprise"]["contact_sales"] is True
