"""`check()`: resolve the user, evaluate the policy, deduct the cost in the same call, record.

The in-process API behind `POST /api/v1/access/check`; one instance per process, shared by
threads (the wallet, cache and recorder are thread-safe). `check_many()` answers checks that
arrived together for the cost of about one: the HTTP route batches them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

import redis

from agents.access.engine import Decision, PolicyEngine, UserContext
from agents.access.policy import load_policy
from agents.access.telemetry import DecisionRecorder
from agents.provisioning.cache import EntitlementCache
from agents.wallet import ledger
from agents.wallet.batching import Debit
from agents.wallet.service import ACCESS_FEATURE, Deduction, TokenWallet
from core.errors import MonetaError
from core.settings import Settings
from db.session import Database

INSUFFICIENT_BALANCE = "insufficient_balance"
DEFAULT_TIER = "free"


@dataclass(frozen=True)
class AccessResult:
    decision: Decision
    deducted: int  # tokens taken by this call (0 on a replay of the same key)
    replayed: bool


@dataclass(frozen=True)
class CheckRequest:
    customer_id: int
    asset_ids: list[str]
    action: str
    idempotency_key: str


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

    def users(self, customer_ids: Collection[int]) -> dict[int, UserContext]:
        """Tier and features from the entitlement cache, balance from the ledger: one
        statement and one Redis round trip for however many customers (one that does not
        exist is left out)."""
        with self.wallet.database.read() as session:  # one statement: no transaction needed
            balances = ledger.customer_balances(session, customer_ids)
        snapshots = self.entitlements.snapshots(balances.keys())
        found: dict[int, UserContext] = {}
        for customer_id, balance in balances.items():
            snapshot = snapshots[customer_id]
            features = frozenset(f for f in snapshot.limits if snapshot.has_feature(f))
            tier = snapshot.plan or DEFAULT_TIER
            found[customer_id] = UserContext(tier, balance, features, customer_id)
        return found

    def check(
        self, customer_id: int, asset_ids: list[str], action: str, idempotency_key: str
    ) -> AccessResult:
        """Decide; when the decision costs tokens, take them now or deny insufficient_balance."""
        (result,) = self.check_many([CheckRequest(customer_id, asset_ids, action, idempotency_key)])
        if isinstance(result, Exception):
            raise result
        return result

    def check_many(self, asks: list[CheckRequest]) -> list[AccessResult | Exception]:
        """`check` for checks that arrived together: the users read once, the costs deducted
        in one wallet batch. Each read happens after its request arrived, so a grant or a
        revoke committed before it is seen. What went wrong for one request (an unknown
        customer or asset, its debit failing) is its own answer; anything raised comes before
        a token is taken, so the batch can be asked again."""
        users = self.users({ask.customer_id for ask in asks})
        answers: list[AccessResult | Exception] = []
        priced: list[tuple[int, Decision]] = []
        for ask in asks:
            user = users.get(ask.customer_id)
            try:
                if user is None:
                    raise ledger.unknown_customer(ask.customer_id)
                decision = self.engine.decide(user, ask.asset_ids, ask.action)
            except MonetaError as error:
                answers.append(error)
                continue
            if decision.allowed and decision.cost > 0:
                priced.append((len(answers), decision))
            answers.append(AccessResult(decision, 0, False))
        taken = self.wallet.deduct_many(
            [
                Debit(asks[i].customer_id, decision.cost, ACCESS_FEATURE, asks[i].idempotency_key)
                for i, decision in priced
            ]
        )
        for (i, decision), deduction in zip(priced, taken, strict=True):
            answers[i] = _charged(decision, deduction)
        for ask, answer in zip(asks, answers, strict=True):
            if isinstance(answer, AccessResult):
                self.recorder.record(ask.customer_id, ask.asset_ids, ask.action, answer.decision)
        return answers

    def close(self) -> None:
        self.recorder.close()
        self.wallet.close()


def _charged(decision: Decision, taken: Deduction | Exception) -> AccessResult | Exception:
    """A priced decision after its deduction: denied insufficient_balance if not taken."""
    if isinstance(taken, Exception):
        return taken
    if not taken.ok:
        decision = replace(decision, allowed=False, reason=INSUFFICIENT_BALANCE)
    deducted = decision.cost if taken.status == ledger.DEDUCTED else 0
    return AccessResult(decision, deducted, taken.status == ledger.DUPLICATE)


def build_access_service(
    database: Database, client: redis.Redis, settings: Settings
) -> AccessService:
    return AccessService(
        PolicyEngine(load_policy(settings.policy)),
        TokenWallet(database, client, settings),
        EntitlementCache(database, client, settings.redis_prefix),
        DecisionRecorder(database),
    )
