"""The daily narrative: report lines from the snapshots, phrased by the model if it stays true.

The model only rephrases the lines `movers.report_lines` computed; its text is kept only when
every number in it is one of theirs and the key figures are all there. Otherwise (or without
a model) the lines themselves are the report. Stored in `narratives`, e-mailed to operators.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agents.analytics.movers import (
    DaySnapshot,
    ReportLine,
    deterministic_report,
    lines_as_facts,
    report_lines,
)
from agents.context import AgentContext
from agents.llm import chat_model, save_call
from agents.notification.requests import notify
from db.models import Narrative
from db.repositories import analytics as snapshots
from db.repositories.llm import replace_narrative
from db.session import Database
from tools.llm.calls import Prices, invoke_model
from tools.llm.grounding import links_in, ungrounded_numbers

FEATURE = "narrative"
TEMPLATE_SOURCE = "template"
MIN_LENGTH = 40
MAX_LENGTH = 1500

SYSTEM_PROMPT = """You are a revenue analyst writing a short morning report for operators.
Rephrase only the statements you are given, as two or three short paragraphs of plain text
(no markdown, no links), anomalies first when there are any.
Repeat every figure exactly as written (for example "USD 1,234.00") and write no other
number: no percentages, totals or comparisons you computed yourself. Under 1200 characters."""


def _day_snapshot(database: Database, day: date) -> DaySnapshot:
    with database.transaction() as session:
        return {(s.currency, s.plan): s.metrics for s in snapshots.snapshots_of(session, day)}


def narrative_prompt(day: str, lines: list[ReportLine]) -> list[BaseMessage]:
    data = {"day": day, "statements": [line.text for line in lines]}
    return [SystemMessage(SYSTEM_PROMPT), HumanMessage(json.dumps(data, indent=2))]


def narrative_problems(text: str, day: str, lines: list[ReportLine]) -> list[str]:
    """Why a model's report may not replace the deterministic one (empty when it may)."""
    problems = []
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH:
        problems.append(f"length {len(text)} outside {MIN_LENGTH}..{MAX_LENGTH}")
    if re.search(r"[<>#*$€£¥]", text):
        problems.append("markup or currency symbols")
    links = links_in(text)
    if links:
        problems.append(f"links: {', '.join(links)}")
    numbers = ungrounded_numbers(text, [day, *(line.text for line in lines)])
    if numbers:
        problems.append(f"numbers not in the snapshot: {', '.join(numbers)}")
    missing = [f for line in lines if line.kind != "mover" for f in line.figures if f not in text]
    if missing:
        problems.append(f"missing figures: {', '.join(missing)}")
    return problems


def write_narrative(ctx: AgentContext, day: date) -> dict[str, Any]:
    """Build, store and e-mail the narrative of `day` (its snapshot must exist)."""
    label = day.isoformat()
    lines = report_lines(
        _day_snapshot(ctx.database, day), _day_snapshot(ctx.database, day - timedelta(days=1))
    )
    text, source, problems = deterministic_report(label, lines), TEMPLATE_SOURCE, []
    model = chat_model(ctx) if lines else None
    if model is not None:
        reply, call = invoke_model(
            model, narrative_prompt(label, lines), Prices.from_settings(ctx.settings)
        )
        if reply is not None:
            problems = narrative_problems(reply.text.strip(), label, lines)
            if problems:
                call = call.rejected("; ".join(problems)[:500])
            else:
                text, source = reply.text.strip(), call.model
        save_call(ctx.database, call, feature=FEATURE, subject=label)
    facts = {**lines_as_facts(label, lines), "rejected": problems}
    replace_narrative(ctx.session, Narrative(day=day, text=text, facts=facts, source=source))
    notify(
        ctx,
        key=f"daily_narrative:{label}",
        template="daily_narrative",
        context={"day": label, "text": text, "source": source},
    )
    return {"day": label, "source": source, "lines": len(lines), "rejected": problems}
