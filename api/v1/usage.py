"""/api/v1/usage: report usage (one event or a batch), read it, check it against limits."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from agents.metering.events import MAX_BATCH
from agents.metering.ingest import ACCEPTED, REJECTED, EventOutcome, IngestResult, record_usage
from agents.metering.limits import check
from agents.metering.meters import load_meters
from agents.metering.periods import parse_period, period_of
from agents.metering.summary import usage_summary
from agents.provisioning.plans import load_catalog
from api.dependencies import RuntimeDep
from api.v1.auth import Caller, CallerDep
from api.v1.usage_writer import app_usage_writer
from core.clock import utcnow
from core.errors import InvalidInput
from orchestrator.wiring import Runtime

router = APIRouter(prefix="/api/v1", tags=["usage"])


@router.post("/usage")
async def report_usage(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """One event, or `{"events": [...]}` (up to 1,000). Good events are stored, bad ones named.

    202 when anything was stored or already known (duplicates), 422 when every event was bad.
    Single events from concurrent requests share transactions (`api.v1.usage_writer`).
    """
    events = _events_of(body)
    if "events" not in body:  # one event: answer for it alone
        report = (caller.customer_id, body)
        outcome = await app_usage_writer(request.app.state, runtime).submit(report)
        content, status = single_answer(outcome)
        return JSONResponse(content, status)
    result = await run_in_threadpool(_record_batch, runtime, caller, events)
    status = 422 if result.rejected and len(result.rejected) == len(events) else 202
    return JSONResponse(result.as_dict(), status)


def single_answer(outcome: EventOutcome) -> tuple[dict[str, Any], int]:
    """The body and status answering one event: 202 stored or known, 422 refused."""
    found = outcome.as_dict()
    status = 422 if found["status"] == REJECTED else 202
    return {**found, "counted": found["status"] == ACCEPTED}, status


def _record_batch(runtime: Runtime, caller: Caller, events: list[Any]) -> IngestResult:
    meters = load_meters(runtime.settings.meters_file)
    with runtime.database.transaction() as session:
        return record_usage(session, meters, events, caller_customer_id=caller.customer_id)


def _events_of(body: dict[str, Any]) -> list[Any]:
    if "events" not in body:
        return [body]
    events = body["events"]
    if set(body) != {"events"}:
        raise InvalidInput('a batch is {"events": [...]} and nothing else', code="bad_batch")
    if not isinstance(events, list) or not events:
        raise InvalidInput("events must be a non-empty list", code="bad_batch")
    if len(events) > MAX_BATCH:
        raise InvalidInput(
            f"a batch holds at most {MAX_BATCH} events, got {len(events)}", code="batch_too_large"
        )
    return events


@router.get("/usage/check")
def check_usage(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    metric: str,
    quantity: str = "1",
    customer: str | None = None,
) -> dict[str, Any]:
    """Would `quantity` more of `metric` fit in the current period's limit?"""
    customer_id = caller.customer(request, customer)
    amount = _quantity(quantity)
    settings = runtime.settings
    with runtime.database.transaction() as session:
        result = check(
            session,
            load_meters(settings.meters_file),
            load_catalog(settings.catalog_file),
            customer_id=customer_id,
            metric=metric,
            quantity=amount,
        )
    return {"customer_id": customer_id, **result.as_dict()}


@router.get("/usage")
def show_usage(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    metric: str | None = None,
    period: str | None = None,
    customer: str | None = None,
) -> dict[str, Any]:
    """Usage per meter in a period (default: the current month), with limits."""
    customer_id = caller.customer(request, customer)
    now = utcnow()
    try:
        chosen = parse_period(period) if period else period_of(now)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="bad_period") from None
    settings = runtime.settings
    with runtime.database.transaction() as session:
        rows = usage_summary(
            session,
            load_meters(settings.meters_file),
            load_catalog(settings.catalog_file),
            customer_id=customer_id,
            period=chosen,
            now=now,
            metric=metric,
        )
    return {"customer_id": customer_id, "period": chosen.label, "meters": rows}


def _quantity(text: str) -> Decimal:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(f"quantity {text!r} is not a number", code="bad_quantity") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput("quantity must be a non-negative number", code="bad_quantity")
    return amount
