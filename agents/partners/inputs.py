"""Input checks shared by the partners' use cases."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.partners import repository as repo
from core.errors import InvalidInput, NotFound
from db.models import Customer


def checked_email(value: str) -> str:
    email = value.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c in email for c in " \r\n<>"):
        raise InvalidInput(f"{value!r} is not an e-mail address", code="bad_email")
    return email


def customer_id_of(session: Session, ref: str) -> int:
    """Our customer id from our id or a Stripe customer id."""
    ref = ref.strip()
    found = repo.customer_by_stripe_id(session, ref)
    if found is None and ref.isdigit():
        found = session.get(Customer, int(ref))
    if found is None:
        raise NotFound(f"no customer {ref!r}", code="unknown_customer")
    return found.id
