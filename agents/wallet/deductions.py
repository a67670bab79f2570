"""Deductions in batches: callers queue, one writer thread settles many at once.

Callers join the open batch and wait on its one event (cheaper for the writer than a future
per debit); a busy writer lingers briefly until as many callers as recent batches had
have joined, so callers woken together are settled together.

Per batch, in order: one pipelined Lua call per customer reserves against the cached balances
(a missing cache is rebuilt from the database, then reserved again); the reserved debits are
written together (`batching.write_together`); a replayed key, and a request the cache found
short but the database may still cover, take the single-debit path; reservations the database
refused are released in one round trip. The database's conditional update decides every debit,
so Redis can be flushed at any time and nothing is overspent.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from agents.wallet import ledger
from agents.wallet.batching import Debit, GuardFailed, write_alone, write_together
from agents.wallet.reservation import MISS, SEEN, SHORT, BalanceReservations
from db.session import Database

MAX_BATCH = 500
# A busy writer waits at most this long for as many callers as its last batch had: callers
# woken by one batch queue their next debit within it, and one batch costs far less than two.
LINGER_SECONDS = 0.002

Outcome = str | Exception
"""DEDUCTED, DUPLICATE or INSUFFICIENT, or what went wrong for this debit"""


class _Batch:
    """Debits settled together; their callers wait on one event, not one future each."""

    def __init__(self) -> None:
        self.debits: list[Debit] = []
        self.outcomes: list[Outcome] = []
        self.settled = threading.Event()


class DeductionQueue:
    """Thread-safe; `deduct_many` blocks until its debits' transactions have committed."""

    def __init__(self, database: Database, reservations: BalanceReservations) -> None:
        self.database = database
        self.reservations = reservations
        self._arrived = threading.Condition()
        self._batches: deque[_Batch] = deque()
        self._expected = 1  # callers the recent batches had
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def deduct_many(self, debits: list[Debit]) -> list[Outcome]:
        """Each debit's outcome, in order, once its batch has committed: a caller with many
        debits (a batch of access checks) waits for one batch, not one per debit."""
        if not debits:
            return []
        self._ensure_writer()
        joined: list[tuple[_Batch, int]] = []
        with self._arrived:
            for debit in debits:
                if not self._batches or len(self._batches[-1].debits) >= MAX_BATCH:
                    self._batches.append(_Batch())
                batch = self._batches[-1]
                joined.append((batch, len(batch.debits)))
                batch.debits.append(debit)
            if any(index == 0 for _, index in joined) or joined[-1][1] + 1 >= self._expected:
                self._arrived.notify()
        outcomes = []
        for batch, index in joined:
            batch.settled.wait()
            outcomes.append(batch.outcomes[index])
        return outcomes

    def close(self) -> None:
        """Stop the writer once what is queued is settled."""
        if self._thread is not None:
            with self._arrived:
                self._stopping = True
                self._arrived.notify()
            self._thread.join(10)
            self._thread = None
            self._stopping = False

    def _ensure_writer(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._settle_forever, name="wallet-deductions", daemon=True
                    )
                    self._thread.start()

    def _settle_forever(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                batch.outcomes = self._settle(batch.debits)
            except Exception as error:  # Redis or the database failed: every caller hears it
                batch.outcomes = [error] * len(batch.debits)
            batch.settled.set()

    def _next_batch(self) -> _Batch | None:
        """The oldest batch once it holds as many debits as recent ones had (or lingered long
        enough); None when stopping with nothing queued."""
        with self._arrived:
            while not self._batches and not self._stopping:
                self._arrived.wait()
            if not self._batches:
                return None
            deadline = time.monotonic() + LINGER_SECONDS
            while (
                len(self._batches) == 1
                and len(self._batches[0].debits) < self._expected
                and not self._stopping
                and (left := deadline - time.monotonic()) > 0
            ):
                self._arrived.wait(left)
            batch = self._batches.popleft()
            # Remembered with decay: two halves of the callers alternating would each meet a
            # plain "as many as last time" and never merge back into one batch.
            self._expected = max(len(batch.debits), self._expected * 3 // 4)
            return batch

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
        with self.database.read() as session:  # one statement: no transaction needed
            stored = ledger.customer_balances(session, customer_ids)
        for customer_id in customer_ids:
            balance = stored.get(customer_id)
            found[customer_id] = (
                balance if balance is not None else ledger.unknown_customer(customer_id)
            )
        return found


def _below(stored: int | Exception, tokens: int) -> bool:
    return isinstance(stored, Exception) or stored < tokens


def _insufficient_or_error(stored: int | Exception) -> Outcome:
    return stored if isinstance(stored, Exception) else ledger.INSUFFICIENT
