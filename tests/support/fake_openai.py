"""A local OpenAI-compatible server (Chat Completions only) for tests through ChatOpenAI.

Replies come from a queue (`say`, `call_tool`); each request body is kept in `requests`.
An empty queue answers 500, so a test that asks more often than it planned fails loudly.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class FakeOpenAI:
    port: int = 0
    replies: deque[dict[str, Any]] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_seconds: float = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def say(self, text: str, *, prompt_tokens: int = 120, completion_tokens: int = 40) -> None:
        message = {"role": "assistant", "content": text}
        self.replies.append(_completion(message, "stop", prompt_tokens, completion_tokens))

    def call_tool(self, name: str, arguments: dict[str, Any]) -> None:
        call = {
            "id": f"call_{len(self.replies)}_{name}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        self.replies.append(_completion(message, "tool_calls", 200, 25))


def _completion(
    message: dict[str, Any], finish: str, prompt_tokens: int, completion_tokens: int
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake-gpt",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if not self.path.endswith("/chat/completions"):
                return self._answer(404, {"error": {"message": f"no route {self.path}"}})
            fake.requests.append(body)
            if fake.delay_seconds:
                time.sleep(fake.delay_seconds)  # simulates a slow model, not synchronisation
            if not fake.replies:
                return self._answer(500, {"error": {"message": "no scripted reply left"}})
            self._answer(200, fake.replies.popleft())

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
