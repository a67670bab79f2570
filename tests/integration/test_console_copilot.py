"""The console's copilot box: an operator asks, the proposal lands as a pending approval."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from agents.checkpoints import checkpointer_factory
from api.app import create_app
from core.settings import Settings
from db.models import Approval, ApprovalStatus
from db.session import Database
from orchestrator.access.roles import OPERATOR, VIEWER
from orchestrator.transport import StreamTransport
from orchestrator.wiring import Runtime
from tests.support.copilot_data import seed_copilot_book
from tests.support.operators import console_csrf, console_login, make_operator
from tools.llm.scripted import calls, said, scripted


def _console(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
    model: object,
) -> TestClient:
    tools = {
        "chat_model": model,
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
    }
    app = create_app(Runtime(settings, database, redis_client, transport, tools))
    return TestClient(app, base_url="https://testserver")


def test_operator_asks_in_the_console_and_gets_a_pending_refund_proposal(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
) -> None:
    seed_copilot_book(database)
    make_operator(database, "olga", OPERATOR)
    model = scripted(
        calls(
            (
                "propose_refund",
                {
                    "payment": "ch_ana_2",
                    "amount": 4900,
                    "reason": "charged twice within three minutes",
                },
            )
        ),
        said("I proposed refunding USD 49.00 of ch_ana_2; an approver must decide."),
    )
    client = _console(settings, database, redis_client, transport, model)
    assert console_login(client, "olga") == 303
    page = client.get("/console")
    assert 'hx-post="/console/copilot"' in page.text

    reply = client.post(
        "/console/copilot",
        data={
            "text": "refund the duplicate charge of ana@example.com",
            "csrf_token": console_csrf(client),
        },
    )

    assert reply.status_code == 200, reply.text
    with database.transaction() as s:
        approval = s.scalars(select(Approval)).one()
        assert (approval.action, approval.amount, approval.status, approval.requested_by) == (
            "refund",
            4900,
            ApprovalStatus.PENDING,
            "olga",
        )
    assert f"/console/approvals/{approval.id}" in reply.text
    assert "an approver must decide" in reply.text


def test_copilot_box_needs_the_csrf_token_and_the_operator_role(
    settings: Settings,
    database: Database,
    redis_client: redis.Redis,
    transport: StreamTransport,
) -> None:
    make_operator(database, "olga", OPERATOR)
    make_operator(database, "vic", VIEWER)
    client = _console(settings, database, redis_client, transport, scripted(said("hi")))
    console_login(client, "olga")
    assert client.post("/console/copilot", data={"text": "hello"}).status_code == 403

    viewer = _console(settings, database, redis_client, transport, scripted(said("hi")))
    console_login(viewer, "vic")
    assert 'hx-post="/console/copilot"' not in viewer.get("/console").text
    refused = viewer.post(
        "/console/copilot", data={"text": "hello", "csrf_token": console_csrf(viewer)}
    )
    assert refused.status_code == 403
    with database.transaction() as s:
        assert s.scalars(select(Approval)).all() == []
