"""The README's promise: `moneta up` on embedded defaults, then `moneta demo` shows the journey
end to end (records, entitlements, e-mails, an approved refund executed once, a snapshot)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ROOT, free_port, stop
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def _clean_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONETA_", "STRIPE_"))}
    env.update(MONETA_DATA_DIR=str(data_dir), MONETA_API_PORT=str(port), PYTHONPATH=str(ROOT))
    return env


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_on_embedded_defaults_then_demo_runs_the_whole_journey(tmp_path: Path) -> None:
    port = free_port()
    env = _clean_env(tmp_path / "data", port)
    cli = [sys.executable, "-m", "orchestrator.cli"]
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(
        [*cli, "up", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(
            lambda: _healthy(f"http://127.0.0.1:{port}/readyz"),
            timeout=60,
            message="moneta up to be ready",
        )
        demo = subprocess.run(
            [*cli, "demo"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        out = demo.stdout
        assert "subscription pro active, 2 invoices, 2 payments" in out
        assert "api_calls=active" in out
        for template in (
            "welcome",
            "receipt",
            "payment_failed",
            "approval_needed",
            "refund_issued",
        ):
            assert f"notification : {template}" in out
        assert "approvals    : #1 executed" in out
        assert out.count("refund       : re_") == 1
        assert "MRR USD 99.00" in out
        assert len(list((tmp_path / "data" / "outbox").glob("*.eml"))) >= 6
    finally:
        code = stop(up, signal.SIGTERM, timeout=60)
    assert code == 0, (tmp_path / "up.log").read_text()[-3000:]
