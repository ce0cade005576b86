"""The live metric per scored day, read from registry/live/ on the real loopback S3, and its chart.

Bounded (only the newest days are read) and forgiving: a corrupt or value-less record is a note
on the page, never an error; a variant without live measurements says so instead of a chart.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from include.retrain.config import PipelineConfig, load_pipeline, pipelines_dir
from include.retrain.monitoring.live_history import read_live_history
from include.retrain.monitoring.pages import VariantSection, registry_page
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore
from tests.unit.monitoring.test_pages import overview

V1, V2 = "v20260101-aaaaaaaaaa", "v20260110-bbbbbbbbbb"


def live_config(**retrain_when: Any) -> PipelineConfig:
    raw = load_pipeline(pipelines_dir() / "churn.yaml").model_dump(mode="json")
    raw["scoring"] = {"label_delay_days": 2}
    if retrain_when:
        raw["monitoring"] = {"retrain_when": retrain_when}
    return PipelineConfig.model_validate(raw)


@pytest.fixture
def registry(s3_client: Any) -> ModelRegistry:
    return ModelRegistry(ArtifactStore(s3_client, "retrain-artifacts", "retraining"), "churn")


def put_day(registry: ModelRegistry, version: str, day: str, value: Any, **extra: Any) -> None:
    record = {"partition": day, "model_version": version, "metric": "roc_auc", "value": value, **extra}
    registry.store.put_json(registry.key("live", version, f"ds={day}.json"), record)


def test_each_days_value_oldest_first_with_unreadable_records_counted(registry: ModelRegistry) -> None:
    put_day(registry, V1, "2026-01-05", 0.81, ci_low=0.78, ci_high=0.84)
    put_day(registry, V1, "2026-01-06", 0.64)
    put_day(registry, V1, "2026-01-07", None)  # an undefined metric (one class only that day)
    registry.store.put_bytes(registry.key("live", V1, "ds=2026-01-08.json"), b"{not json")
    put_day(registry, V2, "2026-01-11", 0.83)

    history = read_live_history(registry)

    assert [(d.day.isoformat(), d.version, d.value) for d in history.days] == [
        ("2026-01-05", V1, 0.81),
        ("2026-01-06", V1, 0.64),
        ("2026-01-11", V2, 0.83),
    ]
    assert (history.days[0].ci_low, history.days[0].ci_high) == (0.78, 0.84)
    assert history.notes == ["2 live record(s) unreadable or without a value, left out"]


def test_only_the_newest_days_are_read(registry: ModelRegistry) -> None:
    for day in range(1, 6):
        put_day(registry, V1, f"2026-01-{day:02d}", 0.7 + day / 100)

    history = read_live_history(registry, limit=3)

    assert [d.day.day for d in history.days] == [3, 4, 5]
    assert history.notes == ["the newest 3 of 5 measured days"]


def test_the_chart_has_a_series_per_version_a_marker_where_one_starts_and_the_retrain_bar(
    registry: ModelRegistry,
) -> None:
    put_day(registry, V1, "2026-01-05", 0.81, ci_low=0.78, ci_high=0.84)
    put_day(registry, V1, "2026-01-06", 0.62)
    put_day(registry, V2, "2026-01-11", 0.83)
    config = live_config(live_metric_below=0.7, for_days=2)

    page = registry_page([VariantSection("churn", overview(config=config, live=read_live_history(registry)))])
    section = page.split("<h3>Live performance</h3>")[1].split("<h3>")[0]

    assert 'data-chart="chart-live-churn"' in section
    assert f'data-series="{V1}"' in section
    assert f'data-series="{V2}"' in section
    assert 'data-date="2026-01-05T00:00:00+00:00" data-value="0.81"' in section
    assert 'data-ci-low="0.7800" data-ci-high="0.8400"' in section
    assert section.count('data-kind="new_version"') == 1  # the first version charted is no boundary
    assert f"{V2} serving from 2026-01-11" in section
    assert 'data-bar="retrain when worse for 2 day(s)" data-value="0.7' in section


def test_without_measurements_the_page_says_why_and_without_live_monitoring_shows_nothing(
    registry: ModelRegistry,
) -> None:
    waiting = registry_page([VariantSection("churn", overview(config=live_config(), live=read_live_history(registry)))])
    section = waiting.split("<h3>Live performance</h3>")[1].split("<h3>")[0]
    assert "No live measurements yet" in section
    assert "<svg" not in section

    assert "Live performance" not in registry_page([VariantSection("churn", overview())])


def test_a_record_is_json_the_chart_never_executes(registry: ModelRegistry) -> None:
    hostile = '<script>alert("x")</script>'
    registry.store.put_bytes(
        registry.key("live", V1, "ds=2026-01-05.json"),
        json.dumps({"partition": "2026-01-05", "model_version": hostile, "metric": "roc_auc", "value": 0.8}).encode(),
    )
    page = registry_page([VariantSection("churn", overview(config=live_config(), live=read_live_history(registry)))])
    assert hostile not in page
    assert "&lt;script&gt;" in page
