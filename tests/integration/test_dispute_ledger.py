"""Disputes in the journal and in partner commissions, through a real worker (billing ->
partners -> journal): Stripe's balance transactions decide what moved; a lost dispute keeps
the money out, a won one puts it (and the clawed-back commission) back; the check agrees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import select

from agents.ledger_journal.balances import balances
from agents.ledger_journal.check import check_ledger
from agents.ledger_journal.writer import postings_of
from agents.partners.affiliates import affiliate_stats
from core.settings import Settings
from db.models import Dispute, JournalEntry
from db.session import Database
from orchestrator.transport import StreamTransport
from orchestrator.worker import Worker
from tests.integration.test_partner_commissions import (
    AGENTS,
    BUYER,
    all_tasks_done,
    commissions,
    make_affiliate,
    pay_invoice,
    payable,
    refer,
)
from tests.support.partners import card_charge, customer, deliver, running_worker, sandbox, webhook
from tests.support.stripe_events import fixture
from tests.support.waiting import wait_until
from tools.stripe.sandbox import SandboxGateway

AMOUNT, FEE = 11_000, 1_500


@pytest.fixture
def stripe(settings: Settings) -> SandboxGateway:
    gateway = sandbox(settings)
    gateway.put("customer", customer(BUYER, "buyer@example.com"))
    gateway.put("charge", card_charge("ch_1", BUYER, amount=AMOUNT, fingerprint="fp_buyer"))
    return gateway


@pytest.fixture
def worker(
    settings: Settings,
    database: Database,
    transport: StreamTransport,
    redis_client: redis.Redis,
    stripe: SandboxGateway,
) -> Iterator[Worker]:
    tools: dict[str, Any] = {"stripe": stripe, "mailer": None}
    with running_worker(settings, database, transport, redis_client, tools, AGENTS) as w:
        yield w


def balance_txn(txn: str, amount: int, fee: int) -> dict[str, Any]:
    return fixture(
        "balance_transaction",
        id=txn,
        amount=amount,
        fee=fee,
        net=amount - fee,
        currency="usd",
        type="adjustment",
    )


WITHDRAWAL = balance_txn("txn_out", -AMOUNT, FEE)
REINSTATEMENT = balance_txn("txn_back", AMOUNT, 0)


def dispute(status: str, *txns: dict[str, Any]) -> dict[str, Any]:
    return fixture(
        "dispute",
        id="dp_1",
        charge="ch_1",
        amount=AMOUNT,
        currency="usd",
        status=status,
        balance_transactions=list(txns),
    )


def send(database: Database, event_type: str, obj: dict[str, Any], offset: int) -> None:
    deliver(database, webhook(event_type, obj, offset=offset))
    wait_until(lambda: all_tasks_done(database), message=f"{event_type} handled")


def dispute_entries(database: Database) -> dict[str, int]:
    """Dispute entries by dedupe key -> cash they moved."""
    with database.transaction() as s:
        found = {}
        for entry in s.scalars(select(JournalEntry).where(JournalEntry.kind == "dispute")):
            cash = [p for p in postings_of(s, entry.id) if p.account == "cash_in_transit"]
            found[entry.dedupe_key] = sum(p.amount for p in cash)
        return found


def platform_balance(database: Database, account: str) -> int:
    with database.transaction() as s:
        return sum(b.balance for b in balances(s) if b.account == account)


def assert_ledger_sound(database: Database) -> None:
    with database.transaction() as s:
        report = check_ledger(s)
    assert report.ok, report.as_dict()


def test_lost_dispute_takes_the_amount_and_fee_out_once_and_the_check_agrees(
    database: Database, worker: Worker
) -> None:
    pay_invoice(database)
    wait_until(lambda: all_tasks_done(database), message="payment posted")
    send(database, "charge.dispute.created", dispute("needs_response", WITHDRAWAL), 10)
    send(database, "charge.dispute.closed", dispute("lost", WITHDRAWAL), 20)
    send(database, "charge.dispute.closed", dispute("lost", WITHDRAWAL), 20)  # replayed

    assert dispute_entries(database) == {"dispute:dp_1:withdrawn": -(AMOUNT + FEE)}
    assert platform_balance(database, "disputes") == AMOUNT
    assert platform_balance(database, "processor_fees") == FEE
    assert platform_balance(database, "cash_in_transit") == -FEE
    assert_ledger_sound(database)


def test_won_dispute_puts_the_funds_back_but_not_the_fee(
    database: Database, worker: Worker
) -> None:
    pay_invoice(database)
    send(database, "charge.dispute.created", dispute("needs_response", WITHDRAWAL), 10)
    send(database, "charge.dispute.closed", dispute("won", WITHDRAWAL, REINSTATEMENT), 20)

    assert dispute_entries(database) == {
        "dispute:dp_1:withdrawn": -(AMOUNT + FEE),
        "dispute:dp_1:reinstated": AMOUNT,
    }
    assert platform_balance(database, "disputes") == 0
    assert platform_balance(database, "cash_in_transit") == AMOUNT - FEE
    assert_ledger_sound(database)


def test_inquiry_moves_no_money_and_a_lost_one_without_transactions_still_does(
    database: Database, worker: Worker
) -> None:
    pay_invoice(database)
    send(database, "charge.dispute.created", dispute("warning_needs_response"), 10)
    assert dispute_entries(database) == {}
    send(database, "charge.dispute.closed", dispute("lost"), 20)
    assert dispute_entries(database) == {"dispute:dp_1:withdrawn": -AMOUNT}
    assert_ledger_sound(database)


def test_check_reports_a_dispute_stripe_recorded_but_the_journal_missed(
    database: Database, worker: Worker
) -> None:
    pay_invoice(database)
    send(database, "charge.dispute.created", dispute("needs_response", WITHDRAWAL), 10)
    with database.transaction() as s:
        row = s.scalars(select(Dispute)).one()
        row.funds_reinstated = AMOUNT  # Stripe says it came back; nothing posted it
        report = check_ledger(s)
        s.rollback()
    assert not report.ok
    assert [d["key"] for d in report.differences] == ["dispute:dp_1:reinstated"]


def test_won_dispute_restores_the_clawed_back_commission(
    database: Database, settings: Settings, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: payable(database, "affiliate", affiliate_id) == 1_000, message="earned")
    send(database, "charge.dispute.created", dispute("needs_response", WITHDRAWAL), 10)
    assert payable(database, "affiliate", affiliate_id) == 0
    [clawback] = commissions(database, "clawback")
    assert clawback.status == "earned" and clawback.amount == 1_000

    send(database, "charge.dispute.closed", dispute("won", WITHDRAWAL, REINSTATEMENT), 20)
    send(database, "charge.dispute.closed", dispute("won", WITHDRAWAL, REINSTATEMENT), 20)
    assert payable(database, "affiliate", affiliate_id) == 1_000  # earned again, once
    [restored] = commissions(database, "clawback")
    assert restored.status == "restored"
    with database.transaction() as s:
        restore = s.scalars(
            select(JournalEntry).where(JournalEntry.dedupe_key.like("restore:%"))
        ).one()
        assert restore.kind == "commission"
        money = affiliate_stats(s, affiliate_id)["money"]["usd"]
    assert (money["earned"], money["clawed_back"]) == (1_000, 0)
    assert_ledger_sound(database)


def test_lost_dispute_keeps_the_commission_clawed_back(
    database: Database, settings: Settings, worker: Worker
) -> None:
    affiliate_id = make_affiliate(database, settings)
    refer(database, settings, affiliate_id)
    pay_invoice(database)
    wait_until(lambda: payable(database, "affiliate", affiliate_id) == 1_000, message="earned")
    send(database, "charge.dispute.created", dispute("needs_response", WITHDRAWAL), 10)
    send(database, "charge.dispute.closed", dispute("lost", WITHDRAWAL), 20)
    assert payable(database, "affiliate", affiliate_id) == 0
    assert [c.status for c in commissions(database, "clawback")] == ["earned"]
    assert_ledger_sound(database)
