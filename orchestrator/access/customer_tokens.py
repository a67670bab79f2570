"""Customer API access tokens: short-lived JWTs (HS256) and the key that signs them.

Only HS256 is accepted, so a token with `alg: none` or another algorithm is refused; expiry
is checked against Moneta's clock (`core.clock`), which tests can freeze.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import jwt

from core.clock import from_timestamp, utcnow
from core.settings import Settings

ALGORITHM = "HS256"
ISSUER = "moneta"
AUDIENCE = "moneta-customer-api"
KEY_FILE = "customer-jwt.key"
_REQUIRED = ["sub", "aud", "iss", "iat", "exp"]


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int  # seconds


def issue_token(settings: Settings, account_id: int) -> IssuedToken:
    now = utcnow()
    lifetime = timedelta(minutes=settings.customer_token_minutes)
    claims = {
        "sub": str(account_id),
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    token = jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)
    return IssuedToken(token, int(lifetime.total_seconds()))


def account_of(settings: Settings, token: str) -> int | None:
    """The account id a valid, unexpired token was issued to; None for any other token."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False},
        )
        expires_at = from_timestamp(int(claims["exp"]))
        account_id = int(claims["sub"])
    except (jwt.InvalidTokenError, TypeError, ValueError):
        return None
    return account_id if utcnow() < expires_at else None


def signing_key(settings: Settings) -> str:
    """The configured secret, or the one generated on first use and kept in the data dir."""
    if settings.customer_jwt_secret:
        return settings.customer_jwt_secret
    return _stored_key((settings.data_dir / KEY_FILE).resolve())


@lru_cache(maxsize=16)
def _stored_key(path: Path) -> str:
    if not path.exists():
        _create_once(path, secrets.token_urlsafe(48))
    return path.read_text().strip()


def _create_once(path: Path, key: str) -> None:
    """Write the key readable by its owner only; when processes race, the first link wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
