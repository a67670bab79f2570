"""The decision recorder stores each decision as it was made (PostgreSQL: as one JSON batch)."""

from __future__ import annotations

from sqlalchemy import select

from agents.access.engine import Decision
from agents.access.telemetry import DecisionRecorder
from core.clock import utcnow
from db.models import AccessDecisionRecord
from db.session import Database


def test_recorded_decisions_are_stored_exactly(database: Database) -> None:
    recorder = DecisionRecorder(database, interval_seconds=60)
    try:
        before = utcnow()
        recorder.record(
            7, ["model:llm-base", "dataset:market"], "derive", Decision(True, "a,b", None, 9)
        )
        recorder.record(None, ["x" * 600, "y" * 600], "read", Decision(False, "r" * 150, "why"))
        after = utcnow()
        assert recorder.flush() == 2
    finally:
        recorder.close()
    with database.transaction() as session:
        rows = session.scalars(select(AccessDecisionRecord).order_by(AccessDecisionRecord.id))
        stored = [
            (
                r.customer_id,
                r.assets,
                r.action,
                r.allowed,
                r.rule_id,
                r.reason,
                r.cost,
                r.decided_at,
            )
            for r in rows
        ]
    assert [row[:7] for row in stored] == [
        (7, "model:llm-base,dataset:market", "derive", True, "a,b", None, 9),
        (None, ("x" * 600 + "," + "y" * 600)[:1000], "read", False, "r" * 100, "why", 0),
    ]
    assert all(before <= row[7] <= after for row in stored)
