"""EU VAT identification numbers: their format per member state (no network check here).

Only the shape is checked: whether a number is actually registered needs VIES, which this
offline system cannot reach, so a well-formed id is trusted as the customer's declaration.
"""

from __future__ import annotations

import re

# ISO country code -> the VAT id prefix (Greece writes EL) and the digits after it.
_FORMATS: dict[str, tuple[str, str]] = {
    "AT": ("AT", r"U\d{8}"),
    "BE": ("BE", r"[01]\d{9}"),
    "BG": ("BG", r"\d{9,10}"),
    "CY": ("CY", r"\d{8}[A-Z]"),
    "CZ": ("CZ", r"\d{8,10}"),
    "DE": ("DE", r"\d{9}"),
    "DK": ("DK", r"\d{8}"),
    "EE": ("EE", r"\d{9}"),
    "ES": ("ES", r"[A-Z0-9]\d{7}[A-Z0-9]"),
    "FI": ("FI", r"\d{8}"),
    "FR": ("FR", r"[A-HJ-NP-Z0-9]{2}\d{9}"),
    "GR": ("EL", r"\d{9}"),
    "HR": ("HR", r"\d{11}"),
    "HU": ("HU", r"\d{8}"),
    "IE": ("IE", r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]"),
    "IT": ("IT", r"\d{11}"),
    "LT": ("LT", r"\d{9}|\d{12}"),
    "LU": ("LU", r"\d{8}"),
    "LV": ("LV", r"\d{11}"),
    "MT": ("MT", r"\d{8}"),
    "NL": ("NL", r"\d{9}B\d{2}"),
    "PL": ("PL", r"\d{10}"),
    "PT": ("PT", r"\d{9}"),
    "RO": ("RO", r"\d{2,10}"),
    "SE": ("SE", r"\d{12}"),
    "SI": ("SI", r"\d{8}"),
    "SK": ("SK", r"\d{10}"),
}
EU_COUNTRIES = frozenset(_FORMATS)


def normalize_vat_id(vat_id: str) -> str:
    """Upper case without spaces, dots and dashes: `de 123.456.789` -> `DE123456789`."""
    return re.sub(r"[\s.\-]", "", vat_id).upper()


def valid_vat_id(vat_id: str, country: str) -> bool:
    """Whether `vat_id` has the format of `country`'s VAT ids (prefix included)."""
    rule = _FORMATS.get(country.upper())
    if rule is None:
        return False
    prefix, body = rule
    return re.fullmatch(f"{prefix}(?:{body})", normalize_vat_id(vat_id)) is not None
