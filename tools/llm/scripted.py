"""A chat model that plays a script: offline tests and evaluations of the LLM features.

Each reply is an AIMessage (text, tool calls, usage) or an exception to raise (a timeout,
an outage). Every prompt it was shown is kept in `prompts`, so tests can inspect them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import uuid4

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import Field


class ScriptExhausted(AssertionError):
    """The code asked the model more often than the script foresaw."""


class ScriptedChatModel(FakeMessagesListChatModel):
    """Replies in order, never cycling; `bind_tools` records the tools and returns the model."""

    failures: dict[int, BaseException] = Field(default_factory=dict)  # index -> raised instead
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    bound_tools: list[str] = Field(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append(list(messages))
        index = len(self.prompts) - 1
        if index in self.failures:
            raise self.failures[index]
        if index >= len(self.responses):
            raise ScriptExhausted(f"the script has {len(self.responses)} replies; asked again")
        return ChatResult(generations=[ChatGeneration(message=self.responses[index])])

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        self.bound_tools = [getattr(t, "name", str(t)) for t in tools]
        return self

    @property
    def _llm_type(self) -> str:
        return "scripted"


def scripted(*replies: AIMessage | BaseException) -> ScriptedChatModel:
    """A model answering `replies` in order (an exception in the list is raised at its turn)."""
    failures = {i: r for i, r in enumerate(replies) if isinstance(r, BaseException)}
    messages: list[BaseMessage] = [
        r if isinstance(r, BaseMessage) else AIMessage(content="") for r in replies
    ]
    return ScriptedChatModel(responses=messages, failures=failures)


def said(text: str, *, prompt_tokens: int = 50, completion_tokens: int = 20) -> AIMessage:
    """A plain text reply with token usage, as a real model reports it."""
    return AIMessage(content=text, usage_metadata=_usage(prompt_tokens, completion_tokens))


def calls(*tool_calls: tuple[str, dict[str, Any]], text: str = "") -> AIMessage:
    """A reply asking for tools: `calls(("find_customer", {"query": "ana"}))`."""
    return AIMessage(
        content=text,
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{uuid4().hex[:12]}", "type": "tool_call"}
            for name, args in tool_calls
        ],
        usage_metadata=_usage(80, 15),
    )


def _usage(prompt: int, completion: int) -> Any:
    total = prompt + completion
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": total}
