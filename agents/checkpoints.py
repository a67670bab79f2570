"""Durable LangGraph checkpoints next to our database: paused graphs survive restarts.

SQLite databases get a separate checkpoint file (LangGraph's connection must not queue on our
writer lock); PostgreSQL databases keep checkpoints in LangGraph's own tables.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import PostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver
from psycopg import Connection
from psycopg.rows import dict_row
from sqlalchemy.engine import make_url

from core.errors import PermanentError

CheckpointerFactory = Callable[[], AbstractContextManager[BaseCheckpointSaver[str]]]

_BUSY_TIMEOUT_SECONDS = 30.0
# Any constant shared by every Moneta process: serializes LangGraph's table migrations.
_SETUP_LOCK_ID = 0x6D6F6E6574610001


def checkpointer_factory(database_url: str) -> CheckpointerFactory:
    """A factory opening a checkpoint saver for the store that matches `database_url`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("durable checkpoints need a SQLite file, not an in-memory database")
        return _sqlite_factory(checkpoint_path(Path(url.database)))
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return _postgres_factory(conninfo)
    raise ValueError(f"no checkpoint store for {url.get_backend_name()!r} databases")


def checkpoint_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".checkpoints.sqlite")


def _sqlite_factory(path: Path) -> CheckpointerFactory:
    @contextmanager
    def open_saver() -> Iterator[BaseCheckpointSaver[str]]:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, check_same_thread=False, timeout=_BUSY_TIMEOUT_SECONDS)
        with closing(connection):
            saver = SqliteSaver(connection)
            yield saver

    return open_saver


def _postgres_factory(conninfo: str) -> CheckpointerFactory:
    ready = threading.Event()
    setup_lock = threading.Lock()

    @contextmanager
    def open_saver() -> Iterator[BaseCheckpointSaver[str]]:
        # The options PostgresSaver.from_conn_string uses, on a connection we keep typed.
        with Connection.connect(
            conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
        ) as connection:
            saver = PostgresSaver(connection)
            if not ready.is_set():
                with setup_lock:
                    if not ready.is_set():
                        _setup_postgres(connection, saver)
                        ready.set()
            yield saver

    return open_saver


def _setup_postgres(connection: Connection[dict[str, Any]], saver: PostgresSaver) -> None:
    """Create or migrate LangGraph's tables, one process at a time (advisory lock)."""
    connection.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_ID,))
    try:
        saver.setup()
    finally:
        connection.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_ID,))


def checkpoint_before(graph: Any, config: RunnableConfig, node: str) -> RunnableConfig:
    """The newest checkpoint of the thread whose next step is `node` (to run again from it)."""
    for snapshot in graph.get_state_history(config):
        if snapshot.next == (node,):
            checkpoint: RunnableConfig = snapshot.config
            return checkpoint
    raise PermanentError(f"thread {config['configurable']['thread_id']} never reached {node}")
