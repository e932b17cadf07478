"""Shared bench machinery: result rows and sections, statistics, machine and version facts."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "bench" / "artifacts"
CHROMIUM = Path(os.environ.get("DECONV_CHROMIUM", "/usr/bin/chromium"))
THREAD_ENV = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "TF_ENABLE_ONEDNN_OPTS",
)


@dataclass
class Row:
    """One line of a benchmark table: our number, the baseline's, their ratio, the target."""

    measure: str
    value: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None


@dataclass
class Section:
    """The result of one benchmark: a table and free-text notes (markdown lines)."""

    number: int
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        """Rebuild a Section written by to_dict."""
        rows = [Row(**row) for row in data.get("rows", [])]
        return cls(**{**data, "rows": rows})


def percentiles(samples: Iterable[float]) -> dict[str, float]:
    """n, p50, p95 (nearest rank), min, max and mean of a list of numbers."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples to summarise; collect at least one")
    p95_index = min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))
    return {
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": ordered[p95_index],
        "min": ordered[0],
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def interleaved(fns: dict, channels: Iterable[int]) -> dict[str, list[float]]:
    """Time every function on each channel in turn (A, B, A, B ...) so drift hits both alike."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for channel in channels:
        for name, fn in fns.items():
            start = time.perf_counter()
            fn(channel)
            samples[name].append(time.perf_counter() - start)
    return samples


def time_calls(fn: Callable[[], Any], repeats: int, warmup: int = 2) -> list[float]:
    """Wall-clock seconds of `repeats` calls of fn() after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def ms(seconds: float) -> str:
    """Seconds as a millisecond string with sensible precision."""
    value = seconds * 1000
    return (
        f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    )


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or platform.processor())."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    """Total RAM in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def load_snapshot() -> str:
    """Load averages and the number of other running Python processes, as one line."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        out = subprocess.run(
            ["ps", "-eo", "comm="], capture_output=True, text=True, timeout=10, check=False
        )
        python = sum(1 for name in out.stdout.split() if name.startswith("python"))
    except (OSError, subprocess.SubprocessError):
        python = -1
    return f"load average (1/5/15 min) {load}; {python} python processes running"


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, OS and the thread-related environment variables."""
    env = ", ".join(f"{k}={os.environ[k]}" for k in THREAD_ENV if k in os.environ) or "none set"
    return {
        "CPU": cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{ram_gib():.1f} GiB",
        "OS": platform.platform(),
        "thread env": env,
    }


def _version_of(module: str) -> str:
    """A package's version without importing it (importlib.metadata)."""
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "not installed"


def chromium_version() -> str:
    """`chromium --version`, first line."""
    try:
        out = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "unknown"
    except (OSError, subprocess.SubprocessError, IndexError):
        return "not found"


def versions() -> dict[str, str]:
    """Versions of Python and of every library the benchmarks exercise."""
    names = [
        "tensorflow",
        "keras",
        "numpy",
        "matplotlib",
        "jupyterlab",
        "ipywidgets",
        "anywidget",
        "playwright",
    ]
    found = {"Python": sys.version.split()[0]}
    found.update({name: _version_of(name) for name in names})
    found["Chromium"] = chromium_version().removeprefix("Chromium ")
    return found


def fresh_python(code: str, timeout: float = 600.0) -> str:
    """Run `code` in a fresh interpreter (repo on sys.path); return its stdout (raise on error)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"fresh interpreter failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout
