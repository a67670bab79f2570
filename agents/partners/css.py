"""Sanitise an agency's custom CSS before it is stored and put into a <style> element.

Conservative by construction: first remove what can hide or end things (`<`, backslash
escapes, control characters, comments, repeated until stable), then drop every declaration,
rule head or at-rule that still names something dangerous: `@import`, `expression(`,
`javascript:`/`vbscript:` schemes, `-moz-binding`, `behavior`, or a `url(...)` that is
not https. Dropping whole segments between `;`, `{` and `}` never joins two segments into one.
"""

from __future__ import annotations

import re

MAX_CSS_LENGTH = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_SEGMENTS = re.compile(r"([;{}])")
_URL_TARGET = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)
_FORBIDDEN = (
    "@import",
    "expression(",
    "javascript:",
    "vbscript:",
    "-moz-binding",
    "behavior:",
    "behaviour:",
)


class CssTooLong(ValueError):
    pass


def sanitize_css(css: str) -> str:
    """The CSS with every dangerous part removed; safe to place raw inside <style>."""
    if len(css) > MAX_CSS_LENGTH:
        raise CssTooLong(f"custom CSS is limited to {MAX_CSS_LENGTH} characters")
    text = _CONTROL.sub("", css.replace("<", "").replace("\\", ""))
    text = _strip_comments(text)
    parts = _SEGMENTS.split(text)
    kept = [part if part in ";{}" or not _dangerous(part) else "" for part in parts]
    return "".join(kept).strip()


def _strip_comments(text: str) -> str:
    """Remove comments until none is left; an unterminated one swallows the rest, as in CSS."""
    while True:
        stripped = _COMMENT.sub("", text)
        start = stripped.find("/*")
        if start != -1:
            stripped = stripped[:start]
        if stripped == text:
            return text
        text = stripped


def _dangerous(segment: str) -> bool:
    squeezed = re.sub(r"\s+", "", segment).lower()
    if any(word in squeezed for word in _FORBIDDEN):
        return True
    if "url(" in squeezed:
        targets = _URL_TARGET.findall(segment)
        return squeezed.count("url(") != len(targets) or not all(
            target.strip().lower().startswith("https://") for target in targets
        )
    return False
