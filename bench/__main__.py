"""`python -m bench [name ...] [--quick] [--runs N] [--out FILE] [--sizes ROWS,...]
[--workers N] [--api-workers N]`: run, summarize, record."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench import access, aggregate, burst, intake, queue, usage
from bench.machine import machine_info
from bench.report import BenchFailed, Metric, Summary, console_line, markdown, summarize
from bench.target import BenchTarget

Benchmark = Callable[[BenchTarget, bool], list[Metric]]

BENCHMARKS: dict[str, Benchmark] = {
    "intake": intake.run,
    "queue": queue.run,
    "burst": burst.run,
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
    parser.add_argument(
        "--sizes",
        type=row_counts,
        help="aggregate: rows per size, e.g. 100k,1M,10M (default; 10k with --quick)",
    )
    parser.add_argument("--workers", type=int, help="burst: `moneta worker` processes (default 2)")
    parser.add_argument(
        "--api-workers", type=int, help="intake, usage, access: `moneta api` processes (default 1)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {sorted(BENCHMARKS)}")
    args.names = args.names or list(BENCHMARKS)
    args.runs = args.runs or (1 if args.quick else 3)
    return args


def row_counts(text: str) -> list[int]:
    """Row counts with k/M suffixes: `100k,1M,10M` is [100000, 1000000, 10000000]."""
    scale = {"k": 1_000, "m": 1_000_000}
    try:
        return [
            int(float(part[:-1]) * scale[part[-1].lower()])
            if part[-1].lower() in scale
            else int(part)
            for part in (p.strip() for p in text.split(","))
        ]
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"not a list of row counts: {text!r}") from None


def chosen_benchmarks(args: argparse.Namespace) -> dict[str, Benchmark]:
    """The benchmarks with the options given on the command line bound to them."""
    chosen = dict(BENCHMARKS)
    if args.sizes:
        chosen["aggregate"] = partial(aggregate.run, sizes=args.sizes)
    if args.workers:
        chosen["burst"] = partial(burst.run, processes=args.workers)
    if args.api_workers:
        chosen["intake"] = partial(intake.run, api_workers=args.api_workers)
        chosen["usage"] = partial(usage.run, api_workers=args.api_workers)
        chosen["access"] = partial(access.run, api_workers=args.api_workers)
    return chosen


def run_benchmark(
    benchmark: Benchmark, name: str, target: BenchTarget, runs: int, quick: bool
) -> list[Summary]:
    results = []
    for number in range(1, runs + 1):
        target.reset()
        metrics = benchmark(target, quick)
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
        benchmarks = chosen_benchmarks(args)
        try:
            for name in args.names:
                summaries += run_benchmark(benchmarks[name], name, target, args.runs, args.quick)
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
