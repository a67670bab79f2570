"""An operator's token grant is credit given away: once executed behind the gate it posts a
`credit` entry (platform revenue given up, customer credit) at the tokens' value, once."""

from __future__ import annotations

from sqlalchemy import select

from agents.approvals.service import decide
from agents.ledger_journal.check import check_ledger
from agents.ledger_journal.writer import postings_of
from agents.wallet.approvals import request_grant
from agents.wallet.rules import token_value
from core.settings import Settings
from db.models import JournalEntry
from db.session import Database
from orchestrator.outbox import submit
from tests.integration.test_wallet_purchase import agents, customer, tools  # noqa: F401
from tests.support.task_running import AgentTasks


def credit_entries(database: Database) -> list[tuple[str, list[tuple[str, str, int]]]]:
    with database.transaction() as s:
        rows = s.scalars(select(JournalEntry).where(JournalEntry.kind == "credit"))
        return [
            (e.dedupe_key, sorted((p.account, p.party, p.amount) for p in postings_of(s, e.id)))
            for e in rows
        ]


def grant_approval(database: Database, settings: Settings, customer_id: int, tokens: int) -> int:
    with database.transaction() as session:
        return request_grant(
            session,
            customer_id=customer_id,
            tokens=tokens,
            reason="goodwill",
            requested_by="alice",
            submit=submit,
            settings=settings,
        ).id


def test_an_approved_grant_posts_its_value_as_customer_credit_once(
    agents: AgentTasks,  # noqa: F811
    database: Database,
    settings: Settings,
    customer: int,  # noqa: F811
) -> None:
    approval_id = grant_approval(database, settings, customer, 5_000)
    agents.drain()
    assert credit_entries(database) == []  # nothing before the decision
    with database.transaction() as session:
        decide(session, approval_id, operator="bob", approve=True, submit=submit)
        submit(session, "wallet.approval.resume", {"approval_id": approval_id})  # redelivery
    agents.drain()

    value = token_value(5_000, settings.wallet_price_per_1k_tokens)
    party = f"customer:{customer}"
    assert credit_entries(database) == [
        (
            f"wallet-grant:approval:{approval_id}",
            [("customer_credit", party, -value), ("platform_revenue", party, value)],
        )
    ]
    with database.transaction() as s:
        assert check_ledger(s).ok


def test_a_rejected_grant_posts_nothing(
    agents: AgentTasks,  # noqa: F811
    database: Database,
    settings: Settings,
    customer: int,  # noqa: F811
) -> None:
    approval_id = grant_approval(database, settings, customer, 1_000)
    agents.drain()
    with database.transaction() as session:
        decide(session, approval_id, operator="bob", approve=False, note="no", submit=submit)
    agents.drain()
    assert credit_entries(database) == []
