"""Group commit of reserved deductions: many callers' debits written in one transaction.

Callers whose tokens Redis already reserved hand their debit to one writer thread and wait.
The writer takes everything queued, inserts the debits in one statement (conflict-ignore on
the idempotency key) and takes each customer's total from the balance with one conditional
UPDATE. If any customer's total no longer fits (Redis was behind), that batch is rolled back
and redone one debit at a time, so the guard is exactly the single-debit one.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite

from agents.wallet import ledger
from agents.wallet.rules import CONSUME
from core.clock import utcnow
from db.models import WalletAccount, WalletDebit
from db.session import Database
from db.statements import affected_rows

MAX_BATCH = 500


class _GuardFailed(Exception):
    """A customer's batch total no longer fits the balance: redo the batch item by item."""


@dataclass
class _Debit:
    customer_id: int
    tokens: int
    feature: str
    key: str
    outcome: Future[str] = field(default_factory=Future)


_STOP = _Debit(0, 0, "", "")


class DebitBatcher:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._queue: queue.SimpleQueue[_Debit] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def consume(self, customer_id: int, tokens: int, feature: str, key: str) -> str:
        """DEDUCTED, DUPLICATE or INSUFFICIENT, once the debit's transaction has committed."""
        self._ensure_writer()
        debit = _Debit(customer_id, tokens, feature, key)
        self._queue.put(debit)
        return debit.outcome.result()

    def _ensure_writer(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._write_forever, name="wallet-debits", daemon=True
                    )
                    self._thread.start()

    def close(self) -> None:
        """Stop the writer once what is queued is written."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(10)
            self._thread = None

    def _write_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = batch[-1] is _STOP
            debits = [d for d in batch if d is not _STOP]
            if debits:
                self._write(debits)
            if stopping:
                return

    def _write(self, batch: list[_Debit]) -> None:
        try:
            try:
                outcomes = self._write_together(batch)
            except _GuardFailed:
                outcomes = [self._write_alone(debit) for debit in batch]
        except Exception as error:  # the database failed: every caller hears it
            for debit in batch:
                debit.outcome.set_exception(error)
            return
        for debit, outcome in zip(batch, outcomes, strict=True):
            debit.outcome.set_result(outcome)

    def _write_together(self, batch: list[_Debit]) -> list[str]:
        now = utcnow()
        rows = [
            {
                "customer_id": d.customer_id,
                "tokens": d.tokens,
                "kind": CONSUME,
                "feature": d.feature,
                "idempotency_key": d.key,
                "created_at": now,
            }
            for d in batch
        ]
        with self.database.transaction() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            inserted = set(
                session.scalars(
                    dialect.insert(WalletDebit)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .returning(WalletDebit.idempotency_key)
                )
            )
            totals: dict[int, int] = defaultdict(int)
            outcomes = []
            for debit in batch:
                first = debit.key in inserted
                inserted.discard(debit.key)  # a twin later in the batch is its duplicate
                outcomes.append(ledger.DEDUCTED if first else ledger.DUPLICATE)
                if first:
                    totals[debit.customer_id] += debit.tokens
            for customer_id, total in sorted(totals.items()):
                taken = session.execute(
                    update(WalletAccount)
                    .where(
                        WalletAccount.customer_id == customer_id,
                        WalletAccount.balance >= total,
                        or_(
                            WalletAccount.next_expiry_at.is_(None),
                            WalletAccount.next_expiry_at > now,
                        ),
                    )
                    .values(balance=WalletAccount.balance - total, updated_at=now)
                )
                if affected_rows(taken) != 1:
                    raise _GuardFailed(customer_id)
        return outcomes

    def _write_alone(self, debit: _Debit) -> str:
        with self.database.transaction() as session:
            return ledger.consume(
                session, debit.customer_id, debit.tokens, debit.feature, debit.key, utcnow()
            )
