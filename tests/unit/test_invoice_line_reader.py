"""Invoice lines read from endive (`pricing`, `parent`, `taxes`) and legacy shapes alike."""

from __future__ import annotations

from datetime import UTC, datetime

from agents.billing.invoice_lines import read_line
from agents.billing.stripe_invoices import invoice_totals
from tests.support.stripe_events import fixture


def test_an_endive_line_gives_price_subscription_proration_discount_and_tax() -> None:
    line = fixture(
        "line_item",
        id="il_1",
        amount=9900,
        quantity=2,
        period={"start": 1_793_000_000, "end": 1_795_600_000},
        discount_amounts=[{"amount": 500, "discount": "di_1"}, {"amount": 90, "discount": "di_2"}],
        taxes=[{"amount": 1200, "tax_behavior": "exclusive"}, {"amount": 34}],
        pricing={"type": "price_details", "price_details": {"price": "price_pro"}},
        parent={
            "type": "subscription_item_details",
            "subscription_item_details": {"subscription": "sub_1", "proration": True},
        },
    )
    read = read_line(line)
    assert (read.amount, read.quantity, read.discount_amount, read.tax_amount) == (
        9900,
        2,
        590,
        1234,
    )
    assert (read.stripe_price_id, read.stripe_subscription_id, read.proration) == (
        "price_pro",
        "sub_1",
        True,
    )
    assert read.period_start == datetime.fromtimestamp(1_793_000_000, UTC)


def test_a_legacy_line_as_localstripe_sends_it() -> None:
    line = {
        "id": "il_2",
        "object": "line_item",
        "type": "subscription",
        "amount": 4900,
        "currency": "usd",
        "quantity": 0,
        "plan": {"id": "plan_team", "object": "plan"},
        "proration": False,
        "subscription": "sub_2",
        "tax_amounts": [{"amount": 196, "inclusive": False, "tax_rate": "txr_1"}],
        "period": {"start": 1_793_000_000, "end": 1_795_600_000},
    }
    read = read_line(line)
    assert (read.stripe_price_id, read.stripe_subscription_id) == ("plan_team", "sub_2")
    assert (read.quantity, read.tax_amount, read.discount_amount) == (0, 196, 0)


def test_invoice_totals_from_endive_lists_and_from_the_legacy_tax_field() -> None:
    endive = {
        "subtotal": 10000,
        "total": 10710,
        "total_discount_amounts": [{"amount": 1000}],
        "total_taxes": [{"amount": 1710}],
    }
    assert invoice_totals(endive) == {
        "subtotal": 10000,
        "total_discount": 1000,
        "tax": 1710,
        "total": 10710,
    }
    legacy = {"subtotal": 4900, "total": 5096, "tax": 196}
    assert invoice_totals(legacy) == {
        "subtotal": 4900,
        "total_discount": None,
        "tax": 196,
        "total": 5096,
    }
