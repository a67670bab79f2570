"""Planning a catalog sync: what is created, updated, archived or left alone, and the params."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.catalog.loader import load_catalog, parse_catalog
from agents.catalog.models import Catalog
from agents.catalog.stripe_params import fingerprint as digest
from agents.catalog.stripe_params import price_params, price_terms_fingerprint, product_params
from agents.catalog.sync_plan import Step, SyncedPrice, SyncedProduct, plan_sync
from tools.stripe.catalog_client import PlansCannotPrice, plan_params

T1 = datetime(2026, 11, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 2, tzinfo=UTC)

CATALOG = """
products:
  - key: pro
    name: Pro
    type: subscription
    prices:
      - {key: pro_monthly, currency: usd, revenue_model: recurring,
         unit_amount: 9900, interval: month}
      - {key: pro_yearly, currency: usd, revenue_model: recurring,
         unit_amount: 99900, interval: year}
  - key: usage
    name: Usage
    type: service
    prices:
      - key: calls_graduated
        currency: usd
        revenue_model: tiered_graduated
        meter: api_calls
        interval: month
        tiers:
          - {up_to: 1000, unit_amount: "0"}
          - {up_to: null, unit_amount: "0.5", flat_amount: 100}
      - {key: calls_per_1k, currency: usd, revenue_model: package, meter: api_calls,
         unit_amount: 5, package_size: 1000, rounding: down, interval: month}
      - {key: calls_unit, currency: usd, revenue_model: per_unit, meter: api_calls,
         unit_amount: "0.005", interval: month}
      - {key: pack, currency: usd, revenue_model: fixed, unit_amount: 10000}
"""


def catalog(text: str = CATALOG) -> Catalog:
    return parse_catalog(text, "test.yaml")


def synced_state(cat: Catalog) -> tuple[list[SyncedProduct], list[SyncedPrice]]:
    """The rows a complete, successful sync of `cat` leaves behind."""
    products: list[SyncedProduct] = []
    prices: list[SyncedPrice] = []
    for product in cat.products:
        products.append(
            SyncedProduct(
                product.key, f"prod_{product.key}", digest(product_params(product)), True, T1
            )
        )
        for price in product.prices:
            prices.append(
                SyncedPrice(
                    row_id=len(prices) + 1,
                    key=price.key,
                    product_key=product.key,
                    stripe_price_id=f"price_{price.key}",
                    fingerprint=price_terms_fingerprint(product.key, price),
                    active=True,
                    synced_at=T1,
                )
            )
    return products, prices


def outcomes(steps: list[Step]) -> list[tuple[str, str, str]]:
    return [(step.kind, step.key, step.outcome) for step in steps]


def test_a_first_sync_creates_every_product_before_its_prices() -> None:
    steps = plan_sync(catalog(), [], [])
    assert outcomes(steps) == [
        ("product", "pro", "created"),
        ("price", "pro_monthly", "created"),
        ("price", "pro_yearly", "created"),
        ("product", "usage", "created"),
        ("price", "calls_graduated", "created"),
        ("price", "calls_per_1k", "created"),
        ("price", "calls_unit", "created"),
        ("price", "pack", "created"),
    ]
    assert steps[1].idempotency_key == f"catalog:price:pro_monthly:{steps[1].fingerprint}"


def test_an_unchanged_catalog_plans_no_stripe_write() -> None:
    cat = catalog()
    steps = plan_sync(cat, *synced_state(cat))
    assert {step.outcome for step in steps} == {"unchanged"}
    assert all(step.call is None for step in steps)


def test_a_changed_amount_archives_the_old_price_and_creates_a_new_one() -> None:
    before = catalog()
    after = catalog(CATALOG.replace("unit_amount: 9900", "unit_amount: 10900"))
    steps = [s for s in plan_sync(after, *synced_state(before)) if s.outcome != "unchanged"]
    assert outcomes(steps) == [
        ("price", "pro_monthly", "archived"),
        ("price", "pro_monthly", "created"),
    ]
    archived, created = steps
    assert (archived.stripe_id, archived.params, archived.note) == (
        "price_pro_monthly",
        {"active": False},
        "terms changed",
    )
    assert created.params["unit_amount"] == 10900


def test_changing_the_amount_back_reactivates_the_earlier_price() -> None:
    before = catalog()
    products, prices = synced_state(before)
    changed = catalog(CATALOG.replace("unit_amount: 9900", "unit_amount: 10900"))
    pro_monthly = changed.price("pro_monthly")
    old = next(p for p in prices if p.key == "pro_monthly")
    prices = [p for p in prices if p.key != "pro_monthly"] + [
        SyncedPrice(old.row_id, old.key, "pro", old.stripe_price_id, old.fingerprint, False, T2),
        SyncedPrice(
            99,
            "pro_monthly",
            "pro",
            "price_new",
            price_terms_fingerprint("pro", pro_monthly),
            True,
            T2,
        ),
    ]
    steps = [s for s in plan_sync(before, products, prices) if s.outcome != "unchanged"]
    assert [(s.outcome, s.stripe_id, s.params) for s in steps] == [
        ("archived", "price_new", {"active": False}),
        ("updated", "price_pro_monthly", {"active": True}),
    ]


def test_retired_and_removed_prices_are_archived_and_a_paused_product_too() -> None:
    before = catalog()
    text = CATALOG.replace(
        "unit_amount: 99900, interval: year}",
        "unit_amount: 99900, interval: year, lifecycle: retired}",
    ).replace("    type: service\n", "    type: service\n    lifecycle: paused\n")
    text = text.replace(
        "      - {key: pack, currency: usd, revenue_model: fixed, unit_amount: 10000}\n", ""
    )
    steps = [s for s in plan_sync(catalog(text), *synced_state(before)) if s.outcome != "unchanged"]
    assert outcomes(steps) == [
        ("price", "pro_yearly", "archived"),
        ("product", "usage", "archived"),
        ("price", "calls_graduated", "archived"),
        ("price", "calls_per_1k", "archived"),
        ("price", "calls_unit", "archived"),
        ("price", "pack", "archived"),
    ]
    assert steps[1].params["active"] is False and steps[1].call == "update_product"
    assert steps[-1].note == "no longer in the catalog"


def test_a_draft_product_and_a_draft_price_are_not_put_on_stripe() -> None:
    text = CATALOG.replace("    type: service\n", "    type: service\n    lifecycle: draft\n")
    text = text.replace("interval: year}", "interval: year, lifecycle: draft}")
    skipped = [s for s in plan_sync(catalog(text), [], []) if s.outcome == "skipped"]
    assert [s.key for s in skipped] == [
        "pro_yearly",
        "usage",
        "calls_graduated",
        "calls_per_1k",
        "calls_unit",
        "pack",
    ]
    assert all(s.call is None for s in skipped)


def test_an_update_key_differs_after_each_write_so_a_re_change_is_not_replayed() -> None:
    cat = catalog()
    products, prices = synced_state(cat)
    renamed = catalog(CATALOG.replace("name: Pro", "name: Pro Plus"))
    first = plan_sync(renamed, products, prices)[0]
    later = plan_sync(renamed, [SyncedProduct("pro", "prod_pro", "x", True, T2)], prices)[0]
    assert first.call == later.call == "update_product"
    assert first.idempotency_key != later.idempotency_key
    assert first.idempotency_key == plan_sync(renamed, products, prices)[0].idempotency_key


def test_price_params_per_revenue_model() -> None:
    cat = catalog()
    assert price_params("pro", cat.price("pro_monthly")) == {
        "currency": "usd",
        "nickname": "pro_monthly",
        "metadata": {"plan": "pro", "price_key": "pro_monthly"},
        "recurring": {"interval": "month"},
        "unit_amount": 9900,
    }
    graduated = price_params("usage", cat.price("calls_graduated"))
    assert graduated["billing_scheme"] == "tiered" and graduated["tiers_mode"] == "graduated"
    assert graduated["tiers"] == [
        {"up_to": 1000, "flat_amount": 0, "unit_amount": 0},
        {"up_to": "inf", "flat_amount": 100, "unit_amount_decimal": "0.5"},
    ]
    assert graduated["recurring"] == {"interval": "month", "usage_type": "licensed"}
    package = price_params("usage", cat.price("calls_per_1k"))
    assert package["transform_quantity"] == {"divide_by": 1000, "round": "down"}
    assert price_params("usage", cat.price("calls_unit"))["unit_amount_decimal"] == "0.005"
    fixed = price_params("usage", cat.price("pack"))
    assert "recurring" not in fixed and fixed["unit_amount"] == 10000


def test_a_tiered_price_without_interval_is_skipped_with_the_reason() -> None:
    text = CATALOG.replace(
        "        meter: api_calls\n        interval: month\n        tiers:",
        "        meter: api_calls\n        tiers:",
    )
    [step] = [s for s in plan_sync(catalog(text), [], []) if s.key == "calls_graduated"]
    assert step.outcome == "skipped" and "interval" in step.note


def test_plans_take_the_same_terms_and_refuse_one_time_prices() -> None:
    cat = catalog()
    monthly = {**price_params("pro", cat.price("pro_monthly")), "product": "prod_pro"}
    assert plan_params(monthly) == {
        "currency": "usd",
        "product": "prod_pro",
        "interval": "month",
        "interval_count": 1,
        "nickname": "pro_monthly",
        "metadata": {"plan": "pro", "price_key": "pro_monthly"},
        "amount": 9900,
    }
    package = plan_params({**price_params("usage", cat.price("calls_per_1k")), "product": "p"})
    assert package["transform_usage"] == {"divide_by": 1000, "round": "down"}
    per_unit = plan_params({**price_params("usage", cat.price("calls_unit")), "product": "p"})
    assert per_unit["amount_decimal"] == "0.005"
    with pytest.raises(PlansCannotPrice):
        plan_params({**price_params("usage", cat.price("pack")), "product": "p"})


def test_the_shipped_catalog_plans_a_product_per_product_and_a_price_per_price() -> None:
    shipped = load_catalog()
    steps = plan_sync(shipped, [], [])
    assert sum(s.kind == "product" for s in steps) == len(shipped.products)
    priced = sum(len(p.prices) for p in shipped.products)
    assert sum(s.kind == "price" and s.outcome == "created" for s in steps) == priced
