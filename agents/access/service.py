"""`check()`: resolve the user, evaluate the policy, deduct the cost in the same call, record.

The in-process API behind `POST /api/v1/access/check`; one instance per process, shared by
threads (the wallet, cache and recorder are thread-safe).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import redis

from agents.access.engine import Decision, PolicyEngine, UserContext
from agents.access.policy import load_policy
from agents.access.telemetry import DecisionRecorder
from agents.provisioning.cache import EntitlementCache
from agents.wallet import ledger
from agents.wallet.service import ACCESS_FEATURE, TokenWallet
from core.settings import Settings
from db.session import Database

INSUFFICIENT_BALANCE = "insufficient_balance"
DEFAULT_TIER = "free"


@dataclass(frozen=True)
class AccessResult:
    decision: Decision
    deducted: int  # tokens taken by this call (0 on a replay of the same key)
    replayed: bool


class AccessService:
    def __init__(
        self,
        engine: PolicyEngine,
        wallet: TokenWallet,
        entitlements: EntitlementCache,
        recorder: DecisionRecorder,
    ) -> None:
        self.engine = engine
        self.wallet = wallet
        self.entitlements = entitlements
        self.recorder = recorder

    def user(self, customer_id: int) -> UserContext:
        """Tier and features from the entitlement cache, balance from the ledger."""
        with self.wallet.database.read() as session:  # one statement: no transaction needed
            balance = ledger.customer_balance(session, customer_id)
        if balance is None:
            raise ledger.unknown_customer(customer_id)
        snapshot = self.entitlements.snapshot(customer_id)
        features = frozenset(f for f in snapshot.limits if snapshot.has_feature(f))
        return UserContext(snapshot.plan or DEFAULT_TIER, balance, features, customer_id)

    def check(
        self, customer_id: int, asset_ids: list[str], action: str, idempotency_key: str
    ) -> AccessResult:
        """Decide; when the decision costs tokens, take them now or deny insufficient_balance."""
        decision = self.engine.decide(self.user(customer_id), asset_ids, action)
        deducted, replayed = 0, False
        if decision.allowed and decision.cost > 0:
            taken = self.wallet.deduct(customer_id, ACCESS_FEATURE, decision.cost, idempotency_key)
            if not taken.ok:
                decision = replace(decision, allowed=False, reason=INSUFFICIENT_BALANCE)
            replayed = taken.status == ledger.DUPLICATE
            deducted = decision.cost if taken.status == ledger.DEDUCTED else 0
        self.recorder.record(customer_id, asset_ids, action, decision)
        return AccessResult(decision, deducted, replayed)

    def close(self) -> None:
        self.recorder.close()
        self.wallet.close()


def build_access_service(
    database: Database, client: redis.Redis, settings: Settings
) -> AccessService:
    return AccessService(
        PolicyEngine(load_policy(settings.policy)),
        TokenWallet(database, client, settings),
        EntitlementCache(database, client, settings.redis_prefix),
        DecisionRecorder(database),
    )
