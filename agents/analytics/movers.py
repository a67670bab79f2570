"""What changed between two daily snapshots, as report lines. Pure: no session, no model.

Each line carries the figures (already formatted) that any phrasing of it must repeat; the
deterministic report is the lines themselves, and a model's report is checked against them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from agents.analytics.metrics import ALL_PLANS
from agents.analytics.movements import MOVEMENTS
from core.money import format_money

TOP_MOVERS = 3
# A spike: at least this many today and at least twice yesterday's figure.
SPIKE_MIN_COUNT = 3
SPIKE_FACTOR = 2

Metrics = Mapping[str, Any]
# (currency, plan) -> metrics of one day
DaySnapshot = Mapping[tuple[str, str], Metrics]


@dataclass(frozen=True)
class ReportLine:
    kind: str  # headline | mover | anomaly
    text: str
    figures: tuple[str, ...]  # must appear verbatim in any phrasing of the report


def _change(amount: int, currency: str) -> str:
    if amount == 0:
        return "unchanged"
    return f"{'up' if amount > 0 else 'down'} {format_money(abs(amount), currency)}"


def _headlines(currency: str, today: Metrics, before: Metrics | None) -> list[ReportLine]:
    money = lambda key: format_money(int(today[key]), currency)  # noqa: E731
    mrr_change = int(today["mrr"]) - int(before["mrr"]) if before else 0
    change = _change(mrr_change, currency) if before else "no earlier snapshot"
    lines = [
        ReportLine("headline", f"MRR {money('mrr')} ({change}).", (money("mrr"),)),
        ReportLine(
            "headline",
            f"Net revenue {money('net_revenue')}: gross {money('gross_revenue')}, "
            f"refunds {money('refunds')}.",
            (money("net_revenue"),),
        ),
        ReportLine(
            "headline",
            f"{today['new_subscriptions']} new and {today['churned_subscriptions']} churned "
            f"subscriptions; {today['active_subscriptions']} active.",
            (),
        ),
    ]
    moved = [k for k in MOVEMENTS if int(today.get(f"mrr_{k}") or 0)]
    if moved:
        parts = ", ".join(f"{k} {format_money(int(today[f'mrr_{k}']), currency)}" for k in moved)
        lines.append(ReportLine("headline", f"MRR movements: {parts}.", ()))
    return lines


def _movers(currency: str, today: DaySnapshot, before: DaySnapshot) -> list[ReportLine]:
    changes = []
    for (cur, plan), metrics in today.items():
        if cur != currency or plan == ALL_PLANS:
            continue
        earlier = before.get((cur, plan))
        delta = int(metrics["mrr"]) - (int(earlier["mrr"]) if earlier else 0)
        if delta:
            changes.append((abs(delta), plan, delta, int(metrics["mrr"])))
    changes.sort(key=lambda c: (-c[0], c[1]))
    return [
        ReportLine(
            "mover",
            f"Plan {plan}: MRR {_change(delta, currency)} to {format_money(mrr, currency)}.",
            (format_money(abs(delta), currency),),
        )
        for _, plan, delta, mrr in changes[:TOP_MOVERS]
    ]


def _spike(today: int, before: int) -> bool:
    return today >= SPIKE_MIN_COUNT and today >= SPIKE_FACTOR * before


def _anomalies(currency: str, today: Metrics, before: Metrics | None) -> list[ReportLine]:
    earlier: Metrics = before or {}
    lines = []
    failed, failed_before = int(today["failed_payments"]), int(earlier.get("failed_payments", 0))
    if _spike(failed, failed_before):
        amount = format_money(int(today["failed_payment_amount"]), currency)
        lines.append(
            ReportLine(
                "anomaly",
                f"Spike in failed payments: {failed} ({amount}) against {failed_before} "
                "the day before.",
                (str(failed), amount),
            )
        )
    refunds, refunds_before = int(today["refunds"]), int(earlier.get("refunds", 0))
    if refunds > 0 and refunds >= SPIKE_FACTOR * max(refunds_before, 1):
        amount = format_money(refunds, currency)
        lines.append(
            ReportLine(
                "anomaly",
                f"Refunds jumped to {amount} from {format_money(refunds_before, currency)}.",
                (amount,),
            )
        )
    churned = int(today["churned_subscriptions"])
    if _spike(churned, int(earlier.get("churned_subscriptions", 0))):
        lines.append(
            ReportLine("anomaly", f"Churn spike: {churned} subscriptions ended.", (str(churned),))
        )
    return lines


def report_lines(today: DaySnapshot, before: DaySnapshot) -> list[ReportLine]:
    """Headlines, biggest movers and anomalies of each currency, in a stable order."""
    lines: list[ReportLine] = []
    for currency in sorted({cur for cur, _ in today}):
        total = today.get((currency, ALL_PLANS))
        if total is None:
            continue
        earlier = before.get((currency, ALL_PLANS))
        lines += _headlines(currency, total, earlier)
        lines += _movers(currency, today, before)
        lines += _anomalies(currency, total, earlier)
    return lines


def deterministic_report(day: str, lines: list[ReportLine]) -> str:
    if not lines:
        return f"{day}: no metrics were recorded for this day."
    anomalies = [line.text for line in lines if line.kind == "anomaly"]
    body = [line.text for line in lines if line.kind != "anomaly"]
    text = f"{day}. " + " ".join(body)
    if anomalies:
        text += "\n\nAnomalies: " + " ".join(anomalies)
    return text


def lines_as_facts(day: str, lines: list[ReportLine]) -> dict[str, Any]:
    return {"day": day, "lines": [asdict(line) for line in lines]}
