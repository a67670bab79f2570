"""The daily narrative: movers and anomalies computed from the snapshots, phrased by the model
only when every number it writes is one of them; stored, and e-mailed to the operators."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from sqlalchemy import select

from agents.analytics.graph import handle
from agents.analytics.movers import report_lines
from agents.context import AgentContext, TaskInfo
from core.settings import Settings
from db.models import LlmCall, MetricSnapshot, Narrative, Task
from db.repositories.llm import latest_narrative
from db.session import Database
from orchestrator.outbox import submit
from tools.llm.scripted import said, scripted

DAY = date(2026, 11, 17)
BASE = {
    "mrr": 100_000, "arr": 1_200_000, "active_subscriptions": 40, "active_customers": 38,
    "new_subscriptions": 2, "churned_subscriptions": 1, "gross_revenue": 20_000, "refunds": 0,
    "net_revenue": 20_000, "failed_payments": 1, "failed_payment_amount": 4_900,
}  # fmt: skip
TODAY = {
    **BASE, "mrr": 95_100, "churned_subscriptions": 2, "refunds": 9_800, "net_revenue": 10_200,
    "failed_payments": 6, "failed_payment_amount": 29_400,
}  # fmt: skip
GOOD = (
    "Failed payments spiked: 6 (USD 294.00) against 1 the day before, and refunds jumped to "
    "USD 98.00.\n\nMRR stands at USD 951.00, down USD 49.00. Net revenue was USD 102.00."
)


def seed_days(database: Database) -> None:
    with database.transaction() as session:
        for day, metrics in ((date(2026, 11, 16), BASE), (DAY, TODAY)):
            session.add(MetricSnapshot(day=day, currency="usd", plan="*", metrics=metrics))


def run(database: Database, settings: Settings, kind: str, model: BaseChatModel | None) -> Any:
    with database.transaction() as session:
        ctx = AgentContext(
            session=session,
            database=database,
            settings=settings,
            stripe=None,  # type: ignore[arg-type]
            mailer=None,  # type: ignore[arg-type]
            submit=partial(submit, session),
            extras={"chat_model": model},
        )
        return handle(ctx, TaskInfo(1, kind, {"day": DAY.isoformat()}, 1, 8))


def test_anomalies_and_movers_are_computed_from_the_snapshots() -> None:
    lines = report_lines({("usd", "*"): TODAY}, {("usd", "*"): BASE})
    anomalies = [line.text for line in lines if line.kind == "anomaly"]
    assert anomalies == [
        "Spike in failed payments: 6 (USD 294.00) against 1 the day before.",
        "Refunds jumped to USD 98.00 from USD 0.00.",
    ]
    assert lines[0].text == "MRR USD 951.00 (down USD 49.00)."


def test_model_narrative_is_stored_and_mailed_when_its_numbers_check_out(
    database: Database, settings: Settings
) -> None:
    seed_days(database)
    result = run(database, settings, "analytics.narrative", scripted(said(GOOD)))
    assert result["source"] == "scripted" and result["rejected"] == []
    with database.transaction() as session:
        narrative = latest_narrative(session)
        assert narrative is not None and narrative.text == GOOD
        mail = session.scalars(select(Task).where(Task.kind == "notification.send")).one()
    assert mail.payload["template"] == "daily_narrative"
    assert mail.payload["context"] == {"day": "2026-11-17", "text": GOOD, "source": "scripted"}


def test_a_narrative_with_an_invented_number_is_replaced_by_the_computed_one(
    database: Database, settings: Settings
) -> None:
    seed_days(database)
    invented = GOOD + " That is a 5% drop, the worst in 12 weeks."
    result = run(database, settings, "analytics.narrative", scripted(said(invented)))
    assert result["source"] == "template"
    assert "numbers not in the snapshot: 5, 12" in result["rejected"][0]
    with database.transaction() as session:
        narrative = session.scalars(select(Narrative)).one()
        assert narrative.text.startswith("2026-11-17. MRR USD 951.00 (down USD 49.00).")
        assert "Anomalies: Spike in failed payments: 6" in narrative.text
        assert session.scalars(select(LlmCall.outcome)).all() == ["rejected"]


def test_without_a_model_the_daily_job_still_gets_its_narrative(
    database: Database, settings: Settings
) -> None:
    run(database, settings, "analytics.daily", None)
    with database.transaction() as session:
        queued = session.scalars(select(Task).where(Task.kind == "analytics.narrative")).one()
    assert queued.payload == {"day": "2026-11-17"}
    result = run(database, settings, "analytics.narrative", None)
    assert result["source"] == "template"
