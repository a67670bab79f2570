"""Console analytics: MRR/ARR trend, MRR movements, subscriptions, revenue by plan, failed
payments over a date range, the revenue report (movements per month, trial conversion, ARPU,
LTV, forecast, cohorts), and the same range as CSV."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from agents.analytics.metrics import ALL_PLANS
from agents.analytics.revenue import revenue_report
from api.auth.dependencies import ConsoleViewer
from api.console.charts import bar_chart, line_chart, stacked_bar_chart
from api.console.rendering import money, render
from api.dependencies import RuntimeDep
from api.ops.analytics import date_range, metrics_csv
from db.repositories.metric_history import snapshot_currencies, snapshots_between
from orchestrator.analytics_report import movements, plan_breakdown, series
from orchestrator.revenue_chart import GAINS, LOSSES
from orchestrator.revenue_text import PERIOD_COLUMNS, cohort_rows, period_rows, summary_lines

router = APIRouter(prefix="/console")


@router.get("/analytics")
def analytics_page(
    request: Request,
    runtime: RuntimeDep,
    me: ConsoleViewer,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> Response:
    first, last = date_range(start, end)
    with runtime.database.transaction() as session:
        currencies = snapshot_currencies(session)
        chosen = (currency or (currencies[0] if currencies else "usd")).lower()
        snaps = snapshots_between(session, first, last, currency=chosen)
        revenue = revenue_report(session, first, last, currency=chosen)

    def in_money(value: int) -> str:
        """Axis labels: whole major units, no currency code (the page states it)."""
        whole = money(abs(value), chosen).split(" ", 1)[1].split(".")[0]
        return f"-{whole}" if value < 0 else whole

    def as_count(value: int) -> str:
        return f"{value:,}"

    mrr = series(snaps, "mrr")
    day = "%b %d"
    charts = {
        "MRR": line_chart(mrr, in_money),
        "ARR": line_chart(series(snaps, "arr"), in_money),
        "MRR movements (day over day)": bar_chart(
            [(d.strftime(day), v) for d, v in movements(mrr)], in_money
        ),
        "MRR movements (new, expansion, reactivation up; contraction, churn down)": (
            stacked_bar_chart(
                [
                    (
                        s.day.strftime(day),
                        [(int(s.metrics.get(f"mrr_{n}") or 0), c) for n, c in GAINS]
                        + [(-int(s.metrics.get(f"mrr_{n}") or 0), c) for n, c in LOSSES],
                    )
                    for s in snaps
                    if s.plan == ALL_PLANS
                ],
                in_money,
            )
        ),
        "Active subscriptions": line_chart(series(snaps, "active_subscriptions"), as_count),
        "Churned subscriptions": bar_chart(
            [(d.strftime(day), v) for d, v in series(snaps, "churned_subscriptions")], as_count
        ),
        "MRR by plan (last day)": bar_chart(plan_breakdown(snaps, "mrr"), in_money),
        "Failed payments": bar_chart(
            [(d.strftime(day), v) for d, v in series(snaps, "failed_payments")], as_count
        ),
        "Recovered payments": bar_chart(
            [(d.strftime(day), v) for d, v in series(snaps, "recovered_payments")], as_count
        ),
        "Net revenue": bar_chart(
            [(d.strftime(day), v) for d, v in series(snaps, "net_revenue")], in_money
        ),
    }
    return render(
        request,
        "analytics.html",
        me,
        charts=charts,
        start=first,
        end=last,
        currency=chosen,
        currencies=currencies,
        days=len(mrr),
        revenue_columns=PERIOD_COLUMNS,
        revenue_rows=period_rows(revenue),
        revenue_summary=summary_lines(revenue),
        cohorts=cohort_rows(revenue),
    )


@router.get("/analytics.csv")
def analytics_csv(
    runtime: RuntimeDep,
    me: ConsoleViewer,
    start: date | None = None,
    end: date | None = None,
    currency: str | None = None,
) -> PlainTextResponse:
    return metrics_csv(runtime, start, end, currency)
