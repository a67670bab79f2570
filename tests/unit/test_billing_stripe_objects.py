"""Reading Stripe objects in both layouts: API 2026-10-28.endive and legacy (localstripe)."""

from __future__ import annotations

from datetime import UTC, datetime

from agents.billing.stripe_invoices import (
    PaymentRef,
    invoice_payment_refs,
    invoice_payments_left_out,
    read_invoice,
)
from agents.billing.stripe_objects import plan_key, read_discount, read_subscription
from tests.support.stripe_events import fixture

START, END = 1_790_000_000, 1_792_592_000


def legacy_subscription() -> dict[str, object]:
    """As localstripe sends it: a Plan on the item, periods at the top, one `discount`."""
    return {
        "id": "sub_legacy",
        "object": "subscription",
        "customer": "cus_legacy",
        "status": "active",
        "current_period_start": START,
        "current_period_end": END,
        "start_date": START,
        "cancel_at_period_end": False,
        "discount": {"coupon": {"id": "half", "percent_off": 50.0, "amount_off": None}},
        "items": {
            "data": [
                {
                    "quantity": 3,
                    "plan": {
                        "id": "plan_starter",
                        "amount": 900,
                        "currency": "eur",
                        "interval": "year",
                        "interval_count": 1,
                        "metadata": {"plan": "starter"},
                    },
                }
            ]
        },
    }


def test_legacy_subscription_reads_top_level_periods_and_plan_object() -> None:
    snapshot = read_subscription(legacy_subscription())
    assert (snapshot.plan, snapshot.stripe_price_id) == ("starter", "plan_starter")
    assert (snapshot.unit_amount, snapshot.quantity, snapshot.currency) == (900, 3, "eur")
    assert (snapshot.interval, snapshot.interval_count) == ("year", 1)
    assert snapshot.current_period_start == datetime.fromtimestamp(START, UTC)
    assert snapshot.current_period_end == datetime.fromtimestamp(END, UTC)
    assert snapshot.discount_percent_off == "50"


def test_endive_subscription_reads_periods_from_its_item() -> None:
    obj = fixture("subscription", customer="cus_x")
    item = obj["items"]["data"][0]
    item.update(current_period_start=START, current_period_end=END)
    snapshot = read_subscription(obj)
    assert snapshot.current_period_start == datetime.fromtimestamp(START, UTC)
    assert snapshot.current_period_end == datetime.fromtimestamp(END, UTC)
    assert (snapshot.unit_amount, snapshot.interval, snapshot.interval_count) == (2000, "month", 1)
    assert snapshot.plan == "price_1PgafmB7WZ01zgkW6dKueIc5"  # no lookup key or metadata: the id


def test_plan_key_prefers_lookup_key_then_metadata_then_product_metadata() -> None:
    price = {"id": "price_1", "lookup_key": "pro", "metadata": {"plan": "meta"}}
    assert plan_key(price) == "pro"
    assert plan_key({**price, "lookup_key": None}) == "meta"
    product = {"id": "prod_1", "metadata": {"plan": "from_product"}}
    assert plan_key({"id": "price_1", "metadata": {}, "product": product}) == "from_product"
    assert plan_key({"id": "price_1", "product": "prod_1"}) == "price_1"


def test_discount_ids_without_expansion_carry_no_terms() -> None:
    assert read_discount({"discounts": ["di_1"]}).percent_off is None
    expanded = {"discounts": [{"source": {"coupon": {"amount_off": 500, "percent_off": None}}}]}
    assert read_discount(expanded).amount_off == 500


def test_invoice_links_its_subscription_in_either_layout() -> None:
    endive = fixture(
        "invoice",
        parent={"type": "subscription_details", "subscription_details": {"subscription": "sub_n"}},
    )
    assert read_invoice(endive).stripe_subscription_id == "sub_n"
    legacy = fixture("invoice", parent=None, subscription="sub_l")
    assert read_invoice(legacy).stripe_subscription_id == "sub_l"


def test_invoice_payments_come_from_payments_list_or_legacy_charge() -> None:
    endive = fixture(
        "invoice",
        payments={
            "data": [
                {
                    "payment": {"type": "charge", "charge": "ch_1"},
                    "status": "paid",
                    "amount_paid": 700,
                    "status_transitions": {"paid_at": START, "canceled_at": None},
                },
                {
                    "payment": {"type": "payment_intent", "payment_intent": "pi_2"},
                    "status": "canceled",
                    "amount_paid": None,
                },
            ]
        },
    )
    paid_at = datetime.fromtimestamp(START, UTC)
    assert invoice_payment_refs(endive) == [PaymentRef("ch_1", None, 700, paid_at)]
    legacy = fixture("invoice", amount_paid=1000, charge="ch_9", payment_intent="pi_9")
    assert invoice_payment_refs(legacy) == [PaymentRef("ch_9", "pi_9", 1000, None)]
    assert invoice_payment_refs(fixture("invoice")) == []


def test_stripe_is_asked_for_the_payments_of_a_paid_invoice_naming_none_or_some() -> None:
    entry = {"payment": {"type": "charge", "charge": "ch_1"}, "status": "paid", "amount_paid": 7}
    all_named = fixture("invoice", amount_paid=7, payments={"data": [entry], "has_more": False})
    first_page = fixture("invoice", amount_paid=9, payments={"data": [entry], "has_more": True})
    legacy = fixture("invoice", amount_paid=7, charge="ch_9")

    assert invoice_payments_left_out(fixture("invoice", amount_paid=7))
    assert invoice_payments_left_out(first_page)
    assert not invoice_payments_left_out(all_named)
    assert not invoice_payments_left_out(legacy)
    assert not invoice_payments_left_out(fixture("invoice", amount_paid=0))
