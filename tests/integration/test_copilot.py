"""The copilot's doors and memory: `moneta ask` through the real ChatOpenAI client against a
local OpenAI-compatible server, threads that continue, accounting, and the no-model path."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from agents.checkpoints import checkpointer_factory
from agents.copilot.service import ask
from core.settings import Settings
from db.models import Approval, LlmCall
from db.session import Database
from orchestrator.commands import copilot as copilot_commands
from orchestrator.outbox import submit
from tests.support.copilot_data import seed_copilot_book
from tests.support.fake_openai import FakeOpenAI, fake_openai  # noqa: F401
from tools.llm.scripted import calls, said, scripted

moneta = typer.Typer()
copilot_commands.register(moneta)
moneta.command("noop", hidden=True)(lambda: None)  # keeps `ask` a sub-command


def test_ask_through_chatopenai_proposes_a_refund_and_accounts_the_calls(
    cli_env: CliRunner,
    database: Database,
    fake_openai: FakeOpenAI,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_copilot_book(database)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-offline")
    monkeypatch.setenv("MONETA_LLM_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("MONETA_LLM_MODEL", "fake-gpt")
    fake_openai.call_tool("list_payments", {"customer_id": 1})
    fake_openai.call_tool(
        "propose_refund", {"payment": "ch_ana_2", "amount": 4900, "reason": "double charge"}
    )
    fake_openai.say("I proposed refunding USD 49.00 of ch_ana_2; an approver must decide.")

    result = cli_env.invoke(
        moneta, ["ask", "refund ana's double charge", "--operator", "alice", "--json"]
    )

    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["source"] == "model:fake-gpt"
    assert [(p["action"], p["amount"], p["evidence"]["charge"]) for p in answer["proposals"]] == [
        ("refund", 4900, "ch_ana_2")
    ]
    first = fake_openai.requests[0]
    assert first["model"] == "fake-gpt"
    assert {t["function"]["name"] for t in first["tools"]} >= {"propose_refund", "find_customer"}
    assert "execute" not in json.dumps([t["function"]["name"] for t in first["tools"]])
    with database.transaction() as session:
        approval = session.scalars(select(Approval)).one()
        assert (approval.status, approval.requested_by) == ("pending", "alice")
        rows = session.scalars(select(LlmCall).order_by(LlmCall.id)).all()
    assert [(r.feature, r.model, r.outcome) for r in rows] == [("copilot", "fake-gpt", "ok")] * 3
    # 200 prompt + 25 completion tokens at 150 / 600 micro-dollars per 1K: 30 + 15 = 45.
    assert (rows[0].prompt_tokens, rows[0].completion_tokens, rows[0].cost_micros) == (200, 25, 45)


def test_a_thread_continues_where_the_operator_left_it(
    database: Database, settings: Settings
) -> None:
    seed_copilot_book(database)
    model = scripted(
        calls(("find_customer", {"query": "bob"})),
        calls(("ask_operator", {"question": "bob@acme.test or bob@beta.test?"})),
        calls(("propose_cancel", {"subscription": "sub_bob1", "reason": "asked by phone"})),
        said("Proposed cancelling sub_bob1."),
    )
    checkpoints = checkpointer_factory(settings.effective_database_url)
    first = ask(
        database,
        settings,
        text="cancel bob",
        operator="alice",
        submit=submit,
        model=model,
        checkpointer_factory=checkpoints,
    )
    assert first.question and not first.proposals

    second = ask(
        database,
        settings,
        text="the acme one",
        operator="alice",
        submit=submit,
        model=model,
        thread_id=first.thread_id,
        checkpointer_factory=checkpoints,
    )

    assert [p["action"] for p in second.proposals] == ["cancel"]
    assert second.reply == "Proposed cancelling sub_bob1."
    seen = [m.text for m in model.prompts[2]]
    assert "cancel bob" in seen and "the acme one" in seen  # the first turn was remembered


def test_a_failing_model_proposes_nothing_and_says_so(
    database: Database, settings: Settings
) -> None:
    seed_copilot_book(database)
    answer = ask(
        database,
        settings,
        text="refund ch_ana_2",
        operator="alice",
        submit=submit,
        model=scripted(TimeoutError("model too slow")),
        checkpointer_factory=checkpointer_factory(settings.effective_database_url),
    )
    assert answer.proposals == [] and answer.notice == "the model did not answer"
    with database.transaction() as session:
        assert session.scalars(select(LlmCall.outcome)).all() == ["timeout"]
        assert session.scalars(select(Approval)).all() == []


def test_without_a_model_ask_states_the_fallback(
    cli_env: CliRunner, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    seed_copilot_book(database)
    result = cli_env.invoke(moneta, ["ask", "refund the duplicate charge of ana@example.com"])
    assert result.exit_code == 0, result.output
    assert "no language model configured" in result.output
    assert "proposed: approval 1 refund USD 49.00 on payment:2" in result.output
