"""Checks that model text only repeats facts it was given: numbers, links. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable

# http(s) links, www. links and bare domains ("evil.example/pay"), up to whitespace.
_LINK = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TRAILING = ".,;:!?"


def links_in(text: str) -> list[str]:
    return [match.rstrip(_TRAILING) for match in _LINK.findall(text)]


def numbers_in(text: str) -> list[str]:
    """Each number as written, normalised: thousands commas dropped, trailing dot trimmed."""
    return [n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)]


def foreign_links(text: str, allowed: Iterable[str]) -> list[str]:
    """Links in `text` that are not exactly one of `allowed` (nor a domain of one)."""
    allowed = set(allowed)
    without_allowed = _remove(text, allowed)
    return [link for link in links_in(without_allowed) if link not in allowed]


def ungrounded_numbers(
    text: str, facts: Iterable[str], *, allowed_links: Iterable[str] = ()
) -> list[str]:
    """Numbers in `text` that appear in none of `facts` (links' own digits are not counted)."""
    known: set[str] = set()
    for fact in facts:
        known.update(numbers_in(fact))
    return [n for n in numbers_in(_remove(text, allowed_links)) if n not in known]


def _remove(text: str, fragments: Iterable[str]) -> str:
    for fragment in sorted(fragments, key=len, reverse=True):
        if fragment:
            text = text.replace(fragment, " ")
    return text
