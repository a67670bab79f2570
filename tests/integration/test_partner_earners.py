"""`anyone_may_earn`, the one query the partners agent asks first of a paid invoice, agrees
with the referral and agency lookups that decide commissions."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.partners import affiliates, agencies
from agents.partners import repository as repo
from core.settings import Settings
from db.models import Customer
from db.session import Database


def may_earn(
    session: Session,
    customer_id: int | None = None,
    stripe_customer_id: str | None = None,
    email: str | None = None,
) -> bool:
    return repo.anyone_may_earn(
        session, customer_id=customer_id, stripe_customer_id=stripe_customer_id, email=email
    )


def referral_code(session: Session, settings: Settings) -> str:
    affiliate = affiliates.create_affiliate(
        session, name="Affi", email="aff@example.com", settings=settings, actor="alice"
    )
    return affiliate.referral_code


def test_nobody_earns_on_a_customer_without_partners(database: Database) -> None:
    with database.transaction() as s:
        customer = Customer(stripe_customer_id="cus_lone", email="lone@example.com")
        s.add(customer)
        s.flush()
        assert not may_earn(s, customer.id, "cus_lone", "lone@example.com")
        assert not may_earn(s)


def test_a_referral_by_stripe_id_or_by_email_alone_may_earn(
    database: Database, settings: Settings
) -> None:
    with database.transaction() as s:
        code = referral_code(s, settings)
        affiliates.attribute_signup(
            s, settings=settings, source="api", code=code, stripe_customer_id="cus_ref"
        )
        affiliates.attribute_signup(
            s, settings=settings, source="api", code=code, email="Mail@Example.com"
        )
        assert may_earn(s, stripe_customer_id="cus_ref")
        assert may_earn(s, email=" mail@example.COM")
        assert not may_earn(s, stripe_customer_id="cus_other", email="other@example.com")
        by_id = repo.referral_of(s, customer_id=None, stripe_customer_id="cus_ref")
        by_email = repo.referral_of(
            s, customer_id=None, stripe_customer_id=None, email="mail@example.com"
        )
        assert by_id is not None and by_email is not None and by_id.id != by_email.id


def test_only_an_active_agency_link_may_earn(database: Database, settings: Settings) -> None:
    with database.transaction() as s:
        customer = Customer(stripe_customer_id="cus_client", email="client@example.com")
        s.add(customer)
        s.flush()
        agency = agencies.create_agency(
            s, name="Agency", email="ag@example.com", settings=settings, actor="alice"
        )
        agencies.link_client(s, agency.id, "cus_client", actor="alice")
        assert may_earn(s, customer.id)
        agency.status = "suspended"
        s.flush()
        assert not may_earn(s, customer.id)
        assert repo.active_agency_link(s, customer.id) is None
        agency.status = "active"
        agencies.unlink_client(s, agency.id, "cus_client", actor="alice")
        assert not may_earn(s, customer.id)
