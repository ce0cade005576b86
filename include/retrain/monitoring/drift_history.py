"""PSI per feature over a variant's newest training runs, from each run's ``check_drift`` report.

Every run writes its drift gate's JSON report to ``runs/<run key>/gates/check_drift.json``. The
values the gate checked (one row per compared feature: ``feature``, ``kind``, ``psi``, ``ks``; and
the label's row) are read from the report's ``values`` (``{"drift": [rows], "label": [rows]}``).
A report without them (written before the gate recorded them) names only the features beyond a
bar, in its failed expectations' samples: charting those alone would show a stable feature as
missing, so such runs are counted in a note instead.

Reading is bounded: the run folders are listed one level deep (a page per 1000 runs) and only the
newest :data:`RUNS_READ` runs' reports are read (:data:`PARALLEL_READS` at a time). Dry runs are
left out (they repeat a real run's window). A report that is missing (the run stopped before the
gate) or unreadable is a note, never an error: the registry page shows the rest.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from include.retrain.layout import RUNS, gate_report
from include.retrain.storage import ArtifactStore

#: How many of the newest training runs' drift reports the registry page reads.
RUNS_READ = 20
#: How many reports are read at once.
PARALLEL_READS = 8
DRIFT_REPORT = gate_report("check_drift")
_DRY_RUN = "-dry-run-"


@dataclass(frozen=True)
class RunDrift:
    """One run's drift values: PSI (and KS, numeric features) per feature, and the label's PSI."""

    run_key: str
    window_end: datetime
    success: bool | None
    psi: dict[str, float]
    ks: dict[str, float] = field(default_factory=dict)
    label_psi: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DriftHistory:
    """The newest runs' drift values, oldest first, and what could not be charted, in words."""

    runs: list[RunDrift]
    notes: list[str]
    runs_listed: int = 0


def finite_number(value: Any) -> float | None:
    """``value`` as a float if it is a finite number (not a bool), else None: what a chart may plot."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def drift_values(report: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """The report's per-feature rows and label rows, or None if it does not list its values."""
    values = report.get("values")
    if not isinstance(values, Mapping) or not isinstance(values.get("drift"), list):
        return None
    rows = [dict(row) for row in values["drift"] if isinstance(row, Mapping)]
    labels = [dict(row) for row in values.get("label") or [] if isinstance(row, Mapping)]
    return rows, labels


def compared(report: Mapping[str, Any]) -> bool:
    """Whether the gate compared anything (no champion, or one without a profile: nothing to compare)."""
    return any((item or {}).get("table") == "drift" for item in report.get("expectations") or [])


def _window_end(run_key: str, report: Mapping[str, Any]) -> datetime:
    """The end of the run's training window (the report's, else its run key's date)."""
    end = ((report.get("context") or {}).get("window") or {}).get("end") or run_key[:10]
    parsed = datetime.fromisoformat(str(end))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def run_drift(run_key: str, report: Mapping[str, Any]) -> RunDrift | None:
    """A run's values from its report; None when the report does not list them."""
    found = drift_values(report)
    if found is None:
        return None
    rows, labels = found
    psi = {str(r.get("feature")): v for r in rows if (v := finite_number(r.get("psi"))) is not None}
    ks = {str(r.get("feature")): v for r in rows if (v := finite_number(r.get("ks"))) is not None}
    label_psi = {str(r.get("column")): v for r in labels if (v := finite_number(r.get("psi"))) is not None}
    success = report.get("success")
    return RunDrift(
        run_key, _window_end(run_key, report), success if isinstance(success, bool) else None, psi, ks, label_psi
    )


def folder_names(store: ArtifactStore, prefix: str) -> list[str]:
    """The folder names one level under ``prefix`` (``.../runs/``: run keys, which sort by window end), sorted."""
    paginator = store.client.get_paginator("list_objects_v2")
    keys: list[str] = []
    for page in paginator.paginate(Bucket=store.bucket, Prefix=prefix, Delimiter="/"):
        keys.extend(item["Prefix"][len(prefix) :].rstrip("/") for item in page.get("CommonPrefixes", []))
    return sorted(keys)


def _read_report(store: ArtifactStore, pipeline: str, run_key: str) -> Mapping[str, Any] | Exception | None:
    """A run's check_drift report; None if it has none, the exception if it cannot be read."""
    try:
        found = store.read_object(store.key(pipeline, RUNS, run_key, DRIFT_REPORT.stage, DRIFT_REPORT.name))
        if found is None:
            return None
        report = json.loads(found.data)
        if not isinstance(report, Mapping):
            raise ValueError("the report is not a JSON object")
        return report
    except Exception as exc:  # shown as a note
        return exc


def read_drift_history(store: ArtifactStore, pipeline: str, *, limit: int = RUNS_READ) -> DriftHistory:
    """The drift values of the newest ``limit`` runs of ``pipeline`` (not dry runs) that list them."""
    runs_prefix = store.key(pipeline, RUNS) + "/"
    try:
        keys = [key for key in folder_names(store, runs_prefix) if _DRY_RUN not in key]
    except Exception as exc:  # the page shows the rest of the registry
        return DriftHistory([], [f"The run folders could not be listed ({type(exc).__name__}: {exc})."])
    newest = keys[-limit:] if limit > 0 else []
    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        reports = list(pool.map(lambda key: _read_report(store, pipeline, key), newest))
    runs, sorted_out = _sort_reports(newest, reports)
    return DriftHistory(runs, _notes(len(newest), len(keys), sorted_out), len(keys))


@dataclass
class _SortedOut:
    """The newest runs that give no drift values, by why (run keys; unreadable ones with the error)."""

    missing: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    unlisted: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def _sort_reports(
    keys: list[str], reports: list[Mapping[str, Any] | Exception | None]
) -> tuple[list[RunDrift], _SortedOut]:
    """The runs whose reports list drift values, and the rest sorted by why they do not."""
    runs: list[RunDrift] = []
    out = _SortedOut()
    for key, report in zip(keys, reports, strict=True):
        if report is None:
            out.missing.append(key)
            continue
        try:
            if isinstance(report, Exception):
                raise report
            drift = run_drift(key, report)
        except Exception as exc:  # unreadable, or values that are not what the gate writes
            out.unreadable.append(f"{key} ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        if drift is not None:
            runs.append(drift)
        elif compared(report):
            out.unlisted.append(key)
        else:
            out.unchecked.append(key)
    return runs, out


def _notes(read: int, listed: int, out: _SortedOut) -> list[str]:
    """What the page says about the runs read and the ones it cannot chart."""
    notes = [f"Read the {read} newest of {listed} training runs (dry runs left out)."]
    if out.unchecked:
        notes.append(f"Nothing compared in {len(out.unchecked)} (no champion with a reference profile yet).")
    if out.missing:
        notes.append(f"No check_drift report in {len(out.missing)} (the run stopped before the gate, or is running).")
    if out.unlisted:
        notes.append(
            f"{len(out.unlisted)} reports list no per-feature values (written before the gate recorded them; their "
            f"failed expectations name the features beyond a bar): {', '.join(out.unlisted[-5:])}."
        )
    if out.unreadable:
        notes.append(f"{len(out.unreadable)} reports could not be read: {'; '.join(out.unreadable[-3:])}.")
    return notes
