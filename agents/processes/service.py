"""Process use cases: register, move through the lifecycle, record usage, statistics.

Callers own the transaction. Usage accrues in the journal in the same unit of work: the user
owes the price, the owner is owed it minus the platform fee (the owner's own rate, else the
configured default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.ledger_journal import rules as posting
from agents.ledger_journal.accounts import party
from agents.ledger_journal.writer import post
from agents.payouts.payees import ACTIVE as PAYEE_ACTIVE
from agents.payouts.payees import ensure_payee
from agents.payouts.rules import PAID
from agents.processes.lifecycle import ACTIVE, DRAFT, target_of
from agents.processes.pricing import PRODUCT_TYPES, usage_charge, validate_pricing
from core.clock import utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings, get_settings
from db.audit import record_audit
from db.models import MonetizedProcess, Payee, Payout, ProcessUsage
from db.statements import insert_ignore


def register_process(
    session: Session,
    *,
    owner_ref: str,
    name: str,
    product_type: str,
    revenue_model: str,
    pricing: dict[str, Any],
    currency: str,
    actor: str,
    description: str = "",
    owner_name: str | None = None,
    owner_email: str | None = None,
) -> MonetizedProcess:
    """A new process in `draft`, owned by `owner_ref` (created as a payee on first use)."""
    name = name.strip()
    if not name or len(name) > 255:
        raise InvalidInput("a process needs a name of 1-255 characters", code="bad_name")
    if product_type not in PRODUCT_TYPES:
        raise InvalidInput(f"product type is one of {PRODUCT_TYPES}", code="bad_product_type")
    canonical = validate_pricing(revenue_model, pricing)
    if len(currency) != 3 or not currency.isalpha():
        raise InvalidInput("currency is a 3-letter ISO code", code="bad_currency")
    owner = ensure_payee(session, kind="owner", ref=owner_ref, name=owner_name, email=owner_email)
    if owner.status != PAYEE_ACTIVE:
        raise Conflict(f"owner {owner.party} is {owner.status}", code="owner_not_active")
    now = utcnow()
    process = MonetizedProcess(
        owner_id=owner.id,
        name=name,
        description=description,
        product_type=product_type,
        revenue_model=revenue_model,
        pricing=canonical,
        currency=currency.lower(),
        status=DRAFT,
        usage_count=0,
        usage_quantity=0,
        created_at=now,
        updated_at=now,
    )
    session.add(process)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="process.registered",
        subject_type="process",
        subject_id=process.id,
        data={"owner": owner.party, "revenue_model": revenue_model, "pricing": canonical},
    )
    return process


def get_process(session: Session, process_id: int, *, lock: bool = False) -> MonetizedProcess:
    stmt = select(MonetizedProcess).where(MonetizedProcess.id == process_id)
    if lock:
        stmt = stmt.with_for_update()
    process = session.scalars(stmt).first()
    if process is None:
        raise NotFound(f"no process {process_id}", code="unknown_process")
    return process


def change_status(
    session: Session, process_id: int, action: str, *, actor: str
) -> MonetizedProcess:
    """activate / pause / resume / retire, as the transition table allows (409 otherwise)."""
    process = get_process(session, process_id, lock=True)
    before = process.status
    process.status = target_of(action, before)
    process.updated_at = utcnow()
    record_audit(
        session,
        actor=actor,
        action=f"process.{action}",
        subject_type="process",
        subject_id=process.id,
        data={"from": before, "to": process.status},
    )
    return process


@dataclass(frozen=True)
class RecordedUsage:
    usage: ProcessUsage
    duplicate: bool  # the idempotency key was seen before: nothing new was charged


def record_usage(
    session: Session,
    process_id: int,
    *,
    quantity: int,
    user_ref: str,
    idempotency_key: str,
    settings: Settings | None = None,
) -> RecordedUsage:
    """Charge one use of an active process and accrue its revenue, once per idempotency key."""
    settings = settings or get_settings()
    key, user_ref = idempotency_key.strip(), user_ref.strip()
    if not key or len(key) > 255:
        raise InvalidInput("an idempotency key of 1-255 characters is required", code="bad_key")
    if not user_ref or len(user_ref) > 255:
        raise InvalidInput("the user of the process is required", code="bad_user")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidInput("quantity must be a positive whole number", code="bad_quantity")
    process = get_process(session, process_id, lock=True)
    seen = _usage_by_key(session, process_id, key)
    if seen is not None:
        return RecordedUsage(seen, duplicate=True)
    if process.status != ACTIVE:
        raise Conflict(f"process {process_id} is {process.status}", code="process_not_active")
    owner = session.get(Payee, process.owner_id)
    assert owner is not None  # a foreign key
    fee_bps = owner.fee_bps if owner.fee_bps is not None else settings.platform_fee_bps
    gross = usage_charge(process.revenue_model, process.pricing, process.usage_quantity, quantity)
    _, fee = posting.split_fee(gross, fee_bps)
    entry_id = None
    if gross:
        entry_id = post(
            session,
            posting.process_usage(
                dedupe_key=f"usage:{process_id}:{key}",
                gross=gross,
                fee=fee,
                currency=process.currency,
                payer_party=party("user", user_ref),
                owner_party=owner.party,
                data={"process_id": process_id, "quantity": quantity, "fee_bps": fee_bps},
            ),
        )
    insert_ignore(
        session,
        ProcessUsage,
        {
            "process_id": process_id,
            "idempotency_key": key,
            "user_ref": user_ref,
            "quantity": quantity,
            "gross": gross,
            "fee": fee,
            "currency": process.currency,
            "entry_id": entry_id,
            "recorded_at": utcnow(),
        },
    )
    process.usage_count += 1
    process.usage_quantity += quantity
    process.updated_at = utcnow()
    usage = _usage_by_key(session, process_id, key)
    assert usage is not None
    return RecordedUsage(usage, duplicate=False)


def _usage_by_key(session: Session, process_id: int, key: str) -> ProcessUsage | None:
    return session.scalars(
        select(ProcessUsage).where(
            ProcessUsage.process_id == process_id, ProcessUsage.idempotency_key == key
        )
    ).first()


def process_stats(session: Session, process_id: int) -> dict[str, Any]:
    """Uses, units, revenue, platform fees, owner's share and payouts made for one process."""
    process = get_process(session, process_id)
    revenue, fees = session.execute(
        select(
            func.coalesce(func.sum(ProcessUsage.gross), 0),
            func.coalesce(func.sum(ProcessUsage.fee), 0),
        ).where(ProcessUsage.process_id == process_id)
    ).one()
    paid = session.scalar(
        select(func.coalesce(func.sum(Payout.amount), 0)).where(
            Payout.process_id == process_id, Payout.status == PAID
        )
    )
    return {
        **process_view(process),
        "revenue": int(revenue),
        "fees": int(fees),
        "owner_share": int(revenue) - int(fees),
        "payouts": int(paid or 0),
    }


def overall_stats(session: Session) -> dict[str, Any]:
    """Processes, active ones, and revenue, fees and payouts per currency."""
    counts = dict(
        session.execute(
            select(MonetizedProcess.status, func.count()).group_by(MonetizedProcess.status)
        ).all()
    )
    money: dict[str, dict[str, int]] = {}
    for currency, revenue, fees in session.execute(
        select(
            ProcessUsage.currency, func.sum(ProcessUsage.gross), func.sum(ProcessUsage.fee)
        ).group_by(ProcessUsage.currency)
    ):
        money.setdefault(currency, {"revenue": 0, "fees": 0, "payouts": 0})
        money[currency].update(revenue=int(revenue), fees=int(fees))
    for currency, paid in session.execute(
        select(Payout.currency, func.sum(Payout.amount))
        .where(Payout.status == PAID)
        .group_by(Payout.currency)
    ):
        money.setdefault(currency, {"revenue": 0, "fees": 0, "payouts": 0})
        money[currency]["payouts"] = int(paid)
    return {
        "processes": sum(int(n) for n in counts.values()),
        "active": int(counts.get(ACTIVE, 0)),
        "by_status": {status: int(n) for status, n in counts.items()},
        "by_currency": money,
    }


def list_processes(session: Session, status: str | None = None) -> list[MonetizedProcess]:
    stmt = select(MonetizedProcess).order_by(MonetizedProcess.id)
    if status is not None:
        stmt = stmt.where(MonetizedProcess.status == status)
    return list(session.scalars(stmt))


def process_view(process: MonetizedProcess) -> dict[str, Any]:
    return {
        "id": process.id,
        "owner_id": process.owner_id,
        "name": process.name,
        "description": process.description,
        "product_type": process.product_type,
        "revenue_model": process.revenue_model,
        "pricing": process.pricing,
        "currency": process.currency,
        "status": process.status,
        "usage_count": process.usage_count,
        "usage_quantity": process.usage_quantity,
        "created_at": process.created_at.isoformat(),
    }


def usage_view(recorded: RecordedUsage) -> dict[str, Any]:
    usage = recorded.usage
    return {
        "id": usage.id,
        "process_id": usage.process_id,
        "idempotency_key": usage.idempotency_key,
        "user": usage.user_ref,
        "quantity": usage.quantity,
        "gross": usage.gross,
        "fee": usage.fee,
        "currency": usage.currency,
        "entry_id": usage.entry_id,
        "duplicate": recorded.duplicate,
    }
