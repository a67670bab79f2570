"""Posting rules: pure functions from a money event to a balanced entry draft. No I/O.

Signs: a debit is positive, a credit negative. `EntryDraft` refuses to exist unbalanced, so
every rule's output sums to zero per currency by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agents.ledger_journal.accounts import Account

BPS = 10_000


class UnbalancedEntry(ValueError):
    """Postings that do not sum to zero per currency (a bug in a rule, never user input)."""


@dataclass(frozen=True)
class Posting:
    account: str
    party: str
    currency: str
    amount: int  # debit +, credit -


@dataclass(frozen=True)
class EntryDraft:
    """An entry before it is written; `dedupe_key` is the event's identity (posted once)."""

    kind: str
    dedupe_key: str
    postings: tuple[Posting, ...]
    memo: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    reverses_entry_id: int | None = None

    def __post_init__(self) -> None:
        check_balanced(self.postings)
        if not self.dedupe_key:
            raise ValueError("an entry needs a dedupe key")


def check_balanced(postings: Iterable[Posting]) -> None:
    """Raise UnbalancedEntry unless the postings sum to zero in every currency."""
    sums: dict[str, int] = defaultdict(int)
    count = 0
    for posting in postings:
        if not isinstance(posting.amount, int) or isinstance(posting.amount, bool):
            raise UnbalancedEntry(f"amounts are integer minor units, got {posting.amount!r}")
        sums[posting.currency] += posting.amount
        count += 1
    if count < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    off = {currency: total for currency, total in sums.items() if total != 0}
    if off:
        raise UnbalancedEntry(f"entry does not balance: {off}")


def split_fee(gross: int, fee_bps: int) -> tuple[int, int]:
    """(net, fee) of `gross` at `fee_bps` basis points, fee rounded half up; net + fee == gross."""
    if gross < 0 or not 0 <= fee_bps <= BPS:
        raise ValueError(f"bad fee split: gross {gross}, fee {fee_bps} bps")
    fee = (gross * fee_bps + BPS // 2) // BPS
    return gross - fee, fee


def _move(
    currency: str, amount: int, debit: tuple[str, str], credit: tuple[str, str]
) -> tuple[Posting, Posting]:
    """`amount` debited to one (account, party) and credited to another."""
    if amount <= 0:
        raise ValueError(f"a money movement needs a positive amount, got {amount}")
    return (
        Posting(debit[0], debit[1], currency, amount),
        Posting(credit[0], credit[1], currency, -amount),
    )


def payment_received(
    *, dedupe_key: str, amount: int, currency: str, customer_party: str, data: dict[str, Any]
) -> EntryDraft:
    """A customer's payment reached Stripe: cash in transit up, platform revenue up."""
    return EntryDraft(
        "payment",
        dedupe_key,
        _move(
            currency,
            amount,
            (Account.CASH_IN_TRANSIT, ""),
            (Account.PLATFORM_REVENUE, customer_party),
        ),
        memo="customer payment",
        data=data,
    )


def refund_issued(
    *, dedupe_key: str, amount: int, currency: str, customer_party: str, data: dict[str, Any]
) -> EntryDraft:
    """Money went back to a customer: refunds (contra-revenue) up, cash in transit down."""
    return EntryDraft(
        "refund",
        dedupe_key,
        _move(currency, amount, (Account.REFUNDS, customer_party), (Account.CASH_IN_TRANSIT, "")),
        memo="customer refund",
        data=data,
    )


def dispute_funds_withdrawn(
    *,
    dedupe_key: str,
    amount: int,
    fee: int,
    currency: str,
    customer_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """Stripe took a disputed payment (and its dispute fee) back out of our balance."""
    if amount <= 0 or fee < 0:
        raise ValueError(f"bad dispute amounts: amount {amount}, fee {fee}")
    postings = [
        Posting(Account.DISPUTES, customer_party, currency, amount),
        Posting(Account.CASH_IN_TRANSIT, "", currency, -(amount + fee)),
    ]
    if fee:
        postings.append(Posting(Account.PROCESSOR_FEES, "", currency, fee))
    return EntryDraft(
        "dispute", dedupe_key, tuple(postings), memo="dispute: funds withdrawn", data=data
    )


def dispute_funds_reinstated(
    *,
    dedupe_key: str,
    amount: int,
    fee_returned: int,
    currency: str,
    customer_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """A won dispute: Stripe put the funds (and, where it does, the fee) back."""
    if amount <= 0 or fee_returned < 0:
        raise ValueError(f"bad dispute amounts: amount {amount}, fee returned {fee_returned}")
    postings = [
        Posting(Account.CASH_IN_TRANSIT, "", currency, amount + fee_returned),
        Posting(Account.DISPUTES, customer_party, currency, -amount),
    ]
    if fee_returned:
        postings.append(Posting(Account.PROCESSOR_FEES, "", currency, -fee_returned))
    return EntryDraft(
        "dispute", dedupe_key, tuple(postings), memo="dispute won: funds reinstated", data=data
    )


def process_usage(
    *,
    dedupe_key: str,
    gross: int,
    fee: int,
    currency: str,
    payer_party: str,
    owner_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """A process was used: the user owes `gross`; the owner is owed it minus our fee."""
    if gross <= 0 or not 0 <= fee <= gross:
        raise ValueError(f"bad usage amounts: gross {gross}, fee {fee}")
    postings = [Posting(Account.CUSTOMER_RECEIVABLE, payer_party, currency, gross)]
    if gross - fee:
        postings.append(Posting(Account.OWNER_PAYABLE, owner_party, currency, -(gross - fee)))
    if fee:
        postings.append(Posting(Account.PLATFORM_FEES, "", currency, -fee))
    return EntryDraft("usage", dedupe_key, tuple(postings), memo="process usage", data=data)


def commission_earned(
    *,
    dedupe_key: str,
    amount: int,
    currency: str,
    payable: str,
    payee_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """An affiliate or agency earned a commission: our expense, their payable."""
    return EntryDraft(
        "commission",
        dedupe_key,
        _move(currency, amount, (Account.COMMISSIONS, payee_party), (payable, payee_party)),
        memo="commission earned",
        data=data,
    )


def commission_clawed_back(
    *,
    dedupe_key: str,
    amount: int,
    currency: str,
    payable: str,
    payee_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """A commission (or part of it) taken back after a refund or dispute."""
    return EntryDraft(
        "clawback",
        dedupe_key,
        _move(currency, amount, (payable, payee_party), (Account.COMMISSIONS, payee_party)),
        memo="commission clawed back",
        data=data,
    )


def payout_paid(
    *,
    dedupe_key: str,
    amount: int,
    fee: int,
    currency: str,
    payable: str,
    payee_party: str,
    data: dict[str, Any],
) -> EntryDraft:
    """A payout left: the payable drops by `amount`, cash by `amount - fee`, fee is ours."""
    if amount <= 0 or not 0 <= fee < amount:
        raise ValueError(f"bad payout amounts: amount {amount}, fee {fee}")
    postings = [
        Posting(payable, payee_party, currency, amount),
        Posting(Account.CASH_IN_TRANSIT, "", currency, -(amount - fee)),
    ]
    if fee:
        postings.append(Posting(Account.PLATFORM_FEES, "", currency, -fee))
    return EntryDraft("payout", dedupe_key, tuple(postings), memo="payout", data=data)


def credit_granted(
    *, dedupe_key: str, amount: int, currency: str, customer_party: str, data: dict[str, Any]
) -> EntryDraft:
    """Credit given to a customer: revenue we give up, a balance they may spend."""
    return EntryDraft(
        "credit",
        dedupe_key,
        _move(
            currency,
            amount,
            (Account.PLATFORM_REVENUE, customer_party),
            (Account.CUSTOMER_CREDIT, customer_party),
        ),
        memo="customer credit granted",
        data=data,
    )


def bad_debt_written_off(
    *, dedupe_key: str, amount: int, currency: str, customer_party: str, data: dict[str, Any]
) -> EntryDraft:
    """An invoice written off as uncollectible: what the customer owed becomes an expense."""
    return EntryDraft(
        "write_off",
        dedupe_key,
        _move(
            currency,
            amount,
            (Account.BAD_DEBT, customer_party),
            (Account.CUSTOMER_RECEIVABLE, customer_party),
        ),
        memo="invoice written off",
        data=data,
    )


def reversal(
    *, dedupe_key: str, entry_id: int, postings: Iterable[Posting], reason: str
) -> EntryDraft:
    """The mirror image of entry `entry_id`: every posting with its sign flipped."""
    flipped = tuple(Posting(p.account, p.party, p.currency, -p.amount) for p in postings)
    return EntryDraft(
        "reversal",
        dedupe_key,
        flipped,
        memo=reason,
        data={"reverses": entry_id},
        reverses_entry_id=entry_id,
    )
