"""retrain_churn end to end through Airflow (dag.test) against the loopback S3 endpoint."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from include.retrain.modelio import load_model
from include.retrain.registry import CHAMPION
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states

pytestmark = pytest.mark.e2e

WINDOW_END = FIRST_DAY + timedelta(days=29)  # 28-day window fully covered by 29 written days
GATES = ("validate_raw", "validate_features", "check_drift", "validate_model")
ALL_TASKS = {
    "ingest",
    "validate_raw",
    "build_features",
    "validate_features",
    "check_drift",
    "train",
    "evaluate",
    "validate_model",
    "promote",
}


def test_first_run_registers_a_version_and_makes_it_champion(churn: PipelineHarness) -> None:
    churn.write_days(FIRST_DAY, 29)

    run = churn.run(WINDOW_END)

    assert str(run.state).endswith("success")
    assert task_states(run) == dict.fromkeys(ALL_TASKS, "success")
    folder = churn.run_folder(WINDOW_END.isoformat())
    keys = set(churn.store.list_keys(folder + "/"))
    for expected in (
        "ingest/raw.parquet",
        "ingest/manifest.json",
        "features/train.parquet",
        "features/holdout.parquet",
        "features/transformer.skops",
        "features/reference_profile.json",
        "train/model.skops",
        "evaluate/predictions.parquet",
        "evaluate/segment_metrics.json",
        *(f"gates/{gate}.{kind}" for gate in GATES for kind in ("json", "html")),
        "promote/manifest.json",
    ):
        assert f"{folder}/{expected}" in keys, expected
    ingest = churn.store.read_json(f"{folder}/ingest/manifest.json")
    assert ingest["partitions"] == 28
    assert ingest["rows"] == 28 * 300

    versions = churn.registry.list_versions()
    assert len(versions) == 1
    version = versions[0]
    assert version.startswith("v20260130-")
    champion = churn.registry.get_alias(CHAMPION)
    assert champion is not None
    assert champion.version == version
    assert "first champion" in champion.reason
    record = churn.registry.get_version(version)
    assert set(record.files) == {
        "model.skops",
        "metrics.json",
        "model_card.json",
        "model_card.md",
        "reference_profile.json",
    }
    card = json.loads(churn.registry.read_file(version, "model_card.json"))
    assert card["data"]["rows"]["raw"] == 28 * 300
    assert [g["gate"] for g in card["gates"]] == list(GATES)
    assert "no champion yet" in card["gates"][2]["notes"][0]
    assert set(card["metrics_ci"]) == set(card["metrics"])
    auc = card["metrics_ci"]["roc_auc"]
    assert auc["ci_low"] < auc["value"] == card["metrics"]["roc_auc"] < auc["ci_high"]
    model = load_model(churn.registry.read_file(version, "model.skops"))
    assert hasattr(model, "predict_proba")
    assert [e["event"] for e in churn.registry.events()] == ["registered", "promoted", "deployed"]
    deployed = churn.store.read_json(churn.registry.key("deployed.json"))
    assert (deployed["version"], deployed["strategy"], deployed["slot"]) == (version, "direct", None)
    assert deployed["model"] == record.files["model.skops"].to_dict()
    predictions = churn.store.read_json(f"{folder}/evaluate/manifest.json")["artifacts"]["predictions"]
    assert predictions["size"] < 100_000  # per-row scores and target only


def test_second_interval_compares_with_the_champion_on_the_same_holdout(churn: PipelineHarness) -> None:
    churn.write_days(FIRST_DAY, 30)
    churn.run(WINDOW_END)
    first = churn.registry.get_alias(CHAMPION).version

    run = churn.run(WINDOW_END + timedelta(days=1))

    assert str(run.state).endswith("success")
    evaluated = churn.store.read_json(
        churn.run_folder((WINDOW_END + timedelta(days=1)).isoformat()) + "/evaluate/manifest.json"
    )
    assert evaluated["champion"]["version"] == first
    promoted = churn.store.read_json(
        churn.run_folder((WINDOW_END + timedelta(days=1)).isoformat()) + "/promote/manifest.json"
    )
    # The shipped churn promotes only a significant gain: the paired bootstrap test ran on these rows.
    significance = promoted["significance"]
    assert significance["difference"] == pytest.approx(evaluated["value"] - evaluated["champion"]["value"])
    beats = significance["ci_low"] > churn.config.promotion.min_improvement
    assert promoted["promoted"] is beats
    expected_champion = promoted["version"] if beats else first
    assert churn.registry.get_alias(CHAMPION).version == expected_champion
    assert len(churn.registry.list_versions()) == 2


def test_rerunning_an_interval_writes_the_same_keys_and_no_duplicate_version(churn: PipelineHarness) -> None:
    churn.write_days(FIRST_DAY, 29)
    churn.run(WINDOW_END)
    folder = churn.run_folder(WINDOW_END.isoformat())
    keys_first = set(churn.store.list_keys(folder + "/"))
    champion_first = churn.registry.get_alias(CHAMPION)

    rerun = churn.run(WINDOW_END)

    assert str(rerun.state).endswith("success")
    assert set(churn.store.list_keys(folder + "/")) == keys_first
    assert churn.registry.list_versions() == [champion_first.version]
    assert churn.registry.get_alias(CHAMPION).etag == champion_first.etag
    assert [e["event"] for e in churn.registry.events()] == ["registered", "promoted", "deployed"]
    promoted = churn.store.read_json(f"{folder}/promote/manifest.json")
    assert promoted["registered"] is False
    assert "already the champion" in promoted["reason"]


def test_missing_column_fails_at_validate_raw_and_keeps_the_champion(
    churn: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    churn.write_days(FIRST_DAY, 29)
    churn.run(WINDOW_END)
    champion = churn.registry.get_alias(CHAMPION)
    churn.write_days(FIRST_DAY, 30, alter=lambda frame, day: frame.drop(columns=["support_calls"]))
    capfd.readouterr()

    run = churn.run(WINDOW_END + timedelta(days=1))

    assert str(run.state).endswith("failed")
    states = task_states(run)
    assert states["ingest"] == "success"
    assert states["validate_raw"] == "failed"
    assert states["promote"] in ("upstream_failed", "none", "skipped")
    report = churn.store.read_json(
        churn.run_folder((WINDOW_END + timedelta(days=1)).isoformat()) + "/gates/validate_raw.json"
    )
    failed = [e for e in report["expectations"] if not e["success"]]
    assert {"expectation": "expect_column_to_exist", "column": "support_calls"} in [
        {"expectation": e["expectation"], "column": e["kwargs"].get("column")} for e in failed
    ]
    logs = capfd.readouterr()
    assert "expect_column_to_exist(column='support_calls')" in logs.out + logs.err
    assert churn.registry.get_alias(CHAMPION).etag == champion.etag
    assert churn.registry.list_versions() == [champion.version]
