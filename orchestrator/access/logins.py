"""Console logins: password (+ TOTP), a rate limit on failures, server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import MonetaError
from core.settings import Settings
from db.audit import record_audit
from db.models import LoginAttempt, OperatorSession
from db.repositories import operators as repo
from orchestrator.access import credentials
from orchestrator.access.accounts import Identity, normalize_username

# One address may try several names; it gets this many times the per-name allowance.
ADDRESS_FACTOR = 4


class LoginFailed(MonetaError):
    status_code = 401
    code = "login_failed"


class LoginThrottled(MonetaError):
    status_code = 429
    code = "login_throttled"


@dataclass(frozen=True)
class OpenedSession:
    identity: Identity
    secret: str  # goes in the cookie; only its hash is stored


def log_in(
    session: Session,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    address: str,
    settings: Settings,
) -> OpenedSession | LoginFailed | LoginThrottled:
    """Check the credentials (after the rate limit) and open a session; every try is recorded.

    A refusal is returned, not raised, so the caller's commit keeps the failure on record.
    """
    name = normalize_username(username)[:64]
    now = utcnow()
    since = now - timedelta(minutes=settings.login_window_minutes)
    by_name, by_address = repo.recent_failures(session, since=since, username=name, address=address)
    if by_name >= settings.login_max_failures or by_address >= (
        settings.login_max_failures * ADDRESS_FACTOR
    ):
        _record(session, name, address, False, "login.throttled")
        return LoginThrottled("too many failed logins; try again later")
    operator = repo.by_username(session, name)
    ok = credentials.verify_password(operator.password_hash if operator else None, password)
    if operator is None or not ok or operator.disabled_at is not None:
        _record(session, name, address, False, "login.failed")
        return LoginFailed("wrong name or password")
    if operator.totp_secret and not credentials.verify_totp(operator.totp_secret, totp_code or ""):
        _record(session, name, address, False, "login.failed_totp")
        return LoginFailed("wrong or missing one-time code")
    _record(session, name, address, True, "login.succeeded")
    operator.last_login_at = now
    secret, csrf = credentials.random_secret(), credentials.random_secret()
    session.add(
        OperatorSession(
            token_hash=credentials.digest(secret),
            operator_id=operator.id,
            csrf_token=csrf,
            origin=address,
            expires_at=now + timedelta(hours=settings.console_session_hours),
        )
    )
    return OpenedSession(
        Identity(operator.id, operator.username, operator.role, "session", csrf), secret
    )


def _record(session: Session, name: str, address: str, succeeded: bool, action: str) -> None:
    session.add(LoginAttempt(username=name, address=address[:64], succeeded=succeeded))
    record_audit(
        session,
        actor=name or "?",
        action=action,
        subject_type="operator",
        subject_id=name,
        origin=f"console:{address}",
    )


def session_identity(session: Session, secret: str) -> Identity | None:
    found = repo.live_session(session, credentials.digest(secret), utcnow())
    if found is None:
        return None
    row, operator = found
    return Identity(operator.id, operator.username, operator.role, "session", row.csrf_token)


def log_out(session: Session, secret: str, *, address: str) -> None:
    found = repo.live_session(session, credentials.digest(secret), utcnow())
    if found is None:
        return
    row, operator = found
    row.revoked_at = utcnow()
    record_audit(
        session,
        actor=operator.username,
        action="logout",
        subject_type="operator",
        subject_id=operator.username,
        origin=f"console:{address}",
    )
