"""Start `moneta` processes as an operator would, wait until they serve, stop them."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from agents.metering.meters import DEFAULT_FILE
from bench.report import BenchFailed
from bench.target import ROOT, BenchTarget

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moneta(
    target: BenchTarget, args: list[str], log_name: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`moneta <args>` against the target (plus `env`); output goes to `<data dir>/<log_name>`."""
    target.data_dir.mkdir(parents=True, exist_ok=True)
    log = (target.data_dir / log_name).open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args],
        env={**target.child_env(), **(env or {})},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_end_with_parent if sys.platform == "linux" else None,
    )


def _end_with_parent() -> None:
    """SIGTERM this child when the bench dies (Linux PR_SET_PDEATHSIG): a bench killed by a
    timeout would otherwise leave its workers draining, and loading the machine, for good."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_api(
    target: BenchTarget,
    timeout: float = 60.0,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> tuple[subprocess.Popen[bytes], int]:
    """`moneta api --workers N` on a free port (plus `env`), returned once /readyz answers 200
    (with N > 1, the workers are uvicorn's children: measure them with `tree_cpu_seconds`)."""
    port = free_port()
    args = ["api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    process = start_moneta(target, args, "api.log", env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchFailed(f"moneta api exited with {process.returncode}; see {target.data_dir}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1.0).status_code == 200:
                return process, port
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(process)
    raise BenchFailed(f"moneta api not ready after {timeout}s")


def unlimited_meters(data_dir: Path) -> Path:
    """The shipped meters file with a default rate limit no benchmark reaches (for
    `MONETA_METERS_FILE`): API-key benchmarks measure the work, not a plan's 429s."""
    document = yaml.safe_load(DEFAULT_FILE.read_text())
    document["rate_limits"] = {"default": {"per_second": 10_000_000, "burst": 10_000_000}}
    path = data_dir / "bench-meters.yaml"
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (Linux /proc): robust to noisy neighbours,
    where a rate measured on a shared machine is not."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """`cpu_seconds` of a process and of every descendant it has now."""
    return cpu_seconds(pid) + sum(tree_cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]
    except FileNotFoundError:  # it ended meanwhile
        return []


def stop(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
