"""What every command needs: settings and a runtime built from them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from core.errors import MonetaError
from core.settings import Settings, get_settings
from orchestrator.commands.output import fail
from orchestrator.wiring import Runtime, build_runtime


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def cli_settings() -> Settings:
    return get_settings()


def cli_runtime() -> Runtime:
    return build_runtime(cli_settings())


@contextmanager
def unit_of_work() -> Iterator[tuple[Runtime, Session]]:
    """One transaction on the configured database; business errors become one clear line."""
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            yield runtime, session
    except MonetaError as error:
        fail(f"{error.message} ({error.code})")
    finally:
        runtime.close()
