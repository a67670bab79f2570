"""Jinja2 templates to subject, text and HTML. Facts come only from the context given.

Each template `NAME` is three files in `templates/`: `NAME.subject.j2`, `NAME.txt.j2` and
`NAME.html.j2` (autoescaped). StrictUndefined makes a missing fact an error, not a blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from agents.notification.formatting import format_money, format_utc
from db.repositories.branding import Branding

TEMPLATE_DIR = Path(__file__).parent / "templates"


def branding_facts(branding: Branding | None) -> dict[str, Any] | None:
    """What the layouts show of an agency's branding. The CSS was sanitised when stored; one
    that could still close the <style> element is left out rather than trusted."""
    if branding is None:
        return None
    facts = branding.public()
    if facts["custom_css"] and "<" in facts["custom_css"]:
        facts["custom_css"] = None
    return facts


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the code: no stat() per render to spot edits
    )
    env.filters["money"] = format_money
    env.filters["utc"] = format_utc
    return env


_ENV = _environment()


def render_email(
    template: str,
    context: dict[str, Any],
    *,
    brand: str,
    wording: str | None = None,
    link: str | None = None,
    link_label: str | None = None,
    branding: Branding | None = None,
) -> RenderedEmail:
    """Render the three parts of `template`; jinja2 errors propagate (missing fact, bad value).

    With `wording` (validated model text) the body is that text, escaped in the HTML part,
    plus a button to `link`; the subject stays the template's, built from facts alone.
    """
    facts = {**context, "brand": brand, "branding": branding_facts(branding)}
    subject = _ENV.get_template(f"{template}.subject.j2").render(facts)
    body = template
    if wording is not None:
        facts.update(wording=wording, link=link, link_label=link_label or "Open")
        body = "_worded"
    return RenderedEmail(
        subject=" ".join(subject.split()),  # one header line, whatever the template's layout
        text=_ENV.get_template(f"{body}.txt.j2").render(facts),
        html=_ENV.get_template(f"{body}.html.j2").render(facts),
    )
