"""`moneta affiliates ...` and `moneta agencies ...`: partners from the command line.

Every command takes `--json`; money (payouts) only ever becomes an approval request here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.orm import Session

from agents.partners import affiliates as affiliate_service
from agents.partners import agencies as agency_service
from agents.partners.branding import BrandingInput
from agents.partners.earnings import stats_view
from agents.partners.payouts import request_partner_payout
from agents.partners.views import (
    affiliate_view,
    agency_view,
    branding_view,
    client_view,
    referral_view,
)
from agents.partners.white_label import set_branding
from agents.payouts.service import payout_view
from core.errors import MonetaError
from db.models.partners import PartnerKind
from orchestrator.commands.common import cli_runtime
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.outbox import submit
from orchestrator.wiring import Runtime

affiliates_app = typer.Typer(no_args_is_help=True)
agencies_app = typer.Typer(no_args_is_help=True)
JSON = typer.Option(False, "--json")


@contextmanager
def _unit_of_work() -> Iterator[tuple[Runtime, Session]]:
    runtime = cli_runtime()
    try:
        with runtime.database.transaction() as session:
            yield runtime, session
    except MonetaError as error:
        fail(error.message)
    finally:
        runtime.close()


def _show(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(view)
        return
    for key, value in view.items():
        typer.echo(f"{key}: {value}")


@affiliates_app.command("create")
def create_affiliate(
    name: str = typer.Option(...),
    email: str = typer.Option(...),
    rate_bps: int | None = typer.Option(None, help="Commission in basis points (1000 = 10%)"),
    recurring_months: int = typer.Option(0, help="Also earn on invoices this many months on"),
    customer: str | None = typer.Option(None, help="The affiliate's own customer account"),
    actor: str = typer.Option(..., help="Who creates it (audit log)"),
    as_json: bool = JSON,
) -> None:
    """Create an affiliate with a fresh random referral code."""
    with _unit_of_work() as (runtime, session):
        view = affiliate_view(
            affiliate_service.create_affiliate(
                session,
                name=name,
                email=email,
                settings=runtime.settings,
                actor=actor,
                rate_bps=rate_bps,
                recurring_months=recurring_months,
                customer=customer,
                origin="cli",
            )
        )
    _show(view, as_json)


@affiliates_app.command("list")
def list_affiliates(as_json: bool = JSON) -> None:
    with _unit_of_work() as (_, session):
        views = [affiliate_view(a) for a in affiliate_service.list_affiliates(session)]
    columns = ("id", "name", "email", "referral_code", "commission_rate_bps", "status")
    emit_table(views, columns, as_json=as_json)


@affiliates_app.command("stats")
def affiliate_stats(affiliate_id: int, as_json: bool = JSON) -> None:
    """Clicks, signups, conversions; earned, clawed back, held, paid and payable per currency."""
    with _unit_of_work() as (_, session):
        stats = affiliate_service.affiliate_stats(session, affiliate_id)
    _show({**stats, "money": stats_view(stats["money"])}, as_json)


@affiliates_app.command("review")
def review_referral(
    referral_id: int,
    clear: bool = typer.Option(..., "--clear/--reject", help="Let it through, or refuse it"),
    operator: str = typer.Option(...),
    note: str | None = typer.Option(None),
    as_json: bool = JSON,
) -> None:
    """Decide on a flagged referral: cleared commissions post, rejected ones never pay."""
    with _unit_of_work() as (_, session):
        referral = affiliate_service.review_referral(
            session, referral_id, operator=operator, clear=clear, note=note, origin="cli"
        )
        view = referral_view(referral)
    _show(view, as_json)


def _payout(kind: str, partner_id: int, currency: str, requested_by: str, as_json: bool) -> None:
    with _unit_of_work() as (runtime, session):
        payout = request_partner_payout(
            session,
            kind=kind,
            partner_id=partner_id,
            currency=currency,
            requested_by=requested_by,
            submit=submit,
            settings=runtime.settings,
            origin="cli",
        )
        view = payout_view(payout)
    _show(view, as_json)


@affiliates_app.command("payout")
def affiliate_payout(
    affiliate_id: int,
    currency: str = typer.Option(...),
    requested_by: str = typer.Option(...),
    as_json: bool = JSON,
) -> None:
    """Request a payout of the affiliate's payable balance (waits for approval)."""
    _payout(PartnerKind.AFFILIATE, affiliate_id, currency, requested_by, as_json)


@agencies_app.command("create")
def create_agency(
    name: str = typer.Option(...),
    email: str = typer.Option(...),
    rate_bps: int | None = typer.Option(None, help="Commission in basis points"),
    actor: str = typer.Option(...),
    as_json: bool = JSON,
) -> None:
    with _unit_of_work() as (runtime, session):
        view = agency_view(
            agency_service.create_agency(
                session,
                name=name,
                email=email,
                settings=runtime.settings,
                actor=actor,
                rate_bps=rate_bps,
                origin="cli",
            )
        )
    _show(view, as_json)


@agencies_app.command("list")
def list_agencies(as_json: bool = JSON) -> None:
    with _unit_of_work() as (_, session):
        views = [agency_view(a) for a in agency_service.list_agencies(session)]
    emit_table(views, ("id", "name", "email", "commission_rate_bps", "status"), as_json=as_json)


@agencies_app.command("show")
def show_agency(agency_id: int, as_json: bool = JSON) -> None:
    """The agency's clients, MRR under management, churn and earnings."""
    with _unit_of_work() as (_, session):
        metrics = agency_service.agency_metrics(session, agency_id)
    _show({**metrics, "money": stats_view(metrics["money"])}, as_json)


@agencies_app.command("link")
def link_client(
    agency_id: int,
    customer: str = typer.Option(..., help="Our customer id or the Stripe customer id"),
    actor: str = typer.Option(...),
    as_json: bool = JSON,
) -> None:
    with _unit_of_work() as (_, session):
        view = client_view(
            agency_service.link_client(session, agency_id, customer, actor=actor, origin="cli")
        )
    _show(view, as_json)


@agencies_app.command("unlink")
def unlink_client(
    agency_id: int, customer: str = typer.Option(...), actor: str = typer.Option(...)
) -> None:
    with _unit_of_work() as (_, session):
        agency_service.unlink_client(session, agency_id, customer, actor=actor, origin="cli")
    typer.echo(f"customer {customer} is no longer a client of agency {agency_id}")


@agencies_app.command("brand")
def brand_agency(
    agency_id: int,
    name: str = typer.Option(...),
    logo_url: str | None = typer.Option(None),
    primary_color: str | None = typer.Option(None),
    accent_color: str | None = typer.Option(None),
    custom_domain: str | None = typer.Option(None),
    css_file: str | None = typer.Option(None, help="A file of custom CSS (sanitised)"),
    email_from_name: str | None = typer.Option(None),
    reply_to: str | None = typer.Option(None),
    support_url: str | None = typer.Option(None),
    actor: str = typer.Option(...),
    as_json: bool = JSON,
) -> None:
    """Set the agency's white-label branding (validated; the CSS is sanitised)."""
    raw = BrandingInput(
        name=name,
        logo_url=logo_url,
        primary_color=primary_color,
        accent_color=accent_color,
        custom_domain=custom_domain,
        custom_css=Path(css_file).read_text() if css_file else None,
        email_from_name=email_from_name,
        reply_to=reply_to,
        support_url=support_url,
    )
    with _unit_of_work() as (_, session):
        view = branding_view(set_branding(session, agency_id, raw, actor=actor, origin="cli"))
    _show(view, as_json)


@agencies_app.command("payout")
def agency_payout(
    agency_id: int,
    currency: str = typer.Option(...),
    requested_by: str = typer.Option(...),
    as_json: bool = JSON,
) -> None:
    """Request a payout of the agency's payable balance (waits for approval)."""
    _payout(PartnerKind.AGENCY, agency_id, currency, requested_by, as_json)
