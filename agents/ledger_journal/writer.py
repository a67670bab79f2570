"""The one writer of the journal: an entry and its postings, in the caller's transaction.

Posting is idempotent by the draft's dedupe key (insert-or-ignore), so a handler run twice,
a task redelivered or a webhook replayed posts once. Rows are never updated: a correction is
`reverse()`, which appends the mirror image of an entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agents.ledger_journal.rules import EntryDraft, Posting, reversal
from core.clock import utcnow
from core.errors import Conflict, NotFound
from db.models import JournalEntry, JournalPosting
from db.statements import insert_ignore


def post(session: Session, draft: EntryDraft, *, occurred_at: datetime | None = None) -> int | None:
    """Append `draft`; its entry id, or None when an entry with its dedupe key exists."""
    at = occurred_at or utcnow()
    entry_id = insert_ignore(
        session,
        JournalEntry,
        {
            "kind": draft.kind,
            "dedupe_key": draft.dedupe_key,
            "reverses_entry_id": draft.reverses_entry_id,
            "memo": draft.memo,
            "data": draft.data,
            "occurred_at": at,
            "created_at": utcnow(),
        },
    )
    if entry_id is None:
        return None
    session.execute(
        insert(JournalPosting),
        [
            {
                "entry_id": entry_id,
                "account": str(p.account),
                "party": p.party,
                "currency": p.currency.lower(),
                "amount": p.amount,
                "occurred_at": at,
            }
            for p in draft.postings
        ],
    )
    return int(entry_id)


def entry_id_for(session: Session, dedupe_key: str) -> int | None:
    """The entry posted under `dedupe_key`, if any."""
    found = session.scalar(select(JournalEntry.id).where(JournalEntry.dedupe_key == dedupe_key))
    return None if found is None else int(found)


def is_reversed(session: Session, entry_id: int) -> bool:
    """Whether entry `entry_id` has been reversed (an entry is reversed at most once)."""
    found = session.scalar(
        select(JournalEntry.id).where(JournalEntry.reverses_entry_id == entry_id).limit(1)
    )
    return found is not None


def postings_of(session: Session, entry_id: int) -> list[Posting]:
    rows = session.scalars(
        select(JournalPosting)
        .where(JournalPosting.entry_id == entry_id)
        .order_by(JournalPosting.id)
    )
    return [Posting(r.account, r.party, r.currency, r.amount) for r in rows]


def reverse(session: Session, entry_id: int, *, dedupe_key: str, reason: str) -> int | None:
    """Append the reversal of `entry_id`; None if `dedupe_key` was posted already.

    Refuses to reverse a reversal, or an entry already reversed under another key.
    """
    entry = session.get(JournalEntry, entry_id)
    if entry is None:
        raise NotFound(f"no journal entry {entry_id}")
    if entry.reverses_entry_id is not None:
        raise Conflict(f"entry {entry_id} is itself a reversal", code="reversal_of_reversal")
    existing = session.scalar(
        select(JournalEntry.dedupe_key).where(JournalEntry.reverses_entry_id == entry_id)
    )
    if existing is not None:
        if existing == dedupe_key:
            return None
        raise Conflict(f"entry {entry_id} was reversed already ({existing})", code="reversed")
    draft = reversal(
        dedupe_key=dedupe_key,
        entry_id=entry_id,
        postings=postings_of(session, entry_id),
        reason=reason,
    )
    return post(session, draft)
