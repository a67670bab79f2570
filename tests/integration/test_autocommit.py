"""`db.autocommit.AutocommitConnections` against a real PostgreSQL: kept, replaced, retried."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from db.autocommit import AsyncConnection, AutocommitConnections
from db.session import Database


@pytest.fixture
def connections(database: Database) -> AutocommitConnections:
    if database.dialect != "postgresql":
        pytest.skip("psycopg's async driver: PostgreSQL only")
    return AutocommitConnections(database.url)


async def _backend(connection: AsyncConnection) -> int:
    cursor = await connection.execute("SELECT pg_backend_pid()")
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


def test_a_connection_is_kept_for_the_next_write_and_commits_each_statement(
    connections: AutocommitConnections, database: Database
) -> None:
    async def create(connection: AsyncConnection) -> int:
        await connection.execute("CREATE TABLE IF NOT EXISTS autocommit_probe (n INT)")
        return await _backend(connection)

    async def both() -> tuple[int, int]:
        return await connections.run(create), await connections.run(_backend)

    first, second = asyncio.run(both())

    assert first == second
    with database.transaction() as s:  # committed without a COMMIT: visible elsewhere
        assert s.scalar(text("SELECT to_regclass('autocommit_probe') IS NOT NULL"))
        s.execute(text("DROP TABLE autocommit_probe"))


def test_a_connection_dropped_while_idle_is_replaced_and_the_write_runs(
    connections: AutocommitConnections, database: Database
) -> None:
    before = asyncio.run(connections.run(_backend))
    with database.transaction() as s:
        s.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})

    after = asyncio.run(connections.run(_backend))

    assert after != before


def test_a_failed_write_raises_and_its_connection_is_not_reused(
    connections: AutocommitConnections,
) -> None:
    async def fail(connection: AsyncConnection) -> None:
        await connection.execute("SELECT 1 / 0")

    before = asyncio.run(connections.run(_backend))
    with pytest.raises(Exception, match="division by zero"):
        asyncio.run(connections.run(fail))

    assert asyncio.run(connections.run(_backend)) != before
