"""`ask()`: one operator request to the copilot, with the model or, without one, the fallback."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig

from agents.approvals.service import SubmitTask, operator_identity
from agents.checkpoints import CheckpointerFactory
from agents.copilot.fallback import answer_without_model
from agents.copilot.graph import CopilotContext, CopilotState, build_graph
from agents.copilot.tools import CopilotTools
from core.errors import InvalidInput
from core.settings import Settings
from db.session import Database
from tools.llm.calls import Prices, model_name

MAX_REQUEST_CHARS = 4000
_GRAPH = build_graph()


@dataclass(frozen=True)
class CopilotAnswer:
    thread_id: str
    reply: str
    source: str  # "model:<name>", or "fallback" when no model is configured
    proposals: list[dict[str, Any]] = field(default_factory=list)
    question: str | None = None
    notice: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "thread_id": self.thread_id,
            "reply": self.reply,
            "source": self.source,
            "proposals": self.proposals,
            "question": self.question,
            "notice": self.notice,
        }


def ask(
    database: Database,
    settings: Settings,
    *,
    text: str,
    operator: str,
    submit: SubmitTask,
    model: BaseChatModel | None,
    checkpointer_factory: CheckpointerFactory,
    thread_id: str | None = None,
) -> CopilotAnswer:
    """Answer `text` for `operator`; proposals become pending approvals, nothing executes."""
    text, who = text.strip(), operator_identity(operator)
    if not text or len(text) > MAX_REQUEST_CHARS:
        raise InvalidInput(f"a request is 1 to {MAX_REQUEST_CHARS} characters")
    if not who:
        raise InvalidInput("the operator's name is required", code="operator_required")
    thread = thread_id or f"copilot:{uuid.uuid4().hex}"
    tools = CopilotTools(database, settings, who, submit)
    if model is None:
        found = answer_without_model(tools, text)
        return CopilotAnswer(
            thread_id=thread,
            reply=found.get("question") or found["reply"],
            source="fallback",
            proposals=found.get("proposals", []),
            question=found.get("question"),
            notice="no language model configured: deterministic answer",
        )
    context = CopilotContext(tools, model, Prices.from_settings(settings), thread)
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    turn: CopilotState = {
        "messages": [HumanMessage(text)],
        "proposals": [],
        "question": None,
        "steps": 0,
        "model_failed": False,
    }
    with checkpointer_factory() as saver:
        state = _GRAPH.compile(checkpointer=saver).invoke(turn, config, context=context)
    return CopilotAnswer(
        thread_id=thread,
        reply=_reply(state),
        source=f"model:{model_name(model)}",
        proposals=state.get("proposals", []),
        question=state.get("question"),
        notice="the model did not answer" if state.get("model_failed") else None,
    )


def _reply(state: dict[str, Any]) -> str:
    if state.get("question"):
        return str(state["question"])
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and not last.tool_calls:
        return last.text
    return "I stopped after the step limit; the proposals made so far are listed."
