"""Upgrade/downgrade decisions, bad-input rules and previews, with hand-computed amounts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from agents.catalog.loader import load_catalog, parse_catalog
from agents.subscriptions.previews import compute_preview
from agents.subscriptions.terms import (
    PlanTerms,
    SubscriptionState,
    check_changeable,
    check_quantity,
    direction,
    limits_exceeded,
    target_terms,
)
from core.errors import MonetaError

MARCH = datetime(2026, 3, 1, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)  # a 31-day period: 2,678,400 seconds
TENTH = datetime(2026, 3, 11, tzinfo=UTC)  # 21 days (1,814,400 s) left: 21/31 of the period
CATALOG = load_catalog()


def terms(key: str, quantity: int = 1) -> PlanTerms:
    return target_terms(CATALOG, key, quantity, "usd")


def state(status: str = "active") -> SubscriptionState:
    return SubscriptionState(status, MARCH, APRIL, False, False)


def test_dearer_per_month_is_an_upgrade_and_cheaper_per_month_a_downgrade() -> None:
    assert direction(terms("starter_monthly"), terms("pro_monthly")) == "upgrade"
    assert direction(terms("pro_monthly"), terms("starter_monthly")) == "downgrade"
    # 19,900 a year is 1,658.33 a month: Pro monthly (9,900) is dearer.
    assert direction(terms("starter_yearly"), terms("pro_monthly")) == "upgrade"
    # 99,900 a year is 8,325 a month: cheaper than 9,900, so it waits for the period end.
    assert direction(terms("pro_monthly"), terms("pro_yearly")) == "downgrade"
    assert direction(terms("pro_monthly"), terms("pro_monthly", 2)) == "upgrade"
    assert direction(terms("pro_monthly", 3), terms("pro_monthly", 2)) == "downgrade"


def test_upgrade_mid_period_credits_unused_time_and_charges_the_rest_to_the_second() -> None:
    preview = compute_preview(
        "upgrade", terms("starter_monthly"), state(), TENTH, target=terms("pro_monthly")
    )
    # credit: 1,900 x 21/31 = 1,287.10 -> 1,287; charge: 9,900 x 21/31 = 6,706.45 -> 6,706.
    assert [(line.kind, line.amount) for line in preview.lines] == [
        ("credit", -1_287),
        ("charge", 6_706),
    ]
    assert preview.amount_due_now == 0  # create_prorations: billed with the next invoice
    assert preview.next_invoice_amount == 9_900 + 6_706 - 1_287 == 15_319
    assert preview.next_invoice_date == APRIL
    assert preview.effective_at == TENTH
    assert preview.proration_date == int(TENTH.timestamp()) == 1_773_187_200
    assert preview.currency == "usd"


def test_quantity_increase_prorates_the_whole_quantity() -> None:
    preview = compute_preview(
        "upgrade", terms("pro_monthly"), state(), TENTH, target=terms("pro_monthly", 3)
    )
    # 29,700 x 21/31 = 20,119.35 -> 20,119; 9,900 x 21/31 -> 6,706.
    assert [line.amount for line in preview.lines] == [-6_706, 20_119]
    assert preview.next_invoice_amount == 29_700 + 20_119 - 6_706 == 43_113


def test_upgrade_to_a_yearly_price_restarts_the_cycle_and_is_due_now() -> None:
    preview = compute_preview(
        "upgrade", terms("starter_monthly"), state(), TENTH, target=terms("pro_yearly")
    )
    assert [line.amount for line in preview.lines] == [-1_287, 99_900]
    assert preview.amount_due_now == 99_900 - 1_287 == 98_613
    assert preview.next_invoice_amount == 99_900
    assert preview.next_invoice_date == datetime(2027, 3, 11, tzinfo=UTC)


def test_change_at_period_start_is_the_full_difference_and_at_the_end_nothing() -> None:
    at_start = compute_preview(
        "upgrade", terms("starter_monthly"), state(), MARCH, target=terms("pro_monthly")
    )
    at_end = compute_preview(
        "upgrade", terms("starter_monthly"), state(), APRIL, target=terms("pro_monthly")
    )
    assert sum(line.amount for line in at_start.lines) == 9_900 - 1_900
    assert [line.amount for line in at_end.lines] == [0, 0]


def test_downgrade_waits_for_the_period_end_with_no_credit() -> None:
    preview = compute_preview(
        "downgrade", terms("pro_monthly"), state(), TENTH, target=terms("starter_monthly")
    )
    assert preview.lines == ()
    assert (preview.amount_due_now, preview.effective_at) == (0, APRIL)
    assert (preview.next_invoice_amount, preview.next_invoice_date) == (1_900, APRIL)


def test_upgrade_during_a_trial_prorates_nothing() -> None:
    preview = compute_preview(
        "upgrade", terms("starter_monthly"), state("trialing"), TENTH, target=terms("pro_monthly")
    )
    assert preview.lines == () and preview.amount_due_now == 0
    assert (preview.next_invoice_amount, preview.next_invoice_date) == (9_900, APRIL)


def test_cancel_now_refunds_the_unused_time_capped_at_what_is_refundable() -> None:
    full = compute_preview("cancel_now", terms("pro_monthly"), state(), TENTH, refundable=9_900)
    capped = compute_preview("cancel_now", terms("pro_monthly"), state(), TENTH, refundable=5_000)
    unpaid = compute_preview("cancel_now", terms("pro_monthly"), state(), TENTH, refundable=0)
    assert [line.amount for line in full.lines] == [-6_706]
    assert (full.refund_amount, capped.refund_amount, unpaid.refund_amount) == (6_706, 5_000, 0)
    assert full.next_invoice_date is None and full.next_invoice_amount == 0


def test_cancel_at_period_end_resume_and_pause_previews() -> None:
    cancel = compute_preview("cancel_at_period_end", terms("pro_monthly"), state(), TENTH)
    resume = compute_preview("resume", terms("pro_monthly"), state(), TENTH)
    pause = compute_preview("pause", terms("pro_monthly"), state(), TENTH)
    assert (cancel.effective_at, cancel.next_invoice_date, cancel.next_invoice_amount) == (
        APRIL,
        None,
        0,
    )
    assert (resume.next_invoice_amount, resume.next_invoice_date) == (9_900, APRIL)
    assert (pause.next_invoice_amount, pause.next_invoice_date) == (0, None)


def test_preview_serialises_to_json_ready_values() -> None:
    preview = compute_preview(
        "upgrade", terms("starter_monthly"), state(), TENTH, target=terms("pro_monthly")
    )
    data = preview.as_dict()
    assert data["lines"][0] == {
        "kind": "credit",
        "description": "Unused time on starter_monthly",
        "amount": -1_287,
        "start": "2026-03-11T00:00:00+00:00",
        "end": "2026-04-01T00:00:00+00:00",
    }
    assert data["next_invoice_date"] == "2026-04-01T00:00:00+00:00"


RETIRED = """
products:
  - key: basic
    name: Basic
    type: subscription
    limits: {api_calls: 1000}
    prices:
      - {key: basic_old, currency: usd, revenue_model: recurring, unit_amount: 900,
         interval: month, lifecycle: retired}
      - {key: basic_eur, currency: eur, revenue_model: recurring, unit_amount: 900, interval: month}
      - {key: basic_pack, currency: usd, revenue_model: fixed, unit_amount: 500}
"""


@pytest.mark.parametrize(
    ("key", "currency", "code"),
    [
        ("nope", "usd", "unknown_price"),
        ("basic_old", "usd", "price_not_offered"),
        ("basic_pack", "usd", "price_not_offered"),
        ("basic_eur", "usd", "currency_mismatch"),
    ],
)
def test_target_price_refusals_carry_their_code(key: str, currency: str, code: str) -> None:
    catalog = parse_catalog(RETIRED)
    with pytest.raises(MonetaError) as refused:
        target_terms(catalog, key, 1, currency)
    assert refused.value.code == code and 400 <= refused.value.status_code < 500


@pytest.mark.parametrize("quantity", [0, -1, 10_001, True, 2.5])
def test_absurd_quantities_are_refused(quantity: object) -> None:
    with pytest.raises(MonetaError) as refused:
        check_quantity(quantity)
    assert refused.value.code == "invalid_quantity"


def test_quantity_bounds_are_inclusive() -> None:
    assert (check_quantity(1), check_quantity(10_000)) == (1, 10_000)


@pytest.mark.parametrize("status", ["canceled", "incomplete", "incomplete_expired", "unpaid"])
def test_only_live_subscriptions_change(status: str) -> None:
    with pytest.raises(MonetaError) as refused:
        check_changeable(state(status))
    assert refused.value.code == "subscription_not_active"


def test_limits_exceeded_names_metrics_used_beyond_the_target_plan() -> None:
    limits = {"api_calls": 50_000, "seats": 3, "ai_tokens": None}
    used = {"api_calls": Decimal(50_001), "seats": Decimal(3), "ai_tokens": Decimal(10**9)}
    assert limits_exceeded(limits, used) == ["api_calls"]
    assert limits_exceeded(limits, {}) == []
