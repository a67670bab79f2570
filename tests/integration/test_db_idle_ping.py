"""Pooled PostgreSQL connections are pinged only after idling (`db.session._ping_after_idle`):
a connection that died while idle is replaced before use; one in steady use costs no ping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import db.session
from db.session import Database


@pytest.fixture
def pg(database: Database) -> Iterator[Database]:
    if database.dialect != "postgresql":
        pytest.skip("the idle ping is for server connections")
    one = Database(database.url, pool_size=1)  # one pooled connection: every checkout reuses it
    yield one
    one.dispose()


def backend_pid(database: Database) -> int:
    with database.transaction() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def kill_backend(database: Database, pid: int) -> None:
    """Terminate a server connection from outside the pool, as a server restart would."""
    killer = Database(database.url, pool_size=1)
    try:
        with killer.autocommit() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_use(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = backend_pid(pg)
    kill_backend(pg, first)
    monkeypatch.setattr(db.session, "IDLE_PING_SECONDS", 0.0)

    assert backend_pid(pg) != first  # pinged, found dead, reconnected: the caller saw nothing


def test_a_connection_in_steady_use_is_not_pinged(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings: list[object] = []
    ping = pg.engine.dialect.do_ping

    def counted_ping(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(pg.engine.dialect, "do_ping", counted_ping)

    pids = {backend_pid(pg) for _ in range(5)}

    assert len(pids) == 1 and pings == []
    monkeypatch.setattr(db.session, "IDLE_PING_SECONDS", 0.0)
    backend_pid(pg)
    assert len(pings) == 1


def test_a_connection_that_died_in_steady_use_fails_once_then_the_pool_recovers(
    pg: Database,
) -> None:
    first = backend_pid(pg)
    kill_backend(pg, first)

    with pytest.raises(OperationalError) as failed:
        backend_pid(pg)
    assert failed.value.connection_invalidated
    assert backend_pid(pg) != first
