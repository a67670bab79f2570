"""The in-process wallet API: `balance()` and `deduct()`, Redis first, the database deciding."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from agents.wallet import ledger
from agents.wallet.batching import DebitBatcher
from agents.wallet.reservation import MISS, SEEN, SHORT, BalanceReservations
from core.clock import utcnow
from core.errors import InvalidInput, NotFound
from core.settings import Settings
from db.models import Customer
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
        self.batcher = DebitBatcher(database)

    def close(self) -> None:
        self.batcher.close()

    def balance(self, customer_id: int) -> int:
        """Tokens the customer can spend now (lapsed grants swept first)."""
        with self.database.transaction() as session:
            ledger.sweep_expired(session, customer_id, utcnow())
            return ledger.balance_of(session, customer_id)

    def deduct(
        self, customer_id: int, feature: str, tokens: int, idempotency_key: str
    ) -> Deduction:
        """Take `tokens` for `feature` at most once per key; never below zero."""
        self._check(feature, tokens, idempotency_key)
        held = self.reservations.reserve(customer_id, tokens, idempotency_key)
        if held == MISS:
            self.reservations.rebuild(customer_id, self._stored_balance(customer_id))
            held = self.reservations.reserve(customer_id, tokens, idempotency_key)
        if held == SHORT and self._stored_balance(customer_id) < tokens:
            return Deduction(ledger.INSUFFICIENT, customer_id, feature, tokens)
        reserved = held >= 0
        if not reserved and held != SEEN:
            self.reservations.forget(customer_id)  # short in Redis, enough in the database
        if reserved:
            status = self.batcher.consume(customer_id, tokens, feature, idempotency_key)
        else:
            status = self._consume(customer_id, feature, tokens, idempotency_key)
        if reserved and status != ledger.DEDUCTED:
            self.reservations.release(customer_id, tokens, idempotency_key)
            if status == ledger.INSUFFICIENT:
                self.reservations.forget(customer_id)  # Redis thought there was enough
        return Deduction(status, customer_id, feature, tokens)

    def _consume(self, customer_id: int, feature: str, tokens: int, key: str) -> str:
        with self.database.transaction() as session:
            return ledger.consume(session, customer_id, tokens, feature, key, utcnow())

    def _stored_balance(self, customer_id: int) -> int:
        with self.database.transaction() as session:
            if session.get(Customer, customer_id) is None:
                raise NotFound(f"no customer {customer_id}", code="unknown_customer")
            return ledger.balance_of(session, customer_id)

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
