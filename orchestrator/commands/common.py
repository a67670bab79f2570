"""What every command needs: settings and a runtime built from them."""

from __future__ import annotations

import logging

from core.settings import Settings, get_settings
from orchestrator.wiring import Runtime, build_runtime


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def cli_settings() -> Settings:
    return get_settings()


def cli_runtime() -> Runtime:
    return build_runtime(cli_settings())
