"""POST /ops/copilot: the operator copilot over REST; it proposes, humans decide.

The asking operator is the one the bearer token belongs to: proposals are requested in their
name, so they cannot approve them themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from agents.copilot.service import MAX_REQUEST_CHARS, ask
from api.auth.dependencies import Operator, require_role
from api.dependencies import RuntimeDep
from orchestrator.access.roles import OPERATOR
from orchestrator.outbox import submit
from tools.llm.factory import model_from

router = APIRouter(prefix="/ops", tags=["ops"], dependencies=[Depends(require_role(OPERATOR))])


class CopilotRequest(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_REQUEST_CHARS)
    thread_id: str | None = Field(default=None, max_length=200)


@router.post("/copilot")
def copilot(body: CopilotRequest, runtime: RuntimeDep, who: Operator) -> dict[str, Any]:
    answer = ask(
        runtime.database,
        runtime.settings,
        text=body.text,
        operator=who.username,
        submit=submit,
        model=model_from(runtime.tools, runtime.settings),
        checkpointer_factory=runtime.tools["checkpointer_factory"],
        thread_id=body.thread_id,
    )
    return answer.as_dict()
