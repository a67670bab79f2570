"""Deductions in batches: callers queue, one writer thread settles many at once.

Per batch, in order: one pipelined Lua call per customer reserves against the cached balances
(a missing cache is rebuilt from the database, then reserved again); the reserved debits are
written together (`batching.write_together`); a replayed key, and a request the cache found
short but the database may still cover, take the single-debit path; reservations the database
refused are released in one round trip. The database's conditional update decides every debit,
so Redis can be flushed at any time and nothing is overspent.
"""

from __future__ import annotations

import queue
import threading
from collections import defaultdict
from concurrent.futures import Future
from dataclasses import dataclass, field

from agents.wallet import ledger
from agents.wallet.batching import Debit, GuardFailed, write_alone, write_together
from agents.wallet.reservation import MISS, SEEN, SHORT, BalanceReservations
from core.errors import NotFound
from db.models import Customer
from db.session import Database

MAX_BATCH = 500

Outcome = str | Exception
"""DEDUCTED, DUPLICATE or INSUFFICIENT, or what went wrong for this debit"""


@dataclass
class _Queued:
    debit: Debit
    outcome: Future[str] = field(default_factory=Future)


_STOP = _Queued(Debit(0, 0, "", ""))


class DeductionQueue:
    """Thread-safe; `deduct` blocks until its debit's transaction has committed."""

    def __init__(self, database: Database, reservations: BalanceReservations) -> None:
        self.database = database
        self.reservations = reservations
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def deduct(self, debit: Debit) -> str:
        self._ensure_writer()
        queued = _Queued(debit)
        self._queue.put(queued)
        return queued.outcome.result()

    def close(self) -> None:
        """Stop the writer once what is queued is settled."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(10)
            self._thread = None

    def _ensure_writer(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._settle_forever, name="wallet-deductions", daemon=True
                    )
                    self._thread.start()

    def _settle_forever(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stopping = batch[-1] is _STOP
            work = [queued for queued in batch if queued is not _STOP]
            if work:
                try:
                    outcomes = self._settle([queued.debit for queued in work])
                except Exception as error:  # Redis or the database failed: every caller hears it
                    outcomes = [error] * len(work)
                for queued, outcome in zip(work, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        queued.outcome.set_exception(outcome)
                    else:
                        queued.outcome.set_result(outcome)
            if stopping:
                return

    def _settle(self, debits: list[Debit]) -> list[Outcome]:
        held = self._reserve(debits)
        outcomes: dict[int, Outcome] = {}
        reserved = [i for i, hold in enumerate(held) if isinstance(hold, int) and hold >= 0]
        written = self._write_reserved([debits[i] for i in reserved])
        outcomes.update(zip(reserved, written, strict=True))
        short = {debits[i].customer_id for i, hold in enumerate(held) if hold == SHORT}
        stored = self._stored_balances(short)  # after the reserved debits committed
        stale: set[int] = set()
        for i, debit in enumerate(debits):
            hold = held[i]
            if i in outcomes:
                continue
            if isinstance(hold, Exception):
                outcomes[i] = hold
            elif hold == SHORT and _below(stored[debit.customer_id], debit.tokens):
                outcomes[i] = _insufficient_or_error(stored[debit.customer_id])
            else:  # SEEN: the database replays it; SHORT or MISS: Redis was behind
                if hold != SEEN:
                    stale.add(debit.customer_id)
                outcomes[i] = self._write_alone(debit)
        refused = [i for i in reserved if outcomes[i] != ledger.DEDUCTED]
        if refused:
            asks = [(debits[i].customer_id, (debits[i].tokens, debits[i].key)) for i in refused]
            self.reservations.release_many(asks)
            stale |= {debits[i].customer_id for i in refused if outcomes[i] == ledger.INSUFFICIENT}
        self.reservations.forget(stale)
        return [outcomes[i] for i in range(len(debits))]

    def _reserve(self, debits: list[Debit]) -> list[int | Exception]:
        """What Redis held for each debit: the balance left, SEEN or SHORT; a MISS is rebuilt
        and asked again (still MISS, e.g. flushed meanwhile: the database alone decides)."""
        positions: dict[int, list[int]] = defaultdict(list)
        for i, debit in enumerate(debits):
            positions[debit.customer_id].append(i)
        held: list[int | Exception] = [MISS] * len(debits)

        def ask(customers: list[int]) -> None:
            asks = {c: [(debits[i].tokens, debits[i].key) for i in positions[c]] for c in customers}
            for customer_id, answers in self.reservations.reserve_many(asks).items():
                for i, answer in zip(positions[customer_id], answers, strict=True):
                    held[i] = answer

        ask(list(positions))
        missing = [c for c in positions if held[positions[c][0]] == MISS]
        for customer_id, balance in self._stored_balances(set(missing)).items():
            if isinstance(balance, Exception):
                for i in positions[customer_id]:
                    held[i] = balance
            else:
                self.reservations.rebuild(customer_id, balance)
        ask([c for c in missing if not isinstance(held[positions[c][0]], Exception)])
        return held

    def _write_reserved(self, debits: list[Debit]) -> list[Outcome]:
        if not debits:
            return []
        try:
            return list(write_together(self.database, debits))
        except GuardFailed:
            return [self._write_alone(debit) for debit in debits]

    def _write_alone(self, debit: Debit) -> Outcome:
        try:
            return write_alone(self.database, debit)
        except Exception as error:  # this debit's caller hears it; the others are settled
            return error

    def _stored_balances(self, customer_ids: set[int]) -> dict[int, int | Exception]:
        found: dict[int, int | Exception] = {}
        if not customer_ids:
            return found
        with self.database.transaction() as session:
            for customer_id in sorted(customer_ids):
                if session.get(Customer, customer_id) is None:
                    found[customer_id] = NotFound(
                        f"no customer {customer_id}", code="unknown_customer"
                    )
                else:
                    found[customer_id] = ledger.balance_of(session, customer_id)
        return found


def _below(stored: int | Exception, tokens: int) -> bool:
    return isinstance(stored, Exception) or stored < tokens


def _insufficient_or_error(stored: int | Exception) -> Outcome:
    return stored if isinstance(stored, Exception) else ledger.INSUFFICIENT
