"""`moneta api --workers 2`: several processes share the port and all accept webhooks."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.settings import Settings
from db.models import StripeEvent
from db.session import Database
from tests.support.processes import free_port, settings_env, start_moneta, stop
from tests.support.stripe_events import event, fixture, signed
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_api_with_two_worker_processes_accepts_webhooks(
    settings: Settings, database: Database, transport, tmp_path: Path
) -> None:
    port = free_port()
    api = start_moneta(
        ["api", "--port", str(port), "--workers", "2"], settings_env(settings), tmp_path / "api.log"
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(f"{base}/healthz"), timeout=150, message="the API to start")
        children = Path(f"/proc/{api.pid}/task/{api.pid}/children").read_text().split()
        assert len(children) >= 2  # uvicorn forked the worker processes
        for n in range(20):
            body, header = signed(
                event("customer.created", fixture("customer", id=f"cus_w{n}")),
                settings.webhook_secrets[0],
            )
            reply = httpx.post(
                f"{base}/webhooks/stripe",
                content=body,
                headers={"Stripe-Signature": header},
                timeout=10,
            )
            assert reply.status_code == 200, reply.text
    finally:
        assert stop(api) == 0, (tmp_path / "api.log").read_text()[-2000:]
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(StripeEvent)) == 20
