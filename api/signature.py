"""Stripe-Signature verification over the raw body, against every configured secret.

Done here rather than with stripe.WebhookSignature so that "now" comes from core.clock (tests
move time) and the HMAC runs over the bytes as received, with no decode and re-encode.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

from core.errors import MonetaError

SCHEME = "v1"


class SignatureRejected(MonetaError):
    """The signature header is missing, unreadable, wrong for every secret, or too old."""


def _parse_header(header: str) -> tuple[int, list[str]]:
    """`t=<unix>,v1=<hex>[,v1=<hex>...]` -> (timestamp, v1 signatures)."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise ValueError("no timestamp or no v1 signature")
    return timestamp, signatures


def verify_stripe_signature(
    body: bytes,
    header: str | None,
    secrets: Sequence[str],
    *,
    tolerance_seconds: int,
    now: datetime,
) -> int:
    """Accept `body` if any v1 signature matches any secret and is recent; returns its timestamp."""
    if not header:
        raise SignatureRejected("Stripe-Signature header is missing", code="missing_signature")
    try:
        timestamp, signatures = _parse_header(header)
    except ValueError:
        raise SignatureRejected(
            "Stripe-Signature header is malformed", code="bad_signature"
        ) from None
    signed_payload = str(timestamp).encode() + b"." + body
    expected = [
        hmac.new(secret.encode(), signed_payload, hashlib.sha256).hexdigest().encode()
        for secret in secrets
    ]
    given = [signature.encode() for signature in signatures]
    # Every pair is compared (constant time each): timing tells nothing about which matched.
    matches = [hmac.compare_digest(e, g) for e in expected for g in given]
    if not any(matches):
        raise SignatureRejected("no signature matches the payload", code="bad_signature")
    if timestamp < now.timestamp() - tolerance_seconds:
        raise SignatureRejected("signature timestamp is too old", code="stale_signature")
    return timestamp
