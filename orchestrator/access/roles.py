"""Operator roles, ordered: each role can do everything the roles before it can."""

from __future__ import annotations

from core.errors import InvalidInput

VIEWER = "viewer"  # read everything
OPERATOR = "operator"  # handle tasks, replay events, request money actions
APPROVER = "approver"  # decide approvals
ADMIN = "admin"  # manage operators

ROLES = (VIEWER, OPERATOR, APPROVER, ADMIN)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}", code="unknown_role")
    return role


def has_role(actual: str, required: str) -> bool:
    """True when `actual` is `required` or ranks above it."""
    return ROLES.index(check_role(actual)) >= ROLES.index(check_role(required))


def lesser_role(a: str, b: str) -> str:
    return a if ROLES.index(check_role(a)) <= ROLES.index(check_role(b)) else b
