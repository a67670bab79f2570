"""Wallet rules as pure functions: pricing, FIFO allocation of consumption, refund take-back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from core.errors import InvalidInput

TOKENS_PER_UNIT = 1_000  # purchases are sold in blocks of 1,000 tokens
CONSUME = "consume"
EXPIRE = "expire"
REVOKE = "revoke"
CLAWBACK = "clawback"
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class GrantFacts:
    id: int
    tokens: int
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class DebitFacts:
    tokens: int
    kind: str
    grant_id: int | None  # set on expire and revoke postings
    created_at: datetime


def purchase_amount(tokens: int, price_per_1k: int) -> int:
    """Minor units a purchase of `tokens` costs; whole blocks of 1,000 tokens only."""
    if tokens <= 0 or tokens % TOKENS_PER_UNIT:
        raise InvalidInput(
            f"tokens are sold in blocks of {TOKENS_PER_UNIT:,}; got {tokens}", code="bad_tokens"
        )
    return tokens // TOKENS_PER_UNIT * price_per_1k


def token_value(tokens: int, price_per_1k: int) -> int:
    """What `tokens` are worth in minor units, rounded up (an approval shows at least 1)."""
    return -(-tokens * price_per_1k // TOKENS_PER_UNIT)


def remaining_by_grant(
    grants: Iterable[GrantFacts], debits: Iterable[DebitFacts]
) -> dict[int, int]:
    """Replay the ledger: tokens each grant still holds.

    Consumption (and clawbacks) draw first from the grant that expires first, then the oldest,
    among grants that existed and had not expired when the debit was made; expire and revoke
    postings close the grant they name.
    """
    ordered = sorted(grants, key=lambda g: (g.created_at, g.id))
    left = {g.id: g.tokens for g in ordered}
    draw_order = sorted(ordered, key=lambda g: (g.expires_at or _NEVER, g.id))
    for debit in sorted(debits, key=lambda d: d.created_at):
        if debit.grant_id is not None:
            left[debit.grant_id] = max(0, left.get(debit.grant_id, 0) - debit.tokens)
            continue
        need = debit.tokens
        for grant in draw_order:
            if need == 0:
                break
            usable = grant.created_at <= debit.created_at and (
                grant.expires_at is None or grant.expires_at > debit.created_at
            )
            if usable and left[grant.id] > 0:
                taken = min(need, left[grant.id])
                left[grant.id] -= taken
                need -= taken
    return left


def next_expiry(grants: Iterable[GrantFacts], left: Mapping[int, int]) -> datetime | None:
    """The earliest expiry among grants that still hold tokens."""
    ends = [g.expires_at for g in grants if g.expires_at is not None and left.get(g.id, 0) > 0]
    return min(ends) if ends else None


def refunded_tokens(grant_tokens: int, amount_paid: int, amount_refunded: int) -> int:
    """Tokens whose money went back: the refunded share of the grant, rounded up."""
    if amount_paid <= 0:
        return grant_tokens
    share = -(-grant_tokens * min(amount_refunded, amount_paid) // amount_paid)
    return min(grant_tokens, share)


def split_take_back(to_take: int, unused: int) -> tuple[int, int]:
    """(tokens revoked from the grant at once, tokens already spent that an operator decides)."""
    revoked = min(max(to_take, 0), max(unused, 0))
    return revoked, max(to_take, 0) - revoked
