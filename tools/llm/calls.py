"""One accounted model call: latency, tokens, cost in micro-dollars, and how it ended."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable

from core.settings import Settings

OK = "ok"
ERROR = "error"
TIMEOUT = "timeout"
REJECTED = "rejected"  # answered, but the answer failed our validation


@dataclass(frozen=True)
class Prices:
    """Micro-dollars per 1,000 prompt and completion tokens."""

    input_per_1k_micros: int
    output_per_1k_micros: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Prices:
        return cls(settings.llm_input_price_per_1k_micros, settings.llm_output_price_per_1k_micros)

    def cost_micros(self, prompt_tokens: int, completion_tokens: int) -> int:
        """Whole micro-dollars, rounded half-even; integers in, integer out."""
        total = Decimal(prompt_tokens * self.input_per_1k_micros) + Decimal(
            completion_tokens * self.output_per_1k_micros
        )
        return int((total / 1000).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class ModelCall:
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_micros: int
    latency_ms: int
    outcome: str
    error: str | None = None

    def rejected(self, reason: str) -> ModelCall:
        return replace(self, outcome=REJECTED, error=reason)

    def row(self, feature: str, subject: str | None) -> dict[str, Any]:
        """Values of the `llm_calls` row recording this call."""
        return {
            "feature": feature,
            "subject": subject,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_micros": self.cost_micros,
            "latency_ms": self.latency_ms,
            "outcome": self.outcome,
            "error": self.error,
        }


def model_name(model: BaseChatModel) -> str:
    name = getattr(model, "model_name", None)
    return str(name) if name else model._llm_type


def invoke_model(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    prices: Prices,
    *,
    runnable: Runnable[Any, Any] | None = None,
) -> tuple[AIMessage | None, ModelCall]:
    """Ask once (the client retries transport errors); a failure is reported, not raised.

    `runnable` is the model with tools bound, when the caller bound any.
    """
    started = time.monotonic()
    try:
        reply = (runnable or model).invoke(list(messages))
    except Exception as exc:  # any failure of the model means: use the fallback
        outcome = TIMEOUT if isinstance(exc, openai.APITimeoutError | TimeoutError) else ERROR
        return None, ModelCall(model_name(model), 0, 0, 0, _ms(started), outcome, repr(exc)[:500])
    if not isinstance(reply, AIMessage):
        raise TypeError(f"a chat model answered with {type(reply).__name__}, not AIMessage")
    usage = reply.usage_metadata or {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    prompt, completion = usage["input_tokens"], usage["output_tokens"]
    call = ModelCall(
        model=str(reply.response_metadata.get("model_name") or model_name(model)),
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_micros=prices.cost_micros(prompt, completion),
        latency_ms=_ms(started),
        outcome=OK,
    )
    return reply, call


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
