"""`python -m bench [name ...] [--quick] [--runs N] [--out FILE]`: run, summarize, record."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import access, aggregate, intake, queue, usage
from bench.machine import machine_info
from bench.report import BenchFailed, Metric, Summary, console_line, markdown, summarize
from bench.target import BenchTarget

Benchmark = Callable[[BenchTarget, bool], list[Metric]]

BENCHMARKS: dict[str, Benchmark] = {
    "intake": intake.run,
    "queue": queue.run,
    "access": access.run,
    "aggregate": aggregate.run,
    "usage": usage.run,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name", help=f"of {sorted(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small loads, one run: a smoke test")
    parser.add_argument("--runs", type=int, help="runs per benchmark (default 3, 1 with --quick)")
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks-latest.md"))
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {sorted(BENCHMARKS)}")
    args.names = args.names or list(BENCHMARKS)
    args.runs = args.runs or (1 if args.quick else 3)
    return args


def run_benchmark(name: str, target: BenchTarget, runs: int, quick: bool) -> list[Summary]:
    results = []
    for number in range(1, runs + 1):
        target.reset()
        metrics = BENCHMARKS[name](target, quick)
        print(
            f"{name} run {number}/{runs}: " + ", ".join(f"{m.value:.1f} {m.unit}" for m in metrics)
        )
        results.append(metrics)
    target.reset()
    return summarize(name, results)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="moneta-bench-") as data_dir:
        target = BenchTarget.from_env(Path(data_dir))
        target.prepare()
        machine = {**machine_info(), **target.versions()}
        print(", ".join(f"{k}: {v}" for k, v in machine.items()))
        summaries: list[Summary] = []
        try:
            for name in args.names:
                summaries += run_benchmark(name, target, args.runs, args.quick)
        except BenchFailed as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            print_log_tails(Path(data_dir))
            return 1
        finally:
            target.close()
    for summary in summaries:
        print(console_line(summary))
    command = " ".join(["python -m bench", *argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(summaries, machine, command))
    print(f"written: {args.out}")
    return 0


def print_log_tails(data_dir: Path) -> None:
    """Print the tail of each process log, which the temporary directory takes with it."""
    for log in sorted(data_dir.glob("*.log")):
        print(f"--- {log.name} (last lines)", file=sys.stderr)
        print("\n".join(log.read_text(errors="replace").splitlines()[-30:]), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
