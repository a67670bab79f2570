"""`python -m bench.aggregate_profile [rows]`: where `aggregate_day`'s time goes at one size.

Seeds `rows` rows as `bench aggregate` does (default 100k), runs the aggregation once under
cProfile while capturing every SELECT it sends, then runs `EXPLAIN (ANALYZE, BUFFERS)` on each
captured statement with its parameters. Prints the wall time, each query's plan, and the
profile's top functions: what is SQL and what is Python. Uses the bench database
(`MONETA_DATABASE_URL` or `moneta_bench`), which it empties before and after.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from agents.analytics.daily import aggregate_day
from bench.__main__ import row_counts
from bench.aggregate import DAYS, FIRST_DAY, seed_rows
from bench.target import BenchTarget


def profile(target: BenchTarget, rows: int) -> None:
    print(f"seed {rows:,} rows: {seed_rows(target, rows):.1f} s")
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    engine = target.database.engine
    event.listen(engine, "before_cursor_execute", capture)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with target.database.transaction() as session:
        profiler.runcall(aggregate_day, session, FIRST_DAY + timedelta(days=DAYS // 2))
    print(f"aggregate_day under cProfile: {time.perf_counter() - started:.2f} s")
    event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as connection:
        for statement, parameters in captured:
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars()
            print("=" * 80, statement[:600], *plan, sep="\n")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main(argv: list[str]) -> int:
    rows = row_counts(argv[0])[0] if argv else 100_000
    with tempfile.TemporaryDirectory(prefix="moneta-aggregate-profile-") as data_dir:
        target = BenchTarget.from_env(Path(data_dir))
        target.prepare()
        target.reset()
        try:
            profile(target, rows)
        finally:
            target.reset()
            target.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
