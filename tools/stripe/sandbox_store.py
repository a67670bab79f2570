"""The offline sandbox's storage: one SQLite file of Stripe objects, idempotency keys and events.

Each call-area mixin (refunds, subscriptions, coupons...) builds on `SandboxStore`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from tools.stripe.gateway import StripeRequestError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    resource TEXT NOT NULL,
    id TEXT NOT NULL,
    charge TEXT,
    body TEXT NOT NULL,
    UNIQUE (resource, id)
);
CREATE INDEX IF NOT EXISTS objects_by_charge ON objects (resource, charge);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_created ON events (created, seq);
"""
_BUSY_TIMEOUT_SECONDS = 30.0


class SandboxStore:
    """Objects by resource and id, replayable outcomes by idempotency key, recorded events."""

    label = "offline sandbox (no real money moves)"

    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    # Seeding API (the demo and tests put the objects Moneta will look up).

    def put(self, resource: str, obj: dict[str, Any]) -> None:
        """Store (or replace) `obj` as Stripe's `resource` with id `obj["id"]`."""
        with self._write() as db:
            store(db, resource, obj)

    def get(self, resource: str, object_id: str) -> dict[str, Any] | None:
        with self._connect() as db:
            return load(db, resource, object_id)

    def record_event(self, event: dict[str, Any]) -> None:
        """Record an event for `list_events`; an event id already recorded is kept as it was."""
        with self._write() as db:
            insert_event(db, event)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(
            sqlite3.connect(self._path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None)
        ) as db:
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: writers queue on the file lock, readers carry on (WAL)."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")


def earlier_outcome(db: sqlite3.Connection, key: str, request: str) -> dict[str, Any] | None:
    """The stored outcome of `key`, None if unused; Stripe's error when the request differs."""
    row = db.execute(
        "SELECT request, outcome FROM idempotency_keys WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    if row[0] != request:
        raise StripeRequestError(
            "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with.",
            code="idempotency_error",
        )
    return json.loads(row[1])  # type: ignore[no-any-return]


def store(db: sqlite3.Connection, resource: str, obj: dict[str, Any]) -> None:
    charge = obj.get("charge") if resource == "refund" else None
    db.execute(
        "INSERT INTO objects (resource, id, charge, body) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (resource, id) DO UPDATE SET charge = excluded.charge, body = excluded.body",
        (resource, obj["id"], charge, json.dumps(obj)),
    )


def insert_event(db: sqlite3.Connection, event: dict[str, Any]) -> None:
    db.execute(
        "INSERT INTO events (id, created, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
        (event["id"], int(event["created"]), json.dumps(event)),
    )


def load(db: sqlite3.Connection, resource: str, object_id: str) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT body FROM objects WHERE resource = ? AND id = ?", (resource, object_id)
    ).fetchone()
    return json.loads(row[0]) if row else None
