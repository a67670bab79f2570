"""The copilot graph: think (the model, tools bound) <-> act (run the tools it asked for).

A turn ends when the model answers in words, asks the operator a question, or has used its
step budget. The conversation is checkpointed per thread, so an operator can continue it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime

from agents.copilot.prompts import SYSTEM_PROMPT
from agents.copilot.tools import CopilotTools
from agents.llm import save_call
from tools.llm.calls import Prices, invoke_model

FEATURE = "copilot"
MAX_STEPS = 6


class CopilotState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    proposals: list[dict[str, Any]]  # this turn's approvals, with their evidence
    question: str | None  # this turn's question back to the operator
    steps: int
    model_failed: bool


@dataclass(frozen=True)
class CopilotContext:
    tools: CopilotTools
    model: BaseChatModel
    prices: Prices
    thread_id: str


def think(state: CopilotState, runtime: Runtime[CopilotContext]) -> CopilotState:
    """One model call over the conversation, with every tool offered."""
    ctx = runtime.context
    bound = ctx.model.bind_tools(ctx.tools.as_langchain())
    prompt = [SystemMessage(SYSTEM_PROMPT), *state["messages"]]
    reply, call = invoke_model(ctx.model, prompt, ctx.prices, runnable=bound)
    save_call(ctx.tools.database, call, feature=FEATURE, subject=ctx.thread_id)
    steps = state.get("steps", 0) + 1
    if reply is None:
        failed = AIMessage(f"The language model did not answer ({call.outcome}); nothing was done.")
        return {"messages": [failed], "steps": steps, "model_failed": True}
    return {"messages": [reply], "steps": steps}


def act(state: CopilotState, runtime: Runtime[CopilotContext]) -> CopilotState:
    """Run each requested tool; proposals and questions are kept for the answer."""
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    proposals, question = list(state.get("proposals", [])), state.get("question")
    answers: list[AnyMessage] = []
    for call in last.tool_calls:
        result = runtime.context.tools.call(call["name"], call["args"])
        if "proposal" in result:
            proposals.append(result["proposal"])
        if "question" in result:
            question = result["question"]
        answers.append(
            ToolMessage(json.dumps(result, default=str), tool_call_id=call["id"], name=call["name"])
        )
    return {"messages": answers, "proposals": proposals, "question": question}


def _after_think(state: CopilotState) -> str:
    last = state["messages"][-1]
    return "act" if isinstance(last, AIMessage) and last.tool_calls else END


def _after_act(state: CopilotState) -> str:
    return END if state.get("question") or state.get("steps", 0) >= MAX_STEPS else "think"


def build_graph() -> StateGraph[CopilotState, CopilotContext, CopilotState, CopilotState]:
    graph = StateGraph(CopilotState, context_schema=CopilotContext)
    graph.add_node("think", think)
    graph.add_node("act", act)
    graph.add_edge(START, "think")
    graph.add_conditional_edges("think", _after_think, ["act", END])
    graph.add_conditional_edges("act", _after_act, ["think", END])
    return graph
