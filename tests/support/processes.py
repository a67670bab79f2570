"""Start Moneta processes (`moneta worker`, `moneta api`) as a user would, for e2e tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process see the test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONETA_", "STRIPE_"))}
    env.update(
        MONETA_DATA_DIR=str(settings.data_dir),
        MONETA_DATABASE_URL=settings.effective_database_url,
        MONETA_REDIS_URL=settings.redis_url or "",
        MONETA_REDIS_PREFIX=settings.redis_prefix,
        MONETA_OUTBOX_DIR=str(settings.effective_outbox_dir),
        MONETA_TASK_LEASE_SECONDS=str(settings.task_lease_seconds),
        MONETA_RETRY_BASE_SECONDS=str(settings.retry_base_seconds),
        MONETA_RETRY_MAX_SECONDS=str(settings.retry_max_seconds),
        MONETA_RELAY_INTERVAL_SECONDS=str(settings.relay_interval_seconds),
        MONETA_RELAY_REPUBLISH_AFTER_SECONDS=str(settings.relay_republish_after_seconds),
        PYTHONPATH=str(ROOT),
    )
    if settings.stripe_webhook_secret:
        env["STRIPE_WEBHOOK_SECRET"] = settings.stripe_webhook_secret
    if settings.stripe_api_key:
        env["STRIPE_API_KEY"] = settings.stripe_api_key
    if settings.stripe_api_base:
        env["MONETA_STRIPE_API_BASE"] = settings.stripe_api_base
    if settings.smtp_url:
        env["MONETA_SMTP_URL"] = settings.smtp_url
    env.update(extra)
    return env


def start_moneta(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    return process.returncode


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
