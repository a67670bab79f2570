"""Posting rules, fee splits, process pricing and the payout quote: pure, property-tested."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.ledger_journal import rules
from agents.ledger_journal.rules import EntryDraft, Posting, UnbalancedEntry, split_fee
from agents.payouts.rules import quote_payout
from agents.processes.lifecycle import IllegalTransition, target_of
from agents.processes.pricing import usage_charge, validate_pricing
from core.errors import Conflict, InvalidInput

amounts = st.integers(min_value=1, max_value=10**10)
bps = st.integers(min_value=0, max_value=10_000)


@given(gross=st.integers(min_value=0, max_value=10**12), fee_bps=bps)
def test_fee_split_never_creates_or_loses_a_minor_unit(gross: int, fee_bps: int) -> None:
    net, fee = split_fee(gross, fee_bps)
    assert net + fee == gross and 0 <= fee <= gross


@given(amount=amounts, fee_bps=bps, payout_fee_bps=st.integers(min_value=0, max_value=9_999))
def test_every_rule_yields_a_balanced_entry(amount: int, fee_bps: int, payout_fee_bps: int) -> None:
    _, fee = split_fee(amount, fee_bps)
    _, payout_fee = split_fee(amount, payout_fee_bps)
    drafts = [
        rules.payment_received(
            dedupe_key="p", amount=amount, currency="usd", customer_party="customer:1", data={}
        ),
        rules.refund_issued(
            dedupe_key="r", amount=amount, currency="usd", customer_party="customer:1", data={}
        ),
        rules.process_usage(
            dedupe_key="u",
            gross=amount,
            fee=fee,
            currency="eur",
            payer_party="user:u",
            owner_party="owner:o",
            data={},
        ),
        rules.commission_earned(
            dedupe_key="c",
            amount=amount,
            currency="usd",
            payable="affiliate_payable",
            payee_party="affiliate:1",
            data={},
        ),
        rules.credit_granted(
            dedupe_key="g", amount=amount, currency="jpy", customer_party="customer:2", data={}
        ),
    ]
    if payout_fee < amount:
        drafts.append(
            rules.payout_paid(
                dedupe_key="o",
                amount=amount,
                fee=payout_fee,
                currency="usd",
                payable="owner_payable",
                payee_party="owner:o",
                data={},
            )
        )
    for draft in drafts:
        assert sum(p.amount for p in draft.postings) == 0
        undo = rules.reversal(dedupe_key="x", entry_id=1, postings=draft.postings, reason="fix")
        assert [p.amount for p in undo.postings] == [-p.amount for p in draft.postings]


def test_an_unbalanced_entry_cannot_be_drafted() -> None:
    with pytest.raises(UnbalancedEntry):
        EntryDraft("x", "k", (Posting("refunds", "", "usd", 5), Posting("refunds", "", "usd", -4)))
    with pytest.raises(UnbalancedEntry):  # balanced in sum, but across two currencies
        EntryDraft("x", "k", (Posting("refunds", "", "usd", 5), Posting("refunds", "", "eur", -5)))
    with pytest.raises(UnbalancedEntry):
        EntryDraft("x", "k", (Posting("refunds", "", "usd", 0),))


TIERS = {"tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": None, "unit_amount": 2}]}


@given(splits=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8))
def test_graduated_tiers_cost_the_same_however_usage_is_split(splits: list[int]) -> None:
    pricing = validate_pricing("tiered", TIERS)
    total, used = 0, 0
    for quantity in splits:
        total += usage_charge("tiered", pricing, used, quantity)
        used += quantity
    assert total == usage_charge("tiered", pricing, 0, used)
    assert total == 5 * min(used, 10) + 2 * max(0, used - 10)


@pytest.mark.parametrize(
    "model, pricing",
    [
        ("fixed", {"unit_amount": 1.5}),
        ("usage_based", {"unit_amount": -1}),
        ("tiered", {"tiers": []}),
        ("tiered", {"tiers": [{"up_to": 10, "unit_amount": 5}]}),
        ("tiered", {"tiers": [{"up_to": 10, "unit_amount": 5}, {"up_to": 5, "unit_amount": 1}]}),
        ("barter", {"unit_amount": 1}),
    ],
)
def test_bad_pricing_is_refused(model: str, pricing: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        validate_pricing(model, pricing)


def test_lifecycle_allows_only_the_table() -> None:
    assert target_of("activate", "draft") == "active"
    assert target_of("pause", "active") == "paused"
    assert target_of("resume", "paused") == "active"
    assert target_of("retire", "paused") == "retired"
    for action, status in [
        ("pause", "draft"),
        ("resume", "active"),
        ("activate", "paused"),
        ("activate", "retired"),
        ("retire", "draft"),
        ("explode", "active"),
    ]:
        with pytest.raises(IllegalTransition) as refused:
            target_of(action, status)
        assert refused.value.status_code == 409


def test_payout_quote_keeps_the_reserve_and_refuses_bad_amounts() -> None:
    quote = quote_payout(
        balance=10_000, recent_credits=3_000, requested=None, minimum=1_000, fee_bps=100
    )
    assert (quote.reserve, quote.amount, quote.fee, quote.net) == (3_000, 7_000, 70, 6_930)
    cases = [
        (dict(balance=10_000, recent_credits=0, requested=10_001), "exceeds_balance"),
        (dict(balance=10_000, recent_credits=5_000, requested=6_000), "exceeds_balance"),
        (dict(balance=900, recent_credits=0, requested=None), "below_minimum"),
        (dict(balance=5_000, recent_credits=5_000, requested=None), "nothing_payable"),
        (dict(balance=0, recent_credits=0, requested=None), "nothing_payable"),
    ]
    for args, code in cases:
        with pytest.raises(Conflict) as refused:
            quote_payout(minimum=1_000, fee_bps=0, **args)  # type: ignore[arg-type]
        assert refused.value.code == code
    with pytest.raises(InvalidInput):
        quote_payout(balance=5_000, recent_credits=0, requested=0, minimum=1, fee_bps=0)
