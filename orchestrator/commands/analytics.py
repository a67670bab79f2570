"""`moneta analytics daily|backfill|report`: the daily metric snapshots for operators."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.analytics.daily import backfill, daily_report
from agents.analytics.metrics import ALL_PLANS
from agents.analytics.movements import REVENUE_METRICS, REVENUE_MONEY
from agents.analytics.revenue import revenue_report
from core.clock import utcnow
from core.money import format_money as money
from db.repositories.metric_history import snapshot_currencies
from db.session import Database
from orchestrator.commands.common import cli_settings
from orchestrator.commands.output import emit_json, emit_table, fail
from orchestrator.revenue_chart import render_revenue_chart
from orchestrator.revenue_text import PERIOD_COLUMNS, cohort_rows, period_rows, summary_lines

app = typer.Typer(no_args_is_help=True)

MONEY_METRICS = (
    "mrr",
    "arr",
    "arpu",
    "gross_revenue",
    "refunds",
    "net_revenue",
    "failed_payment_amount",
    *REVENUE_MONEY,
)
METRIC_ORDER = (
    "mrr",
    "arr",
    "active_subscriptions",
    "active_customers",
    "new_subscriptions",
    "churned_subscriptions",
    "logo_churn_rate",
    "revenue_churn_rate",
    "arpu",
    "gross_revenue",
    "refunds",
    "net_revenue",
    "failed_payments",
    "failed_payment_amount",
    *REVENUE_METRICS,
)


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD, got {value!r}")
        raise  # unreachable: fail() exits


def _database() -> Database:
    return Database(cli_settings().effective_database_url)


@app.command("daily")
def daily_command(
    day: str | None = typer.Option(None, "--date", help="UTC day YYYY-MM-DD (default: today)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show one day's snapshot, computing it if missing (today's is always recomputed)."""
    target = _parse_day(day, "--date") if day else utcnow().date()
    database = _database()
    try:
        with database.transaction() as session:
            report = daily_report(session, target)
    finally:
        database.dispose()
    if as_json:
        emit_json(report)
        return
    typer.echo(f"Metrics for {report['day']} (UTC)")
    if not report["snapshots"]:
        typer.echo("(no subscriptions or payments on this day)")
    for currency in sorted({s["currency"] for s in report["snapshots"]}):
        typer.echo("")
        typer.echo(f"[{currency.upper()}]")
        _emit_currency(currency, [s for s in report["snapshots"] if s["currency"] == currency])


def _emit_currency(currency: str, snapshots: list[dict[str, Any]]) -> None:
    """One row per metric, one column per plan, the all-plans total first."""
    columns = ["metric"] + ["all" if s["plan"] == "*" else s["plan"] for s in snapshots]
    rows = []
    for metric in METRIC_ORDER:
        row: dict[str, Any] = {"metric": metric}
        for column, snapshot in zip(columns[1:], snapshots, strict=True):
            value = snapshot["metrics"].get(metric)
            is_money = metric in MONEY_METRICS and value is not None
            row[column] = money(value, currency) if is_money else value
        rows.append(row)
    emit_table(rows, columns, as_json=False)


@app.command("backfill")
def backfill_command(
    start: str = typer.Option(..., "--from", help="First UTC day, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="Last UTC day (inclusive), YYYY-MM-DD"),
) -> None:
    """Rebuild the snapshots of a range of days, one transaction per day."""
    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    if last < first:
        fail(f"--to ({last}) is before --from ({first})")
    database = _database()
    try:
        days = (last - first).days + 1
        with typer.progressbar(length=days, label="Rebuilding days") as bar:
            done = backfill(database, first, last, progress=lambda _day: bar.update(1))
    finally:
        database.dispose()
    typer.echo(f"rebuilt {done} day(s) from {first} to {last}")


@app.command("report")
def report_command(
    start: str = typer.Option(..., "--from", help="First UTC day, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="Last UTC day (inclusive), YYYY-MM-DD"),
    currency: str | None = typer.Option(None, "--currency", help="Default: every currency"),
    plan: str = typer.Option(ALL_PLANS, "--plan", help="One plan's figures (default: all)"),
    by: str = typer.Option("month", "--by", help="Table rows per day or month"),
    chart: Annotated[Path | None, typer.Option("--chart", help="Write a PNG chart here")] = None,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """MRR movements per period, trial conversion, ARPU, LTV, forecast and cohorts, read
    from the daily snapshots (build them first with `backfill`)."""
    first, last = _parse_day(start, "--from"), _parse_day(end, "--to")
    if last < first:
        fail(f"--to ({last}) is before --from ({first})")
    if by not in ("day", "month"):
        fail(f"--by must be day or month, got {by!r}")
    database = _database()
    try:
        with database.transaction() as session:
            currencies = [currency.lower()] if currency else snapshot_currencies(session)
            if chart is not None and len(currencies) > 1:
                fail("--chart draws one currency: pass --currency")
            reports = [
                revenue_report(session, first, last, currency=c, plan=plan, by=by)
                for c in currencies
            ]
    finally:
        database.dispose()
    if chart is not None and reports:
        chart.write_bytes(render_revenue_chart(reports[0]))
    if as_json:
        emit_json(reports)
        return
    if not reports:
        typer.echo("(no snapshots: run `moneta analytics backfill` first)")
    for report in reports:
        _emit_revenue(report)
    if chart is not None:
        typer.echo(f"chart written to {chart}")


def _emit_revenue(report: dict[str, Any]) -> None:
    scope = "all plans" if report["plan"] == ALL_PLANS else f"plan {report['plan']}"
    typer.echo(
        f"[{report['currency'].upper()}] {report['start']} to {report['end']}, {scope}, "
        f"by {report['by']} ({report['days']} day(s) with snapshots)"
    )
    emit_table(period_rows(report), PERIOD_COLUMNS, as_json=False)
    typer.echo("")
    for line in summary_lines(report):
        typer.echo(line)
    if report["cohorts"]:
        typer.echo("")
        typer.echo("Cohort retention (share of a signup month's customers paying N months later)")
        rows, columns = cohort_rows(report)
        emit_table(rows, columns, as_json=False)
    typer.echo("")
