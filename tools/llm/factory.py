"""The chat model Moneta talks to: ChatOpenAI on any OpenAI-compatible server, or none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from core.settings import Settings


def build_chat_model(settings: Settings) -> BaseChatModel | None:
    """The configured model; None without OPENAI_API_KEY (features use their fallback then)."""
    if not settings.openai_api_key:
        return None
    return ChatOpenAI(
        model=settings.llm_model,
        api_key=SecretStr(settings.openai_api_key),
        base_url=settings.llm_base_url,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        temperature=0,
        # Chat Completions is the route every OpenAI-compatible server implements.
        use_responses_api=False,
    )


CHAT_MODEL = "chat_model"


def model_from(tools: Mapping[str, Any], settings: Settings) -> BaseChatModel | None:
    """`tools["chat_model"]` when one was injected (tests, a shared client), else configured."""
    if CHAT_MODEL in tools:
        model: BaseChatModel | None = tools[CHAT_MODEL]
        return model
    return build_chat_model(settings)
