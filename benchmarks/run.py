"""``make bench``: run the benchmarks, print a table, write benchmarks/results.json.

``python -m benchmarks.run [names...]`` runs some of them; the table always shows every key in
the results file (keys of benchmarks not run this time keep their previous values).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from benchmarks import (
    bench_e2e,
    bench_gates,
    bench_io,
    bench_parse,
    bench_parse_many,
    bench_scaling,
    bench_scoring,
    bench_soak,
)
from benchmarks.common import RESULTS, write_results

BENCHMARKS: dict[str, Callable[[], dict[str, Any]]] = {
    "parse": bench_parse.run,
    "parse_many": bench_parse_many.run,
    "io": bench_io.run,
    "gates": bench_gates.run,
    "e2e": bench_e2e.run,
    "scoring": bench_scoring.run,
    "scaling": bench_scaling.run,
    "soak": bench_soak.run,
}


def rows_label(rows: int | str) -> str:
    """``10000000`` -> ``1e7``."""
    number = int(rows)
    exponent = len(str(number)) - 1
    return f"1e{exponent}" if number == 10**exponent else str(number)


def _check(value: Any, op: str, target: float) -> str:
    if value is None:
        return "-"
    met = value <= target if op == "<=" else value >= target
    return "yes" if met else "NO"


def _row(key: str, measured: str, value: Any, op: str, target: float) -> tuple[str, str, str, str]:
    return (key, measured, f"{op} {target:g}", _check(value, op, target))


def _fresh_interpreter(scoring: dict[str, Any]) -> str:
    """The scoring ratio in fresh interpreters (imports included), when measured."""
    fresh = scoring.get("fresh_interpreter")
    return f"; fresh interpreters {fresh['ratio']:.3f}" if fresh else ""


def _fit_floor(scaling: dict[str, Any]) -> str:
    """The estimator fitted alone on the same matrix (``benchmarks.fit_floor``), when measured."""
    floor = scaling.get("fit_floor")
    return f"; the fit alone {floor['ratio']:.2f} ({floor['peak_rss_mib']:.0f} MiB)" if floor else ""


def headline_rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(key, measured, target, met) for every headline key present in ``results``."""
    rows = []
    if "parse_ratio" in results:
        parse = results["parse"]
        rows.append(
            _row(
                "parse_ratio",
                f"{results['parse_ratio']:.3f} (CPU; wall {parse['wall_ratio']:.3f}; {parse['dags']} DAGs)",
                results["parse_ratio"],
                "<=",
                1.25,
            )
        )
    if "parse_ratio_100" in results:
        many = results["parse_many"]
        rows.append(
            _row(
                "parse_ratio_100",
                f"{results['parse_ratio_100']:.3f} (DagBag CPU {many['bundle_cpu_seconds']:.2f}s vs floor "
                f"{many['floor_cpu_seconds']:.2f}s; {many['dags']} DAGs; the same floor with the trigger "
                f"forms' Params {many.get('params_floor_ratio', float('nan')):.3f}; shipped variants "
                f"{many['shipped']['ratio']:.3f})",
                results["parse_ratio_100"],
                "<=",
                bench_parse_many.TARGET,
            )
        )
    if "e2e_overhead_ratio" in results:
        e2e = results["e2e"]
        rows.append(
            _row(
                "e2e_overhead_ratio",
                f"{results['e2e_overhead_ratio']:.3f} (CPU {e2e['airflow_cpu_seconds']:.0f}s vs "
                f"{e2e['bare_cpu_seconds']:.0f}s; wall {e2e['wall_ratio']:.3f})",
                results["e2e_overhead_ratio"],
                "<=",
                1.5,
            )
        )
        if "bundle_overhead_ratio" in results:
            rows.append(
                _row(
                    "bundle_overhead_ratio",
                    f"{results['bundle_overhead_ratio']:.3f} ((CPU {e2e['airflow_cpu_seconds']:.1f}s - floor "
                    f"{e2e['floor_cpu_seconds']:.1f}s) / bare {e2e['bare_cpu_seconds']:.1f}s)"
                    + (
                        f"; duties floor {results['bundle_overhead_duties_floor']:.3f} (GX, skops, holdout "
                        f"scored twice: {e2e['floor_duties_cpu_seconds']:.1f}s)"
                        if "bundle_overhead_duties_floor" in results
                        else ""
                    ),
                    results["bundle_overhead_ratio"],
                    "<=",
                    bench_e2e.BUNDLE_OVERHEAD_TARGET,
                )
            )
        if "e2e_floor_ratio" in results:
            rows.append(
                (
                    "e2e_floor_ratio",
                    f"{results['e2e_floor_ratio']:.3f} ({e2e['floor_cpu_seconds']:.1f}s CPU), "
                    f"{results['e2e_floor_gx_ratio']:.3f} with the gates importing GX "
                    f"({e2e['floor_gx_cpu_seconds']:.1f}s): the bare script's work as one of the same "
                    f"{e2e['floor_tasks']} tasks, the others empty; no bundle of them can score lower",
                    "reported",
                    "-",
                )
            )
        rows.append(
            _row(
                "gate_share",
                f"{results['gate_share']:.3f} ({e2e['gate_seconds']:.1f}s of {e2e['run_seconds']:.1f}s)",
                results["gate_share"],
                "<=",
                0.2,
            )
        )
    if "scoring_ratio" in results:
        scoring = results["scoring"]
        rows.append(
            _row(
                "scoring_ratio",
                f"{results['scoring_ratio']:.3f} (CPU {scoring['bundle_cpu_seconds']:.1f}s vs "
                f"{scoring['bare_cpu_seconds']:.1f}s at {rows_label(scoring['rows'])} rows; "
                f"wall {scoring['wall_ratio']:.3f}{_fresh_interpreter(scoring)})",
                results["scoring_ratio"],
                "<=",
                1.5,
            )
        )
    if "gate_vs_pandas" in results:
        gates = results["gate_vs_pandas"]["gates"]
        text = ", ".join(
            f"{g} {v['ratio']:.0f}x ({v['gx_cpu_seconds']:.2f}s/{v['pandas_cpu_seconds']:.3f}s)"
            for g, v in gates.items()
        )
        rows.append(("gate_vs_pandas", text, "reported", "-"))
    if "io_ratio" in results:
        largest = max(results["io"]["sizes_mib"], key=int)
        io = results["io"]["sizes_mib"][largest]
        rows.append(
            _row(
                "io_ratio",
                f"{results['io_ratio']:.3f} ({largest} MiB: "
                f"{io['store_mib_per_s']:.0f} vs {io['raw_mib_per_s']:.0f} MiB/s)",
                results["io_ratio"],
                ">=",
                0.9,
            )
        )
    scaling = results.get("scaling")
    if scaling:
        slope = scaling.get("linear_stage_max_slope")
        rows.append(
            _row(
                "scaling: max slope (ingest, features, gates)",
                "-" if slope is None else f"{slope:.3f}",
                slope,
                "<=",
                1.1,
            )
        )
        completed = [int(r) for r, w in scaling["windows"].items() if w["completed"]]
        if completed:
            largest = str(max(completed))
            window = scaling["windows"][largest]
            rows.append(
                _row(
                    f"peak_rss_ratio ({rows_label(largest)} rows)",
                    f"{window.get('peak_rss_ratio', 0):.2f} "
                    f"({window['peak_rss_mib']:.0f} / {window['memory_mib']:.0f} MiB){_fit_floor(scaling)}",
                    window.get("peak_rss_ratio"),
                    "<=",
                    bench_scaling.RSS_TARGET,
                )
            )
    if "e2e_10m_ratio" in results:
        whole = results["scaling"]["e2e"]
        rows.append(
            _row(
                "e2e_10m_ratio",
                f"{results['e2e_10m_ratio']:.3f} (every task process {whole['run_cpu_seconds']:.0f}s CPU incl. "
                f"S3 server {whole['s3_server_cpu_seconds']:.0f}s vs bare fit + holdout score "
                f"{whole['bare_cpu_seconds']:.0f}s)",
                results["e2e_10m_ratio"],
                "<=",
                bench_scaling.E2E_10M_TARGET,
            )
        )
    if "soak_violations" in results:
        soak = results["soak"]
        rows.append(
            _row(
                "soak_violations",
                f"{results['soak_violations']} in {soak['rounds']} rounds ({soak['actors']} promote/rollback "
                f"tasks, {soak['faults_injected']} faults injected, {soak['task_retries']} task retries)",
                results["soak_violations"],
                "<=",
                0,
            )
        )
    if "rows_10m_completed" in results:
        done = results["rows_10m_completed"]
        rows.append(("rows_10m_completed", str(done).lower(), "true", "yes" if done else "NO"))
    return rows


def scaling_rows(scaling: dict[str, Any]) -> list[str]:
    """The per-stage scaling table as Markdown lines."""
    sizes = [str(s) for s in scaling["sizes"]]
    head = " | ".join(f"{rows_label(s)} rows (s)" for s in sizes)
    lines = [
        f"| stage | {head} | slope | peak RSS at {rows_label(sizes[-1])} (MiB) |",
        "|" + " --- |" * (len(sizes) + 3),
    ]
    for stage, by_size in scaling["stages"].items():
        times = " | ".join(f"{by_size[s]['seconds']:.2f}" if s in by_size else "-" for s in sizes)
        slope = by_size.get("slope")
        rss = by_size.get(sizes[-1], {}).get("peak_rss_mib")
        slope_text = "-" if slope is None else f"{slope:.2f}"
        rss_text = "-" if rss is None else f"{rss:.0f}"
        lines.append(f"| {stage} | {times} | {slope_text} | {rss_text} |")
    return lines


def e2e_rows(e2e: dict[str, Any]) -> list[str]:
    """Where the Airflow run's time goes, against the bare script, as Markdown lines (wall seconds)."""
    bodies = e2e["task_body_seconds"]
    order = e2e.get("task_order", sorted(bodies))
    return [
        f"| part of the Airflow run ({rows_label(e2e['rows'])} rows) | seconds |",
        "| --- | --- |",
        f"| Airflow setup: import, DagBag | {e2e['setup_seconds']:.2f} |",
        f"| Airflow in the run: execution API, task state, scheduling | {e2e['airflow_in_run_seconds']:.2f} |",
        *(f"| task body: {name} | {bodies[name]:.2f} |" for name in order),
        f"| whole process (bare script: {e2e['bare_wall_seconds']:.2f}) | {e2e['airflow_wall_seconds']:.2f} |",
        *(
            [
                f"| floor: the bare script's work as `train`, the other tasks empty, whole process | "
                f"{e2e['floor_wall_seconds']:.2f} |",
                f"| floor with the gates importing Great Expectations, whole process | "
                f"{e2e['floor_gx_wall_seconds']:.2f} |",
            ]
            if "floor_wall_seconds" in e2e
            else []
        ),
    ]


def print_table(results: dict[str, Any]) -> None:
    print("\n| key | measured | target | met |")
    print("| --- | --- | --- | --- |")
    for row in headline_rows(results):
        print("| " + " | ".join(row) + " |")
    e2e = results.get("e2e", {})
    if "airflow_in_run_seconds" in e2e and "task_body_seconds" in e2e:  # absent in figures transcribed from the README
        print()
        print("\n".join(e2e_rows(results["e2e"])))
    if results.get("scaling"):
        print()
        print("\n".join(scaling_rows(results["scaling"])))
    machine = results.get("machine", {})
    print(f"\nmachine: {machine.get('cpus')} CPUs, {machine.get('memory_gib')} GiB RAM, Python {machine.get('python')}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run, of {sorted(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {sorted(BENCHMARKS)}")
    for name in args.names or BENCHMARKS:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        found = BENCHMARKS[name]()
        write_results({**found, f"{name}_bench_seconds": round(time.perf_counter() - started)})
        print(f"  done in {time.perf_counter() - started:.0f}s", flush=True)
    print_table(json.loads(RESULTS.read_text()))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
