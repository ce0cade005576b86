"""The fault table: each bad landing window fails its gate by name and the champion stays.

One champion is trained on clean data once per module (through Airflow, dag.test); each case
then replaces the landing data with a damaged copy, runs the next interval through Airflow,
and checks: the named gate task failed, its error text names the problem, its JSON and HTML
reports are in the run folder, nothing downstream ran, and the registry is as it was. Between
cases the landing data, the case's run folder and anything new in the registry are removed.
An empty window never reaches a gate: ingest fails it (tests/e2e/test_empty_window.py).

Gates retry infra faults, never data: a gate whose report write meets an S3 outage longer than the
client's retries is retried by Airflow and the run succeeds; a gate that finds bad data fails
once although it has retries (its verdict is AirflowFailException).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from include.retrain.config import DEFAULT_PIPELINES_DIR, load_pipeline, pipelines_dir
from include.retrain.registry import CHAMPION
from include.retrain.stages.split import hash_holdout_mask
from tests.conftest import reset_s3
from tests.e2e.conftest import FIRST_DAY, PipelineHarness, task_states
from tests.faults.proxy import FaultProxy, fault_proxy_for

pytestmark = pytest.mark.e2e

CHAMPION_END = FIRST_DAY + timedelta(days=29)  # the champion's 28-day window, written in full
FAULT_END = CHAMPION_END + timedelta(days=1)  # every case runs the next interval
FAULT_FIRST_DAY = FAULT_END - timedelta(days=28)
ROWS_PER_DAY = 300

Alter = Callable[[pd.DataFrame, date], pd.DataFrame]


@dataclass(frozen=True)
class Fault:
    """Damage to the landing data, the gate that must stop it, and what its message must say."""

    gate: str
    says: tuple[str, ...]
    alter: Alter | None = None
    days: int = 28  # landing days written, from the window's first day


# -- the damage ----------------------------------------------------------------------------------


def drop_support_calls(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.drop(columns=["support_calls"])


def rename_plan(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.rename(columns={"plan": "plan_name"})


def add_discount_column(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(discount=0.1)


def tenure_as_text(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(tenure_months=frame["tenure_months"].astype("str") + " months")


def charges_often_missing(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(monthly_charges=frame["monthly_charges"].where(frame.index % 5 != 0))  # 20% > 5%


def support_calls_out_of_range(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(support_calls=frame["support_calls"].where(frame.index % 50 != 0, 250))


def unknown_plan(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    plan = frame["plan"].astype("str")
    return frame.assign(plan=plan.where(frame.index % 40 != 0, "enterprise"))


def ids_repeat_every_day(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(customer_id=pd.Series([f"C-{i:07d}" for i in range(len(frame))], dtype="str"))


def constant_support_calls(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(support_calls=pd.array([1] * len(frame), dtype="Int64"))


def support_calls_encode_the_label(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(support_calls=frame["churned"] * 3)


def customers_much_older(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame.assign(tenure_months=(frame["tenure_months"] + 48).clip(upper=120))


def training_labels_are_noise(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """Random labels on the rows the hash split trains on; holdout rows keep their true labels,
    so the candidate is scored fairly against the champion on the same clean holdout."""
    train_rows = ~hash_holdout_mask(frame["customer_id"], 0.2)
    noise = np.random.default_rng(day.toordinal()).integers(0, 2, size=len(frame))
    churned = frame["churned"].to_numpy(dtype="int64").copy()
    churned[train_rows] = noise[train_rows]
    return frame.assign(churned=pd.array(churned, dtype="Int64"))


FAULTS = [
    pytest.param(
        Fault("validate_raw", ("expect_column_to_exist(column='support_calls')",), drop_support_calls),
        id="missing-column",
    ),
    pytest.param(
        Fault("validate_raw", ("expect_table_columns_to_match_set", "unexpected ['plan_name']"), rename_plan),
        id="renamed-column",
    ),
    pytest.param(
        Fault("validate_raw", ("expect_table_columns_to_match_set", "unexpected ['discount']"), add_discount_column),
        id="extra-column",
    ),
    pytest.param(
        Fault("validate_raw", ("expect_column_dtype_to_be_in(column='tenure_months'", "observed str"), tenure_as_text),
        id="wrong-dtype",
    ),
    pytest.param(
        Fault(
            "validate_raw",
            ("expect_column_values_to_not_be_null(column='monthly_charges', mostly=0.95) on data", "values (2"),
            charges_often_missing,
        ),
        id="nulls-over-threshold",
    ),
    pytest.param(
        Fault(
            "validate_raw",
            ("expect_column_values_to_be_between(column='support_calls', min_value=0.0, max_value=100.0)", "e.g. [250"),
            support_calls_out_of_range,
        ),
        id="out-of-range",
    ),
    pytest.param(
        Fault("validate_raw", ("expect_column_values_to_be_in_set(column='plan'", "'enterprise'"), unknown_plan),
        id="unknown-category",
    ),
    pytest.param(
        Fault(
            "validate_raw",
            ("expect_column_values_to_be_unique(column='customer_id')", "'C-0000000'"),
            ids_repeat_every_day,
        ),
        id="duplicate-ids",
    ),
    pytest.param(
        Fault(
            "validate_raw",
            ("expect_column_max_to_be_between(column='ds', min_value='2026-01-28T00:00:00')", "observed 2026-01-25"),
            days=23,  # the window's last five days never landed
        ),
        id="stale-data",
    ),
    pytest.param(
        Fault(
            "validate_features",
            ("column='std', min_value=0.0, strict_min=True) on feature_stats", "'feature': 'support_calls'"),
            constant_support_calls,
        ),
        id="constant-feature",
    ),
    pytest.param(
        Fault(
            "validate_features",
            ("column='single_feature_score', max_value=0.999) on feature_stats", "'feature': 'support_calls'"),
            support_calls_encode_the_label,
        ),
        id="label-leakage",
    ),
    pytest.param(
        Fault(
            "check_drift",
            ("expect_column_values_to_be_between(column='psi', max_value=0.25) on drift", "'feature': 'tenure_months'"),
            customers_much_older,
        ),
        id="covariate-drift",
    ),
    pytest.param(
        Fault(
            "validate_model",
            ("expect_column_values_to_be_between(column='improvement_over_champion', min_value=-0.05) on metrics",),
            training_labels_are_noise,
        ),
        id="model-worse-than-champion",
    ),
]


# -- one champion for the module ---------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The clean champion and the registry as it stood after training it (every object's bytes)."""

    harness: PipelineHarness
    champion_etag: str
    champion_version: str
    registry: dict[str, bytes]


@pytest.fixture(scope="module")
def baseline(local_s3, airflow_db) -> Iterator[Baseline]:
    server = reset_s3(local_s3)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_CONN_AWS_DEFAULT", server.airflow_connection())
        harness = PipelineHarness(load_pipeline(pipelines_dir() / "churn.yaml"), server.client())
        harness.write_days(FIRST_DAY, 29, ROWS_PER_DAY)
        run = harness.run(CHAMPION_END)
        assert str(run.state).endswith("success"), task_states(run)
        champion = harness.registry.get_alias(CHAMPION)
        assert champion is not None
        registry = {
            key: harness.store.read_object(key).data for key in harness.store.list_keys(registry_prefix(harness))
        }
        yield Baseline(harness, champion.etag, champion.version, registry)


def registry_prefix(harness: PipelineHarness) -> str:
    return harness.store.key(harness.config.name, "registry") + "/"


@pytest.fixture
def churn_after_champion(baseline: Baseline) -> Iterator[PipelineHarness]:
    """The harness with the champion in place; afterwards the case leaves no trace behind.

    Restoring the registry object by object (rather than retraining) keeps the table fast; a
    case that promotes (the warn case may) gets the original alias bytes, and so ETag, back.
    """
    harness = baseline.harness
    bucket = harness.config.storage.bucket
    harness.clear_landing()
    yield harness
    harness.clear_landing()
    harness.delete_prefix(bucket, harness.run_folder(FAULT_END.isoformat()) + "/")
    for key in harness.store.list_keys(registry_prefix(harness)):
        if key not in baseline.registry:
            harness.client.delete_object(Bucket=bucket, Key=key)
    for key, data in baseline.registry.items():
        found = harness.store.read_object(key)
        if found is None or found.data != data:
            harness.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/json")
    assert harness.registry.get_alias(CHAMPION).etag == baseline.champion_etag


# -- the cases -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_fails_its_gate_and_keeps_the_champion(
    fault: Fault, baseline: Baseline, churn_after_champion: PipelineHarness, capfd: pytest.CaptureFixture[str]
) -> None:
    churn = churn_after_champion
    churn.write_days(FAULT_FIRST_DAY, fault.days, ROWS_PER_DAY, alter=fault.alter)
    capfd.readouterr()

    run = churn.run(FAULT_END)

    assert str(run.state).endswith("failed")
    states = task_states(run)
    order = churn.task_order()
    gate_at = order.index(fault.gate)
    assert [states[t] for t in order[:gate_at]] == ["success"] * gate_at, states
    assert states[fault.gate] == "failed", states
    assert {states[t] for t in order[gate_at + 1 :]} <= {"upstream_failed", "skipped", "none"}, states

    # The task's error text names the problem and where the reports are.
    logs = capfd.readouterr()
    text = logs.out + logs.err
    folder = churn.run_folder(FAULT_END.isoformat())
    json_uri = f"s3://{churn.config.storage.bucket}/{folder}/gates/{fault.gate}.json"
    assert f"Gate {fault.gate} failed" in text
    for phrase in (*fault.says, f"Report: {json_uri}", f"Data docs (HTML): {json_uri[:-5]}.html"):
        assert phrase in text, phrase

    report = churn.store.read_json(f"{folder}/gates/{fault.gate}.json")
    assert report["success"] is False
    assert report["statistics"]["failed"] >= 1
    html = churn.client.head_object(Bucket=churn.config.storage.bucket, Key=f"{folder}/gates/{fault.gate}.html")
    assert html["ContentType"].startswith("text/html")

    champion = churn.registry.get_alias(CHAMPION)
    assert (champion.version, champion.etag) == (baseline.champion_version, baseline.champion_etag)
    assert churn.registry.list_versions() == [baseline.champion_version]


def test_warn_expectations_are_reported_and_the_run_goes_on(
    baseline: Baseline, churn_after_champion: PipelineHarness
) -> None:
    """2% of charges above the warn bar of 300 (below the schema's hard 500): a warning, not a failure."""
    churn = churn_after_champion

    def some_high_charges(frame: pd.DataFrame, day: date) -> pd.DataFrame:
        return frame.assign(monthly_charges=frame["monthly_charges"].where(frame.index % 50 != 0, 350.0))

    churn.write_days(FAULT_FIRST_DAY, 28, ROWS_PER_DAY, alter=some_high_charges)

    run = churn.run(FAULT_END)

    assert str(run.state).endswith("success"), task_states(run)
    assert set(task_states(run).values()) == {"success"}
    folder = churn.run_folder(FAULT_END.isoformat())
    report = churn.store.read_json(f"{folder}/gates/validate_raw.json")
    assert report["success"] is True
    assert report["statistics"]["warnings"] == 1
    (warning,) = [e for e in report["expectations"] if not e["success"]]
    assert warning["severity"] == "warn"
    assert warning["kwargs"] == {"column": "monthly_charges", "min_value": 0, "max_value": 300}
    assert warning["unexpected_count"] == 28 * ROWS_PER_DAY // 50
    assert warning["unexpected_sample"][:3] == [350.0, 350.0, 350.0]
    page = churn.client.get_object(Bucket=churn.config.storage.bucket, Key=f"{folder}/gates/validate_raw.html")
    assert "PASSED WITH WARNINGS" in page["Body"].read().decode()
    # The XCom summary (recorded in the model card of the version it registered) carries the warning.
    promoted = churn.store.read_json(f"{folder}/promote/manifest.json")
    card = churn.registry.read_file(promoted["version"], "model_card.json").decode()
    assert "expect_column_values_to_be_between(column='monthly_charges', min_value=0.0, max_value=300.0)" in card


# -- infra faults in a gate: retried; data verdicts: never ----------------------------------------


@pytest.fixture
def churn_through_proxy(
    churn_after_champion: PipelineHarness, local_s3, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[PipelineHarness, FaultProxy]]:
    """churn with fast retries (0.1 s apart) and 2 S3 attempts per request, its S3 behind a fault proxy."""
    config = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    config["tasks"] = {**config.get("tasks", {}), "retries": 2, "retry_delay_seconds": 0.1, "retry_backoff": 1.0}
    config["storage"] = {**config["storage"], "max_attempts": 2}
    (tmp_path / "churn.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))
    with fault_proxy_for(local_s3.endpoint_url) as proxy:
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", proxy.airflow_connection())
        yield churn_after_champion, proxy


def tries(run) -> dict[str, int]:
    return {ti.task_id: ti.try_number for ti in run.get_task_instances()}


@pytest.mark.parametrize("gate", ["validate_raw", "validate_model"])
def test_a_gate_hit_by_a_storage_fault_is_retried_and_the_run_succeeds(
    gate: str, churn_through_proxy: tuple[PipelineHarness, FaultProxy]
) -> None:
    """Both S3 attempts of the gate's report write get a 500 (an outage longer than the client's
    retries): an infra fault, so Airflow retries the gate, whose second try writes the report."""
    churn, proxy = churn_through_proxy
    churn.write_days(FAULT_FIRST_DAY, 28, ROWS_PER_DAY)
    outage = proxy.fail("PUT", f"gates/{gate}.json", status=500, times=2)

    run = churn.run(FAULT_END)

    assert outage.hits == 2
    assert str(run.state).endswith("success"), task_states(run)
    assert tries(run)[gate] == 2, tries(run)
    assert {task: n for task, n in tries(run).items() if task != gate} == {
        task: 1 for task in churn.task_order() if task != gate
    }
    report = churn.store.read_json(f"{churn.run_folder(FAULT_END.isoformat())}/gates/{gate}.json")
    assert report["success"] is True


def test_a_gate_that_finds_bad_data_fails_once_although_it_may_retry(
    churn_through_proxy: tuple[PipelineHarness, FaultProxy], baseline: Baseline
) -> None:
    """Same retries as above (2, 0.1 s apart): a data verdict is AirflowFailException, never retried."""
    churn, _ = churn_through_proxy
    churn.write_days(FAULT_FIRST_DAY, 28, ROWS_PER_DAY, alter=drop_support_calls)

    run = churn.run(FAULT_END)

    assert str(run.state).endswith("failed")
    assert task_states(run)["validate_raw"] == "failed", task_states(run)
    assert tries(run)["validate_raw"] == 1
    assert churn.dag().get_task("validate_raw").retries == 2  # it could have retried: it did not
    assert churn.registry.get_alias(CHAMPION).version == baseline.champion_version
