"""PSI per feature over runs, read from the runs' check_drift reports on the real loopback S3.

Bounded (only the newest runs' reports are read) and forgiving: a missing, older or corrupt report
is a note on the page, never an error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from include.retrain.monitoring.charts import lay_out
from include.retrain.monitoring.drift_history import drift_values, read_drift_history
from include.retrain.monitoring.pages import chart_figure
from include.retrain.monitoring.registry_charts import drift_chart
from include.retrain.storage import ArtifactStore

RUNS = "retraining/churn/runs"


def drift_report(end: str, psi: dict[str, float], *, success: bool = True, listed: bool = True) -> dict[str, Any]:
    """A check_drift report as the gate writes it (``values``: the rows its expectations checked)."""
    report: dict[str, Any] = {
        "gate": "check_drift",
        "success": success,
        "context": {"window": {"start": "2026-01-01", "end": end}},
        "expectations": [{"table": "drift", "expectation": "expect_column_values_to_be_between", "success": success}],
    }
    if listed:
        rows = [{"feature": f, "kind": "numeric", "psi": v, "ks": v / 2} for f, v in psi.items()]
        report["values"] = {
            "drift": rows,
            "label": [{"column": "churned", "kind": "classes", "psi": 0.01, "largest_share_change": 0.02}],
        }
    return report


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, "retrain-artifacts", "retraining")


def put(store: ArtifactStore, run_key: str, payload: Any, name: str = "gates/check_drift.json") -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    store.put_bytes(f"{RUNS}/{run_key}/{name}", body)


def test_each_runs_psi_per_feature_oldest_first_with_what_could_not_be_read(store: ArtifactStore) -> None:
    put(store, "2026-01-08", {"gate": "check_drift", "success": True, "expectations": [], "notes": ["no champion"]})
    put(store, "2026-01-09", drift_report("2026-01-09", {"tenure": 0.02, "monthly_charges": 0.05}))
    put(store, "2026-01-10", drift_report("2026-01-10", {"tenure": 0.31, "monthly_charges": 0.04}, success=False))
    put(store, "2026-01-11", drift_report("2026-01-11", {}, listed=False))  # written before reports listed values
    put(store, "2026-01-12", b"{not json")
    put(store, "2026-01-13", {"rows": 1}, name="ingest/manifest.json")  # stopped before the gate
    put(store, "2026-01-13-dry-run-abcdef0123", drift_report("2026-01-13", {"tenure": 9.0}))
    put(store, "2026-01-14_0123456789", drift_report("2026-01-14", {"tenure": 0.03}))  # Params overrides

    history = read_drift_history(store, "churn")

    assert [run.run_key for run in history.runs] == ["2026-01-09", "2026-01-10", "2026-01-14_0123456789"]
    first, drifted, _ = history.runs
    assert first.psi == {"tenure": 0.02, "monthly_charges": 0.05}
    assert first.ks == {"tenure": 0.01, "monthly_charges": 0.025}
    assert first.label_psi == {"churned": 0.01}
    assert (first.window_end, first.success, drifted.success) == (datetime(2026, 1, 9, tzinfo=UTC), True, False)
    assert history.runs_listed == 7
    notes = " ".join(history.notes)
    assert "Read the 7 newest of 7 training runs (dry runs left out)." in notes
    assert "Nothing compared in 1" in notes
    assert "No check_drift report in 1" in notes
    assert "1 reports list no per-feature values" in notes
    assert "2026-01-11" in notes
    assert "1 reports could not be read: 2026-01-12 (JSONDecodeError" in notes


def test_only_the_newest_runs_are_read(store: ArtifactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for day in range(1, 10):
        put(store, f"2026-01-0{day}", drift_report(f"2026-01-0{day}", {"tenure": day / 100}))
    reads: list[str] = []
    read_object = store.read_object
    monkeypatch.setattr(store, "read_object", lambda key: reads.append(key) or read_object(key))

    history = read_drift_history(store, "churn", limit=3)

    assert [run.run_key for run in history.runs] == ["2026-01-07", "2026-01-08", "2026-01-09"]
    assert len(reads) == 3
    assert "Read the 3 newest of 9 training runs" in history.notes[0]


def test_a_store_that_cannot_be_listed_is_a_note(store: ArtifactStore) -> None:
    missing = ArtifactStore(store.client, "no-such-bucket", "retraining")

    history = read_drift_history(missing, "churn")

    assert history.runs == []
    assert history.notes[0].startswith("The run folders could not be listed (")


def test_a_report_without_values_lists_none() -> None:
    assert drift_values(drift_report("2026-01-09", {}, listed=False)) is None
    assert drift_values({"values": {"drift": "nope"}}) is None
    assert drift_values({"values": {"drift": [{"feature": "a", "psi": 0.1}, "junk"]}}) == (
        [{"feature": "a", "psi": 0.1}],
        [],
    )


def test_the_drift_chart_has_a_series_per_feature_and_the_gates_bars(store: ArtifactStore) -> None:
    put(store, "2026-01-09", drift_report("2026-01-09", {"tenure": 0.02, "monthly_charges": 0.05}))
    put(store, "2026-01-10", drift_report("2026-01-10", {"tenure": 0.31}, success=False))

    chart = drift_chart(read_drift_history(store, "churn"), psi_warn=0.1, psi_fail=0.25)
    html = chart_figure(lay_out(chart), "drift")

    assert [s.name for s in chart.series] == ["label churned", "monthly_charges", "tenure"]
    assert [(p.attributes["run-key"], p.value) for p in chart.series[2].points] == [
        ("2026-01-09", 0.02),
        ("2026-01-10", 0.31),
    ]
    assert [(bar.label, bar.value) for bar in chart.bars] == [("warning above", 0.1), ("drift above", 0.25)]
    assert 'data-series="tenure"' in html
    assert 'data-run-key="2026-01-10"' in html
    assert "Read the 2 newest of 2 training runs" in html
