"""What may be bought at checkout, and the Checkout Session parameters that sell it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.catalog.loader import load_catalog, parse_catalog
from agents.checkout.rules import (
    MAX_QUANTITY,
    CheckoutRequest,
    check_currency,
    checkout_tax,
    idempotency_key,
    offer_for,
    session_params,
)
from agents.pricing.taxes import TaxRate
from agents.taxes.decision import TaxDecision
from core.errors import Conflict, InvalidInput, MonetaError, NotFound

RETIRED = """
products:
  - key: legacy
    name: Legacy
    type: subscription
    prices:
      - {key: legacy_monthly, currency: usd, revenue_model: recurring, unit_amount: 900,
         interval: month, lifecycle: retired}
  - key: paused
    name: Paused
    type: subscription
    lifecycle: paused
    prices:
      - {key: paused_monthly, currency: usd, revenue_model: recurring, unit_amount: 900,
         interval: month}
"""


def refusal(request: CheckoutRequest, text: str | None = None) -> MonetaError:
    cat = parse_catalog(text, "t.yaml") if text else load_catalog()
    with pytest.raises(MonetaError) as caught:
        offer_for(cat, request)
    return caught.value


def test_unknown_price_is_404_and_contact_sales_is_422() -> None:
    unknown = refusal(CheckoutRequest(1, "gold_monthly"))
    assert isinstance(unknown, NotFound) and unknown.code == "unknown_price"
    sales = refusal(CheckoutRequest(1, "enterprise"))
    assert isinstance(sales, InvalidInput) and sales.code == "contact_sales"


def test_retired_price_and_paused_product_are_not_offered() -> None:
    retired = refusal(CheckoutRequest(1, "legacy_monthly"), RETIRED)
    assert retired.code == "price_not_offered" and "retired" in retired.message
    paused = refusal(CheckoutRequest(1, "paused_monthly"), RETIRED)
    assert paused.code == "price_not_offered" and "paused product" in paused.message


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, True])
def test_absurd_quantities_are_refused(quantity: int) -> None:
    assert refusal(CheckoutRequest(1, "pro_monthly", quantity=quantity)).code == "bad_quantity"


def test_trial_days_come_from_the_catalog_unless_the_request_says_otherwise() -> None:
    cat = load_catalog()
    assert offer_for(cat, CheckoutRequest(1, "pro_monthly")).trial_days == 14
    assert offer_for(cat, CheckoutRequest(1, "pro_monthly", trial_days=0)).trial_days is None
    assert offer_for(cat, CheckoutRequest(1, "pro_monthly", trial_days=30)).trial_days == 30
    assert offer_for(cat, CheckoutRequest(1, "pro_yearly")).trial_days is None
    assert refusal(CheckoutRequest(1, "pro_monthly", trial_days=731)).code == "bad_trial"
    assert refusal(CheckoutRequest(1, "ai_tokens_1m", trial_days=7)).code == "bad_trial"


def test_a_price_in_another_currency_than_the_customers_is_refused() -> None:
    offer = offer_for(load_catalog(), CheckoutRequest(1, "pro_monthly"))
    check_currency(offer, {"usd"})
    check_currency(offer, set())
    with pytest.raises(InvalidInput) as caught:
        check_currency(offer, {"eur"})
    assert caught.value.code == "currency_mismatch" and "EUR" in caught.value.message


def test_a_subscription_session_carries_the_customer_trial_plan_and_discount() -> None:
    request = CheckoutRequest(7, "pro_monthly", quantity=2)
    offer = offer_for(load_catalog(), request)
    params = session_params(
        request,
        offer,
        stripe_customer_id="cus_7",
        stripe_price_id="price_pro",
        discounts=[{"promotion_code": "promo_1"}],
        success_url="https://ok",
        cancel_url="https://no",
    )
    metadata = {"plan": "pro", "price_key": "pro_monthly", "moneta_customer_id": "7"}
    assert params == {
        "mode": "subscription",
        "customer": "cus_7",
        "client_reference_id": "7",
        "line_items": [{"price": "price_pro", "quantity": 2}],
        "success_url": "https://ok",
        "cancel_url": "https://no",
        "metadata": metadata,
        "subscription_data": {"metadata": metadata, "trial_period_days": 14},
        "discounts": [{"promotion_code": "promo_1"}],
    }


def test_a_one_time_price_is_a_payment_session_without_subscription_data() -> None:
    request = CheckoutRequest(7, "ai_tokens_1m")
    offer = offer_for(load_catalog(), request)
    params = session_params(
        request,
        offer,
        stripe_customer_id="cus_7",
        stripe_price_id="price_pack",
        discounts=[],
        success_url="s",
        cancel_url="c",
    )
    assert params["mode"] == "payment" and "subscription_data" not in params
    assert params["payment_intent_data"]["metadata"]["price_key"] == "ai_tokens_1m"
    assert "discounts" not in params


def test_the_idempotency_key_follows_what_is_bought_and_the_request_key() -> None:
    cat = load_catalog()
    request = CheckoutRequest(7, "pro_monthly")
    key = idempotency_key(request, offer_for(cat, request), "r1")
    assert key == idempotency_key(request, offer_for(cat, request), "r1")
    assert key.startswith("checkout:7:pro_monthly:")
    assert key != idempotency_key(request, offer_for(cat, request), "r2")
    coded = CheckoutRequest(7, "pro_monthly", promotion_code="SAVE10")
    assert key != idempotency_key(coded, offer_for(cat, coded), "r1")


def _tax(percent: str | None, *, synced: str | None = None, automatic: bool = False) -> TaxDecision:
    rate = None if percent is None else TaxRate(Decimal(percent))
    return TaxDecision(rate, False, automatic, "eu_vat", "VAT", "DE", synced)


def _session_with(tax: TaxDecision) -> dict[str, object]:
    request = CheckoutRequest(7, "pro_monthly")
    return session_params(
        request,
        offer_for(load_catalog(), request),
        stripe_customer_id="cus_7",
        stripe_price_id="price_pro",
        discounts=[],
        success_url="https://ok",
        cancel_url="https://no",
        tax=tax,
    )


def test_our_synced_rate_goes_on_the_line_item() -> None:
    params = _session_with(_tax("19", synced="txr_de"))
    assert params["line_items"] == [{"price": "price_pro", "quantity": 1, "tax_rates": ["txr_de"]}]
    assert "automatic_tax" not in params


def test_stripe_automatic_tax_is_switched_on_and_the_address_saved() -> None:
    params = _session_with(_tax(None, automatic=True))
    assert params["automatic_tax"] == {"enabled": True}
    assert params["customer_update"] == {"address": "auto"}
    assert params["line_items"] == [{"price": "price_pro", "quantity": 1}]


def test_untaxed_and_zero_rated_customers_get_no_tax_parameters() -> None:
    for tax in (_tax(None), _tax("0")):
        params = _session_with(tax)
        assert "automatic_tax" not in params
        assert params["line_items"] == [{"price": "price_pro", "quantity": 1}]


def test_a_taxed_customer_whose_rate_is_not_on_stripe_is_refused() -> None:
    with pytest.raises(Conflict) as refused:
        checkout_tax(_tax("19"))
    assert refused.value.code == "tax_rate_not_synced"
