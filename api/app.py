"""The FastAPI application: routers over one runtime, business errors as JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.telemetry import TelemetryConfig

from api import health, webhooks
from api.console.errors import console_error
from api.console.router import mount_console
from api.metering.install import install_api_metering
from api.metrics import WebhookCounters
from api.ops import analytics as ops_analytics
from api.ops import api_keys as ops_api_keys
from api.ops import approvals as ops_approvals
from api.ops import approved_actions as ops_approved_actions
from api.ops import copilot as ops_copilot
from api.ops import customers as ops_customers
from api.ops import inbox as ops_inbox
from api.ops import payouts as ops_payouts
from api.ops import tasks as ops_tasks
from api.problems import install_problem_details, problem_response
from api.raw_routes import RawEndpoint, RawRoutes
from api.sandbox import checkout_page as sandbox_checkout
from api.v1 import access as v1_access
from api.v1 import access_check_raw, usage_single
from api.v1 import affiliates as v1_affiliates
from api.v1 import agencies as v1_agencies
from api.v1 import customer_accounts as v1_customer_accounts
from api.v1 import customer_checkout as v1_customer_checkout
from api.v1 import customer_discounts as v1_customer_discounts
from api.v1 import customer_invoices as v1_customer_invoices
from api.v1 import customer_portal as v1_customer_portal
from api.v1 import customer_subscription as v1_customer_subscription
from api.v1 import processes as v1_processes
from api.v1 import usage as v1_usage
from api.v1 import wallet as v1_wallet
from api.v1 import white_label as v1_white_label
from api.v1.access_services import close_access_service
from api.v1.branding import install_branding
from core.errors import MonetaError
from core.settings import Settings, get_settings
from orchestrator.wiring import Runtime, build_runtime


async def _moneta_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MonetaError)
    if request.url.path.startswith("/console"):
        return console_error(request, exc)
    return problem_response(request, exc.status_code, exc.code, exc.message)


def create_app(runtime: Runtime, *, close_runtime_on_shutdown: bool = False) -> FastAPI:
    """An app serving `runtime`; it closes the runtime at shutdown only if told it owns it."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.loop_redis.aclose()
        close_access_service(_app)
        if close_runtime_on_shutdown:
            runtime.close()

    otel = runtime.settings.api_otel
    telemetry: TelemetryConfig = {"tracing": otel, "metrics": otel, "logs": otel}
    app = FastAPI(title="Moneta", lifespan=lifespan, telemetry=telemetry)
    app.state.runtime = runtime
    app.state.webhook_counters = counters = WebhookCounters()
    app.add_exception_handler(MonetaError, _moneta_error)
    install_problem_details(app)
    app.include_router(health.router)
    for ops in (ops_approvals, ops_tasks, ops_customers, ops_inbox, ops_analytics, ops_copilot):
        app.include_router(ops.router)
    app.include_router(ops_api_keys.router)
    app.include_router(ops_approved_actions.router)
    app.include_router(v1_usage.router)
    app.include_router(v1_wallet.router)
    app.include_router(v1_access.router)
    for partners in (v1_affiliates, v1_agencies, v1_white_label):
        app.include_router(partners.router)
    app.include_router(ops_payouts.router)
    app.include_router(v1_processes.router)
    app.include_router(v1_customer_accounts.router)
    app.include_router(v1_customer_checkout.router)
    app.include_router(v1_customer_discounts.router)
    app.include_router(v1_customer_invoices.router)
    app.include_router(v1_customer_portal.router)
    app.include_router(v1_customer_subscription.router)
    app.include_router(sandbox_checkout.router)  # 404 unless on the offline sandbox
    # Innermost: raw endpoints see requests as admitted, metered and branded like any route.
    raw: dict[str, RawEndpoint] = {
        webhooks.PATH: webhooks.StripeWebhookEndpoint(runtime, counters),
        usage_single.PATH: usage_single.SingleUsageEndpoint(runtime),
        access_check_raw.PATH: access_check_raw.AccessCheckEndpoint(runtime),
    }
    app.add_middleware(RawRoutes, routes=raw)
    install_branding(app, runtime)  # inside the metering middleware: it needs the key's owner
    install_api_metering(app, runtime)
    mount_console(app)
    return app


def app_from_settings(settings: Settings) -> FastAPI:
    """An app with its own runtime built from `settings` (closed when the server stops)."""
    return create_app(build_runtime(settings), close_runtime_on_shutdown=True)


def app_from_env() -> FastAPI:
    """uvicorn factory: `uvicorn api.app:app_from_env --factory`."""
    return app_from_settings(get_settings())
