"""The journal on a real database: append-only, idempotent, sound under any operations,
posting Stripe-side payments and refunds, and checked against them (with an operator alert)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select, text

from agents.context import AgentContext
from agents.ledger_journal import rules
from agents.ledger_journal.agent import run_ledger_check
from agents.ledger_journal.balances import balances, currency_totals, payable_balance
from agents.ledger_journal.check import check_ledger
from agents.ledger_journal.stripe_postings import post_payment, post_refund
from agents.ledger_journal.writer import post, reverse
from core.errors import Conflict
from core.settings import Settings
from db.models import JournalEntry, Payment, Refund, Task
from db.session import Database
from tests.support.refunds import seed_paid_customer

CURRENCIES = st.sampled_from(["usd", "eur", "jpy"])
PARTIES = st.sampled_from(["owner:a", "owner:b", "affiliate:1", "agency:2"])
AMOUNTS = st.integers(min_value=1, max_value=10**9)

operation = st.one_of(
    st.tuples(st.just("payment"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("refund"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("usage"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("commission"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("payout"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("credit"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("reverse_last"), AMOUNTS, CURRENCIES, PARTIES),
    st.tuples(st.just("replay_last"), AMOUNTS, CURRENCIES, PARTIES),
)


def draft_for(op: str, amount: int, currency: str, party: str, key: str) -> rules.EntryDraft:
    payable = party.split(":")[0] + "_payable"
    _, fee = rules.split_fee(amount, 1_000)
    made: dict[str, Any] = {
        "payment": lambda: rules.payment_received(
            dedupe_key=key, amount=amount, currency=currency, customer_party="customer:1", data={}
        ),
        "refund": lambda: rules.refund_issued(
            dedupe_key=key, amount=amount, currency=currency, customer_party="customer:1", data={}
        ),
        "usage": lambda: rules.process_usage(
            dedupe_key=key,
            gross=amount,
            fee=fee,
            currency=currency,
            payer_party="user:x",
            owner_party=party,
            data={},
        ),
        "commission": lambda: rules.commission_earned(
            dedupe_key=key,
            amount=amount,
            currency=currency,
            payable=payable,
            payee_party=party,
            data={},
        ),
        "payout": lambda: rules.payout_paid(
            dedupe_key=key,
            amount=amount + 1,
            fee=fee,
            currency=currency,
            payable=payable,
            payee_party=party,
            data={},
        ),
        "credit": lambda: rules.credit_granted(
            dedupe_key=key, amount=amount, currency=currency, customer_party="customer:1", data={}
        ),
    }
    draft: rules.EntryDraft = made[op]()
    return draft


def test_any_sequence_of_operations_leaves_every_entry_balanced_and_zero_sums(
    database: Database,
) -> None:
    counter = iter(range(10**9))

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(operation, min_size=1, max_size=12))
    def run(operations: list[tuple[str, int, str, str]]) -> None:
        with database.transaction() as session:
            last: int | None = None
            last_draft: rules.EntryDraft | None = None
            for op, amount, currency, party in operations:
                if op == "reverse_last":
                    if last is not None:
                        reverse(session, last, dedupe_key=f"rev:{last}", reason="test")
                        last = None
                    continue
                if op == "replay_last":
                    if last_draft is not None:
                        assert post(session, last_draft) is None  # idempotent by key
                    continue
                last_draft = draft_for(op, amount, currency, party, f"op:{next(counter)}")
                last = post(session, last_draft)
        with database.transaction() as session:
            report = check_ledger(session)
            assert report.unbalanced == []
            assert all(total == 0 for total in currency_totals(session).values())
            per_currency: dict[str, int] = {}
            for row in balances(session):
                per_currency[row.currency] = per_currency.get(row.currency, 0) + (
                    row.debit_minus_credit
                )
            assert all(total == 0 for total in per_currency.values())

    run()


def test_journal_rows_cannot_be_updated_or_deleted(database: Database, database_url: str) -> None:
    with database.transaction() as session:
        post(
            session,
            rules.payment_received(
                dedupe_key="payment:x", amount=100, currency="usd", customer_party="", data={}
            ),
        )
    engine = create_engine(database_url)
    for statement in (
        "UPDATE journal_postings SET amount = 0",
        "DELETE FROM journal_postings",
        "UPDATE journal_entries SET memo = 'edited'",
        "DELETE FROM journal_entries",
    ):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()


def test_an_entry_is_reversed_once_and_a_reversal_is_not_reversed(database: Database) -> None:
    with database.transaction() as session:
        entry = post(
            session,
            rules.commission_earned(
                dedupe_key="commission:1",
                amount=500,
                currency="usd",
                payable="affiliate_payable",
                payee_party="affiliate:1",
                data={},
            ),
        )
        assert entry is not None
        assert payable_balance(session, "affiliate_payable", "affiliate:1", "usd") == 500
        undo = reverse(session, entry, dedupe_key="clawback:1", reason="refunded")
        assert undo is not None
        assert reverse(session, entry, dedupe_key="clawback:1", reason="again") is None
        with pytest.raises(Conflict):
            reverse(session, entry, dedupe_key="clawback:other", reason="twice")
        with pytest.raises(Conflict):
            reverse(session, undo, dedupe_key="undo-undo", reason="no")
        assert payable_balance(session, "affiliate_payable", "affiliate:1", "usd") == 0


def test_payments_and_refunds_post_once_and_a_failed_refund_is_reversed(
    database: Database,
) -> None:
    paid = seed_paid_customer(database, amount=8_000)
    with database.transaction() as session:
        session.add(
            Refund(
                stripe_refund_id="re_1",
                payment_id=paid.payment_id,
                amount=3_000,
                currency="usd",
                status="succeeded",
            )
        )
        session.flush()
        assert post_payment(session, paid.payment_id) is not None
        assert post_payment(session, paid.payment_id) is None
        assert post_refund(session, "re_1") is not None
        assert post_refund(session, "re_1") is None
    with database.transaction() as session:
        assert check_ledger(session).ok
        refund = session.scalars(select(Refund)).one()
        refund.status = "failed"
        session.flush()
        assert post_refund(session, "re_1") is not None  # the reversal
        kinds = [e.kind for e in session.scalars(select(JournalEntry).order_by(JournalEntry.id))]
        assert kinds == ["payment", "refund", "reversal"]
        assert check_ledger(session).ok  # a failed refund moved no cash, and none is recorded


def test_check_finds_a_payment_the_ledger_missed_and_alerts_operators_once(
    database: Database, settings: Settings
) -> None:
    paid = seed_paid_customer(database, amount=4_200)
    with database.transaction() as session:
        post_payment(session, paid.payment_id)
        session.add(
            Payment(
                stripe_charge_id="ch_unposted",
                amount=999,
                currency="usd",
                status="succeeded",
                amount_refunded=0,
            )
        )
    for _ in range(2):  # the same scheduled slot running twice alerts once
        with database.transaction() as session:
            ctx = _context(session, database, settings)
            report = run_ledger_check(ctx, "ledger.check", {"day": "2026-11-20"})
    assert report["ok"] is False and report["difference_count"] == 1
    [difference] = report["differences"]
    assert difference["ledger"] is None and difference["stripe_records"]["cash"] == 999
    with database.transaction() as session:
        alerts = [
            t.payload
            for t in session.scalars(select(Task).where(Task.kind == "notification.send"))
            if t.payload["template"] == "operator_alert"
        ]
    assert [a["key"] for a in alerts] == ["ledger_check:2026-11-20"]
    assert "1 differences" in alerts[0]["context"]["detail"]


def _context(session: Any, database: Database, settings: Settings) -> AgentContext:
    from orchestrator.outbox import submit

    def submit_here(kind: str, payload: dict[str, Any], **kwargs: Any) -> int | None:
        return submit(session, kind, payload, **kwargs)

    return AgentContext(
        session=session,
        database=database,
        settings=settings,
        stripe=None,  # type: ignore[arg-type]
        mailer=None,  # type: ignore[arg-type]
        submit=submit_here,
    )
