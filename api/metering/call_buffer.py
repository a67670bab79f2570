"""Successful API calls counted in memory and written to metering in bulk.

Per (customer, minute) one counter; a background thread writes them every interval, or
sooner once enough calls are waiting, as `api_calls` usage events in one INSERT. Each flush
has its own idempotency keys, so a flush retried after an error cannot count twice.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.clock import utcnow
from db.repositories.metering import insert_usage_events
from db.session import Database
from orchestrator.access.api_keys import API_CALLS

log = logging.getLogger(__name__)


class ApiCallRecorder:
    """Thread-safe call counter with a flusher thread started on the first call."""

    def __init__(self, database: Database, *, interval_ms: int, max_calls: int) -> None:
        self._database = database
        self._interval = interval_ms / 1000
        self._max_calls = max_calls
        self._instance = uuid.uuid4().hex[:12]
        self._lock = threading.Lock()
        self._pending: Counter[tuple[int, datetime]] = Counter()
        self._waiting = 0
        self._flushes = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, customer_id: int) -> None:
        minute = utcnow().replace(second=0, microsecond=0)
        with self._lock:
            self._pending[(customer_id, minute)] += 1
            self._waiting += 1
            full = self._waiting >= self._max_calls
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="api-call-flusher", daemon=True
                )
                self._thread.start()
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write what is waiting; on failure it stays waiting for the next flush."""
        with self._lock:
            batch, self._pending = self._pending, Counter()
            self._waiting = 0
            self._flushes += 1
            flush_id = f"{self._instance}:{self._flushes}"
        if not batch:
            return 0
        try:
            with self._database.transaction() as session:
                insert_usage_events(session, _rows(batch, flush_id))
        except Exception:
            log.warning(
                "writing %d API-call counters failed; will retry", len(batch), exc_info=True
            )
            with self._lock:
                self._pending.update(batch)
                self._waiting += sum(batch.values())
            return 0
        return sum(batch.values())

    def close(self) -> None:
        """Stop the flusher and write the rest (at shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if not self._stop.is_set():
                self.flush()


def _rows(batch: Counter[tuple[int, datetime]], flush_id: str) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "customer_id": customer_id,
            "metric": API_CALLS,
            "quantity": Decimal(calls),
            "occurred_at": minute,
            "idempotency_key": f"api_calls:{flush_id}:{minute:%Y%m%d%H%M}",
            "properties": {},
            "received_at": now,
        }
        for (customer_id, minute), calls in batch.items()
    ]
