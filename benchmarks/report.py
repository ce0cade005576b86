"""The results part of the benchmarks page (docs/benchmarks.md), written from benchmarks/results.json.

``make bench`` writes the results file; ``make docs`` rewrites the page's generated part from it
(``dev.docs_pages``), and a test fails when the committed page and the
committed results file disagree. So a new run changes one data file and one generated table, not
hand-edited prose. Each row shows only what the results file holds: a key no benchmark wrote yet
is left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.run import e2e_rows, rows_label, scaling_rows

#: How each headline key is measured (what the benchmark code does), and its target.
HEADLINES: dict[str, tuple[str, str | None]] = {
    "parse_ratio": (
        "CPU time of a fresh interpreter filling a DagBag from `dags/` vs from one trivial `@dag` file per DAG "
        "the bundle generates, alternated, median of 5",
        "<= 1.25",
    ),
    "parse_ratio_100": (
        "CPU of the DagBag fill alone (Airflow imported first, as in the dag-processor's parser) of `dags/` "
        "reading 100 variants (the shipped ones copied under new names) vs one floor file defining the same DAG "
        "ids, each with as many tasks as an empty `@task` chain (`benchmarks/bench_parse_many.py`), alternated, "
        "median of 5; the shipped variants against their own floor beside it, and a third side: the floor with "
        "each DAG's trigger-form Params (what any DAG with those forms pays)",
        "<= 1.5",
    ),
    "e2e_overhead_ratio": (
        "CPU of `retrain_churn` at 1M rows through `dag.test` in a fresh interpreter (every task and gate, S3 "
        "I/O, registry; plus the S3 server's CPU) vs `benchmarks/bare_train.py` reading the same Parquet bytes "
        "from a local folder and fitting the same pipeline on the same rows; both end without interpreter "
        "teardown, as Airflow's task processes do; median of 3",
        "<= 1.5",
    ),
    "bundle_overhead_ratio": (
        "what the bundle itself controls, same runs: (the Airflow run's CPU - the floor's CPU, `e2e_floor_ratio` "
        "below) / the bare script's CPU; beside it, the least any bundle with the product's duties can score: a "
        "third floor DAG whose gates import GX and whose `train` also persists its model with skops and scores "
        "the holdout twice (candidate and champion), (its CPU - the floor's) / the bare script's",
        "<= 0.5",
    ),
    "e2e_10m_ratio": (
        "the whole run at 1e7 rows with each task body in its own fresh interpreter as a deployment runs it "
        "(the scaling run below): every task process's CPU, imports included, plus the S3 server's, vs "
        "`benchmarks/bare_train.py --score-holdout` reading the same Parquet bytes from a local folder, fitting "
        "the same pipeline and scoring the holdout once",
        "<= 1.25",
    ),
    "e2e_floor_ratio": (
        "the least any bundle of these tasks can score: two DAGs with `retrain_churn`'s nine tasks and "
        "dependencies (`benchmarks/floor_dag.py`), run by the same `dag.test` child, in which `train` does "
        "exactly the bare script's work and every other task nothing (first figure), or the four gates also "
        "import Great Expectations, as any GX gate must (second); their CPU / the bare script's, same runs, "
        "median of 3",
        None,
    ),
    "gate_share": ("the four gate tasks' durations / the run's, same runs", "<= 0.2"),
    "scoring_ratio": (
        "CPU of `score_churn`'s scoring task body (`tasks.score.score`, as `runner.run_scoring` calls it) on one "
        "landed partition of 1M rows without Airflow (S3 read, input gate with reports, sha256-checked "
        "allowlisted model load, `predict_proba`, serving drift, predictions, drift and manifest written; plus the "
        "S3 server's CPU) vs `benchmarks/bare_score.py` reading the same Parquet bytes from a local file, loading "
        "the same skops model file and calling `predict_proba`. Both sides as deployed: forked from a process that "
        "imported `include/retrain/preload.py`, as the shipped forkserver starts each task (`benchmarks/forked.py`); "
        "the same in fresh interpreters, imports included, beside it; no interpreter teardown; median of the repeats",
        "<= 1.5",
    ),
    "gate_vs_pandas": (
        "CPU of each gate's GX validation vs the same rules in plain pandas (`benchmarks/pandas_rules.py`), "
        "1M rows, median of 5",
        None,
    ),
    "io_ratio": (
        "artifact store `put_file` + `download_file` (sha256 both ways, tuned `TransferConfig`) vs boto3 "
        "`upload_file` + `download_file` with defaults, largest size, median of 5",
        ">= 0.9",
    ),
    "scaling_slope": (
        "log-log slope of each stage's wall time over the window sizes, each task body in a fresh interpreter; "
        "max over ingest, build_features and the gates",
        "<= 1.1",
    ),
    "peak_rss_ratio": (
        "the largest stage peak (`VmHWM`) at the largest window (1e7 rows) / the window's in-memory size",
        "<= 2",
    ),
    "rows_10m_completed": ("every stage of the 10M-row run succeeded", "true"),
    "soak_violations": (
        "invariant violations of the randomized registry soak (`benchmarks/bench_soak.py`, below)",
        "<= 0",
    ),
}


def _parse(results: dict[str, Any]) -> tuple[str, float] | None:
    if "parse_ratio" not in results:
        return None
    return f"{results['parse_ratio']:.3f} (wall {results['parse']['wall_ratio']:.3f})", results["parse_ratio"]


def _parse_many(results: dict[str, Any]) -> tuple[str, float] | None:
    if "parse_ratio_100" not in results:
        return None
    many = results["parse_many"]
    text = (
        f"{results['parse_ratio_100']:.2f} ({many['bundle_cpu_seconds']:.2f} s vs {many['floor_cpu_seconds']:.2f} s, "
        f"{many['dags']} DAGs, {many['tasks']} tasks); shipped variants {many['shipped']['ratio']:.2f} "
        f"({many['shipped']['bundle_cpu_seconds']:.3f} s vs {many['shipped']['floor_cpu_seconds']:.3f} s)"
    )
    if "params_floor_ratio" in many:
        text += (
            f"; the floor with the same trigger-form Params {many['params_floor_ratio']:.2f} "
            f"({many['params_floor_cpu_seconds']:.2f} s), the bundle over that {many['beyond_params_floor']:.2f}"
        )
    return text, results["parse_ratio_100"]


def _overhead(results: dict[str, Any]) -> tuple[str, float] | None:
    if "e2e_overhead_ratio" not in results:
        return None
    e2e, ratio = results["e2e"], results["e2e_overhead_ratio"]
    return (
        f"{ratio:.2f} ({e2e['airflow_cpu_seconds']:.1f} s vs {e2e['bare_cpu_seconds']:.1f} s; "
        f"wall {e2e['wall_ratio']:.2f})",
        ratio,
    )


def _bundle_overhead(results: dict[str, Any]) -> tuple[str, float] | None:
    if "bundle_overhead_ratio" not in results:
        return None
    e2e, ratio = results["e2e"], results["bundle_overhead_ratio"]
    text = (
        f"{ratio:.2f} (({e2e['airflow_cpu_seconds']:.1f} s - {e2e['floor_cpu_seconds']:.1f} s) / "
        f"{e2e['bare_cpu_seconds']:.1f} s)"
    )
    if "bundle_overhead_duties_floor" in results:
        text += (
            f"; the duties floor (GX imported, model persisted with skops, holdout scored twice): "
            f"{results['bundle_overhead_duties_floor']:.2f} (({e2e['floor_duties_cpu_seconds']:.1f} s - "
            f"{e2e['floor_cpu_seconds']:.1f} s) / {e2e['bare_cpu_seconds']:.1f} s)"
        )
    return text, ratio


def _e2e_10m(results: dict[str, Any]) -> tuple[str, float] | None:
    if "e2e_10m_ratio" not in results:
        return None
    whole, ratio = results["scaling"]["e2e"], results["e2e_10m_ratio"]
    return (
        f"{ratio:.2f} ({whole['run_cpu_seconds']:.0f} s, of which S3 server {whole['s3_server_cpu_seconds']:.0f} s, "
        f"vs {whole['bare_cpu_seconds']:.0f} s)",
        ratio,
    )


def _floor(results: dict[str, Any]) -> tuple[str, float] | None:
    if "e2e_floor_ratio" not in results:
        return None
    e2e = results["e2e"]
    return (
        f"{results['e2e_floor_ratio']:.2f} ({e2e['floor_cpu_seconds']:.1f} s vs {e2e['bare_cpu_seconds']:.1f} s); "
        f"{results['e2e_floor_gx_ratio']:.2f} with GX imported ({e2e['floor_gx_cpu_seconds']:.1f} s)",
        results["e2e_floor_ratio"],
    )


def _gate_share(results: dict[str, Any]) -> tuple[str, float] | None:
    if "gate_share" not in results:
        return None
    e2e = results["e2e"]
    return (
        f"{results['gate_share']:.3f} ({e2e['gate_seconds']:.1f} s of {e2e['run_seconds']:.1f} s)",
        results["gate_share"],
    )


def _scoring(results: dict[str, Any]) -> tuple[str, float] | None:
    if "scoring_ratio" not in results:
        return None
    scoring, ratio = results["scoring"], results["scoring_ratio"]
    phases = ", ".join(f"{phase} {scoring['phase_seconds'][phase]:.1f} s" for phase in scoring["phase_order"])
    return (
        f"{ratio:.2f} ({scoring['bundle_cpu_seconds']:.1f} s vs {scoring['bare_cpu_seconds']:.1f} s at "
        f"{rows_label(scoring['rows'])} rows, {scoring['repeats']} repeat(s); wall {scoring['wall_ratio']:.2f}; "
        f"body phases (wall): {phases}; imports {scoring['bundle_import_seconds']:.1f} s"
        + (
            f"; fresh interpreters {fresh['ratio']:.2f}: {fresh['bundle_cpu_seconds']:.1f} s vs "
            f"{fresh['bare_cpu_seconds']:.1f} s, bundle imports {fresh['bundle_import_seconds']:.1f} s)"
            if (fresh := scoring.get("fresh_interpreter"))
            else ")"
        ),
        ratio,
    )


def _gates(results: dict[str, Any]) -> tuple[str, float] | None:
    if "gate_vs_pandas" not in results:
        return None
    gates = results["gate_vs_pandas"]["gates"]
    text = "; ".join(
        f"{gate} {v['ratio']:.1f}x ({v['gx_cpu_seconds']:.2f} s vs {v['pandas_cpu_seconds']:.2f} s)"
        for gate, v in gates.items()
    )
    return text, 0.0


def _io(results: dict[str, Any]) -> tuple[str, float] | None:
    if "io_ratio" not in results:
        return None
    sizes = results["io"]["sizes_mib"]
    largest = max(sizes, key=int)
    text = f"{results['io_ratio']:.2f} ({largest} MiB: "
    text += f"{sizes[largest]['store_mib_per_s']:.0f} vs {sizes[largest]['raw_mib_per_s']:.0f} MiB/s)"
    smaller = [f"at {size} MiB {sizes[size]['ratio']:.2f}" for size in sorted(sizes, key=int) if size != largest]
    return "; ".join([text, *smaller]), results["io_ratio"]


def _slope(results: dict[str, Any]) -> tuple[str, float] | None:
    slope = results.get("scaling", {}).get("linear_stage_max_slope")
    return None if slope is None else (f"{slope:.2f}", slope)


def _peak_rss(results: dict[str, Any]) -> tuple[str, float] | None:
    windows = results.get("scaling", {}).get("windows", {})
    done = [rows for rows, window in windows.items() if window["completed"]]
    if not done:
        return None
    largest = max(done, key=int)
    window = windows[largest]
    stages = results["scaling"]["stages"]
    stage = max(stages, key=lambda s: stages[s].get(largest, {}).get("peak_rss_mib") or 0)
    floor = results["scaling"].get("fit_floor")
    beside = (
        f"; the estimator fitted alone on the same matrix (`benchmarks/fit_floor.py`): {floor['ratio']:.2f} "
        f"({floor['peak_rss_mib']:.0f} MiB)"
        if floor
        else ""
    )
    return (
        f"{window['peak_rss_ratio']:.2f} at {rows_label(largest)} rows "
        f"({stage} {window['peak_rss_mib']:.0f} MiB / {window['memory_mib']:.0f} MiB){beside}",
        window["peak_rss_ratio"],
    )


def _rows_10m(results: dict[str, Any]) -> tuple[str, float] | None:
    if "rows_10m_completed" not in results:
        return None
    return str(results["rows_10m_completed"]).lower(), float(results["rows_10m_completed"])


def _soak(results: dict[str, Any]) -> tuple[str, float] | None:
    if "soak_violations" not in results:
        return None
    soak = results["soak"]
    return (
        f"{results['soak_violations']} in {soak['rounds']} rounds ({soak['actors']} tasks, "
        f"{soak['faults_injected']} faults injected, {soak['task_retries']} task retries)",
        results["soak_violations"],
    )


RESULTS: dict[str, Callable[[dict[str, Any]], tuple[str, float] | None]] = {
    "parse_ratio": _parse,
    "parse_ratio_100": _parse_many,
    "e2e_overhead_ratio": _overhead,
    "bundle_overhead_ratio": _bundle_overhead,
    "e2e_10m_ratio": _e2e_10m,
    "e2e_floor_ratio": _floor,
    "gate_share": _gate_share,
    "scoring_ratio": _scoring,
    "gate_vs_pandas": _gates,
    "io_ratio": _io,
    "scaling_slope": _slope,
    "peak_rss_ratio": _peak_rss,
    "rows_10m_completed": _rows_10m,
    "soak_violations": _soak,
}


def met(value: float, target: str | None) -> str:
    """``yes``, ``**no**`` or ``-`` (reported only) for a value against a target such as ``<= 1.5``."""
    if target is None:
        return "-"
    if target == "true":
        return "yes" if value else "**no**"
    op, bound = target.split()
    ok = value <= float(bound) if op == "<=" else value >= float(bound)
    return "yes" if ok else "**no**"


def results_markdown(results: dict[str, Any]) -> str:
    """The generated part of docs/benchmarks.md: machine, headline table, per-stage and e2e breakdowns."""
    machine = results.get("machine", {})
    lines = [
        f"Machine: {machine.get('cpus')} CPUs, {machine.get('memory_gib')} GiB RAM, Python {machine.get('python')}.",
    ]
    if results.get("source"):
        lines += ["", f"Source: {results['source']}"]
    lines += ["", "| key | how it is measured | result | target | met |", "| --- | --- | --- | --- | --- |"]
    for key, (how, target) in HEADLINES.items():
        found = RESULTS[key](results)
        if found is not None:
            text, value = found
            lines.append(f"| `{key}` | {how} | {text} | {target or 'reported'} | {met(value, target)} |")
    if results.get("scaling", {}).get("stages"):
        lines += ["", "Per stage (wall seconds; peak RSS of the stage's process, imports included):", ""]
        lines += scaling_rows(results["scaling"])
    if "task_body_seconds" in results.get("e2e", {}):
        lines += ["", "Where the Airflow run's time goes (wall seconds):", "", *e2e_rows(results["e2e"])]
    return "\n".join(lines)
