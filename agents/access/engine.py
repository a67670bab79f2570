"""Evaluate a compiled policy: first matching rule wins, default deny, bundles priced together.

Pure: no I/O. The service around it resolves the user and deducts the tokens.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.access.policy import Policy, Rule, Tokens
from agents.access.subject import ACTIONS, Asset, Subject
from core.errors import InvalidInput

DEFAULT_DENY = "default_deny"
NO_MATCH = "no_matching_policy"


@dataclass(frozen=True)
class UserContext:
    tier: str
    token_balance: int
    entitlements: frozenset[str]
    customer_id: int | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule_id: str
    reason: str | None = None
    cost: int = 0
    redirect: str | None = None
    bundles: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RuleTrace:
    rule_id: str
    priority: int
    verdict: str  # decided | no match | not reached
    failed: tuple[str, ...]  # the tests that did not hold, with the actual value


class PolicyEngine:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.rules: tuple[Rule, ...] = policy.rules
        # A request for fewer assets than the smallest bundle cannot complete one (most name one).
        self._smallest_bundle = min((len(b.assets) for b in policy.bundles), default=math.inf)

    def asset(self, asset_id: str) -> Asset:
        try:
            return self.policy.assets[asset_id]
        except KeyError:
            raise InvalidInput(f"unknown asset {asset_id!r}", code="unknown_asset") from None

    def decide(self, user: UserContext, asset_ids: Sequence[str], action: str) -> Decision:
        """The decision for `action` on every asset together (a deny of one denies all)."""
        if action not in ACTIONS:
            raise InvalidInput(
                f"unknown action {action!r}; one of {', '.join(ACTIONS)}", code="bad_action"
            )
        if not asset_ids:
            raise InvalidInput("name at least one asset", code="unknown_asset")
        assets = [self.asset(a) for a in dict.fromkeys(asset_ids)]
        costs: dict[str, Tokens] = {}
        deciding: list[str] = []
        for asset in assets:
            subject = _subject(user, asset, action)
            rule = self.first_match(subject)
            if rule is None:
                return Decision(False, DEFAULT_DENY, NO_MATCH)
            outcome = rule.outcome
            if not outcome.allow:
                return Decision(False, rule.id, outcome.reason, 0, outcome.redirect)
            costs[asset.id] = outcome.cost(subject, asset) if outcome.cost else 0
            if rule.id not in deciding:
                deciding.append(rule.id)
        total, bundles = self._priced(costs)
        return Decision(True, ",".join(deciding), None, math.ceil(total), None, bundles)

    def first_match(self, subject: Subject) -> Rule | None:
        for rule in self.rules:
            if rule.matches(subject):
                return rule
        return None

    def _priced(self, costs: dict[str, Tokens]) -> tuple[Tokens, tuple[str, ...]]:
        """Sum of costs, each bundle whose assets were all requested at its multiplier."""
        if len(costs) < self._smallest_bundle:
            return sum(costs.values()), ()
        unpriced = set(costs)
        total: Tokens = 0
        applied = []
        for bundle in self.policy.bundles:
            if bundle.assets <= unpriced:
                total += sum(costs[a] for a in bundle.assets) * bundle.multiplier
                unpriced -= bundle.assets
                applied.append(bundle.id)
        total += sum(costs[a] for a in unpriced)
        return total, tuple(applied)

    def explain(self, user: UserContext, asset_id: str, action: str) -> list[RuleTrace]:
        """Every rule in order: the one that decided, and why each other did not."""
        subject = _subject(user, self.asset(asset_id), action)
        traces, decided = [], False
        for rule in self.rules:
            if decided:
                traces.append(RuleTrace(rule.id, rule.priority, "not reached", ()))
                continue
            failed = tuple(
                f"{t.text} (was {_shown(t.read(subject))})"
                for t in rule.tests
                if not t.predicate(subject)
            )
            decided = not failed
            traces.append(
                RuleTrace(rule.id, rule.priority, "decided" if decided else "no match", failed)
            )
        if not decided:
            traces.append(RuleTrace(DEFAULT_DENY, 0, "decided", ()))
        return traces


def _subject(user: UserContext, asset: Asset, action: str) -> Subject:
    return Subject(
        tier=user.tier,
        token_balance=user.token_balance,
        entitlements=user.entitlements,
        asset=asset,
        action=action,
        customer_id=user.customer_id,
    )


def _shown(value: object) -> str:
    if isinstance(value, frozenset):
        return repr(sorted(value))
    return repr(value)
