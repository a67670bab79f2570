"""`python -m bench.agent_costs [renewals]`: CPU per task of each agent in a renewal burst.

Where `bench burst` measures whole worker processes, this runs the same seeded renewals in
this process on one thread, agent by agent (the runtime's own `claim_batch` + `run_batch`,
batches of 16 as a worker reads them), and prints the CPU time (`time.process_time`) and
wall time per task of each agent: which agent to profile first. Uses the bench database
(`MONETA_DATABASE_URL` or `moneta_bench`), which it empties first.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import text

from bench.burst_seed import seed_renewals
from bench.target import BenchTarget

BATCH = 16  # a worker's XREADGROUP count


def measure(target: BenchTarget, renewals: int) -> dict[str, tuple[int, float, float]]:
    """{agent: (tasks, CPU seconds, wall seconds)} for draining `renewals` renewals."""
    seed_renewals(target, renewals)
    os.environ.update(target.child_env())
    from core.settings import Settings
    from orchestrator.routes import AGENT_HANDLERS
    from orchestrator.runtime import TaskRunner
    from orchestrator.wiring import build_runtime, load_handler

    runtime = build_runtime(Settings(), publish=False)
    handlers = {agent: load_handler(agent) for agent in AGENT_HANDLERS}
    runner = TaskRunner(runtime.database, runtime.settings, "agent-costs", runtime.tools, handlers)
    tasks: Counter[str] = Counter()
    cpu: defaultdict[str, float] = defaultdict(float)
    wall: defaultdict[str, float] = defaultdict(float)
    try:
        while pending := _pending(target):
            for agent, ids in pending.items():
                for first in range(0, len(ids), BATCH):
                    cpu_before, wall_before = time.process_time(), time.perf_counter()
                    claimed = runner.claim_batch(ids[first : first + BATCH])
                    runner.run_batch(claimed)
                    cpu[agent] += time.process_time() - cpu_before
                    wall[agent] += time.perf_counter() - wall_before
                    tasks[agent] += len(claimed)
    finally:
        runtime.close()
    return {agent: (tasks[agent], cpu[agent], wall[agent]) for agent in sorted(tasks)}


def _pending(target: BenchTarget) -> dict[str, list[int]]:
    """Due pending task ids by agent, oldest first (follow-ups appear as billing runs)."""
    with target.database.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, agent FROM tasks WHERE status = 'pending' AND available_at <= now() "
                "ORDER BY id LIMIT 1000"
            )
        ).all()
    by_agent: dict[str, list[int]] = defaultdict(list)
    for task_id, agent in rows:
        by_agent[agent].append(task_id)
    return by_agent


def main(argv: list[str]) -> int:
    renewals = int(argv[0]) if argv else 300
    with tempfile.TemporaryDirectory(prefix="moneta-agent-costs-") as data_dir:
        target = BenchTarget.from_env(Path(data_dir))
        target.prepare()
        target.reset()
        try:
            costs = measure(target, renewals)
        finally:
            target.reset()
            target.close()
    print(f"{renewals} renewals, load average {os.getloadavg()[0]:.1f}")
    for agent, (tasks, cpu, wall) in costs.items():
        print(
            f"{agent:14} {tasks:7} tasks  CPU {1e3 * cpu / tasks:7.2f} ms/task  "
            f"wall {1e3 * wall / tasks:7.2f} ms/task"
        )
    total_cpu = sum(cpu for _tasks, cpu, _wall in costs.values())
    print(f"CPU per renewal: {1e3 * total_cpu / renewals:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
