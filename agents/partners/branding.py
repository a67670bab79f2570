"""Validation of white-label branding fields: pure functions that return the stored form.

Colours are hex, links https, domains real host names, header fields single-line; the CSS
goes through `css.sanitize_css`. Every refusal names the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agents.partners.css import CssTooLong, sanitize_css
from core.errors import InvalidInput

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^[a-z]{2,63}$|^xn--[a-z0-9-]{1,59}$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_UNSAFE_TEXT = re.compile(r"[\r\n\x00<>\"]")

FIELDS = (
    "name",
    "logo_url",
    "primary_color",
    "accent_color",
    "custom_domain",
    "custom_css",
    "email_from_name",
    "reply_to",
    "support_url",
)


@dataclass(frozen=True)
class BrandingInput:
    name: str
    logo_url: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None
    custom_domain: str | None = None
    custom_css: str | None = None
    email_from_name: str | None = None
    reply_to: str | None = None
    support_url: str | None = None


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=f"bad_{field}")


def hex_color(field: str, value: str) -> str:
    if not _HEX.match(value.strip()):
        raise _refuse(field, f"{value!r} is not a hex colour like #1a2b3c")
    color = value.strip().lower()
    if len(color) == 4:
        color = "#" + "".join(c * 2 for c in color[1:])
    return color


def domain_name(field: str, value: str) -> str:
    """A DNS host name of two or more labels; no IP address, port, path or wildcard."""
    host = value.strip().lower().rstrip(".")
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise _refuse(field, f"{value!r} is not a valid domain name")
    return host


def https_url(field: str, value: str) -> str:
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise _refuse(field, "must be an https:// URL")
    if parts.username or parts.password or any(c in url for c in " \t\r\n<>\"'`\\"):
        raise _refuse(field, "must be a plain https:// URL (no credentials, quotes or spaces)")
    domain_name(field, parts.hostname)
    return url


def email_address(field: str, value: str) -> str:
    local, at, domain = value.strip().rpartition("@")
    if not at or not _EMAIL_LOCAL.match(local):
        raise _refuse(field, f"{value!r} is not an e-mail address")
    return f"{local}@{domain_name(field, domain)}"


def header_text(field: str, value: str, *, limit: int = 100) -> str:
    """Text that ends up in a mail header or a page title: one line, no markup, bounded."""
    text = value.strip()
    if not text or len(text) > limit or _UNSAFE_TEXT.search(text):
        raise _refuse(field, f"must be 1..{limit} characters on one line, without < > or quotes")
    return text


def validated_branding(raw: BrandingInput) -> dict[str, Any]:
    """The column values to store for `raw`; InvalidInput on the first bad field."""
    try:
        css = sanitize_css(raw.custom_css) if raw.custom_css else None
    except CssTooLong as error:
        raise _refuse("custom_css", str(error)) from error

    def optional(value: str | None, check: Any, field: str) -> str | None:
        return check(field, value) if value is not None and value.strip() else None

    return {
        "name": header_text("name", raw.name),
        "logo_url": optional(raw.logo_url, https_url, "logo_url"),
        "primary_color": optional(raw.primary_color, hex_color, "primary_color"),
        "accent_color": optional(raw.accent_color, hex_color, "accent_color"),
        "custom_domain": optional(raw.custom_domain, domain_name, "custom_domain"),
        "custom_css": css or None,
        "email_from_name": optional(raw.email_from_name, header_text, "email_from_name"),
        "reply_to": optional(raw.reply_to, email_address, "reply_to"),
        "support_url": optional(raw.support_url, https_url, "support_url"),
    }
