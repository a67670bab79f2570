"""`moneta discounts validate|show|sync|check`: the coupons and promotion codes file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agents.discounts.config import Coupon, Discounts
from agents.discounts.loader import load_discounts
from agents.discounts.sync import sync_discounts
from agents.discounts.validation import validate_code
from core.clock import utcnow
from core.money import format_money
from db.models.discounts import RedemptionScope
from db.repositories.discounts import active_synced_objects, times_redeemed
from orchestrator.commands.common import cli_settings, unit_of_work
from orchestrator.commands.config_files import loaded, sync_to_stripe
from orchestrator.commands.output import emit_table

app = typer.Typer(no_args_is_help=True)
FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="Discounts YAML (default: MONETA_DISCOUNTS, else the shipped one)"),
]


def _discounts(path: Path | None) -> Discounts:
    settings = cli_settings()
    return loaded(lambda: load_discounts(path or settings.discounts_file, settings.catalog_file))


@app.command("validate")
def validate_command(path: FileOption = None) -> None:
    """Check every coupon and code; exit 1 listing each problem by file, line and field."""
    found = _discounts(path)
    counts = f"{len(found.coupons)} coupons, {len(found.promotion_codes)} promotion codes"
    typer.echo(f"{found.source}: valid: {counts}")


@app.command("show")
def show_command(path: FileOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Every promotion code: its coupon's terms, redemptions against limits, Stripe ids."""
    found = _discounts(path)
    with unit_of_work() as (_, session):
        rows: list[dict[str, Any]] = []
        for promo in found.promotion_codes:
            coupon = found.coupon(promo.coupon)
            synced = active_synced_objects(
                session, RedemptionScope.PROMOTION_CODE, promo.normalized
            )
            used = times_redeemed(session, RedemptionScope.PROMOTION_CODE, promo.normalized)
            rows.append(
                {
                    "code": promo.code,
                    "coupon": coupon.key,
                    "off": describe_off(coupon),
                    "duration": describe_duration(coupon),
                    "active": promo.active,
                    "redeemed": f"{used}/{promo.max_redemptions or '-'}",
                    "expires": promo.expires_at or coupon.redeem_by,
                    "plans": ",".join(coupon.applies_to) or "all",
                    "first_time": coupon.first_time_only,
                    "stripe_id": synced[-1].stripe_id if synced else None,
                }
            )
    columns = ("code", "coupon", "off", "duration", "active", "redeemed", "expires", "plans")
    emit_table(rows, (*columns, "first_time", "stripe_id"), as_json=as_json)


@app.command("sync")
def sync_command(path: FileOption = None, as_json: bool = typer.Option(False, "--json")) -> None:
    """Create the Stripe coupons and promotion codes that are missing or changed.

    Idempotent: a second run with an unchanged file creates nothing.
    """
    found = _discounts(path)
    sync_to_stripe(
        lambda database, gateway: sync_discounts(database, gateway, found), as_json=as_json
    )


@app.command("check")
def check_command(
    code: str,
    customer: int | None = typer.Option(None, "--customer", help="Customer id (first-time rules)"),
    price: str | None = typer.Option(None, "--price", help="Catalog price key it would buy"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Whether CODE would be accepted now, and the reason when it would not."""
    with unit_of_work() as (runtime, session):
        check = validate_code(
            session,
            code,
            customer_id=customer,
            price_key=price,
            at=utcnow(),
            settings=runtime.settings,
        )
    off = describe_off(check.coupon) if check.coupon else None
    row = {"code": check.code, "valid": check.valid, "reason": check.reason, "off": off}
    emit_table([row], ("code", "valid", "reason", "off"), as_json=as_json)
    if not check.valid:
        raise typer.Exit(1)


def describe_off(coupon: Coupon) -> str:
    if coupon.percent_off is not None:
        return f"{coupon.percent_off}%"
    assert coupon.amount_off is not None and coupon.currency is not None
    return format_money(coupon.amount_off, coupon.currency)


def describe_duration(coupon: Coupon) -> str:
    if coupon.duration == "repeating":
        return f"{coupon.duration_in_months} months"
    return coupon.duration
