"""Shared helpers for the benchmarks: fresh-interpreter runs, medians, slopes, the results file."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results.json"


def bench_environment(airflow_home: Path) -> dict[str, str]:
    """A quiet, isolated Airflow environment with bytecode caching on (as in production)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
            "GX_ANALYTICS_ENABLED": "false",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return env


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a fresh interpreter; return (wall seconds, CPU seconds of the child, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


@dataclass(frozen=True)
class ChildRun:
    """One fresh interpreter's cost: wall and CPU seconds, and the JSON it wrote."""

    wall: float
    cpu: float
    output: dict[str, Any]


def run_child(module: str, args: list[str], env: dict[str, str], timeout: float = 3600) -> ChildRun:
    """Run ``python -m module <output.json> args...`` and measure its CPU time with ``wait4``.

    ``wait4`` gives this child's own CPU time (``RUSAGE_CHILDREN`` would add up every child of the
    session). Not its peak RSS: Linux carries the parent's high-water mark over fork and exec into
    the child's ``ru_maxrss``, so a child reports its own peak (:func:`peak_rss_bytes`).

    The child writes one JSON object to the path it gets as its first argument; a failing child
    raises with the end of its output.
    """
    with tempfile.TemporaryDirectory(prefix="retrain-bench-child-") as tmp:
        output, log = Path(tmp) / "output.json", Path(tmp) / "child.log"
        with open(log, "wb") as sink:
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", module, str(output), *args], env=env, stdout=sink, stderr=subprocess.STDOUT
            )
            deadline = started + timeout
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() > deadline:
                    process.kill()
                    process.wait()
                    raise TimeoutError(f"{module} {args} did not finish within {timeout:.0f}s")
                time.sleep(0.02)
            wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0 or not output.exists():
            raise RuntimeError(f"{module} {args} exited {process.returncode}:\n{log.read_text()[-4000:]}")
        return ChildRun(
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            output=json.loads(output.read_text()),
        )


def exit_without_teardown(code: int) -> NoReturn:
    """End a measured child the way Airflow's task processes end: ``os._exit``, no interpreter teardown.

    Teardown runs full garbage collections over every object the libraries created, about 2.4 s
    of CPU after a ``dag.test`` run that imported Airflow, Great Expectations and scikit-learn
    (py-spy: ``gc_collect_main`` under finalization). That is neither side's work, Airflow's forked
    task processes never pay it (the supervisor ends them with ``os._exit``), and it would count
    against the side that imports more. Both sides of ``e2e_overhead_ratio`` end this way.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_bytes() -> int:
    """This process's peak resident set size since it started (``VmHWM``; not inherited on exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")


def current_rss_bytes() -> int:
    """This process's resident set size now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def loglog_slope(sizes: list[float], seconds: list[float]) -> float:
    """Least-squares slope of log(seconds) against log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(s) for s in sizes]
    ys = [math.log(max(t, 1e-6)) for t in seconds]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder for a benchmark's large data, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix=f"retrain-bench-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_results(results: dict[str, Any]) -> None:
    """Merge ``results`` into benchmarks/results.json (other benchmarks' keys are kept)."""
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing.update(results)
    existing.pop("source", None)  # a note on where hand-transcribed figures came from: no longer true
    existing["machine"] = machine()
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
