"""Review flags for a referral: self-referral and a payment method the affiliate also uses.

Pure: the caller gathers the facts. A flagged referral still converts, but its commissions
are held until an operator clears them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

SELF_REFERRAL_EMAIL = "self_referral_email"
SELF_REFERRAL_ACCOUNT = "self_referral_account"
SHARED_PAYMENT_METHOD = "shared_payment_method"


@dataclass(frozen=True)
class ReferralFacts:
    affiliate_email: str
    affiliate_customer_id: int | None
    referred_email: str | None
    referred_customer_id: int | None
    referred_fingerprint: str | None = None
    affiliate_fingerprints: Collection[str] = ()


def canonical_email(email: str) -> str:
    """Lower case, without a `+tag`: `Ann+x@Mail.com` and `ann@mail.com` are one person."""
    local, _, domain = email.strip().lower().partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def review_flags(facts: ReferralFacts) -> list[str]:
    """The reasons this referral needs a human look; empty when there are none."""
    flags = []
    if facts.referred_email and canonical_email(facts.referred_email) == canonical_email(
        facts.affiliate_email
    ):
        flags.append(SELF_REFERRAL_EMAIL)
    if (
        facts.affiliate_customer_id is not None
        and facts.referred_customer_id == facts.affiliate_customer_id
    ):
        flags.append(SELF_REFERRAL_ACCOUNT)
    if facts.referred_fingerprint and facts.referred_fingerprint in facts.affiliate_fingerprints:
        flags.append(SHARED_PAYMENT_METHOD)
    return flags
