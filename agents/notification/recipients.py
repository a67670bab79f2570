"""Who an e-mail goes to: the explicit `to`, the operators, or the customer's address."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from agents.notification.catalog import TEMPLATE_AUDIENCE
from agents.notification.payload import NotificationRequest
from core.errors import RetryableError
from core.settings import Settings
from db.models import Customer

# The address only: loading the whole Customer entity cost more than the query.
_CUSTOMER_EMAIL = select(Customer.email).where(Customer.id == bindparam("customer_id"))


class MissingRecipient(Exception):
    """There is no address to write to: the notification is recorded as failed, not retried."""


def resolve_recipient(session: Session, request: NotificationRequest, settings: Settings) -> str:
    """The To: header for `request`; MissingRecipient when nobody can receive it."""
    customer = None
    if request.customer_id is not None:
        customer = (
            session.connection()
            .execute(_CUSTOMER_EMAIL, {"customer_id": request.customer_id})
            .first()
        )
        if customer is None:  # submitted with the customer row, so it should appear: retry
            raise RetryableError(f"customer {request.customer_id} not found")
    if request.to:
        return request.to
    if TEMPLATE_AUDIENCE[request.template] == "operators":
        if not settings.operator_email_list:
            raise MissingRecipient("no operator e-mail configured (MONETA_OPERATOR_EMAILS)")
        return ", ".join(settings.operator_email_list)
    if customer is None:
        raise MissingRecipient(f"{request.template!r} needs `to` or `customer_id`; neither given")
    if not customer.email:
        raise MissingRecipient(f"customer {request.customer_id} has no e-mail address")
    return customer.email
