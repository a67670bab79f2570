"""Payout rules as pure functions: what may be paid, and the payout status machine."""

from __future__ import annotations

from dataclasses import dataclass

from agents.ledger_journal.rules import split_fee
from core.errors import Conflict, InvalidInput

PENDING_APPROVAL = "pending_approval"
APPROVED = "approved"
PAID = "paid"
FAILED = "failed"
REJECTED = "rejected"
EXPIRED = "expired"
CANCELED = "canceled"

# Every legal move of a payout; a failed transfer may be retried (same key) or given up.
TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING_APPROVAL: frozenset({APPROVED, REJECTED, EXPIRED}),
    APPROVED: frozenset({PAID, FAILED}),
    FAILED: frozenset({APPROVED, CANCELED}),
    PAID: frozenset(),
    REJECTED: frozenset(),
    EXPIRED: frozenset(),
    CANCELED: frozenset(),
}
STATUSES = tuple(TRANSITIONS)


def is_open(status: str) -> bool:
    """An open payout holds its payee's balance: no second payout may start meanwhile."""
    return bool(TRANSITIONS[status])


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(f"a payout cannot go from {current} to {target}", code="illegal_transition")


@dataclass(frozen=True)
class PayoutQuote:
    balance: int  # payable now
    reserve: int  # held back: credited within the refund window
    amount: int  # taken from the payable
    fee: int
    net: int  # sent to the payee

    @property
    def available(self) -> int:
        return self.balance - self.reserve


def quote_payout(
    *,
    balance: int,
    recent_credits: int,
    requested: int | None,
    minimum: int,
    fee_bps: int,
) -> PayoutQuote:
    """The payout of a payable `balance`, keeping back what was credited within the window.

    Refuses a request above what is available, and anything below the minimum.
    """
    reserve = max(0, min(balance, recent_credits))
    available = balance - reserve
    if requested is not None and requested <= 0:
        raise InvalidInput("a payout amount must be positive", code="amount_invalid")
    if available <= 0:
        raise Conflict(
            f"nothing is payable: balance {balance}, reserved for refunds {reserve}",
            code="nothing_payable",
        )
    amount = available if requested is None else requested
    if amount > available:
        raise Conflict(
            f"{amount} is more than the payable balance allows ({available} after a "
            f"reserve of {reserve})",
            code="exceeds_balance",
        )
    if amount < minimum:
        raise Conflict(f"{amount} is below the payout minimum of {minimum}", code="below_minimum")
    net, fee = split_fee(amount, fee_bps)
    return PayoutQuote(balance=balance, reserve=reserve, amount=amount, fee=fee, net=net)
