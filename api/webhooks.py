"""`POST /webhooks/stripe`: verify the raw body, store the event once, queue it for billing.

Concurrent deliveries are stored in shared transactions (`api.group_commit`)."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.dependencies import CountersDep, RuntimeDep
from api.group_commit import GroupCommit
from api.intake_batch import InboxEvent, inbox_writer
from api.signature import verify_stripe_signature
from core.clock import utcnow
from core.errors import MonetaError
from orchestrator.wiring import Runtime

log = logging.getLogger(__name__)
router = APIRouter()


class WebhookRejected(MonetaError):
    """Refused before anything was stored; `code` is the reason counted in /metrics."""


class PayloadTooLarge(WebhookRejected):
    status_code = 413


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


def inbox(request: Request, runtime: Runtime) -> GroupCommit[InboxEvent, bool]:
    """The app's one inbox writer (created on first use, inside the event loop it serves)."""
    state = request.app.state
    writer: GroupCommit[InboxEvent, bool] | None = getattr(state, "webhook_inbox", None)
    if writer is None:  # no await since the check: no other request can race us here
        writer = inbox_writer(runtime.database, max_attempts=runtime.settings.task_max_attempts)
        state.webhook_inbox = writer
    return writer


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
    stored = await inbox(request, runtime).submit(event)
    counters.count_received(duplicate=not stored)
    return JSONResponse({"received": True, "duplicate": not stored})
