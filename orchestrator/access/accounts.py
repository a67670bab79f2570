"""Operator accounts and API tokens: create, list, disable, issue, revoke, authenticate.

Shared by `moneta operators` and the console's admin page; callers own the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from db.audit import record_audit
from db.models import Operator, OperatorToken
from db.repositories import operators as repo
from orchestrator.access import credentials
from orchestrator.access.roles import check_role, has_role, lesser_role

MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Identity:
    """Who is acting, as the request authenticated them, and with which role."""

    operator_id: int
    username: str
    role: str
    via: str  # session | token
    csrf_token: str | None = None

    def can(self, required: str) -> bool:
        return has_role(self.role, required)


def normalize_username(username: str) -> str:
    return username.strip().lower()


def create_operator(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    actor: str,
    origin: str | None = None,
    with_totp: bool = False,
) -> Operator:
    name = normalize_username(username)
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("a username is letters, digits, '.', '-' or '_'", code="bad_username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )
    if repo.by_username(session, name) is not None:
        raise Conflict(f"operator {name!r} already exists", code="operator_exists")
    operator = Operator(
        username=name,
        role=check_role(role),
        password_hash=credentials.hash_password(password),
        totp_secret=credentials.new_totp_secret() if with_totp else None,
    )
    session.add(operator)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="operator.created",
        subject_type="operator",
        subject_id=name,
        origin=origin,
        data={"role": operator.role, "totp": with_totp},
    )
    return operator


def get_operator(session: Session, username: str) -> Operator:
    operator = repo.by_username(session, normalize_username(username))
    if operator is None:
        raise NotFound(f"no operator {username!r}")
    return operator


def disable_operator(
    session: Session, username: str, *, actor: str, origin: str | None = None
) -> Operator:
    """Disable the account and end its sessions and tokens in the same commit."""
    operator = get_operator(session, username)
    now = utcnow()
    if operator.disabled_at is None:
        operator.disabled_at = now
    repo.revoke_sessions(session, operator.id, now)
    repo.revoke_tokens(session, operator.id, now)
    record_audit(
        session,
        actor=actor,
        action="operator.disabled",
        subject_type="operator",
        subject_id=operator.username,
        origin=origin,
    )
    return operator


def issue_token(
    session: Session,
    username: str,
    *,
    actor: str,
    role: str | None = None,
    label: str | None = None,
    origin: str | None = None,
) -> tuple[OperatorToken, str]:
    """A new bearer token (row, secret); the secret is returned once and only its hash kept."""
    operator = get_operator(session, username)
    if operator.disabled_at is not None:
        raise Conflict(f"operator {operator.username!r} is disabled", code="operator_disabled")
    scope = lesser_role(check_role(role), operator.role) if role else operator.role
    new = credentials.new_api_token()
    token = OperatorToken(
        operator_id=operator.id,
        prefix=new.prefix,
        token_hash=credentials.digest(new.secret),
        role=scope,
        label=label,
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="operator.token_issued",
        subject_type="operator",
        subject_id=operator.username,
        origin=origin,
        data={"prefix": new.prefix, "role": scope},
    )
    return token, new.secret


def revoke_token(session: Session, prefix: str, *, actor: str, origin: str | None = None) -> None:
    token = repo.token_by_prefix(session, prefix.strip())
    if token is None:
        raise NotFound(f"no token {prefix!r}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    record_audit(
        session,
        actor=actor,
        action="operator.token_revoked",
        subject_type="operator_token",
        subject_id=token.prefix,
        origin=origin,
    )


def authenticate_token(session: Session, secret: str) -> Identity | None:
    """The identity a bearer token stands for, or None (unknown, revoked, operator disabled)."""
    if credentials.token_prefix(secret) is None:
        return None
    found = repo.active_token(session, credentials.digest(secret))
    if found is None:
        return None
    token, operator = found
    token.last_used_at = utcnow()
    role = lesser_role(token.role, operator.role)
    return Identity(operator.id, operator.username, role, "token")
