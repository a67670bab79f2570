"""The copilot box on the console: ask in plain words; proposals become pending approvals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from agents.copilot.service import MAX_REQUEST_CHARS, ask
from api.auth.dependencies import ConsoleOperator
from api.console.rendering import render
from api.dependencies import RuntimeDep
from core.errors import MonetaError
from orchestrator.outbox import submit
from tools.llm.factory import model_from

router = APIRouter(prefix="/console")


@router.post("/copilot")
def ask_copilot(
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleOperator,
    text: Annotated[str, Form(max_length=MAX_REQUEST_CHARS)],
    thread_id: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Answer one request as an HTML fragment (the dashboard swaps it in)."""
    try:
        answer = ask(
            runtime.database,
            runtime.settings,
            text=text,
            operator=me.username,
            submit=submit,
            model=model_from(runtime.tools, runtime.settings),
            checkpointer_factory=runtime.tools["checkpointer_factory"],
            thread_id=thread_id or None,
        )
    except MonetaError as exc:
        return render(request, "_copilot_answer.html", me, error=exc.message, answer=None)
    return render(request, "_copilot_answer.html", me, answer=answer, error=None)
