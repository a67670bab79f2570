"""Keep the leases of running tasks alive, so a slow task (a Stripe call with retries) is not
taken over by another worker while its owner is still working on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import and_, or_, update

from core.clock import utcnow
from db.models import Task, TaskStatus
from db.session import Database
from db.statements import affected_rows

log = logging.getLogger(__name__)


class LeaseKeeper:
    """One thread per worker process renews every in-flight task's lease in one UPDATE."""

    def __init__(self, database: Database, lease_seconds: float) -> None:
        self.database = database
        self.lease_seconds = lease_seconds
        self._in_flight: dict[int, str] = {}
        self._lock = threading.Lock()

    @contextmanager
    def track(self, task_id: int, owner: str) -> Iterator[None]:
        with self._lock:
            self._in_flight[task_id] = owner
        try:
            yield
        finally:
            with self._lock:
                self._in_flight.pop(task_id, None)

    def renew_once(self) -> int:
        """Extend the lease of every tracked task still running under its owner."""
        with self._lock:
            tracked = list(self._in_flight.items())
        if not tracked:
            return 0
        owned = or_(*(and_(Task.id == tid, Task.lease_owner == owner) for tid, owner in tracked))
        with self.database.transaction() as session:
            renewed = affected_rows(
                session.execute(
                    update(Task)
                    .where(Task.status == TaskStatus.RUNNING, owned)
                    .values(lease_until=utcnow() + timedelta(seconds=self.lease_seconds))
                )
            )
        return renewed

    def run(self, stop: threading.Event) -> None:
        """Renew every third of a lease until `stop` is set."""
        while not stop.wait(self.lease_seconds / 3):
            try:
                self.renew_once()
            except Exception:  # a missed renewal only risks a redundant takeover
                log.warning("lease renewal failed; will retry", exc_info=True)
