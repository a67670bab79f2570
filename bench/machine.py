"""The machine a run measured: cores, memory and CPU model as Linux reports them."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _proc_field(path: str, key: str) -> str | None:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and name.strip() == key:
            return value.strip()
    return None


def machine_info() -> dict[str, str]:
    memory_kib = _proc_field("/proc/meminfo", "MemTotal")
    memory = f"{int(memory_kib.split()[0]) / 1024**2:.1f} GiB" if memory_kib else "?"
    return {
        "CPU": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "Cores": str(os.cpu_count()),
        "RAM": memory,
        "OS": f"{platform.system()} {platform.release()}",
    }
