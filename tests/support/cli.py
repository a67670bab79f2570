"""Run the `moneta` CLI in-process, reading the environment as it would in a shell."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from core.settings import Settings, reset_settings
from tests.support.processes import settings_env


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CLI runner whose environment points at this test's database, Redis and outbox."""
    for name in ("STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "MONETA_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings_env(settings).items():
        if name.startswith(("MONETA_", "STRIPE_")):
            monkeypatch.setenv(name, value)
    reset_settings()
    yield CliRunner()
    reset_settings()
