"""The revenue report for people: table rows with money formatted, and summary lines."""

from __future__ import annotations

from typing import Any

from core.money import format_money

PERIOD_COLUMNS = (
    "period",
    "mrr",
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "net",
)


def period_rows(report: dict[str, Any]) -> list[dict[str, str]]:
    """One row per period, money as `USD 12.34`."""
    currency = report["currency"]
    rows = []
    for period in report["periods"]:
        row = {"period": period["period"], "mrr": format_money(period["mrr"], currency)}
        for column in PERIOD_COLUMNS[2:]:
            row[column] = format_money(period[f"mrr_{column}"], currency)
        rows.append(row)
    return rows


def summary_lines(report: dict[str, Any]) -> list[str]:
    currency, summary = report["currency"], report["summary"]
    money = lambda amount: format_money(amount, currency)  # noqa: E731
    conversion = summary["trial_conversion_rate"] or f"n/a ({summary['trial_conversion_reason']})"
    churn = summary["revenue_churn_rate_monthly"] or "n/a (no MRR in the range)"
    ltv = money(summary["ltv"]) if summary["ltv"] is not None else f"n/a ({summary['ltv_reason']})"
    lines = [
        f"Trial conversion: {summary['trials_converted']} of {summary['trials_ended']} "
        f"ended trials, rate {conversion}",
        f"MRR: {money(summary['mrr'])}; ARPU: {money(summary['arpu'])}",
        f"Revenue churn (monthly): {churn}",
        f"LTV (ARPU / monthly revenue churn): {ltv}",
    ]
    forecast = report["forecast"]
    if forecast["points"]:
        points = ", ".join(f"{p['day']} {money(p['mrr'])}" for p in forecast["points"])
        lines.append(f"Forecast: {points}")
        lines.append(f"  method: {forecast['method']}")
    else:
        lines.append(f"Forecast: n/a ({forecast['reason']})")
    if report["missing_days"]:
        lines.append(
            f"{len(report['missing_days'])} day(s) have snapshots without movements "
            "(written before revenue analytics): rebuild them with `moneta analytics backfill`"
        )
    return lines


def cohort_rows(report: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The retention triangle: one row per signup month, columns m0, m1, ... (shares)."""
    cohorts = report["cohorts"]
    width = max((len(c["retention"]) for c in cohorts), default=0)
    columns = ["cohort", "customers", *(f"m{n}" for n in range(width))]
    rows = []
    for cohort in cohorts:
        row: dict[str, Any] = {"cohort": cohort["cohort"], "customers": cohort["customers"]}
        for n, share in enumerate(cohort["retention"]):
            row[f"m{n}"] = f"{share} ({cohort['retained'][n]})" if share is not None else None
        rows.append(row)
    return rows, columns
