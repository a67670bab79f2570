"""The offline sandbox's checkout arithmetic: Stripe's discount rounding and period ends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from core.clock import frozen
from tools.stripe.checkout_objects import discount_amount
from tools.stripe.sandbox import SandboxGateway


def test_percent_off_rounds_half_even_and_amount_off_never_goes_below_zero() -> None:
    assert discount_amount(9900, [{"percent_off": 20}]) == 1980
    assert discount_amount(125, [{"percent_off": 10}]) == 12  # 12.5 -> 12 (half-even)
    assert discount_amount(135, [{"percent_off": 10}]) == 14  # 13.5 -> 14
    assert discount_amount(1000, [{"amount_off": 2500}]) == 1000
    assert discount_amount(10000, [{"percent_off": 50}, {"amount_off": 1000}]) == 6000
    assert discount_amount(0, [{"percent_off": 20}]) == 0


def test_a_yearly_subscription_paid_on_jan_31_renews_a_year_later(tmp_path: Path) -> None:
    sandbox = SandboxGateway(tmp_path / "stripe.db")
    product = sandbox.create_product(params={"name": "Pro"}, idempotency_key="p")
    price = sandbox.create_price(
        params={"product": product["id"], "currency": "usd", "unit_amount": 99900,
                "recurring": {"interval": "year", "interval_count": 1}},
        idempotency_key="pr",
    )  # fmt: skip
    customer = sandbox.create_customer(params={"email": "a@example.com"}, idempotency_key="c")
    params = {"mode": "subscription", "customer": customer["id"],
              "line_items": [{"price": price["id"], "quantity": 1}],
              "success_url": "https://shop.example/ok"}  # fmt: skip
    opened = sandbox.create_checkout_session(params=params, idempotency_key="s")
    start = datetime(2028, 1, 31, 12, tzinfo=UTC)
    with frozen(start):
        paid = sandbox.pay_checkout_session(opened["id"])
    sub = sandbox.get("subscription", paid.session["subscription"])
    assert sub is not None and sub["status"] == "active"
    item = sub["items"]["data"][0]
    assert item["current_period_end"] == int(datetime(2029, 1, 31, 12, tzinfo=UTC).timestamp())
    assert [e["type"] for e in paid.events][:2] == ["charge.succeeded", "payment_intent.succeeded"]
