"""benchmarks.run: the table `make bench` prints marks each target met or missed."""

from __future__ import annotations

import pytest

from benchmarks import run

RESULTS = {
    "parse_ratio": 1.3,
    "parse": {"wall_ratio": 1.2, "dags": 4},
    "io_ratio": 0.95,
    "io": {
        "sizes_mib": {
            "32": {"store_mib_per_s": 300, "raw_mib_per_s": 310},
            "256": {"store_mib_per_s": 400, "raw_mib_per_s": 420},
        }
    },
    "scaling": {
        "linear_stage_max_slope": 1.04,
        "windows": {
            "100000": {"completed": True, "peak_rss_ratio": 9.0, "peak_rss_mib": 300, "memory_mib": 33},
            "10000000": {"completed": False, "peak_rss_mib": None, "memory_mib": 3300},
            "1000000": {"completed": True, "peak_rss_ratio": 3.2, "peak_rss_mib": 1056, "memory_mib": 330},
        },
    },
    "rows_10m_completed": False,
}


def test_each_headline_row_says_whether_its_target_is_met() -> None:
    met = {key: flag for key, _, _, flag in run.headline_rows(RESULTS)}
    assert met == {
        "parse_ratio": "NO",
        "io_ratio": "yes",
        "scaling: max slope (ingest, features, gates)": "yes",
        "peak_rss_ratio (1e6 rows)": "NO",  # the largest window that completed
        "rows_10m_completed": "NO",
    }


def test_the_io_row_reports_the_largest_size() -> None:
    (measured,) = [text for key, text, _, _ in run.headline_rows(RESULTS) if key == "io_ratio"]
    assert "256 MiB: 400 vs 420 MiB/s" in measured


def test_the_e2e_breakdown_lists_airflow_own_work_and_each_task_body() -> None:
    e2e = {
        "rows": 1_000_000,
        "setup_seconds": 1.5,
        "airflow_in_run_seconds": 4.25,
        "task_body_seconds": {"ingest": 2.75, "train": 7.8, "validate_raw": 2.5},
        "task_order": ["ingest", "validate_raw", "train"],
        "airflow_wall_seconds": 29.4,
        "bare_wall_seconds": 10.9,
        "floor_wall_seconds": 6.125,
        "floor_gx_wall_seconds": 7.5,
    }
    lines = run.e2e_rows(e2e)
    assert lines[0] == "| part of the Airflow run (1e6 rows) | seconds |"
    assert "| Airflow in the run: execution API, task state, scheduling | 4.25 |" in lines
    bodies = [line for line in lines if line.startswith("| task body:")]
    assert bodies == [
        "| task body: ingest | 2.75 |",
        "| task body: validate_raw | 2.50 |",
        "| task body: train | 7.80 |",
    ]
    assert lines[-3:] == [
        "| whole process (bare script: 10.90) | 29.40 |",
        "| floor: the bare script's work as `train`, the other tasks empty, whole process | 6.12 |",
        "| floor with the gates importing Great Expectations, whole process | 7.50 |",
    ]


def test_the_floor_is_reported_beside_the_overhead_it_bounds() -> None:
    e2e = {
        "airflow_cpu_seconds": 29.0,
        "bare_cpu_seconds": 10.0,
        "wall_ratio": 2.8,
        "floor_tasks": 9,
        "floor_cpu_seconds": 16.04,
        "floor_gx_cpu_seconds": 17.25,
        "gate_seconds": 5.0,
        "run_seconds": 27.0,
    }
    results = {
        "e2e_overhead_ratio": 2.9,
        "e2e_floor_ratio": 1.604,
        "e2e_floor_gx_ratio": 1.725,
        "gate_share": 0.185,
        "e2e": e2e,
    }

    rows = {key: (measured, target, met) for key, measured, target, met in run.headline_rows(results)}

    assert rows["e2e_overhead_ratio"][2] == "NO"
    assert rows["e2e_floor_ratio"] == (
        "1.604 (16.0s CPU), 1.725 with the gates importing GX (17.2s): the bare script's work as one of "
        "the same 9 tasks, the others empty; no bundle of them can score lower",
        "reported",
        "-",
    )
    assert list(rows) == ["e2e_overhead_ratio", "e2e_floor_ratio", "gate_share"]


@pytest.mark.parametrize(("rows", "label"), [(100_000, "1e5"), (10_000_000, "1e7"), (28_000, "28000")])
def test_rows_label(rows: int, label: str) -> None:
    assert run.rows_label(rows) == label


def test_unknown_benchmark_names_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        run.main(["parse", "speed"])
    assert exited.value.code == 2
    assert "unknown benchmarks ['speed']" in capsys.readouterr().err


def test_the_table_prints_figures_transcribed_without_a_task_breakdown(capsys: pytest.CaptureFixture[str]) -> None:
    """A partial `make bench` prints the committed file; its e2e figures may lack the per-task times."""
    transcribed = {**RESULTS, "scaling": {}, "e2e": {"airflow_in_run_seconds": 3.1, "rows": 1_000_000}}
    run.print_table(transcribed)
    printed = capsys.readouterr().out
    assert "| parse_ratio |" in printed
    assert "task body" not in printed
