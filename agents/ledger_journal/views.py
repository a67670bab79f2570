"""Journal entries as JSON-ready data: one shape for the CLI's --json and the REST API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agents.ledger_journal.writer import postings_of
from db.models import JournalEntry


def entry_view(session: Session, entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "dedupe_key": entry.dedupe_key,
        "reverses_entry_id": entry.reverses_entry_id,
        "memo": entry.memo,
        "data": entry.data,
        "occurred_at": entry.occurred_at.isoformat(),
        "postings": [
            {"account": p.account, "party": p.party, "currency": p.currency, "amount": p.amount}
            for p in postings_of(session, entry.id)
        ],
    }
