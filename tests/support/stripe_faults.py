"""A fault-injecting proxy in front of localstripe, with Stripe's Idempotency-Key replay.

`fail_next("POST", "/v1/refunds", 2)` answers the next two matching requests with HTTP 500
without forwarding them (Stripe failed before doing anything). `mode="timeout"` forwards the
request, so localstripe does the work, then holds the answer back past the client's timeout
(the response was lost). A retry with the same Idempotency-Key and path gets the stored first
answer, as from Stripe, which localstripe itself does not do.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

import pytest

FaultMode = Literal["500", "timeout"]
Outcome = Literal["forwarded", "replayed", "injected_500", "stalled", "key_reused"]
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass(frozen=True)
class ProxiedRequest:
    method: str
    path: str
    idempotency_key: str | None
    outcome: Outcome


@dataclass
class _Fault:
    method: str
    path_prefix: str
    remaining: int
    mode: FaultMode


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class StripeFaultProxy:
    """Forwards to `upstream`; injects the faults it is told to; replays idempotent answers."""

    def __init__(self, upstream: str, *, stall_seconds: float = 30.0) -> None:
        self.upstream = urlsplit(upstream)
        self.stall_seconds = stall_seconds
        self.requests: list[ProxiedRequest] = []
        self._faults: list[_Fault] = []
        self._answers: dict[str, tuple[str, _Answer]] = {}
        self._key_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def fail_next(self, method: str, path_prefix: str, times: int, mode: FaultMode = "500") -> None:
        with self._lock:
            self._faults.append(_Fault(method.upper(), path_prefix, times, mode))

    def requests_to(self, method: str, path_prefix: str) -> list[ProxiedRequest]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r.method == method.upper() and r.path.startswith(path_prefix)
            ]

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _take_fault(self, method: str, path: str) -> FaultMode | None:
        with self._lock:
            for fault in self._faults:
                if (
                    fault.remaining > 0
                    and fault.method == method
                    and path.startswith(fault.path_prefix)
                ):
                    fault.remaining -= 1
                    return fault.mode
        return None

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> _Answer | None:
        """The answer to send back, or None when the answer is to be lost in a stall."""
        key = headers.get("idempotency-key") if method == "POST" else None
        fault = self._take_fault(method, path)
        answer, outcome = self._decide(method, path, headers, body, key, fault)
        stalled = fault == "timeout"
        with self._lock:
            self.requests.append(
                ProxiedRequest(method, path, key, "stalled" if stalled else outcome)
            )
        if stalled:
            self._closing.wait(self.stall_seconds)
            return None
        return answer

    def _decide(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        key: str | None,
        fault: FaultMode | None,
    ) -> tuple[_Answer, Outcome]:
        if fault == "500":
            return _error(500, "api_error", "injected fault"), "injected_500"
        if key is None:
            return self._forward(method, path, headers, body), "forwarded"
        with self._key_lock(key):
            stored = self._answers.get(key)
            if stored is None:
                answer = self._forward(method, path, headers, body)
                self._answers[key] = (path, answer)
                return answer, "forwarded"
        first_path, answer = stored
        if first_path != path:
            message = "Keys for idempotent requests can only be used on one endpoint."
            return _error(400, "idempotency_error", message), "key_reused"
        return answer, "replayed"

    def _forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> _Answer:
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            forwarded = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
            connection.request(method, path, body=body or None, headers=forwarded)
            response = connection.getresponse()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            return _Answer(response.status, kept, response.read())
        finally:
            connection.close()


def _error(status: int, error_type: str, message: str) -> _Answer:
    body = json.dumps({"error": {"type": error_type, "message": message}}).encode()
    return _Answer(status, [("Content-Type", "application/json")], body)


def _handler_for(proxy: StripeFaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = proxy.handle(self.command, self.path, headers, body)
            if answer is None:
                return
            try:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, which is the point of a stall

        do_GET = do_POST = do_DELETE = _relay

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the proxy's own `requests` list is the log tests read."""

    return Handler


@pytest.fixture
def stripe_faults(localstripe: str) -> Iterator[StripeFaultProxy]:
    """A fault proxy in front of this test's localstripe."""
    proxy = StripeFaultProxy(localstripe)
    yield proxy
    proxy.close()
