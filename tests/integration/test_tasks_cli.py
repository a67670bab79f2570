"""`moneta tasks list|show|retry`: an operator finds a dead letter and puts it back."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from db.models import AuditEntry, Task, TaskStatus
from db.session import Database
from orchestrator.cli import app as moneta
from orchestrator.outbox import submit
from orchestrator.transport import StreamTransport


def _dead_task(database: Database) -> int:
    with database.transaction() as s:
        task_id = submit(s, "noop", {"echo": "x"})
        assert task_id is not None
        task = s.get_one(Task, task_id)
        task.status, task.attempts, task.last_error = TaskStatus.DEAD, 8, "boom: Stripe said no"
    return task_id


def test_dead_task_is_listed_shown_and_retried_with_an_audit_entry(
    cli_env: CliRunner, database: Database, transport: StreamTransport
) -> None:
    task_id = _dead_task(database)
    transport.read(["noop"], "probe", count=10, block_ms=100)  # its first delivery, long gone

    listed = cli_env.invoke(moneta, ["tasks", "list", "--status", "dead", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(t["id"], t["last_error"]) for t in json.loads(listed.output)] == [
        (task_id, "boom: Stripe said no")
    ]
    shown = cli_env.invoke(moneta, ["tasks", "show", str(task_id), "--json"])
    assert json.loads(shown.output)["payload"] == {"echo": "x"}

    retried = cli_env.invoke(
        moneta,
        ["tasks", "retry", str(task_id), "--operator", "ops-ann", "--reason", "Stripe outage over"],
    )
    assert retried.exit_code == 0, retried.output

    with database.transaction() as s:
        task = s.get_one(Task, task_id)
        assert (task.status, task.attempts) == (TaskStatus.PENDING, 0)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "task.retry")).one()
        assert (audit.actor, audit.subject_id, audit.detail) == (
            "ops-ann",
            str(task_id),
            "Stripe outage over",
        )
    queued = transport.read(["noop"], "probe", count=10, block_ms=100)
    assert [t for _, _, t in queued] == [task_id]


def test_retrying_a_task_that_is_not_dead_is_refused(
    cli_env: CliRunner, database: Database, transport: StreamTransport
) -> None:
    with database.transaction() as s:
        task_id = submit(s, "noop", {})
    refused = cli_env.invoke(
        moneta, ["tasks", "retry", str(task_id), "--operator", "ops-ann", "--reason", "why not"]
    )
    assert refused.exit_code == 1
    assert "only dead tasks can be retried" in refused.output
    missing = cli_env.invoke(moneta, ["tasks", "show", "999999"])
    assert missing.exit_code == 1 and "does not exist" in missing.output
