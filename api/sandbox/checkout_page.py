"""The offline sandbox's checkout page: what Stripe's hosted Checkout does, without Stripe.

`GET /sandbox/checkout/{id}` shows what is bought; its form (POST, with the session's own
token) pays with the test card, delivers the events Stripe would send to this API's
`/webhooks/stripe`, and redirects to the session's `success_url`. Served only in sandbox mode
(no STRIPE_API_KEY); with real Stripe every path here is a 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.dependencies import RuntimeDep
from core.errors import Conflict, Forbidden, MonetaError, NotFound
from core.money import format_money
from orchestrator.sandbox_webhooks import WebhookRefused, deliver_events
from orchestrator.wiring import Runtime
from tools.stripe.checkout_objects import discount_amount
from tools.stripe.checkout_sandbox import CheckoutPage, SandboxCheckoutCalls
from tools.stripe.gateway import StripeNotFound, StripeRequestError

router = APIRouter(prefix="/sandbox", include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class DeliveryFailed(MonetaError):
    status_code = 502


def webhook_client() -> Iterator[httpx.Client]:
    """The client that delivers the events (a dependency, so tests can deliver in-process)."""
    with httpx.Client(timeout=30) as client:
        yield client


WebhookClient = Annotated[httpx.Client, Depends(webhook_client)]


@router.get("/checkout/{session_id}", response_class=HTMLResponse)
def show_checkout(request: Request, session_id: str, runtime: RuntimeDep) -> Response:
    page = _page(_sandbox(runtime), session_id)
    return TEMPLATES.TemplateResponse(request, "sandbox_checkout.html", _view(page))


@router.post("/checkout/{session_id}/pay")
def pay_checkout(
    request: Request,
    session_id: str,
    runtime: RuntimeDep,
    client: WebhookClient,
    form_token: Annotated[str, Form(max_length=100)],
) -> Response:
    """Pay once (a repeat re-delivers the same events), then go to the success URL."""
    sandbox = _sandbox(runtime)
    if not hmac.compare_digest(form_token, _page(sandbox, session_id).form_token):
        raise Forbidden("the form is not this checkout's; reload the page", code="bad_form_token")
    try:
        paid = sandbox.pay_checkout_session(session_id)
    except StripeRequestError as error:
        raise Conflict(str(error), code=error.code or "checkout_not_open") from None
    try:
        url = f"{str(request.base_url).rstrip('/')}/webhooks/stripe"
        deliver_events(client, url, paid.events, runtime.settings.webhook_secrets[0])
    except WebhookRefused as error:
        raise DeliveryFailed(
            f"paid, but the events were not delivered ({error}); submit the form again",
            code="webhook_delivery_failed",
        ) from None
    return RedirectResponse(paid.session.get("success_url") or "/", status_code=303)


def _sandbox(runtime: Runtime) -> SandboxCheckoutCalls:
    stripe = runtime.tools["stripe"]
    if not runtime.settings.sandbox_mode or not isinstance(stripe, SandboxCheckoutCalls):
        raise NotFound("Stripe is configured: checkouts are paid on Stripe", code="not_found")
    return stripe


def _page(sandbox: SandboxCheckoutCalls, session_id: str) -> CheckoutPage:
    try:
        return sandbox.checkout_page(session_id)
    except StripeNotFound:
        raise NotFound(f"no checkout session {session_id}", code="unknown_checkout") from None


def _view(page: CheckoutPage) -> dict[str, Any]:
    """The page's facts as text: amounts formatted from minor units, never floats."""
    session, currency = page.session, page.session["currency"]
    quantity = int(page.params["line_items"][0].get("quantity", 1))
    subtotal = int(page.price.get("unit_amount") or 0) * quantity
    trial_days = int((page.params.get("subscription_data") or {}).get("trial_period_days") or 0)
    recurring = page.price.get("recurring") or {}
    off = discount_amount(subtotal, page.coupons)
    return {
        "session": session,
        "form_token": page.form_token,
        "product": page.product.get("name") or "",
        "quantity": quantity,
        "unit": format_money(int(page.price.get("unit_amount") or 0), currency),
        "interval": recurring.get("interval"),
        "trial_days": trial_days,
        "coupons": [_coupon_text(coupon, currency) for coupon in page.coupons],
        "discount": format_money(off, currency) if off else None,
        "renewal": format_money(subtotal - off, currency),
        "due_today": format_money(0 if trial_days else subtotal - off, currency),
    }


def _coupon_text(coupon: dict[str, Any], currency: str) -> str:
    terms = (
        f"{coupon['percent_off']}% off"
        if coupon.get("percent_off") is not None
        else f"{format_money(int(coupon.get('amount_off') or 0), currency)} off"
    )
    name = coupon.get("name") or coupon.get("id")
    return f"{coupon['code']}: {name} ({terms})" if coupon.get("code") else f"{name} ({terms})"
