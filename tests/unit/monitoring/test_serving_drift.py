"""PSI per feature over scoring days, read from predictions/ds=<day>/drift.json on the real loopback S3.

Bounded (only the newest days are read) and forgiving: a corrupt document or a day still being
scored is a note on the page, never an error; a variant without a ``scoring`` section has no chart.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from include.retrain.monitoring.pages import VariantSection, registry_page
from include.retrain.monitoring.serving_drift import read_serving_drift
from include.retrain.storage import ArtifactStore
from tests.unit.monitoring.test_live_history import live_config
from tests.unit.monitoring.test_pages import overview

V1, V2 = "v20260101-aaaaaaaaaa", "v20260110-bbbbbbbbbb"


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, "retrain-artifacts", "retraining")


def put_day(store: ArtifactStore, day: str, version: str, psi: dict[str, Any]) -> None:
    rows = [{"feature": name, "kind": "numeric", "psi": value, "ks": 0.1} for name, value in psi.items()]
    document = {"partition": day, "model_version": version, "features": rows}
    store.put_json(store.key("churn", "predictions", f"ds={day}", "drift.json"), document)


def test_each_days_psi_oldest_first_with_unreadable_and_unfinished_days_noted(store: ArtifactStore) -> None:
    put_day(store, "2026-02-01", V1, {"tenure_months": 0.02, "support_calls": 0.4})
    put_day(store, "2026-02-02", V1, {"tenure_months": None, "support_calls": 0.05})  # no value: left out
    store.put_bytes(store.key("churn", "predictions", "ds=2026-02-03", "drift.json"), b"{not json")
    store.put_json(store.key("churn", "predictions", "ds=2026-02-04", "part.parquet.tmp"), {})  # being scored
    put_day(store, "2026-02-05", V2, {"tenure_months": 0.01})

    history = read_serving_drift(store, "churn")

    assert [(d.day.isoformat(), d.version, d.psi) for d in history.days] == [
        ("2026-02-01", V1, {"tenure_months": 0.02, "support_calls": 0.4}),
        ("2026-02-02", V1, {"support_calls": 0.05}),
        ("2026-02-05", V2, {"tenure_months": 0.01}),
    ]
    assert history.notes[0] == "Read the 5 newest of 5 scored days, each against the profile of its version."
    assert "No drift.json for 1" in history.notes[1]
    assert history.notes[2].startswith("1 could not be read: 2026-02-03 (JSONDecodeError")


def test_only_the_newest_days_are_read(store: ArtifactStore) -> None:
    for day in range(1, 6):
        put_day(store, f"2026-02-{day:02d}", V1, {"tenure_months": day / 100})

    history = read_serving_drift(store, "churn", limit=2)

    assert [d.day.day for d in history.days] == [4, 5]
    assert history.notes == ["Read the 2 newest of 5 scored days, each against the profile of its version."]


def test_the_chart_has_a_series_per_feature_with_the_serving_version_and_the_drift_bars(store: ArtifactStore) -> None:
    put_day(store, "2026-02-01", V1, {"tenure_months": 0.02, "support_calls": 0.4})
    put_day(store, "2026-02-02", V2, {"tenure_months": 0.03})
    config = live_config()
    history = read_serving_drift(store, "churn")

    page = registry_page([VariantSection("churn", overview(config=config, serving_drift=history))])
    section = page.split("<h3>Drift over runs</h3>")[1].split("<h3>")[0]

    assert 'data-chart="chart-serving-drift-churn"' in section
    assert 'data-series="tenure_months"' in section
    assert 'data-series="support_calls"' in section
    assert 'data-date="2026-02-01T00:00:00+00:00" data-value="0.4"' in section
    assert f'data-version="{V2}"' in section
    bars = config.expectations.drift
    assert f'data-bar="drift above" data-value="{bars.psi_fail}' in section


def test_without_scored_days_the_page_says_why_and_without_scoring_shows_nothing(store: ArtifactStore) -> None:
    waiting = registry_page(
        [VariantSection("churn", overview(config=live_config(), serving_drift=read_serving_drift(store, "churn")))]
    )
    assert "No scored day yet" in waiting
    assert "chart-serving-drift" not in waiting
    assert "chart-serving-drift" not in registry_page([VariantSection("churn", overview())])


def test_a_document_is_json_the_chart_never_executes(store: ArtifactStore) -> None:
    hostile = '<script>alert("x")</script>'
    store.put_bytes(
        store.key("churn", "predictions", "ds=2026-02-01", "drift.json"),
        json.dumps({"model_version": hostile, "features": [{"feature": hostile, "psi": 0.1}]}).encode(),
    )
    page = registry_page(
        [VariantSection("churn", overview(config=live_config(), serving_drift=read_serving_drift(store, "churn")))]
    )
    assert hostile not in page
    assert "&lt;script&gt;" in page
