"""Referral codes and click ids: random (secrets), unambiguous to read, never derived from data."""

from __future__ import annotations

import re
import secrets

from core.errors import InvalidInput

# No 0/O or 1/I: codes are read aloud and typed from screenshots.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 32**12 = 2**60 codes: not guessable by enumeration
_CODE_SHAPE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


def new_referral_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_click_id() -> str:
    return secrets.token_urlsafe(18)


def normalize_code(text: str) -> str:
    """A code as typed (any case, spaces around) to its stored form; junk is refused."""
    code = text.strip().upper()
    if not _CODE_SHAPE.match(code):
        raise InvalidInput(f"{text!r} is not a referral code", code="bad_referral_code")
    return code
