"""`POST /webhooks/stripe`: verify the raw body, store the event once, queue it for billing."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.dependencies import CountersDep, RuntimeDep
from api.signature import verify_stripe_signature
from core.clock import utcnow
from core.errors import MonetaError
from db.models import StripeEvent
from db.session import Database
from db.statements import insert_ignore
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

log = logging.getLogger(__name__)
router = APIRouter()


class WebhookRejected(MonetaError):
    """Refused before anything was stored; `code` is the reason counted in /metrics."""


class PayloadTooLarge(WebhookRejected):
    status_code = 413


@dataclass(frozen=True)
class InboxEvent:
    """The envelope fields the inbox keeps, plus the raw payload exactly as verified."""

    id: str
    type: str
    created: int
    livemode: bool
    api_version: str | None
    payload: str


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body over {limit} bytes", code="too_large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:  # no or lying Content-Length: stop reading here
            raise PayloadTooLarge(f"body over {limit} bytes", code="too_large")
    return bytes(body)


def _bounded_text(value: Any, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= max_length


def parse_event(body: bytes) -> InboxEvent:
    """The event envelope of a verified body; malformed JSON or envelope is refused."""
    try:
        text = body.decode("utf-8")
        doc = json.loads(text)
    except ValueError:
        raise WebhookRejected("body is not UTF-8 JSON", code="malformed_json") from None
    if not isinstance(doc, dict):
        raise WebhookRejected("body is not a JSON object", code="malformed_event")
    created, api_version = doc.get("created"), doc.get("api_version")
    if not (_bounded_text(doc.get("id"), 255) and _bounded_text(doc.get("type"), 100)):
        raise WebhookRejected("event has no usable id or type", code="malformed_event")
    if not isinstance(created, int) or isinstance(created, bool):
        raise WebhookRejected("event has no integer created time", code="malformed_event")
    if api_version is not None and not _bounded_text(api_version, 64):
        raise WebhookRejected("event api_version is not a short string", code="malformed_event")
    return InboxEvent(
        id=doc["id"],
        type=doc["type"],
        created=created,
        livemode=bool(doc.get("livemode", False)),
        api_version=api_version,
        payload=text,
    )


def store_event(database: Database, event: InboxEvent, *, max_attempts: int) -> bool:
    """Inbox row and billing task in one transaction; False when the event was already stored."""
    with database.transaction() as session:
        if insert_ignore(session, StripeEvent, asdict(event)) is None:
            return False
        submit(
            session,
            "stripe.event",
            {"event_id": event.id},
            dedupe_key=f"stripe-event:{event.id}",
            max_attempts=max_attempts,
        )
    return True


def store_limiter(request: Request, database: Database) -> CapacityLimiter:
    """One storing thread per pooled connection: more would not store faster, they would open
    and close overflow connections (a PostgreSQL backend forked for every third webhook)."""
    state = request.app.state
    limiter: CapacityLimiter | None = getattr(state, "webhook_store_limiter", None)
    if limiter is None:  # no await since the check: no other request can race us here
        limiter = CapacityLimiter(database.engine.pool.size())  # type: ignore[attr-defined]
        state.webhook_store_limiter = limiter
    return limiter


def verified_event(request: Request, body: bytes, runtime: Runtime) -> InboxEvent:
    """Check the signature against every configured secret, then read the envelope."""
    settings = runtime.settings
    secrets = settings.webhook_secrets
    if not secrets:
        log.error("Stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set (a Stripe key is)")
        raise WebhookRejected("no webhook signing secret is configured", code="no_secret")
    verify_stripe_signature(
        body,
        request.headers.get("stripe-signature"),
        secrets,
        tolerance_seconds=settings.webhook_tolerance_seconds,
        now=utcnow(),
    )
    return parse_event(body)


@router.post("/webhooks/stripe")
async def receive_stripe_webhook(
    request: Request,
    runtime: RuntimeDep,
    counters: CountersDep,
) -> JSONResponse:
    """2xx for every verified event, new or duplicate; 4xx and nothing stored otherwise."""
    try:
        body = await read_body(request, runtime.settings.webhook_max_bytes)
        event = verified_event(request, body, runtime)
    except MonetaError as exc:
        counters.count_rejected(exc.code)
        log.info("Stripe webhook refused (%s): %s", exc.code, exc.message)
        raise
    store = partial(
        store_event, runtime.database, event, max_attempts=runtime.settings.task_max_attempts
    )
    stored = await to_thread.run_sync(store, limiter=store_limiter(request, runtime.database))
    counters.count_received(duplicate=not stored)
    return JSONResponse({"received": True, "duplicate": not stored})
