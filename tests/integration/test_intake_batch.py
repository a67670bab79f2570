"""Group-committed webhook intake (`api.group_commit`): batches, duplicates inside a batch,
a poisoned batch."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.event import listen

from api.intake_batch import InboxEvent, inbox_writer, store_events
from db.models import StripeEvent, Task
from db.session import Database
from orchestrator.transport import StreamTransport


def inbox_event(event_id: str, *, created: int = 1_700_000_000) -> InboxEvent:
    payload = json.dumps({"id": event_id, "type": "invoice.paid", "created": created})
    return InboxEvent(event_id, "invoice.paid", created, False, None, payload)


def counts(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        events = session.scalar(select(func.count()).select_from(StripeEvent))
        tasks = session.scalar(select(func.count()).select_from(Task))
    return int(events or 0), int(tasks or 0)


def test_one_transaction_stores_new_events_and_skips_every_duplicate(
    database: Database, transport: StreamTransport, redis_client: redis.Redis
) -> None:
    store_events(database, [inbox_event("evt_old")], max_attempts=3)

    new = store_events(
        database,
        [inbox_event("evt_a"), inbox_event("evt_old"), inbox_event("evt_b"), inbox_event("evt_a")],
        max_attempts=3,
    )

    assert new == {"evt_a", "evt_b"}
    assert counts(database) == (3, 3)
    with database.transaction() as session:
        keys = set(session.scalars(select(Task.dedupe_key)))
        assert {t.max_attempts for t in session.scalars(select(Task))} == {3}
    assert keys == {"stripe-event:evt_old", "stripe-event:evt_a", "stripe-event:evt_b"}
    assert redis_client.xlen(transport.stream("billing")) == 3  # published after commit


def test_concurrent_webhooks_share_commits_and_each_gets_its_own_answer(
    database: Database, transport: StreamTransport
) -> None:
    batcher = inbox_writer(database, max_attempts=5)
    events = [inbox_event(f"evt_{n}") for n in range(200)] + [inbox_event("evt_7")]
    commits: list[int] = []
    listen(database.engine, "commit", lambda _conn: commits.append(1))

    async def deliver_all() -> list[bool]:
        return list(await asyncio.gather(*(batcher.submit(e) for e in events)))

    answers = asyncio.run(deliver_all())

    assert answers[:200] == [True] * 200
    assert answers[200] is False  # the same id again, in the same burst: a duplicate
    assert counts(database) == (200, 200)
    assert len(commits) <= 10  # about 201 / MAX_BATCH + FLUSHERS, not one per webhook


def test_a_poisoned_batch_is_retried_event_by_event(database: Database) -> None:
    batcher = inbox_writer(database, max_attempts=5)
    too_big = inbox_event("evt_bad", created=2**70)  # overflows BIGINT: the INSERT fails
    events = [inbox_event("evt_1"), too_big, inbox_event("evt_2")]

    async def deliver_all() -> list[bool | BaseException]:
        stores = (batcher.submit(e) for e in events)
        return list(await asyncio.gather(*stores, return_exceptions=True))

    answers = asyncio.run(deliver_all())

    assert answers[0] is True and answers[2] is True
    assert isinstance(answers[1], Exception)  # answered 500: Stripe delivers it again
    assert counts(database) == (2, 2)


@pytest.mark.parametrize("copies", [2, 5])
def test_a_lone_event_is_stored_at_once_and_copies_are_duplicates(
    database: Database, copies: int
) -> None:
    batcher = inbox_writer(database, max_attempts=5)

    async def deliver_copies() -> list[bool]:
        first = await batcher.submit(inbox_event("evt_x"))
        later = [await batcher.submit(inbox_event("evt_x")) for _ in range(copies - 1)]
        return [first, *later]

    assert asyncio.run(deliver_copies()) == [True] + [False] * (copies - 1)
    assert counts(database) == (1, 1)
