"""The chat model an agent may use, and the record of each call for the operators."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from agents.context import AgentContext
from db.repositories.llm import record_call
from db.session import Database
from tools.llm.calls import ModelCall
from tools.llm.factory import model_from


def chat_model(ctx: AgentContext) -> BaseChatModel | None:
    """`ctx.extras["chat_model"]` when given, else the configured model (None without a key)."""
    return model_from(ctx.extras, ctx.settings)


def save_call(database: Database, call: ModelCall, *, feature: str, subject: str | None) -> None:
    """Record the call in its own transaction: it happened even if the task rolls back."""
    with database.transaction() as session:
        record_call(session, call.row(feature, subject))
