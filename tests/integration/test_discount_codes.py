"""validate_code's refusals, redemption counting (idempotent, atomic), and Stripe's reports."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from agents.billing.handlers import HANDLERS
from agents.context import AgentContext
from agents.discounts.loader import discounts_of
from agents.discounts.redemptions import redeem_code
from agents.discounts.validation import validate_code
from agents.pricing.discounts import PercentOff
from core.settings import Settings
from db.models import Customer, DiscountRedemption, Invoice, StripeConfigObject
from db.models.discounts import RedemptionScope
from db.repositories.discounts import times_redeemed
from db.session import Database
from tests.support.stripe_events import event

AT = datetime(2026, 2, 1, tzinfo=UTC)
DISCOUNTS = """
coupons:
  - {key: pro20, percent_off: 20, duration: repeating, duration_in_months: 3, applies_to: [pro]}
  - {key: eur5, amount_off: 500, currency: eur, duration: once}
  - {key: newbie, percent_off: 50, duration: once, first_time_only: true}
  - {key: single, percent_off: 10, duration: forever, max_redemptions: 1}
  - {key: gone, percent_off: 10, duration: once, redeem_by: 2026-01-01T00:00:00Z}
promotion_codes:
  - {code: PRO20, coupon: pro20}
  - {code: EUR5, coupon: eur5}
  - {code: NEWBIE, coupon: newbie}
  - {code: ONLYONE, coupon: single}
  - {code: ONLYONE-TOO, coupon: single}
  - {code: PAUSED, coupon: pro20, active: false}
  - {code: OLD, coupon: gone}
  - {code: SOON-OVER, coupon: pro20, expires_at: 2026-01-15T00:00:00Z}
  - {code: TWICE, coupon: pro20, max_redemptions: 2}
"""


@pytest.fixture
def shop(settings: Settings, tmp_path: Path) -> Settings:
    (tmp_path / "discounts.yaml").write_text(DISCOUNTS)
    return settings.model_copy(update={"discounts_file": tmp_path / "discounts.yaml"})


@pytest.fixture
def customers(database: Database) -> list[int]:
    with database.transaction() as session:
        rows = [
            Customer(email=f"c{n}@example.com", stripe_customer_id=f"cus_h3_{n}") for n in range(3)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def check(
    database: Database, shop: Settings, code: str, customer: int | None, price: str | None
) -> Any:
    with database.transaction() as session:
        return validate_code(
            session, code, customer_id=customer, price_key=price, at=AT, settings=shop
        )


def redeem(database: Database, shop: Settings, code: str, customer: int) -> str:
    with database.transaction() as session:
        return redeem_code(
            session, discounts_of(shop), code=code, customer_id=customer, source="cs_test", at=AT
        )


def test_a_valid_code_matches_any_case_and_carries_its_discount(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    verdict = check(database, shop, " pro20 ", customers[0], "pro_monthly")
    assert (verdict.valid, verdict.reason, verdict.code) == (True, None, "PRO20")
    assert verdict.discount == PercentOff(Decimal(20))
    assert verdict.customer_checked
    assert verdict.stripe_promotion_code_id is None  # not synced yet


def test_each_refusal_has_its_reason(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    first, second, _ = customers
    with database.transaction() as session:
        session.add(
            Invoice(
                stripe_invoice_id="in_h3_paid", customer_id=second, status="paid",
                amount_paid=1900, currency="usd",
            )
        )  # fmt: skip
    assert redeem(database, shop, "ONLYONE", first) == "redeemed"
    assert redeem(database, shop, "TWICE", first) == "redeemed"
    cases = [
        ("NOPE", first, None, "unknown_code"),
        ("PAUSED", first, None, "inactive"),
        ("OLD", first, None, "expired"),
        ("SOON-OVER", first, None, "expired"),
        ("ONLYONE", second, None, "exhausted"),
        ("onlyone-too", second, None, "exhausted"),  # the coupon's limit covers all its codes
        ("PRO20", first, "starter_monthly", "not_for_plan"),
        ("EUR5", first, "pro_monthly", "currency_mismatch"),
        ("TWICE", first, "pro_monthly", "already_redeemed"),
        ("NEWBIE", second, None, "first_time_only"),
    ]
    for code, customer, price, reason in cases:
        verdict = check(database, shop, code, customer, price)
        assert (verdict.valid, verdict.reason, verdict.discount) == (False, reason, None), code


def test_anonymously_the_customer_rules_are_skipped_and_said_so(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    assert redeem(database, shop, "TWICE", customers[0]) == "redeemed"
    verdict = check(database, shop, "TWICE", None, "pro_monthly")
    assert verdict.valid and not verdict.customer_checked


def test_an_unknown_price_is_not_found(database: Database, shop: Settings) -> None:
    with pytest.raises(Exception) as error:
        check(database, shop, "PRO20", None, "platinum_monthly")
    assert getattr(error.value, "code", None) == "unknown_price"


def test_a_redemption_counts_once_per_code_and_customer(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    assert redeem(database, shop, "twice", customers[0]) == "redeemed"
    assert redeem(database, shop, "TWICE", customers[0]) == "already_redeemed"
    assert redeem(database, shop, "TWICE", customers[1]) == "redeemed"
    assert redeem(database, shop, "TWICE", customers[2]) == "exhausted"
    assert redeem(database, shop, "GHOST", customers[2]) == "unknown_code"
    with database.transaction() as session:
        assert times_redeemed(session, RedemptionScope.PROMOTION_CODE, "TWICE") == 2
        assert times_redeemed(session, RedemptionScope.COUPON, "pro20") == 2
        rows = session.scalars(select(DiscountRedemption.customer_id)).all()
    assert sorted(rows) == customers[:2]  # the refused one left nothing behind


def test_concurrent_redemptions_of_a_single_use_code_let_exactly_one_through(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem_slowly(customer: int) -> None:
        barrier.wait()
        with database.transaction() as session:
            outcome = redeem_code(
                session, discounts_of(shop), code="ONLYONE", customer_id=customer,
                source=f"cs_{customer}", at=AT,
            )  # fmt: skip
            time.sleep(0.3)  # hold the transaction open: the other one must wait, then see it
        outcomes.append(outcome)

    threads = [threading.Thread(target=redeem_slowly, args=(c,)) for c in customers[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["exhausted", "redeemed"]
    with database.transaction() as session:
        assert times_redeemed(session, RedemptionScope.COUPON, "single") == 1
        assert session.scalar(select(func.count()).select_from(DiscountRedemption)) == 1


def test_a_completed_checkout_with_a_synced_code_records_its_redemption_once(
    database: Database, shop: Settings, customers: list[int]
) -> None:
    with database.transaction() as session:
        session.add(
            StripeConfigObject(
                kind="promotion_code", key="PRO20", content_hash="h", stripe_id="promo_h3"
            )
        )
    checkout = {
        "id": "cs_test_h3",
        "object": "checkout.session",
        "customer": "cus_h3_0",
        "mode": "subscription",
        "payment_status": "paid",
        "status": "complete",
        "discounts": [{"coupon": "pro20-abc", "promotion_code": "promo_h3"}],
        "subscription": None,
        "amount_total": 7920,
        "currency": "usd",
    }
    completed = event("checkout.session.completed", checkout)
    submitted: list[str] = []
    for _ in range(2):  # Stripe may deliver twice
        with database.transaction() as session:
            ctx = AgentContext(
                session=session, database=database, settings=shop,
                stripe=None,  # type: ignore[arg-type]
                mailer=None,  # type: ignore[arg-type]
                submit=lambda kind, payload, **kw: submitted.append(kind),  # type: ignore[arg-type,return-value]
            )  # fmt: skip
            HANDLERS["checkout.session.completed"](ctx, completed)
    with database.transaction() as session:
        rows = session.scalars(select(DiscountRedemption)).all()
        assert [(r.promotion_code, r.customer_id, r.source) for r in rows] == [
            ("PRO20", customers[0], "cs_test_h3")
        ]
        assert times_redeemed(session, RedemptionScope.PROMOTION_CODE, "PRO20") == 1
    assert check(database, shop, "PRO20", customers[0], None).reason == "already_redeemed"
