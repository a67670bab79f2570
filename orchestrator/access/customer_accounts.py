"""Customer accounts: register (with a new Customer), log in with a per-e-mail rate limit.

Passwords are argon2 hashes (`credentials`); failed logins share the console's throttle table
and limits, under a `customer:` namespace so they never count against an operator.
Callers own the transaction.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import Conflict, InvalidInput
from core.settings import Settings
from db.models import Customer, CustomerAccount, LoginAttempt
from db.repositories import customer_accounts as repo
from db.repositories.operators import recent_failures
from orchestrator.access import credentials
from orchestrator.access.logins import ADDRESS_FACTOR, LoginFailed, LoginThrottled

MIN_PASSWORD_LENGTH = 10
MIN_DISTINCT_CHARACTERS = 5
MAX_EMAIL_LENGTH = 320
NAMESPACE = "customer:"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def register(
    session: Session, *, email: str, password: str, name: str | None = None
) -> CustomerAccount:
    """A new account and the Customer it signs in as; `email_taken` if the e-mail is in use."""
    address = _checked_email(email)
    _check_password(password, address)
    if repo.by_email(session, address) is not None:
        raise Conflict(f"{address} already has an account", code="email_taken")
    password_hash = credentials.hash_password(password)
    try:
        with session.begin_nested():  # a concurrent sign-up with the same e-mail loses here
            customer = Customer(email=address, name=(name or "").strip() or None)
            session.add(customer)
            session.flush()
            account = CustomerAccount(
                email=address, password_hash=password_hash, customer_id=customer.id
            )
            session.add(account)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{address} already has an account", code="email_taken") from exc
    return account


def log_in(
    session: Session, *, email: str, password: str, address: str, settings: Settings
) -> CustomerAccount | LoginFailed | LoginThrottled:
    """The account, after the rate limit and the password check; every try is recorded.

    A refusal is returned, not raised, so the caller's commit keeps the failure on record.
    """
    login = normalize_email(email)[:MAX_EMAIL_LENGTH]
    name = NAMESPACE + credentials.digest(login)[:48]  # fits the 64-character column
    origin = (NAMESPACE + address)[:64]
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    by_name, by_address = recent_failures(session, since=since, username=name, address=origin)
    if by_name >= settings.login_max_failures or by_address >= (
        settings.login_max_failures * ADDRESS_FACTOR
    ):
        session.add(LoginAttempt(username=name, address=origin, succeeded=False))
        return LoginThrottled("too many failed logins; try again later")
    account = repo.by_email(session, login)
    ok = credentials.verify_password(account.password_hash if account else None, password)
    if account is None or not ok or account.disabled_at is not None:
        session.add(LoginAttempt(username=name, address=origin, succeeded=False))
        return LoginFailed("wrong e-mail or password")
    session.add(LoginAttempt(username=name, address=origin, succeeded=True))
    account.last_login_at = utcnow()
    return account


def _checked_email(email: str) -> str:
    address = normalize_email(email)
    local, at, domain = address.partition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or len(address) > MAX_EMAIL_LENGTH
        or any(c.isspace() for c in address)
        or "@" in domain
    ):
        raise InvalidInput(f"{email!r} is not an e-mail address", code="bad_email")
    return address


def _check_password(password: str, email: str) -> None:
    """Length beats composition rules (NIST 800-63B); refuse the obvious weak ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        raise InvalidInput("a password needs more varied characters", code="weak_password")
    local = email.partition("@")[0]
    if email in password.lower() or (len(local) >= 4 and local in password.lower()):
        raise InvalidInput("a password must not contain the e-mail address", code="weak_password")
