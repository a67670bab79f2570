"""What every stripe-python call area shares: the configured client and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from tools.stripe.gateway import StripeGatewayError, StripeNotFound, StripeRequestError

PAGE_SIZE = 100


class ClientBase:
    """A `stripe.StripeClient` with retries and a timeout; call-area mixins build on it."""

    def __init__(
        self,
        api_key: str,
        api_base: str | None = None,
        max_retries: int = 3,
        timeout: float = 20.0,
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_retries,
            http_client=stripe.new_default_http_client(timeout=timeout),
        )

    @property
    def label(self) -> str:
        if self._api_base:
            return f"stripe at {self._api_base}"
        if self._api_key.startswith(("sk_live_", "rk_live_")):
            return "stripe (live)"
        return "stripe (test mode)"


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn stripe-python errors (after its own retries) into the gateway's three kinds."""
    try:
        yield
    except stripe.StripeError as error:
        raise _gateway_error(error) from error


def _gateway_error(error: stripe.StripeError) -> Exception:
    status = error.http_status
    message = error.user_message or str(error) or type(error).__name__
    # 409 is Stripe's "a request with this idempotency key is still running": retry later.
    if status is None or status >= 500 or status in (409, 429):
        return StripeGatewayError(f"stripe unavailable ({status or 'no response'}): {message}")
    if status == 404 or error.code == "resource_missing":
        return StripeNotFound(message)
    return StripeRequestError(message, code=error.code or _error_type(error))


def _error_type(error: stripe.StripeError) -> str | None:
    """Stripe's error `type` (e.g. invalid_request_error) when no finer `code` came back."""
    body = error.json_body if isinstance(error.json_body, dict) else {}
    detail = body.get("error")
    return detail.get("type") if isinstance(detail, dict) else None
