"""Batched claims and the effect-free fast path keep every guarantee of the one-task path."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.event import listen

from agents import noop
from core.settings import Settings
from db.models import Task, TaskStatus
from db.session import Database
from orchestrator.outbox import submit
from orchestrator.runtime import TaskRunner


def _queue(database: Database, payloads: list[dict[str, int]]) -> list[int]:
    with database.transaction() as session:
        ids = [submit(session, "noop", payload) for payload in payloads]
    assert all(task_id is not None for task_id in ids)
    return [task_id for task_id in ids if task_id is not None]


def _runner(database: Database, settings: Settings, owner: str) -> TaskRunner:
    return TaskRunner(database, settings, owner, {}, {"noop": noop.handle})


def _rows(database: Database, ids: list[int]) -> dict[int, Task]:
    with database.transaction() as session:
        rows = session.scalars(select(Task).where(Task.id.in_(ids))).all()
        session.expunge_all()
    return {row.id: row for row in rows}


def test_batch_claim_takes_each_task_once(database: Database, settings: Settings) -> None:
    ids = _queue(database, [{"echo": i} for i in range(3)])
    first = _runner(database, settings, "first").claim_batch(ids)
    second = _runner(database, settings, "second").claim_batch(ids)
    assert [t.id for t in first] == ids
    assert second == []


def test_effect_free_batch_finishes_all_and_retries_only_the_failure(
    database: Database, settings: Settings
) -> None:
    ids = _queue(database, [{"echo": 0}, {"fail_times": 1}, {"echo": 2}])
    runner = _runner(database, settings, "w")
    outcomes = runner.run_batch(runner.claim_batch(ids))
    assert sorted((o.task_id, o.status) for o in outcomes) == [
        (ids[0], TaskStatus.DONE),
        (ids[1], "retry"),
        (ids[2], TaskStatus.DONE),
    ]
    rows = _rows(database, ids)
    assert rows[ids[0]].result == {"echo": 0} and rows[ids[2]].result == {"echo": 2}
    failed = rows[ids[1]]
    assert failed.status == TaskStatus.PENDING
    assert failed.attempts == 1
    assert "scripted failure" in (failed.last_error or "")


def test_lost_lease_in_a_batch_leaves_the_new_owners_task_alone(
    database: Database, settings: Settings
) -> None:
    ids = _queue(database, [{"echo": i} for i in range(3)])
    runner = _runner(database, settings, "w")
    claimed = runner.claim_batch(ids)
    with database.transaction() as session:  # another worker took the middle task over
        session.execute(update(Task).where(Task.id == ids[1]).values(lease_owner="other"))
    outcomes = {o.task_id: o.status for o in runner.run_batch(claimed)}
    assert outcomes == {ids[0]: TaskStatus.DONE, ids[1]: "skipped", ids[2]: TaskStatus.DONE}
    stolen = _rows(database, ids)[ids[1]]
    assert (stolen.status, stolen.lease_owner, stolen.result) == (TaskStatus.RUNNING, "other", None)


def test_an_effect_free_read_is_claimed_run_and_finished_in_one_commit(
    database: Database, settings: Settings
) -> None:
    ids = _queue(database, [{"echo": 0}, {"fail_times": 1}, {"echo": 2}])
    held = _runner(database, settings, "other").claim_batch(ids[2:])  # not ours to run
    commits: list[int] = []
    listen(database.engine, "commit", lambda _conn: commits.append(1))

    ran = _runner(database, settings, "w").claim_and_run("noop", ids)

    assert (ran, [t.id for t in held]) == (2, [ids[2]])
    assert len(commits) == 2  # claim + run + done for the lot, then the failure's retry
    rows = _rows(database, ids)
    assert (rows[ids[0]].status, rows[ids[0]].result) == (TaskStatus.DONE, {"echo": 0})
    assert (rows[ids[1]].status, rows[ids[1]].attempts) == (TaskStatus.PENDING, 1)
    assert (rows[ids[2]].status, rows[ids[2]].lease_owner) == (TaskStatus.RUNNING, "other")
