"""PostgreSQL connections in autocommit, awaited in the event loop, for one-statement writes.

A hot write that is a single statement needs no transaction around it (it commits when it
returns) and no worker thread: psycopg's async driver awaits it in the event loop. Against the
SQLAlchemy pool in a thread that saves, per batch, the hop to and from the thread, the
checkout's pre-ping round trip, and BEGIN and COMMIT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from sqlalchemy.engine import make_url

T = TypeVar("T")
AsyncConnection = psycopg.AsyncConnection[Any]


class AutocommitConnections:
    """Up to `keep` idle connections kept open for the next write; more are opened when
    writes overlap. Not bound to one event loop: a connection serves one write at a time,
    whichever loop awaits it (a test client may run each request in a loop of its own)."""

    def __init__(self, url: str, *, keep: int = 2) -> None:
        postgres = make_url(url).set(drivername="postgresql")
        self._conninfo = postgres.render_as_string(hide_password=False)
        self._keep = keep
        self._idle: list[AsyncConnection] = []

    async def run(self, write: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """`write` on a connection. When it fails with `OperationalError` on a connection
        that was idle (it went bad meanwhile: the server restarted, a proxy dropped it; or the
        statement met a deadlock), every idle connection is dropped and `write` runs once more
        on a new one: so `write` must be one statement that is safe to repeat (insert or
        ignore), since a lost answer to a committed statement is repeated too."""
        if self._idle:
            connection = self._idle.pop()
            try:
                return await self._write_and_keep(connection, write)
            except psycopg.OperationalError:
                idle, self._idle = self._idle, []
                for stale in idle:
                    await stale.close()
        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        return await self._write_and_keep(connection, write)

    async def _write_and_keep(
        self, connection: AsyncConnection, write: Callable[[AsyncConnection], Awaitable[T]]
    ) -> T:
        try:
            result = await write(connection)
        except BaseException:  # its state is unknown (an error, a cancelled await): not reused
            await connection.close()
            raise
        if len(self._idle) < self._keep:
            self._idle.append(connection)
        else:
            await connection.close()
        return result
