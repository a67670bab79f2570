"""Coupons, promotion codes and tax rates put on Stripe once: localstripe, and the sandbox
for promotion codes (localstripe has none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agents.catalog.loader import load_catalog
from agents.catalog.sync import sync_catalog
from agents.discounts.loader import parse_discounts
from agents.discounts.sync import sync_discounts
from agents.taxes.decision import REVERSE_CHARGE_REGION, TaxProfile
from agents.taxes.loader import load_taxes
from agents.taxes.profiles import set_tax_profile
from agents.taxes.service import tax_for_customer
from agents.taxes.sync import sync_tax_rates
from core.errors import NotFound
from core.settings import Settings
from db.models import Customer, StripeConfigObject
from db.session import Database
from tests.support.localstripe import TEST_API_KEY
from tools.stripe.client import StripeClientGateway
from tools.stripe.gateway import StripeRequestError
from tools.stripe.sandbox import SandboxGateway

PLAIN_COUPONS = """
coupons:
  - {key: spring, percent_off: 12.5, duration: repeating, duration_in_months: 3}
  - {key: tenoff, amount_off: 1000, currency: usd, duration: once}
"""
FULL = """
coupons:
  - {key: welcome, name: Welcome, percent_off: 20, duration: once, applies_to: [pro],
     first_time_only: true, max_redemptions: 10, redeem_by: 2027-01-01T00:00:00Z}
promotion_codes:
  - {code: Welcome20, coupon: welcome, max_redemptions: 5}
"""


def synced_rows(database: Database, kind: str) -> list[StripeConfigObject]:
    with database.transaction() as session:
        query = select(StripeConfigObject).where(StripeConfigObject.kind == kind)
        return list(session.scalars(query.order_by(StripeConfigObject.id)))


def test_coupons_sync_to_localstripe_once_and_a_change_makes_a_new_one(
    localstripe: str, database: Database
) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    first = sync_discounts(database, gateway, parse_discounts(PLAIN_COUPONS, load_catalog()))
    assert [item.outcome for item in first.items] == ["created", "created"]
    spring = gateway.retrieve_coupon(first.items[0].stripe_id)
    assert (spring["percent_off"], spring["duration_in_months"]) == (12.5, 3)
    assert spring["id"].startswith("spring-")
    tenoff = gateway.retrieve_coupon(first.items[1].stripe_id)
    assert (tenoff["amount_off"], tenoff["currency"], tenoff["duration"]) == (1000, "usd", "once")

    again = sync_discounts(database, gateway, parse_discounts(PLAIN_COUPONS, load_catalog()))
    assert again.created() == []
    assert [i.stripe_id for i in again.items] == [i.stripe_id for i in first.items]
    assert len(gateway._client.v1.coupons.list().data) == 2

    changed = PLAIN_COUPONS.replace("percent_off: 12.5", "percent_off: 15")
    third = sync_discounts(database, gateway, parse_discounts(changed, load_catalog()))
    assert [i.key for i in third.created()] == ["spring"]
    rows = synced_rows(database, "coupon")
    assert [(r.key, r.active) for r in rows] == [
        ("spring", False),
        ("tenoff", True),
        ("spring", True),
    ]


def test_tax_rates_sync_to_localstripe_once(localstripe: str, database: Database) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    config = load_taxes()
    first = sync_tax_rates(database, gateway, config)
    regions = {item.key: item.stripe_id for item in first.items}
    assert len(first.created()) == 27 + 1 + 5  # EU-27, reverse charge, 5 taxed US states
    rates = {r.id: r for r in gateway._client.v1.tax_rates.list({"limit": 100}).data}
    de = rates[regions["DE"]]
    assert (de.percentage, de.inclusive, de.jurisdiction, de.display_name) == (
        19,
        False,
        "DE",
        "VAT",
    )
    assert rates[regions["US-CA"]].percentage == 7.25
    assert rates[regions[REVERSE_CHARGE_REGION]].percentage == 0

    assert sync_tax_rates(database, gateway, config).created() == []
    assert len(gateway._client.v1.tax_rates.list({"limit": 100}).data) == 33


def test_a_customers_decision_names_the_synced_stripe_rate(
    localstripe: str, database: Database, settings: Settings
) -> None:
    gateway = StripeClientGateway(TEST_API_KEY, api_base=localstripe)
    regions = {i.key: i.stripe_id for i in sync_tax_rates(database, gateway, load_taxes()).items}
    with database.transaction() as session:
        customer = Customer(email="fr@example.com")
        session.add(customer)
        session.flush()
        set_tax_profile(session, customer.id, TaxProfile("FR"))
        decision = tax_for_customer(session, settings, customer.id, None)
    assert decision.stripe_tax_rate_id == regions["FR"]


def test_promotion_codes_sync_to_the_sandbox_once_and_a_change_replaces_the_code(
    tmp_path: Path, database: Database
) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    catalog = load_catalog()
    with pytest.raises(NotFound) as error:
        sync_discounts(database, sandbox, parse_discounts(FULL, catalog))
    assert error.value.code == "product_not_synced"
    sync_catalog(database, sandbox, catalog)

    first = sync_discounts(database, sandbox, parse_discounts(FULL, catalog))
    assert [(i.kind, i.outcome) for i in first.items] == [
        ("coupon", "created"),
        ("promotion_code", "created"),
    ]
    coupon = sandbox.retrieve_coupon(first.items[0].stripe_id)
    assert coupon["applies_to"]["products"][0].startswith("prod_")
    assert (coupon["max_redemptions"], coupon["redeem_by"], coupon["name"]) == (
        10,
        1798761600,
        "Welcome",
    )
    code = sandbox.get("promotion_code", first.items[1].stripe_id)
    assert code is not None
    assert code["promotion"] == {"type": "coupon", "coupon": coupon["id"]}
    assert (code["code"], code["max_redemptions"], code["active"]) == ("Welcome20", 5, True)
    assert code["restrictions"] == {"first_time_transaction": True}
    assert sync_discounts(database, sandbox, parse_discounts(FULL, catalog)).created() == []

    changed = parse_discounts(FULL.replace("max_redemptions: 5", "max_redemptions: 7"), catalog)
    replaced = sync_discounts(database, sandbox, changed)
    assert [(i.kind, i.outcome) for i in replaced.items] == [
        ("coupon", "unchanged"),
        ("promotion_code", "created"),
    ]
    old = sandbox.get("promotion_code", first.items[1].stripe_id)
    new = sandbox.get("promotion_code", replaced.items[1].stripe_id)
    assert old is not None and new is not None
    assert (old["active"], new["active"], new["max_redemptions"]) == (False, True, 7)

    back = sync_discounts(database, sandbox, parse_discounts(FULL, catalog))  # changed back
    assert [i.outcome for i in back.items] == ["unchanged", "created"]
    again = sandbox.get("promotion_code", back.items[1].stripe_id)
    replaced_code = sandbox.get("promotion_code", replaced.items[1].stripe_id)
    assert again is not None and replaced_code is not None
    assert back.items[1].stripe_id not in {first.items[1].stripe_id, replaced.items[1].stripe_id}
    assert (again["active"], again["max_redemptions"], replaced_code["active"]) == (True, 5, False)
    active = [r.stripe_id for r in synced_rows(database, "promotion_code") if r.active]
    assert active == [back.items[1].stripe_id]


def test_the_sandbox_refuses_a_second_active_code_spelled_alike(tmp_path: Path) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    sandbox.create_coupon(
        params={"id": "c1", "duration": "once", "percent_off": "5"}, idempotency_key="k0"
    )
    params = {"promotion": {"type": "coupon", "coupon": "c1"}, "code": "SAVE", "active": True}
    first = sandbox.create_promotion_code(params=params, idempotency_key="k1")
    assert sandbox.create_promotion_code(params=params, idempotency_key="k1") == first
    with pytest.raises(StripeRequestError) as error:
        sandbox.create_promotion_code(params={**params, "code": "save"}, idempotency_key="k2")
    assert error.value.code == "resource_already_exists"
    with pytest.raises(StripeRequestError):
        sandbox.create_coupon(
            params={"id": "c1", "duration": "forever", "percent_off": "5"}, idempotency_key="k3"
        )
