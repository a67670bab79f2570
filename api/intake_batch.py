"""The webhook inbox write: events stored in batches (`api.group_commit`), one task each."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from api.group_commit import GroupCommit
from db.models import StripeEvent
from db.session import Database
from db.statements import insert_ignore_many
from orchestrator.outbox import submit_many


@dataclass(frozen=True)
class InboxEvent:
    """The envelope fields the inbox keeps, plus the raw payload exactly as verified."""

    id: str
    type: str
    created: int
    livemode: bool
    api_version: str | None
    payload: str


def store_events(database: Database, events: list[InboxEvent], *, max_attempts: int) -> set[str]:
    """Inbox rows and their billing tasks in one transaction; the ids that were new.

    An id seen earlier in `events` or already in the inbox is a duplicate and queues nothing.
    """
    first: dict[str, InboxEvent] = {}
    for event in events:
        first.setdefault(event.id, event)
    rows = [asdict(event) for event in first.values()]
    with database.transaction() as session:
        new = insert_ignore_many(session, StripeEvent, rows, "id")
        submit_many(
            session,
            "stripe.event",
            {f"stripe-event:{event_id}": {"event_id": event_id} for event_id in new},
            max_attempts=max_attempts,
        )
    return set(new)


def inbox_writer(database: Database, *, max_attempts: int) -> GroupCommit[InboxEvent, bool]:
    """Answers True for an event stored as new; False for a duplicate, including a second
    copy of an id within the same batch."""

    def write(events: list[InboxEvent]) -> list[bool]:
        new = store_events(database, events, max_attempts=max_attempts)
        answered: set[str] = set()
        flags = []
        for event in events:
            flags.append(event.id in new and event.id not in answered)
            answered.add(event.id)
        return flags

    return GroupCommit(write)
