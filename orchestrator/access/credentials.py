"""Secrets operators hold: argon2 password hashes, random bearer tokens, TOTP codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_SCHEME = "mop"  # "moneta operator", so a leaked token is recognisable in a scan

_hasher = PasswordHasher()
# Verified against when the name is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy random secret (tokens, session ids): enough, and fast."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    prefix: str  # public: shown in listings and logs
    secret: str  # the whole bearer token: shown once, never stored


def new_api_token() -> NewToken:
    prefix = f"{TOKEN_SCHEME}_{secrets.token_hex(4)}"
    return NewToken(prefix, f"{prefix}_{secrets.token_urlsafe(32)}")


def token_prefix(secret: str) -> str | None:
    scheme, _, rest = secret.partition("_")
    ident, _, _ = rest.partition("_")
    return f"{scheme}_{ident}" if scheme == TOKEN_SCHEME and ident else None


def random_secret() -> str:
    return secrets.token_urlsafe(32)


def same_secret(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Moneta")


def verify_totp(secret: str, code: str) -> bool:
    """The current 30-second code, or its neighbours (clock drift)."""
    return pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1)
