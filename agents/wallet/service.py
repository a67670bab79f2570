"""The in-process wallet API: `balance()` and `deduct()`, Redis first, the database deciding.

Deductions from every thread are settled in batches (`agents.wallet.deductions`)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from agents.wallet import ledger
from agents.wallet.batching import Debit
from agents.wallet.deductions import DeductionQueue
from agents.wallet.reservation import BalanceReservations
from core.clock import utcnow
from core.errors import InvalidInput
from core.settings import Settings
from db.session import Database

MAX_KEY_LENGTH = 200
# Tokens the access-policy engine charges for assets are booked under this feature.
ACCESS_FEATURE = "asset_access"


@dataclass(frozen=True)
class Deduction:
    """`status` is deducted, duplicate (the key was deducted before) or insufficient."""

    status: str
    customer_id: int
    feature: str
    tokens: int

    @property
    def ok(self) -> bool:
        return self.status in (ledger.DEDUCTED, ledger.DUPLICATE)


class TokenWallet:
    """Token balances of customers; safe to share between threads."""

    def __init__(self, database: Database, client: redis.Redis, settings: Settings) -> None:
        self.database = database
        self.settings = settings
        self.features = frozenset(settings.wallet_feature_list) | {ACCESS_FEATURE}
        self.reservations = BalanceReservations(client, settings.redis_prefix)
        self.deductions = DeductionQueue(database, self.reservations)

    def close(self) -> None:
        self.deductions.close()

    def balance(self, customer_id: int) -> int:
        """Tokens the customer can spend now (lapsed grants swept first)."""
        with self.database.transaction() as session:
            ledger.sweep_expired(session, customer_id, utcnow())
            return ledger.balance_of(session, customer_id)

    def deduct(
        self, customer_id: int, feature: str, tokens: int, idempotency_key: str
    ) -> Deduction:
        """Take `tokens` for `feature` at most once per key; never below zero."""
        (taken,) = self.deduct_many([Debit(customer_id, tokens, feature, idempotency_key)])
        if isinstance(taken, Exception):
            raise taken
        return taken

    def deduct_many(self, debits: list[Debit]) -> list[Deduction | Exception]:
        """`deduct` for each debit, settled together (one wait for the caller); what went
        wrong for one debit (a bad feature, the database) is its answer, not the others'."""
        refused: dict[int, Exception] = {}
        for i, debit in enumerate(debits):
            try:
                self._check(debit.feature, debit.tokens, debit.key)
            except InvalidInput as error:
                refused[i] = error
        settled = iter(
            self.deductions.deduct_many([d for i, d in enumerate(debits) if i not in refused])
        )
        answers: list[Deduction | Exception] = []
        for i, debit in enumerate(debits):
            outcome = refused[i] if i in refused else next(settled)
            answers.append(
                outcome
                if isinstance(outcome, Exception)
                else Deduction(outcome, debit.customer_id, debit.feature, debit.tokens)
            )
        return answers

    def _check(self, feature: str, tokens: int, idempotency_key: str) -> None:
        if feature not in self.features:
            known = ", ".join(sorted(self.features))
            raise InvalidInput(f"unknown feature {feature!r}; one of {known}", code="bad_feature")
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens <= 0:
            raise InvalidInput(
                f"tokens must be a positive integer, got {tokens!r}", code="bad_tokens"
            )
        if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
            raise InvalidInput(
                f"an idempotency key of 1 to {MAX_KEY_LENGTH} characters is required",
                code="idempotency_key_required",
            )
