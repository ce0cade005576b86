"""benchmarks.common: the measuring helpers every benchmark relies on."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import common


@pytest.mark.parametrize(("power", "expected"), [(1.0, 1.0), (2.0, 2.0), (0.5, 0.5)])
def test_loglog_slope_recovers_the_power_of_a_power_law(power: float, expected: float) -> None:
    sizes = [1e5, 1e6, 1e7]
    seconds = [3e-6 * size**power for size in sizes]
    assert math.isclose(common.loglog_slope(sizes, seconds), expected, rel_tol=1e-9)


def test_loglog_slope_of_a_fixed_cost_plus_linear_work_is_below_one() -> None:
    """Start-up cost flattens the curve: such a stage passes a slope target it should pass."""
    sizes = [1e5, 1e6, 1e7]
    assert common.loglog_slope(sizes, [2.0 + size * 1e-6 for size in sizes]) < 1.0


def test_write_results_merges_with_what_earlier_benchmarks_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results.json")
    common.write_results({"parse_ratio": 1.1})
    common.write_results({"io_ratio": 0.95, "parse_ratio": 1.05})

    written = json.loads((tmp_path / "results.json").read_text())
    assert written["parse_ratio"] == 1.05
    assert written["io_ratio"] == 0.95
    assert written["machine"]["cpus"] >= 1


def test_run_child_raises_with_the_child_output_when_it_fails(tmp_path: Path) -> None:
    env = common.bench_environment(tmp_path / "airflow-home")
    with pytest.raises(RuntimeError, match=r"(?s)exited 1.*missing\.yaml"):
        common.run_child("benchmarks.bare_train", ["missing.yaml", str(tmp_path)], env)


def test_bench_environment_isolates_airflow_and_keeps_bytecode_caching(tmp_path: Path) -> None:
    env = common.bench_environment(tmp_path)
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PYTHONPATH"] == str(common.PROJECT_ROOT)
    assert not any(key.startswith("AIRFLOW__CORE__DAGS") for key in env)


def test_a_child_reports_its_own_peak_rss_not_its_parents(tmp_path: Path) -> None:
    """A fat parent must not inflate its children's peaks (wait4's ru_maxrss would: Linux keeps it over exec)."""
    ballast = b"x" * (400 * 2**20)  # every page written, so resident
    env = common.bench_environment(tmp_path)
    script = "from benchmarks.common import peak_rss_bytes; print(peak_rss_bytes())"

    _, _, small = common.run_measured(["-c", script], env)
    _, _, large = common.run_measured(["-c", f"block = b'x' * (300 * 2**20); {script}"], env)

    assert common.peak_rss_bytes() > len(ballast)
    assert int(small) < 100 * 2**20
    assert 300 * 2**20 < int(large) < 400 * 2**20


def test_exit_without_teardown_keeps_the_exit_code_and_output_but_skips_teardown(tmp_path: Path) -> None:
    """The child's buffered output and exit code survive; atexit handlers (teardown) do not run."""
    marker = tmp_path / "teardown-ran"
    script = (
        "import atexit, pathlib, sys\n"
        "from benchmarks.common import exit_without_teardown\n"
        f"atexit.register(pathlib.Path({str(marker)!r}).touch)\n"
        "sys.stdout.write('written before the exit')\n"
        "exit_without_teardown(3)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", script], env=common.bench_environment(tmp_path), capture_output=True, text=True
    )
    assert finished.returncode == 3
    assert finished.stdout == "written before the exit"
    assert not marker.exists()


BURN = """
import json, sys, time
from pathlib import Path

def main(argv):
    preloaded = "sklearn" in sys.modules and "great_expectations" in sys.modules
    started = time.process_time()
    while time.process_time() - started < 0.3:  # CPU work of the fork's own
        pass
    Path(argv[0]).write_text(json.dumps({"preloaded": preloaded, "args": argv[1:]}))
    return int(argv[1] == "fail")
"""


def test_a_forked_child_starts_with_the_preload_and_reports_only_its_own_cpu(tmp_path: Path) -> None:
    (tmp_path / "burn_child.py").write_text(BURN)
    env = common.bench_environment(tmp_path / "airflow-home")
    env["PYTHONPATH"] = f"{common.PROJECT_ROOT}:{tmp_path}"

    child = common.run_child("benchmarks.forked", ["burn_child", "ok"], env)

    assert child.output["preloaded"] is True  # imported before the fork, as the forkserver does
    assert child.output["args"] == ["ok"]
    assert 0.3 <= child.output["forked_cpu"] < 1.0
    # The whole process also imported the preload set (seconds of CPU); the fork's figure leaves it out.
    assert child.cpu > child.output["forked_cpu"] + 1.0
    with pytest.raises(RuntimeError, match=r"forked burn_child .* exited 1"):
        common.run_child("benchmarks.forked", ["burn_child", "fail"], env)
