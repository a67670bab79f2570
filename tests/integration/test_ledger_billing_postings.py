"""Stripe events applied by the billing agent post to the journal once, in the same unit of
work: an invoice payment, a refund that turns succeeded, and the same events replayed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from agents.ledger_journal.balances import balances
from agents.ledger_journal.check import check_ledger
from core.settings import Settings
from db.models import JournalEntry
from db.session import Database
from tests.integration.test_billing_events import (
    T0,
    Billing,
    FakeStripe,
    charge,
    customer,
    invoice,
    refund,
)
from tests.support.stripe_events import event


@pytest.fixture
def stripe_fake() -> FakeStripe:
    return FakeStripe()


@pytest.fixture
def billing(database: Database, settings: Settings, stripe_fake: FakeStripe) -> Billing:
    return Billing(database, settings, stripe_fake)


def entries(billing: Billing) -> list[tuple[str, str]]:
    with billing.database.transaction() as session:
        rows = session.scalars(select(JournalEntry).order_by(JournalEntry.id))
        return [(e.kind, e.dedupe_key) for e in rows]


def test_paid_invoice_and_refund_post_once_and_agree_with_stripe_records(
    billing: Billing, stripe_fake: FakeStripe
) -> None:
    stripe_fake.put("customer", customer())
    paid = event("invoice.paid", invoice(), created=T0)
    assert billing.deliver(paid) == "applied"
    assert billing.deliver(paid) == "applied"  # replayed: nothing new is posted
    [(kind, key)] = entries(billing)
    assert kind == "payment" and key.startswith("payment:")

    stripe_fake.refunds.append(refund("re_1", status="pending"))
    billing.deliver(event("charge.refunded", charge(refunded=1000), created=T0 + 50))
    assert [k for k, _ in entries(billing)] == ["payment"]  # a pending refund moved no money
    succeeded = event("refund.updated", refund("re_1"), created=T0 + 80)
    billing.deliver(succeeded)
    billing.deliver(succeeded)
    assert entries(billing)[1:] == [("refund", "refund:re_1")]

    with billing.database.transaction() as session:
        assert check_ledger(session).ok
        cash = {b.account: b.balance for b in balances(session) if b.party == ""}
        assert cash["cash_in_transit"] == 2_900 - 1_000
