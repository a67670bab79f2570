"""Group-committed webhook intake (`api.group_commit`): batches, duplicates inside a batch,
a poisoned batch."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from api import intake_batch
from api.group_commit import GroupCommit
from api.intake_batch import InboxEvent, inbox_writer, store_events, store_events_in_transaction
from core.settings import Settings
from db.autocommit import AutocommitConnections
from db.models import StripeEvent, Task
from db.session import Database
from orchestrator.loop_redis import LoopRedis
from orchestrator.outbox import submit, use_transport
from orchestrator.transport import StreamTransport
from tests.support.processes import free_port


def inbox_event(event_id: str, *, created: int = 1_700_000_000) -> InboxEvent:
    payload = json.dumps({"id": event_id, "type": "invoice.paid", "created": created})
    return InboxEvent(event_id, "invoice.paid", created, False, None, payload)


@pytest.fixture
def writer(database: Database, redis_client: redis.Redis) -> GroupCommit[InboxEvent, bool]:
    return inbox_writer(database, LoopRedis(redis_client), max_attempts=3)


def deliver(writer: GroupCommit[InboxEvent, bool], events: list[InboxEvent]) -> list[bool]:
    """The events delivered at once (one batch while none is in flight); their answers."""

    async def together() -> list[bool]:
        return list(await asyncio.gather(*(writer.submit(e) for e in events)))

    return asyncio.run(together())


def counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        events = session.scalar(select(func.count()).select_from(StripeEvent))
        tasks = session.scalar(select(func.count()).select_from(Task))
    return int(events or 0), int(tasks or 0)


def test_one_batch_stores_new_events_and_skips_every_duplicate(
    database: Database,
    transport: StreamTransport,
    redis_client: redis.Redis,
    writer: GroupCommit[InboxEvent, bool],
) -> None:
    assert deliver(writer, [inbox_event("evt_old")]) == [True]

    answers = deliver(
        writer,
        [inbox_event("evt_a"), inbox_event("evt_old"), inbox_event("evt_b"), inbox_event("evt_a")],
    )

    assert answers == [True, False, True, False]
    assert counts(database) == (3, 3)
    with database.transaction() as session:
        keys = set(session.scalars(select(Task.dedupe_key)))
        assert {t.max_attempts for t in session.scalars(select(Task))} == {3}
    assert keys == {"stripe-event:evt_old", "stripe-event:evt_a", "stripe-event:evt_b"}
    assert redis_client.xlen(transport.stream("billing")) == 3  # published after commit


def row_shape(row: Any, *differing: str) -> dict[str, Any]:
    """A row's columns, with times reduced to whether they are set and `differing` left out."""
    values = {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in differing}
    return {k: (v is not None if isinstance(v, datetime) else v) for k, v in values.items()}


def test_the_single_statement_writes_the_rows_the_orm_path_writes(
    database: Database, transport: StreamTransport, redis_client: redis.Redis
) -> None:
    if database.dialect != "postgresql":
        pytest.skip("the single-statement store is PostgreSQL's")
    connections = AutocommitConnections(database.url)
    stored = store_events(
        connections, LoopRedis(redis_client), [inbox_event("evt_sql")], max_attempts=4
    )
    assert asyncio.run(stored) == {"evt_sql"}
    store_events_in_transaction(database, [asdict(inbox_event("evt_orm"))], max_attempts=4)

    with database.transaction() as session:
        by_sql, by_orm = (session.get_one(StripeEvent, i) for i in ("evt_sql", "evt_orm"))
        assert row_shape(by_sql, "id", "payload") == row_shape(by_orm, "id", "payload")
        assert by_sql.payload == inbox_event("evt_sql").payload
        tasks = {t.payload["event_id"]: t for t in session.scalars(select(Task))}
        assert row_shape(tasks["evt_sql"], "id", "payload", "dedupe_key") == row_shape(
            tasks["evt_orm"], "id", "payload", "dedupe_key"
        )
        assert tasks["evt_sql"].payload == {"event_id": "evt_sql"}
        assert tasks["evt_sql"].dedupe_key == "stripe-event:evt_sql"
    assert redis_client.xlen(transport.stream("billing")) == 2


def test_an_event_whose_task_exists_is_stored_and_queues_nothing_new(
    database: Database, transport: StreamTransport, writer: GroupCommit[InboxEvent, bool]
) -> None:
    with database.transaction() as session:  # e.g. the inbox row was purged, its task kept
        submit(session, "stripe.event", {"event_id": "evt_k"}, dedupe_key="stripe-event:evt_k")

    assert deliver(writer, [inbox_event("evt_k")]) == [True]
    assert counts(database) == (1, 1)


def test_concurrent_webhooks_share_writes_and_each_gets_its_own_answer(
    database: Database,
    transport: StreamTransport,
    writer: GroupCommit[InboxEvent, bool],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batches = _count_batches(monkeypatch)
    events = [inbox_event(f"evt_{n}") for n in range(200)] + [inbox_event("evt_7")]

    answers = deliver(writer, events)

    assert answers[:200] == [True] * 200
    assert answers[200] is False  # the same id again, in the same burst: a duplicate
    assert counts(database) == (200, 200)
    assert sum(batches) in (200, 201)  # every delivery, or (the ORM path's) each distinct id
    assert len(batches) <= 3  # one statement or transaction per batch, not per webhook


def _count_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each batch written, by either path."""
    batches: list[int] = []
    one_statement, in_transaction = store_events, store_events_in_transaction

    async def counted_statement(
        connections: Any, redis: Any, events: list[InboxEvent], **options: Any
    ) -> set[str]:
        batches.append(len(events))
        return await one_statement(connections, redis, events, **options)

    def counted_transaction(database: Database, rows: list[Any], **options: Any) -> set[str]:
        batches.append(len(rows))
        return in_transaction(database, rows, **options)

    monkeypatch.setattr(intake_batch, "store_events", counted_statement)
    monkeypatch.setattr(intake_batch, "store_events_in_transaction", counted_transaction)
    return batches


def test_a_poisoned_batch_is_retried_event_by_event(
    database: Database, writer: GroupCommit[InboxEvent, bool]
) -> None:
    too_big = inbox_event("evt_bad", created=2**70)  # overflows BIGINT: the INSERT fails
    events = [inbox_event("evt_1"), too_big, inbox_event("evt_2")]

    async def deliver_all() -> list[bool | BaseException]:
        stores = (writer.submit(e) for e in events)
        return list(await asyncio.gather(*stores, return_exceptions=True))

    answers = asyncio.run(deliver_all())

    assert answers[0] is True and answers[2] is True
    assert isinstance(answers[1], Exception)  # answered 500: Stripe delivers it again
    assert counts(database) == (2, 2)


@pytest.mark.parametrize("copies", [2, 5])
def test_a_lone_event_is_stored_at_once_and_copies_are_duplicates(
    database: Database, writer: GroupCommit[InboxEvent, bool], copies: int
) -> None:
    async def deliver_copies() -> list[bool]:
        first = await writer.submit(inbox_event("evt_x"))
        later = [await writer.submit(inbox_event("evt_x")) for _ in range(copies - 1)]
        return [first, *later]

    assert asyncio.run(deliver_copies()) == [True] + [False] * (copies - 1)
    assert counts(database) == (1, 1)


def test_with_redis_down_events_are_stored_and_answered_and_the_relay_publishes_them(
    database: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis is the fast path: a failed publish is logged and the committed task waits for the
    relay (it is marked published when written, and the relay re-sends what was not acked)."""
    unreachable = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=2)
    use_transport(StreamTransport(unreachable, settings.redis_prefix))
    try:
        writer = inbox_writer(database, LoopRedis(unreachable), max_attempts=3)
        answers = deliver(writer, [inbox_event("evt_r1"), inbox_event("evt_r2")])
    finally:
        use_transport(None)

    assert answers == [True, True]
    assert counts(database) == (2, 2)
    assert "publish of 2 task(s) failed; the relay will retry" in caplog.text
