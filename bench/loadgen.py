"""A lean HTTP/1.1 load generator over asyncio streams, closed loop and open loop.

Requests are pre-built bytes sent over keep-alive connections, so the generator spends as
little CPU as possible: on a small machine it shares the cores with the server it measures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.report import BenchFailed

# A reply later than this is a hang of the server under test: the run fails and says so (it
# would otherwise wait for good, and a smoke test would see only its own time-out).
REPLY_TIMEOUT_SECONDS = 60.0


def post_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The raw bytes of a keep-alive POST."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive connection; `send` returns the reply's status code."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.lower().split(b"\r\n"):
                    if line.startswith(b"content-length:"):
                        length = int(line[15:])
                if length:
                    await self.reader.readexactly(length)
        except TimeoutError:
            raise BenchFailed(
                f"no reply within {REPLY_TIMEOUT_SECONDS:.0f} s to {request.split(b' ', 2)[1]!r}"
            ) from None
        return status

    @property
    def closed_by_server(self) -> bool:
        """The server closed it (uvicorn drops keep-alive connections idle for 5 s)."""
        return self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class ClosedLoopResult:
    statuses: list[int]
    seconds: float

    @property
    def per_second(self) -> float:
        return len(self.statuses) / self.seconds


async def closed_loop(
    host: str, port: int, requests: Sequence[bytes], connections: int
) -> ClosedLoopResult:
    """Each connection sends its next request as soon as the previous reply arrived."""
    pool = [await Connection.open(host, port) for _ in range(connections)]
    statuses: list[int] = []
    pending = iter(requests)

    async def drive(connection: Connection) -> None:
        for request in pending:
            statuses.append(await connection.send(request))

    started = time.perf_counter()
    await asyncio.gather(*(drive(c) for c in pool))
    seconds = time.perf_counter() - started
    for connection in pool:
        connection.close()
    return ClosedLoopResult(statuses, seconds)


@dataclass(frozen=True)
class OpenLoopResult:
    statuses: list[int]
    latencies: list[float]  # seconds from each request's scheduled send time to its reply
    seconds: float  # from the first scheduled send to the last reply
    offered_rate: float

    @property
    def achieved_rate(self) -> float:
        return len(self.statuses) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)


async def open_loop(
    host: str, port: int, requests: Sequence[bytes], rate: float, max_connections: int = 256
) -> OpenLoopResult:
    """Send request i at t0 + i/rate whatever the replies; latency counts from that time.

    Measuring from the schedule, not from the actual send, charges a slow server (or a busy
    generator) for the queueing it causes, so coordinated omission cannot hide it. At most
    `max_connections` are open; a request due while all are busy waits for one, on its clock.
    """
    idle: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
    opened = 0
    statuses: list[int] = []
    latencies: list[float] = []
    last_reply = 0.0

    async def one(request: bytes, scheduled: float) -> None:
        nonlocal last_reply, opened
        if idle.empty() and opened < max_connections:
            opened += 1
            connection = await Connection.open(host, port)
        else:
            connection = await idle.get()
            if connection.closed_by_server:
                connection = await Connection.open(host, port)
        try:
            status = await connection.send(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            status = 0  # counted as refused; the run fails its check
            connection = await Connection.open(host, port)
        now = time.perf_counter()
        idle.put_nowait(connection)
        statuses.append(status)
        latencies.append(now - scheduled)
        last_reply = max(last_reply, now)

    in_flight: list[asyncio.Task[None]] = []
    t0 = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*in_flight)
    while not idle.empty():
        idle.get_nowait().close()
    return OpenLoopResult(statuses, latencies, last_reply - t0, rate)
