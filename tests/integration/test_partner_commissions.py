"""Affiliate and agency commissions end to end: signed-shape Stripe events through a real
worker (billing -> partners -> journal), clawbacks on refunds, payouts behind the gate."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select

from agents.approvals.service import decide
from agents.ledger_journal.accounts import Account
from agents.ledger_journal.balances import currency_totals, payable_balance
from agents.partners import affiliates, agencies
from agents.partners.payouts import request_partner_payout
from core.errors import Conflict, InvalidInput
from core.settings import Settings
from db.models import JournalEntry, PartnerCommission, Payout, Referral, Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport
from orchestrator.worker import Worker
from tests.support.partners import (
    card_charge,
    customer,
    deliver,
    paid_invoice,
    refund,
    running_worker,
    sandbox,
    webhook,
)
from tests.support.waiting import wait_until
from tools.stripe.sandbox import SandboxGateway

BUYER, BUYER_EMAIL = "cus_buyer", "buyer@example.com"
AGENTS = ["billing", "partners", "ledger"]


@pytest.fixture
def stripe(settings: Settings) -> SandboxGateway:
    gateway = sandbox(settings)
    gateway.put("customer", customer(BUYER, BUYER_EMAIL))
    gateway.put("charge", card_charge("ch_1", BUYER, amount=11_000, fingerprint="fp_buyer"))
    return gateway


@pytest.fixture
def worker(
    settings: Settings,
    database: Database,
    transport: StreamTransport,
    redis_client: redis.Redis,
    stripe: SandboxGateway,
) -> Iterator[Worker]:
    from agents.checkpoints import checkpointer_factory

    settings.payout_reserve_days = 0  # commissions just earned may be paid out in the test
    settings.payout_minimum = 100
    tools: dict[str, Any] = {
        "stripe": stripe,
        "mailer": None,
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
    }
    with running_worker(settings, database, transport, redis_client, tools, AGENTS) as w:
        yield w


def make_affiliate(database: Database, settings: Settings, email: str = "aff@example.com") -> int:
    with database.transaction() as s:
        return affiliates.create_affiliate(
            s, name="Affi", email=email, settings=settings, actor="alice"
        ).id


def refer(database: Database, settings: Settings, affiliate_id: int) -> int:
    with database.transaction() as s:
        code = affiliates.get_affiliate(s, affiliate_id).referral_code
        return affiliates.attribute_signup(
            s, settings=settings, source="api", code=code, stripe_customer_id=BUYER
        ).id


def commissions(database: Database, kind: str | None = None) -> list[PartnerCommission]:
    with database.transaction() as s:
        stmt = select(PartnerCommission).order_by(PartnerCommission.id)
        if kind:
            stmt = stmt.where(PartnerCommission.kind == kind)
        return list(s.scalars(stmt))


def payable(database: Database, kind: str, partner_id: int) -> int:
    account = Account.AFFILIATE_PAYABLE if kind == "affiliate" else Account.AGENCY_PAYABLE
    with database.transaction() as s:
        return payable_balance(s, account, f"{kind}:{partner_id}", "usd")


def all_tasks_done(database: Database) -> bool:
    """Every task of the agents under test ran (the others' wait: no worker reads them)."""
    with database.transaction() as s:
        open_tasks = s.scalars(
            select(Task).where(Task.status != TaskStatus.DONE, Task.agent.in_(AGENTS))
        ).all()
        return not open_tasks


def pay_invoice(database: Database) -> None:
    invoice = paid_invoice("in_1", BUYER, "ch_1", total=11_000, tax=1_000, email=BUYER_EMAIL)
    deliver(database, webhook("invoice.paid", invoice))


def refund_charge(
    database: Database, stripe: SandboxGateway, refunds: list[dict[str, Any]]
) -> None:
    charge = card_charge(
        "ch_1", BUYER, amount=11_000, fingerprint="fp_buyer", refunds=tuple(refunds)
    )
    stripe.put("charge", charge)
    deliver(database, webhook("charge.refunded", charge, offset=len(refunds)))


def test_first_paid_invoice_earns_commission_net_of_tax_and_refunds_claw_it_back(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    referral_id = refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: len(commissions(database)) == 1, message="commission earned")
    [earned] = commissions(database)
    assert (earned.basis_amount, earned.rate_bps, earned.amount) == (10_000, 1_000, 1_000)
    assert earned.status == "earned" and earned.entry_id is not None
    assert payable(database, "affiliate", affiliate_id) == 1_000

    refund_charge(database, stripe, [refund("re_1", "ch_1", 5_500)])
    wait_until(lambda: len(commissions(database, "clawback")) == 1, message="partial clawback")
    assert commissions(database, "clawback")[0].amount == 500
    assert payable(database, "affiliate", affiliate_id) == 500

    refund_charge(database, stripe, [refund("re_1", "ch_1", 5_500), refund("re_2", "ch_1", 5_500)])
    wait_until(lambda: len(commissions(database, "clawback")) == 2, message="full clawback")
    wait_until(lambda: all_tasks_done(database), message="all tasks done")
    assert sum(c.amount for c in commissions(database, "clawback")) == 1_000
    assert payable(database, "affiliate", affiliate_id) == 0
    with database.transaction() as s:
        assert set(currency_totals(s).values()) <= {0}
        referral = s.get(Referral, referral_id)
        assert referral is not None and referral.converted_at is not None
        stats = affiliates.affiliate_stats(s, affiliate_id)
    assert (stats["signups"], stats["conversions"]) == (1, 1)
    assert stats["money"]["usd"]["earned"] == 0 and stats["money"]["usd"]["clawed_back"] == 1_000


def test_full_refund_of_an_untouched_commission_is_a_reversing_entry(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: len(commissions(database)) == 1, message="commission earned")
    refund_charge(database, stripe, [refund("re_1", "ch_1", 11_000)])
    wait_until(lambda: len(commissions(database, "clawback")) == 1, message="clawback")
    [earned], [clawback] = commissions(database, "commission"), commissions(database, "clawback")
    with database.transaction() as s:
        reversal = s.get(JournalEntry, clawback.entry_id)
        assert reversal is not None and reversal.reverses_entry_id == earned.entry_id
    assert payable(database, "affiliate", affiliate_id) == 0


def test_commission_payout_waits_for_approval_then_pays_the_payable_once(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: payable(database, "affiliate", affiliate_id) == 1_000, message="earned")
    with database.transaction() as s:
        payout = request_partner_payout(
            s,
            kind="affiliate",
            partner_id=affiliate_id,
            currency="usd",
            requested_by="alice",
            submit=submit,
            settings=settings,
        )
        payout_id, approval_id = payout.id, payout.approval_id
    with database.transaction() as s, pytest.raises(Conflict):
        request_partner_payout(
            s,
            kind="affiliate",
            partner_id=affiliate_id,
            currency="usd",
            requested_by="alice",
            submit=submit,
            settings=settings,
        )
    assert payable(database, "affiliate", affiliate_id) == 1_000  # nothing moves before approval
    assert approval_id is not None
    with database.transaction() as s:
        decide(s, approval_id, operator="bob", approve=True, note="ok", submit=submit)

    def paid() -> bool:
        with database.transaction() as s:
            row = s.get(Payout, payout_id)
            return row is not None and row.status == "paid"

    wait_until(paid, message="payout paid")
    assert payable(database, "affiliate", affiliate_id) == 0
    with database.transaction() as s:
        assert affiliates.affiliate_stats(s, affiliate_id)["money"]["usd"]["paid"] == 1_000


def test_self_referral_is_held_until_an_operator_clears_it(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings, email="Buyer+deals@Example.com")
    with database.transaction() as s:
        code = affiliates.get_affiliate(s, affiliate_id).referral_code
        referral = affiliates.attribute_signup(
            s, settings=settings, source="api", code=code, email=BUYER_EMAIL
        )
        referral_id = referral.id
        assert referral.review_status == "flagged"
    pay_invoice(database)
    wait_until(lambda: len(commissions(database)) == 1, message="commission recorded")
    [held] = commissions(database)
    assert held.status == "held" and held.entry_id is None
    assert payable(database, "affiliate", affiliate_id) == 0

    with database.transaction() as s:
        affiliates.review_referral(s, referral_id, operator="bob", clear=True, note="same family")
    [cleared] = commissions(database)
    assert cleared.status == "earned" and cleared.entry_id is not None
    assert payable(database, "affiliate", affiliate_id) == 1_000


def test_same_payment_method_as_the_affiliate_is_flagged(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    from db.models import Customer, Payment

    with database.transaction() as s:  # the affiliate's own account once paid with fp_buyer
        own = Customer(stripe_customer_id="cus_affiliate", email="aff@example.com")
        s.add(own)
        s.flush()
        s.add(
            Payment(
                stripe_charge_id="ch_own",
                customer_id=own.id,
                amount=500,
                currency="usd",
                status="succeeded",
            )
        )
        affiliate_id = affiliates.create_affiliate(
            s,
            name="Affi",
            email="aff@example.com",
            settings=settings,
            actor="alice",
            customer="cus_affiliate",
        ).id
    stripe.put("charge", card_charge("ch_own", "cus_affiliate", amount=500, fingerprint="fp_buyer"))
    referral_id = refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: len(commissions(database)) == 1, message="commission recorded")
    with database.transaction() as s:
        referral = s.get(Referral, referral_id)
        assert referral is not None
        assert (referral.review_status, referral.review_reason) == (
            "flagged",
            "shared_payment_method",
        )
    assert commissions(database)[0].status == "held"


def test_refunded_or_zero_payment_earns_nothing(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    refer(database, settings, affiliate_id)
    free = paid_invoice("in_0", BUYER, "ch_0", total=0, tax=0)
    deliver(database, webhook("invoice.paid", free))
    refund_charge(database, stripe, [refund("re_1", "ch_1", 11_000)])  # refunded before billed
    wait_until(lambda: all_tasks_done(database), message="events handled")
    pay_invoice(database)
    wait_until(lambda: all_tasks_done(database), message="invoice handled")
    with database.transaction() as s:
        kinds = [t.kind for t in s.scalars(select(Task))]
    assert "partners.invoice_paid" in kinds  # the paid invoice was looked at...
    assert commissions(database) == []  # ...and earned nothing: its payment was refunded
    assert payable(database, "affiliate", affiliate_id) == 0


def test_agency_earns_on_every_client_payment(
    database: Database, settings: Settings, stripe: SandboxGateway, worker: Worker
) -> None:
    from db.models import Customer

    with database.transaction() as s:
        s.add(Customer(stripe_customer_id=BUYER, email=BUYER_EMAIL))
        s.flush()
        agency = agencies.create_agency(
            s,
            name="Agency",
            email="ag@example.com",
            settings=settings,
            actor="alice",
            rate_bps=2_000,
        )
        agencies.link_client(s, agency.id, BUYER, actor="alice")
        agency_id = agency.id
    pay_invoice(database)
    stripe.put("charge", card_charge("ch_2", BUYER, amount=5_500, fingerprint="fp_buyer"))
    deliver(
        database,
        webhook(
            "invoice.paid", paid_invoice("in_2", BUYER, "ch_2", total=5_500, tax=500), offset=5
        ),
    )
    wait_until(lambda: len(commissions(database)) == 2, message="two agency commissions")
    assert sorted(c.amount for c in commissions(database)) == [1_000, 2_000]  # any order
    assert payable(database, "agency", agency_id) == 3_000
    with database.transaction() as s:
        metrics = agencies.agency_metrics(s, agency_id)
    assert metrics["clients"] == 1 and metrics["money"]["usd"]["earned"] == 3_000


def test_a_customer_is_attributed_once_and_an_email_is_one_affiliate(
    database: Database, settings: Settings
) -> None:
    first = make_affiliate(database, settings, "one@example.com")
    second = make_affiliate(database, settings, "two@example.com")
    refer(database, settings, first)
    assert refer(database, settings, first) == refer(database, settings, first)  # idempotent
    with pytest.raises(Conflict) as taken:
        refer(database, settings, second)
    assert taken.value.code == "already_referred"
    with pytest.raises(Conflict) as twice:
        make_affiliate(database, settings, "ONE@example.com")
    assert twice.value.code == "affiliate_exists"
    with database.transaction() as s, pytest.raises(InvalidInput):
        affiliates.attribute_signup(
            s, settings=settings, source="api", code="not a code", stripe_customer_id="cus_x"
        )
