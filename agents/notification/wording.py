"""Grounded wording: fact sheet -> prompt -> model -> validator -> text, or the template.

Only for the templates in `FACT_SHEETS`, and only when a model is configured and wording is
enabled. Any failure (no model, timeout, error, a text that fails validation) means the
template's own text is sent; the outcome is recorded on the notification and in llm_calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel
from sqlalchemy import select, update

from agents.context import AgentContext
from agents.llm import chat_model, save_call
from agents.notification.payload import NotificationRequest
from agents.notification.wording_rules import (
    FACT_SHEETS,
    FactSheet,
    wording_problems,
    wording_prompt,
)
from db.models import Notification, Price, Subscription
from db.session import Database
from tools.llm.calls import ModelCall, Prices, invoke_model

FEATURE = "wording"
TEMPLATE_SOURCE = "template"


@dataclass(frozen=True)
class Wording:
    """The model's validated text (None: use the template) and why it was or was not used."""

    text: str | None
    source: str  # the model's name, or "template"
    sheet: FactSheet | None = None
    problems: tuple[str, ...] = ()


def write_wording(
    model: BaseChatModel, prices: Prices, sheet: FactSheet, known_plans: set[str]
) -> tuple[Wording, ModelCall]:
    """Ask the model once; keep its text only if it passes every check."""
    reply, call = invoke_model(model, wording_prompt(sheet), prices)
    if reply is None:
        return Wording(None, TEMPLATE_SOURCE, sheet, (call.error or call.outcome,)), call
    text = reply.text.strip()
    problems = wording_problems(text, sheet, known_plans)
    if problems:
        return Wording(None, TEMPLATE_SOURCE, sheet, tuple(problems)), call.rejected(
            "; ".join(problems)[:500]
        )
    return Wording(text, call.model, sheet), call


def wording_for(ctx: AgentContext, request: NotificationRequest) -> Wording:
    """The wording of `request`'s e-mail; records the call and the source on the row."""
    build = FACT_SHEETS.get(request.template)
    if build is None:
        return Wording(None, TEMPLATE_SOURCE)
    model = chat_model(ctx) if ctx.settings.wording_by_model else None
    if model is None:
        reason = "wording disabled" if ctx.settings.llm_configured else "no model configured"
        wording = Wording(None, TEMPLATE_SOURCE, None, (reason,))
    else:
        try:
            sheet = build(request.context)
        except (KeyError, TypeError, ValueError):  # the template reports the bad fact itself
            return Wording(None, TEMPLATE_SOURCE)
        prices = Prices.from_settings(ctx.settings)
        wording, call = write_wording(model, prices, sheet, _known_plans(ctx))
        save_call(ctx.database, call, feature=FEATURE, subject=request.key)
    _record_source(ctx.database, request, wording)
    return wording


def _known_plans(ctx: AgentContext) -> set[str]:
    with ctx.database.transaction() as session:
        plans = set(session.scalars(select(Subscription.plan).distinct()))
        plans |= set(session.scalars(select(Price.plan).distinct()))
    return {p for p in plans if p}


def _record_source(database: Database, request: NotificationRequest, wording: Wording) -> None:
    """The notification's context notes who wrote it, and why the model's text was refused."""
    note = {"wording_source": wording.source, "wording_problems": list(wording.problems)}
    with database.transaction() as session:
        session.execute(
            update(Notification)
            .where(Notification.key == request.key)
            .values(context={**request.context, **note})
        )
