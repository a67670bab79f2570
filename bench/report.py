"""Measurements, their summary over runs, and the console and markdown renderings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


class BenchFailed(Exception):
    """The work was not done (a count check failed): the numbers would be meaningless."""


@dataclass(frozen=True)
class Metric:
    """One number one run produced; `name` says what was measured and under which load."""

    name: str
    unit: str
    value: float


@dataclass(frozen=True)
class Summary:
    benchmark: str
    name: str
    unit: str
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> str:
        return f"{_number(min(self.values))} – {_number(max(self.values))}"


def summarize(benchmark: str, runs: list[list[Metric]]) -> list[Summary]:
    """One summary per metric name, in the order the first run reported them."""
    names: dict[str, str] = {}
    values: dict[str, list[float]] = {}
    for run in runs:
        for metric in run:
            names.setdefault(metric.name, metric.unit)
            values.setdefault(metric.name, []).append(metric.value)
    return [Summary(benchmark, n, unit, tuple(values[n])) for n, unit in names.items()]


def console_line(summary: Summary) -> str:
    return (
        f"{summary.benchmark:8} {summary.name:76} {_number(summary.median):>10} {summary.unit:10}"
        f" (min–max {summary.spread}, {len(summary.values)} runs)"
    )


def markdown(summaries: list[Summary], machine: dict[str, str], command: str) -> str:
    lines = [
        "# Moneta benchmarks: latest run",
        "",
        f"Command: `{command}`",
        "",
        "| Machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine.items()),
        "",
        "| Benchmark | Metric | Median | Min – max | Unit | Runs |",
        "|---|---|---:|---:|---|---:|",
        *(
            f"| {s.benchmark} | {s.name} | {_number(s.median)} | {s.spread} | {s.unit} "
            f"| {len(s.values)} |"
            for s in summaries
        ),
        "",
    ]
    return "\n".join(lines)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
