"""Answers sent straight over ASGI, for the hot paths that bypass FastAPI's request handling."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import Send

from api.problems import MEDIA_TYPE, problem_body


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    media_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> None:
    raw: list[tuple[bytes, bytes]] = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(
    send: Send, status: int, content: Any, headers: Mapping[str, str] | None = None
) -> None:
    await send_bytes(send, status, json.dumps(content).encode(), headers=headers)


async def send_problem(
    send: Send,
    path: str,
    status: int,
    code: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """The same RFC 9457 body `api.problems.problem_response` gives, without a Request."""
    body = json.dumps(problem_body(path, status, code, detail)).encode()
    await send_bytes(send, status, body, MEDIA_TYPE, headers)
