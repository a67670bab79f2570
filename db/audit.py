"""Append to the audit log, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    origin: str | None = None,
    data: dict[str, Any] | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=None if subject_id is None else str(subject_id),
            origin=origin,
            data=data or {},
            detail=detail,
        )
    )
