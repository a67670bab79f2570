"""Typed errors shared by every layer; each carries the HTTP status it maps to."""

from __future__ import annotations


class MonetaError(Exception):
    """Base of business errors: a machine-readable code and an HTTP status."""

    status_code = 400
    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(MonetaError):
    status_code = 404
    code = "not_found"


class Conflict(MonetaError):
    status_code = 409
    code = "conflict"


class Forbidden(MonetaError):
    status_code = 403
    code = "forbidden"


class InvalidInput(MonetaError):
    status_code = 422
    code = "invalid_input"


class RetryableError(Exception):
    """A task failed for a reason that may pass (network, missing parent row): retry it."""


class PermanentError(Exception):
    """A task can never succeed as given: dead-letter it at once, without retries."""
