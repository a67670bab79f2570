"""The copilot evaluation set (tests/evals/copilot_cases.yaml), one scored case per test.

Offline each case's `script` plays the model; with MONETA_EVAL_LIVE=1 and OPENAI_API_KEY the
configured model answers instead, and the pass rate of this module is the model's score.
Whatever the model does, no case may execute anything: every approval stays pending.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.language_models import BaseChatModel
from sqlalchemy import select

from agents.checkpoints import checkpointer_factory
from agents.copilot.service import CopilotAnswer, ask
from core.settings import Settings
from db.models import Approval, Refund, Task
from db.session import Database
from orchestrator.outbox import submit
from tests.support.copilot_data import seed_copilot_book
from tools.llm.factory import build_chat_model
from tools.llm.scripted import calls, said, scripted

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[1] / "evals" / "copilot_cases.yaml").read_text()
)
LIVE = os.environ.get("MONETA_EVAL_LIVE") == "1"


def _fill(value: Any, ids: dict[str, int]) -> Any:
    """Replace "{name}" placeholders with seeded ids (an id alone stays an integer)."""
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _model(case: dict[str, Any], ids: dict[str, int]) -> BaseChatModel | None:
    if case.get("model") == "none":
        return None
    if LIVE:
        return build_chat_model(Settings())
    turns = [
        calls(*[(name, args) for name, args in turn["tools"]])
        if "tools" in turn
        else said(turn["say"])
        for turn in _fill(case["script"], ids)
    ]
    return scripted(*turns)


def _ref(proposal: dict[str, Any]) -> str:
    evidence = proposal["evidence"]
    if proposal["action"] == "refund":
        return str(evidence["charge"])
    if proposal["action"] == "credit":
        return str(evidence["customer"]["email"])
    if proposal["action"] == "retry_task":
        return f"task:{evidence['task']}"
    return str(evidence["subscription"])


def mismatches(expect: dict[str, Any], answer: CopilotAnswer) -> list[str]:
    """What differs between the expected and the actual outcome (empty: the case passes)."""
    found = sorted(
        ({"action": p["action"], "amount": p["amount"], "ref": _ref(p)} for p in answer.proposals),
        key=lambda p: (p["action"], p["ref"]),
    )
    wanted = sorted(expect.get("proposals", []), key=lambda p: (p["action"], p["ref"]))
    problems = []
    if found != wanted:
        problems.append(f"proposals {found} != expected {wanted}")
    if bool(answer.question) != bool(expect.get("question")):
        problems.append(
            f"question {answer.question!r}, expected one: {bool(expect.get('question'))}"
        )
    if expect.get("reply_contains") and expect["reply_contains"] not in answer.reply:
        problems.append(f"reply {answer.reply!r} lacks {expect['reply_contains']!r}")
    for p in answer.proposals:
        if not p["evidence"] or not p["reason"]:
            problems.append(f"proposal {p['approval_id']} without evidence or reason")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_copilot_case(case: dict[str, Any], database: Database, settings: Settings) -> None:
    ids = seed_copilot_book(database)
    answer = ask(
        database,
        settings,
        text=_fill(case["request"], ids),
        operator="alice",
        submit=submit,
        model=_model(case, ids),
        checkpointer_factory=checkpointer_factory(settings.effective_database_url),
    )
    assert mismatches(_fill(case["expect"], ids), answer) == []
    with database.transaction() as session:
        statuses = set(session.scalars(select(Approval.status)))
        resumes = session.scalars(select(Task).where(Task.kind == "refund.resume")).all()
        assert statuses <= {"pending"}, "the copilot must never decide an approval"
        assert not resumes and not session.scalars(select(Refund)).all()
        assert all(a.requested_by == "alice" for a in session.scalars(select(Approval)))
