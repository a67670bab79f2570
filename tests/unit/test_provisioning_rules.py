"""Entitlement rules and the plan catalog: every row of both transition tables."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from agents.catalog.loader import load_catalog as load_product_catalog
from agents.catalog.loader import parse_catalog as parse_product_catalog
from agents.provisioning.plans import load_catalog, plans_of
from agents.provisioning.rules import (
    ACCESS_BY_STATUS,
    ENTITLEMENT_TRANSITIONS,
    Access,
    DesiredEntitlements,
    Grant,
    HeldEntitlement,
    IllegalTransition,
    Reversal,
    SubscriptionFacts,
    access_of,
    desired_entitlements,
    plan_changes,
    reversal_of,
    transition_action,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
GRACE = timedelta(days=7)
CATALOG = load_catalog()


def sub(status: str, plan: str | None = "pro", **kw: object) -> SubscriptionFacts:
    return SubscriptionFacts(f"sub_{status}_{plan}", status, plan, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "access", "reason"),
    [
        ("active", Access.GRANT, None),
        ("trialing", Access.GRANT, None),
        ("canceled", Access.REVOKE, "canceled"),
        ("unpaid", Access.REVOKE, "unpaid"),
        ("incomplete", Access.REVOKE, "incomplete"),
        ("incomplete_expired", Access.REVOKE, "incomplete_expired"),
        ("paused", Access.REVOKE, "paused"),
        ("some_future_status", Access.REVOKE, "unknown_status"),
    ],
)
def test_subscription_status_decides_access(status: str, access: Access, reason: str) -> None:
    assert access_of(sub(status), GRACE, NOW) == (access, reason, None)


def test_every_stripe_status_is_in_the_access_table() -> None:
    assert set(ACCESS_BY_STATUS) == {
        "active",
        "trialing",
        "past_due",
        "canceled",
        "unpaid",
        "incomplete",
        "incomplete_expired",
        "paused",
    }


def test_past_due_keeps_access_until_grace_period_ends() -> None:
    since = NOW - timedelta(days=2)
    assert access_of(sub("past_due", past_due_since=since), GRACE, NOW) == (
        Access.GRACE,
        None,
        since + GRACE,
    )


def test_past_due_is_revoked_once_grace_period_is_over() -> None:
    since = NOW - GRACE
    assert access_of(sub("past_due", past_due_since=since), GRACE, NOW) == (
        Access.REVOKE,
        "grace_expired",
        None,
    )


def test_past_due_without_known_start_gets_a_full_grace_period() -> None:
    assert access_of(sub("past_due"), GRACE, NOW) == (Access.GRACE, None, NOW + GRACE)


@pytest.mark.parametrize("status", ["active", "trialing", "past_due"])
@pytest.mark.parametrize(
    ("reversal", "reason"),
    [(Reversal.REFUNDED, "refunded"), (Reversal.DISPUTE_LOST, "dispute_lost")],
)
def test_reversed_payment_revokes_whatever_the_status(
    status: str, reversal: Reversal, reason: str
) -> None:
    facts = sub(status, reversal=reversal, past_due_since=NOW)
    assert access_of(facts, GRACE, NOW) == (Access.REVOKE, reason, None)


@pytest.mark.parametrize(
    ("paid", "refunded", "lost", "expected"),
    [
        (2000, 2000, False, Reversal.REFUNDED),
        (2000, 2500, False, Reversal.REFUNDED),
        (2000, 1999, False, Reversal.NONE),
        (2000, 0, True, Reversal.DISPUTE_LOST),
        (2000, 2000, True, Reversal.DISPUTE_LOST),
        (0, 0, False, Reversal.NONE),
    ],
)
def test_only_full_refund_or_lost_dispute_reverses_a_payment(
    paid: int, refunded: int, lost: bool, expected: Reversal
) -> None:
    assert reversal_of(paid, refunded, lost) is expected


def test_active_subscription_grants_its_plan() -> None:
    desired = desired_entitlements([sub("active", "pro")], CATALOG, GRACE, NOW)
    assert desired.grants["seats"] == Grant("seats", 20, "pro", "active")
    assert desired.grants["priority_support"] == Grant("priority_support", None, "pro", "active")
    assert "sso" not in desired.grants
    assert desired.grace_until is None


def test_past_due_subscription_grants_in_grace_with_its_end() -> None:
    since = NOW - timedelta(days=1)
    desired = desired_entitlements(
        [sub("past_due", "pro", past_due_since=since)], CATALOG, GRACE, NOW
    )
    assert {g.status for g in desired.grants.values()} == {"grace"}
    assert desired.grace_until == since + GRACE


def test_nothing_paying_falls_back_to_free_plan_with_the_loss_reason() -> None:
    desired = desired_entitlements([sub("canceled", "pro")], CATALOG, GRACE, NOW)
    assert {g.plan for g in desired.grants.values()} == {"free"}
    assert desired.grants["seats"].limit == 1
    assert desired.revoke_reason == "canceled"


def test_customer_without_subscriptions_holds_free_plan() -> None:
    desired = desired_entitlements([], CATALOG, GRACE, NOW)
    assert desired.grants["api_calls"] == Grant("api_calls", 1000, "free", "active")
    assert desired.revoke_reason == "no_subscription"


def test_worst_reason_wins_when_several_subscriptions_are_lost() -> None:
    subs = [sub("canceled", "pro"), sub("active", "starter", reversal=Reversal.DISPUTE_LOST)]
    assert desired_entitlements(subs, CATALOG, GRACE, NOW).revoke_reason == "dispute_lost"


def test_two_subscriptions_merge_to_the_stronger_grant_in_any_order() -> None:
    subs = [
        sub("active", "starter"),
        sub("past_due", "enterprise", past_due_since=NOW),
        sub("active", "pro"),
    ]
    forward = desired_entitlements(subs, CATALOG, GRACE, NOW)
    backward = desired_entitlements(list(reversed(subs)), CATALOG, GRACE, NOW)
    assert forward == backward
    assert forward.grants["seats"] == Grant("seats", 20, "pro", "active")  # active beats grace
    assert forward.grants["sso"].status == "grace"  # only enterprise grants it
    assert forward.revoke_reason == "plan_changed"


def test_unknown_plan_falls_back_to_configured_plan_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING):
        desired = desired_entitlements([sub("active", "price_unmapped")], CATALOG, GRACE, NOW)
    assert {g.plan for g in desired.grants.values()} == {"free"}
    assert "price_unmapped" in caplog.text


@pytest.mark.parametrize(
    ("current", "desired", "action"),
    [
        (None, "active", "entitlement.granted"),
        (None, "grace", "entitlement.grace_started"),
        (None, "revoked", None),
        ("active", "active", "entitlement.changed"),
        ("active", "grace", "entitlement.grace_started"),
        ("active", "revoked", "entitlement.revoked"),
        ("grace", "active", "entitlement.restored"),
        ("grace", "grace", "entitlement.changed"),
        ("grace", "revoked", "entitlement.revoked"),
        ("revoked", "active", "entitlement.granted"),
        ("revoked", "grace", "entitlement.grace_started"),
        ("revoked", "revoked", None),
    ],
)
def test_entitlement_transition_table(current: str | None, desired: str, action: str) -> None:
    assert transition_action(current, desired) == action


def test_transition_table_covers_every_pair_and_refuses_others() -> None:
    states = [None, "active", "grace", "revoked"]
    assert set(ENTITLEMENT_TRANSITIONS) == {(a, b) for a in states for b in states if b}
    with pytest.raises(IllegalTransition):
        transition_action("active", "frozen")


def held(feature: str, status: str, limit: int | None, plan: str = "pro") -> HeldEntitlement:
    return HeldEntitlement(feature, status, limit, plan, None)


def test_plan_changes_grants_revokes_and_skips_unchanged_rows() -> None:
    rows = {
        "seats": held("seats", "active", 20),
        "sso": held("sso", "active", None, "enterprise"),
        "projects": held("projects", "active", 5, "starter"),
        "old": held("old", "revoked", None),
    }
    desired = DesiredEntitlements(
        {
            "seats": Grant("seats", 20, "pro", "active"),
            "projects": Grant("projects", 50, "pro", "active"),
            "api_calls": Grant("api_calls", 10, "pro", "active"),
        },
        "canceled",
    )
    changes = {c.feature: c for c in plan_changes(rows, desired)}
    assert set(changes) == {"api_calls", "projects", "sso"}
    assert changes["api_calls"].action == "entitlement.granted"
    assert changes["projects"].action == "entitlement.changed"
    assert (changes["sso"].action, changes["sso"].reason) == ("entitlement.revoked", "canceled")


def test_plan_changes_is_empty_when_rows_already_match() -> None:
    desired = desired_entitlements([sub("active", "pro")], CATALOG, GRACE, NOW)
    rows = {
        f: HeldEntitlement(f, g.status, g.limit, g.plan, g.grace_until)
        for f, g in desired.grants.items()
    }
    assert plan_changes(rows, desired) == []


def test_shipped_catalog_has_the_four_plans() -> None:
    assert set(CATALOG.plans) >= {"free", "starter", "pro", "enterprise"}
    assert CATALOG.plans["enterprise"].grants["seats"] is None  # unlimited


def test_the_plans_are_the_catalogs_products_with_features_or_limits() -> None:
    catalog = load_product_catalog()
    for key in ("free", "starter", "pro", "enterprise"):
        product = catalog.product(key)
        on = {feature for feature, enabled in product.features.items() if enabled}
        assert set(CATALOG.plans[key].grants) == on | set(product.limits), key
        assert all(CATALOG.plans[key].grants[f] == limit for f, limit in product.limits.items())
    assert "api_usage" not in CATALOG.plans  # sold, but grants nothing
    assert "sso" not in CATALOG.plans["pro"].grants  # switched off: not granted
    assert CATALOG.plans["enterprise"].grants["sso"] is None  # on, no limit
    assert (CATALOG.free_plan, CATALOG.fallback_plan) == ("free", "free")


def test_a_price_key_resolves_to_its_products_plan() -> None:
    assert CATALOG.resolve("pro_yearly").key == "pro"
    assert CATALOG.resolve("starter_monthly").grants["api_calls"] == 50_000


def test_without_a_free_plan_a_customer_without_a_subscription_holds_nothing() -> None:
    catalog = plans_of(
        parse_product_catalog(
            "products:\n  - {key: pro, name: Pro, type: subscription, contact_sales: true,"
            " limits: {seats: 5}}\n"
        )
    )
    assert catalog.free.grants == {} and catalog.resolve("gold").grants == {}
    assert catalog.resolve("pro").grants == {"seats": 5}
