"""The access-policy engine: ordering, default deny, pricing, bundles and file validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.access.engine import DEFAULT_DENY, NO_MATCH, PolicyEngine, UserContext
from agents.access.policy import PolicyError, load_policy, parse_policy
from agents.access.subject import ACTIONS
from core.errors import InvalidInput

TIERS = ["free", "starter", "pro", "enterprise"]
ASSETS = [
    {"id": "model:a", "type": "model", "tags": ["premium"], "cost": 2},
    {"id": "data:b", "type": "data", "tags": [], "cost": 3},
    {"id": "data:c", "type": "data", "tags": ["public"], "cost": 1},
]


def engine(document: dict[str, Any]) -> PolicyEngine:
    return PolicyEngine(parse_policy(document))


def user(tier: str = "pro", balance: int = 100, entitlements: tuple[str, ...] = ()) -> UserContext:
    return UserContext(tier, balance, frozenset(entitlements), 1)


def test_the_shipped_policy_prices_models_premium_and_execution() -> None:
    shipped = PolicyEngine(load_policy())
    decision = shipped.decide(user("pro", 50), ["model:llm-base"], "execute")
    assert (decision.allowed, decision.rule_id, decision.cost) == (True, "token_pricing", 20)
    free = shipped.decide(user("free", 0), ["model:llm-base"], "read")
    assert (free.allowed, free.reason, free.redirect) == (False, "upgrade_required", "/pricing")
    assert shipped.decide(user("enterprise", 0), ["dataset:market"], "derive").cost == 0


def test_a_bundle_is_discounted_only_when_all_its_assets_are_requested() -> None:
    shipped = PolicyEngine(load_policy())
    alone = shipped.decide(user(), ["model:llm-base"], "read").cost  # 1 x5 model x2 premium
    corpus = shipped.decide(user(), ["dataset:training-corpus"], "read").cost
    both = shipped.decide(user(), ["model:llm-base", "dataset:training-corpus"], "read")
    assert (alone, corpus) == (10, 3)
    assert both.cost == 11  # (10 + 3) x 0.8 = 10.4, rounded up
    assert both.bundles == ("ai_starter_kit",)
    pair = shipped.decide(user(), ["dataset:financial", "dataset:market"], "read")
    assert pair.bundles == () and pair.cost == 4 + 2


def test_a_deny_of_one_asset_denies_the_whole_request() -> None:
    shipped = PolicyEngine(load_policy())
    decision = shipped.decide(
        user("free", 0), ["content:getting-started", "model:llm-base"], "read"
    )
    assert (decision.allowed, decision.rule_id) == (False, "free_tier_no_models")


def test_no_matching_rule_is_a_deny() -> None:
    policy = engine(
        {
            "rules": [
                {
                    "id": "vip",
                    "priority": 1,
                    "condition": {"user.tier": "enterprise"},
                    "outcome": {"allow": True},
                }
            ],
            "assets": ASSETS,
        }
    )
    decision = policy.decide(user("free"), ["data:b"], "read")
    assert (decision.allowed, decision.rule_id, decision.reason) == (False, DEFAULT_DENY, NO_MATCH)


def test_explain_names_the_deciding_rule_and_why_the_others_did_not_match() -> None:
    shipped = PolicyEngine(load_policy())
    traces = shipped.explain(user("free", 0), "dataset:market", "read")
    verdicts = {t.rule_id: t for t in traces}
    assert verdicts["paywall"].verdict == "decided"
    assert verdicts["enterprise_unlimited"].failed == ("user.tier = 'enterprise' (was 'free')",)
    assert verdicts["token_pricing"].failed == ("user.token_balance > 0 (was 0)",)
    assert [t.rule_id for t in traces] == [
        "enterprise_unlimited",
        "free_tier_no_models",
        "token_pricing",
        "free_reading",
        "paywall",
    ]


def test_an_unknown_asset_or_action_is_a_clear_error() -> None:
    shipped = PolicyEngine(load_policy())
    with pytest.raises(InvalidInput, match="unknown asset 'model:nope'"):
        shipped.decide(user(), ["model:nope"], "read")
    with pytest.raises(InvalidInput, match="unknown action 'steal'"):
        shipped.decide(user(), ["model:llm-base"], "steal")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [
                {
                    "id": "a",
                    "priority": 1,
                    "condition": {"user.teir": "pro"},
                    "outcome": {"allow": True},
                }
            ],
            "rule 'a': condition: unknown field 'user.teir'",
        ),
        (
            [{"id": "a", "priority": 1, "outcome": {"allow": False}}],
            "rule 'a': a deny needs a 'reason'",
        ),
        (
            [{"id": "a", "priority": "high", "outcome": {"allow": True}}],
            "rule 'a': 'priority' must be a whole number",
        ),
        (
            [
                {"id": "a", "priority": 1, "outcome": {"allow": True}},
                {"id": "a", "priority": 2, "outcome": {"allow": True}},
            ],
            "rule 'a': duplicate id",
        ),
        (
            [
                {
                    "id": "a",
                    "priority": 1,
                    "condition": {"user.token_balance": "lots"},
                    "outcome": {"allow": True},
                }
            ],
            "is not a comparison such as '> 0'",
        ),
        (
            [
                {
                    "id": "a",
                    "priority": 1,
                    "condition": {"action": "fly"},
                    "outcome": {"allow": True},
                }
            ],
            "action: 'fly' is not one of read, download, execute, derive",
        ),
        (
            [{"id": "a", "priority": 1, "outcome": {"allow": True, "cost": {"base": -1}}}],
            "rule 'a': cost 'base' must be a whole number or 'asset'",
        ),
        (
            [
                {
                    "id": "a",
                    "priority": 1,
                    "outcome": {"allow": False, "reason": "x", "redirect": "pricing"},
                }
            ],
            "rule 'a': 'redirect' must be a path",
        ),
        ([], "'rules' must be a non-empty list"),
    ],
)
def test_malformed_rules_are_refused_naming_the_rule(rules: list[Any], expected: str) -> None:
    with pytest.raises(PolicyError) as refused:
        parse_policy({"rules": rules, "assets": ASSETS})
    assert expected in str(refused.value)


def test_a_bundle_of_unknown_assets_is_refused_naming_the_bundle() -> None:
    document = {
        "rules": [{"id": "a", "priority": 1, "outcome": {"allow": True}}],
        "assets": ASSETS,
        "bundles": [{"id": "kit", "assets": ["model:a", "model:ghost"], "price_multiplier": 0.5}],
    }
    with pytest.raises(PolicyError, match=r"bundle 'kit': unknown assets \['model:ghost'\]"):
        parse_policy(document)


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n"
        "  - {id: a, priority: 1, outcome: {allow: false}}\n"
        "  - {id: b, priority: 2, condition: {asset.colour: red}, outcome: {allow: true}}\n"
    )
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert len(refused.value.problems) == 2
    assert str(path) in str(refused.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rules: [unclosed\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(path)


# Property-based: random rule sets over the fields the engine reads.

conditions = st.fixed_dictionaries(
    {},
    optional={
        "user.tier": st.sampled_from(TIERS) | st.lists(st.sampled_from(TIERS), min_size=1),
        "user.token_balance": st.sampled_from(["> 0", ">= 50", "< 10", "== 0"]),
        "asset.type": st.sampled_from(["model", "data"]),
        "asset.tags": st.sampled_from(["premium", "public"]),
        "action": st.sampled_from(ACTIONS) | st.lists(st.sampled_from(ACTIONS), min_size=1),
    },
)
outcomes = st.one_of(
    st.builds(lambda c: {"allow": True, "cost": c}, st.integers(0, 9)),
    st.just({"allow": False, "reason": "nope", "redirect": "/pricing"}),
)


@st.composite
def rule_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(
        st.lists(st.text("abcdefgh", min_size=1, max_size=4), min_size=1, max_size=8, unique=True)
    )
    return [
        {
            "id": rule_id,
            "priority": draw(st.integers(0, 3)),
            "condition": draw(conditions),
            "outcome": draw(outcomes),
        }
        for rule_id in ids
    ]


requests = st.tuples(
    st.sampled_from(TIERS),
    st.integers(0, 100),
    st.sampled_from([a["id"] for a in ASSETS]),
    st.sampled_from(ACTIONS),
)


@settings(max_examples=150, deadline=None)
@given(
    rules=rule_sets(), order=st.randoms(use_true_random=False), asks=st.lists(requests, max_size=12)
)
def test_the_order_of_rules_in_the_file_never_changes_a_decision(
    rules: list[dict[str, Any]], order: Any, asks: list[tuple[str, int, str, str]]
) -> None:
    shuffled = copy.deepcopy(rules)
    order.shuffle(shuffled)
    first, second = (
        engine({"rules": rules, "assets": ASSETS}),
        engine({"rules": shuffled, "assets": ASSETS}),
    )
    for tier, balance, asset, action in asks:
        who = user(tier, balance)
        assert first.decide(who, [asset], action) == second.decide(who, [asset], action)


@settings(max_examples=150, deadline=None)
@given(rules=rule_sets(), asks=st.lists(requests, min_size=1, max_size=12))
def test_a_request_no_rule_matches_is_denied_and_otherwise_the_top_rule_decides(
    rules: list[dict[str, Any]], asks: list[tuple[str, int, str, str]]
) -> None:
    compiled = engine({"rules": rules, "assets": ASSETS})
    ranked = sorted(rules, key=lambda r: (-r["priority"], r["id"]))
    for tier, balance, asset_id, action in asks:
        asset = next(a for a in ASSETS if a["id"] == asset_id)
        facts = {
            "user.tier": tier,
            "user.token_balance": balance,
            "asset.type": asset["type"],
            "asset.tags": asset["tags"],
            "action": action,
        }
        winner = next((r for r in ranked if _holds(r["condition"], facts)), None)
        decision = compiled.decide(user(tier, balance), [asset_id], action)
        if winner is None:
            assert (decision.allowed, decision.rule_id) == (False, DEFAULT_DENY)
        else:
            assert decision.rule_id == winner["id"]
            assert decision.allowed is winner["outcome"]["allow"]


def _holds(condition: dict[str, Any], facts: dict[str, Any]) -> bool:
    """A slow, obviously-right reading of the same condition language (the test's oracle)."""
    for field, spec in condition.items():
        actual = facts[field]
        if field == "user.token_balance":
            symbol, number = spec.split()
            ok = {
                ">": actual > int(number),
                ">=": actual >= int(number),
                "<": actual < int(number),
                "==": actual == int(number),
            }[symbol]
        elif field == "asset.tags":
            ok = spec in actual
        else:
            ok = actual in spec if isinstance(spec, list) else actual == spec
        if not ok:
            return False
    return True
