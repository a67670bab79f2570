"""The `notification.send` task payload, validated once at both ends (submit and run)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agents.notification.catalog import REQUIRED_FACTS, TEMPLATE_AUDIENCE
from core.errors import PermanentError

# notifications.key and external_calls.idempotency_key ("email:" + key) are 255 wide.
MAX_KEY_LENGTH = 200


class NotificationRequest(BaseModel):
    """One e-mail to send once per `key`; `context` holds the facts the template shows."""

    model_config = ConfigDict(frozen=True)

    key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH)
    template: str
    to: str | None = None
    customer_id: int | None = None
    context: dict[str, Any] = Field(default_factory=dict)

    @field_validator("template")
    @classmethod
    def _known_template(cls, template: str) -> str:
        if template not in TEMPLATE_AUDIENCE:
            raise ValueError(f"unknown template {template!r}; known: {sorted(TEMPLATE_AUDIENCE)}")
        return template

    @field_validator("to")
    @classmethod
    def _blank_is_none(cls, to: str | None) -> str | None:
        return (to or "").strip() or None

    @model_validator(mode="after")
    def _has_required_facts(self) -> NotificationRequest:
        missing = REQUIRED_FACTS.get(self.template, frozenset()) - self.context.keys()
        if missing:
            raise ValueError(f"template {self.template!r} needs facts {sorted(missing)}")
        return self

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> NotificationRequest:
        """Parse a task payload; a malformed one can never succeed, so it is permanent."""
        try:
            return cls.model_validate(payload)
        except ValidationError as exc:
            raise PermanentError(f"bad notification.send payload: {exc}") from exc
