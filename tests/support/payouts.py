"""Owners with revenue old enough to pay out, and a ledger-agent worker, for payout tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from agents.payouts.payees import update_payee
from agents.processes.service import change_status, record_usage, register_process
from core.clock import frozen, utcnow
from core.settings import Settings
from db.models import Payout, Task
from db.session import Database


def seed_owner_revenue(
    database: Database,
    settings: Settings,
    *,
    owner: str = "researcher_001",
    uses: int = 100,
    unit_amount: int = 100,
    days_ago: int = 30,
    stripe_account: str | None = None,
) -> int:
    """A usage-based process of `owner` used `uses` times `days_ago` days back; its id."""
    with frozen(utcnow() - timedelta(days=days_ago)), database.transaction() as session:
        process = register_process(
            session,
            owner_ref=owner,
            name="SymboliQ API Access",
            product_type="service",
            revenue_model="usage_based",
            pricing={"unit_amount": unit_amount},
            currency="usd",
            actor="test",
        )
        change_status(session, process.id, "activate", actor="test")
        record_usage(
            session,
            process.id,
            quantity=uses,
            user_ref="user_001",
            idempotency_key=f"seed-{owner}",
            settings=settings,
        )
        if stripe_account is not None:
            update_payee(session, f"owner:{owner}", actor="test", stripe_account_id=stripe_account)
        return process.id


def payout(database: Database, payout_id: int) -> Payout:
    with database.transaction() as session:
        row = session.get(Payout, payout_id)
        assert row is not None
        return row


def tasks_of(database: Database, kind: str) -> list[Task]:
    with database.transaction() as session:
        return list(session.scalars(select(Task).where(Task.kind == kind).order_by(Task.id)))
