"""No false alarms: clean demo data passes every gate for 30 consecutive daily windows.

For every shipped variant with a synthetic generator, the task bodies (``include.retrain.tasks``,
in DAG order) run in-process against the loopback S3 for 30 consecutive data intervals,
promoting as they go, so from the second window on ``check_drift`` compares with a real
champion's reference profile and ``validate_model`` with a real champion. A gate that fails
raises GateFailure naming the window, and a warning from any gate is a false alarm too. (A
feature that drifts by design, like demand's seasonal temperature, is left out of the variant's
``expectations.drift.columns``, which is what the config is for.)

Airflow itself is left out on purpose: ``dag.test`` for 30 windows would take many minutes, and
the fault table (``test_gate_faults``) already shows the same steps wired into the DAG.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from dev.synthetic import GENERATORS
from dev.synthetic.landing import write_days
from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig, discover_pipelines
from include.retrain.context import RunContext
from include.retrain.registry import CHAMPION, ModelRegistry
from include.retrain.storage import ArtifactStore
from include.retrain.tasks.drift import check_drift
from include.retrain.tasks.evaluate import evaluate
from include.retrain.tasks.features import build_features
from include.retrain.tasks.gates import validate_features, validate_model, validate_raw
from include.retrain.tasks.ingest import ingest
from include.retrain.tasks.promote import promote
from include.retrain.tasks.train import train
from include.retrain.threads import cpu_budget

WINDOWS = 30
ROWS_PER_DAY = 300  # enough rows that a window's holdout metric is stable against its threshold
FIRST_WINDOW_END = date(2026, 2, 1)

GENERATED_VARIANTS = [
    pytest.param(source.config, id=source.name)
    for source in discover_pipelines(DEFAULT_PIPELINES_DIR)
    if source.config is not None and source.config.dataset.name in GENERATORS
]


def run_window(config: PipelineConfig, client: Any, window_end: date) -> dict[str, Any]:
    """One interval through every task body in DAG order; returns the gate summaries and promotion."""
    run = RunContext.create(
        config,
        params={},
        data_interval_end=window_end,
        run_id=f"clean-{window_end}",
        triggered_by="test",
        client=client,
    )
    ingested = ingest(run)
    gates = [validate_raw(run, ingested)]
    features = build_features(run, ingested)
    gates.append(validate_features(run, features))
    gates.append(check_drift(run, ingested))
    trained = train(run, features)
    evaluated = evaluate(run, features, trained)
    gates.append(validate_model(run, evaluated))
    promoted = promote(run, ingested, features, trained, evaluated, gates)
    return {"gates": [gate.to_xcom() for gate in gates], "promote": promoted.to_xcom()}


def test_every_generated_variant_is_found() -> None:
    assert "churn" in {p.id for p in GENERATED_VARIANTS}


@pytest.mark.long
@pytest.mark.parametrize("config", GENERATED_VARIANTS)
def test_clean_data_passes_every_gate_for_30_windows(config: PipelineConfig, s3_client: Any) -> None:
    first_day = FIRST_WINDOW_END - timedelta(days=config.window.days)
    days = config.window.days + WINDOWS - 1
    write_days(
        s3_client,
        config.dataset,
        GENERATORS[config.dataset.name],
        first_day=first_day,
        days=days,
        rows_per_day=ROWS_PER_DAY,
    )
    false_alarms: list[str] = []
    drift_compared = 0
    promotions = 0
    # The task's thread budget, as the DAG's tasks run with it (run_step).
    with cpu_budget(config.tasks.threads):
        for offset in range(WINDOWS):
            window_end = FIRST_WINDOW_END + timedelta(days=offset)
            outcome = run_window(config, s3_client, window_end)
            for gate in outcome["gates"]:
                assert gate["success"], (window_end, gate)
                if gate["gate"] == "check_drift":
                    drift_compared += bool(gate["rows"].get("drift"))
                false_alarms += [f"{window_end} {gate['gate']}: {w}" for w in gate["warnings"]]
            promotions += outcome["promote"]["promoted"]

    assert false_alarms == []
    assert drift_compared == WINDOWS - 1  # every window after the first had a champion to compare with
    assert promotions >= 1  # the first window's model became champion, so drift had a real reference
    registry = ModelRegistry(ArtifactStore(s3_client, config.storage.bucket, config.storage.prefix), config.name)
    versions = registry.list_versions()
    assert len(versions) == WINDOWS
    assert registry.get_alias(CHAMPION).version in versions


def charges_regression(churn: PipelineConfig) -> PipelineConfig:
    """A regression variant on the churn data (predict monthly charges), for the regression code paths."""
    raw = churn.model_dump(mode="json")
    raw.update(
        name="charges",
        features={"numeric": ["tenure_months", "support_calls"], "categorical": ["plan", "region"]},
        model={"estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 1.0}},
        promotion={"metric": "rmse", "threshold": 15.0},
    )
    raw["dataset"]["target"] = "monthly_charges"
    raw["dataset"]["columns"]["monthly_charges"]["max_null_fraction"] = 0.0
    model_rules = raw["expectations"]["model"]
    model_rules.update(segments={"column": "plan", "threshold": 15.0, "min_rows": 50}, checks=[])
    raw["expectations"]["features"].update(min_class_fraction=None, max_class_fraction=None)
    return PipelineConfig.model_validate(raw)


def test_a_regression_variant_passes_every_gate(s3_client: Any) -> None:
    """Spearman leakage scores, minimize-metric segment ceilings and drift on a regression target."""
    churn = next(p.values[0] for p in GENERATED_VARIANTS if p.id == "churn")
    config = charges_regression(churn)

    def complete_charges(day: date, rows: int):
        frame = GENERATORS["churn"](day, rows)
        return frame.assign(monthly_charges=frame["monthly_charges"].fillna(50.0))

    first_day = FIRST_WINDOW_END - timedelta(days=config.window.days)
    write_days(s3_client, config.dataset, complete_charges, first_day=first_day, days=30, rows_per_day=100)
    with cpu_budget(config.tasks.threads):
        outcomes = [run_window(config, s3_client, FIRST_WINDOW_END + timedelta(days=i)) for i in range(3)]
    for outcome in outcomes:
        assert [g["success"] for g in outcome["gates"]] == [True] * 4
        assert all(g["warnings"] == [] for g in outcome["gates"])
    features, drift, model = (outcomes[-1]["gates"][i] for i in (1, 2, 3))
    assert features["rows"]["feature_stats"] == 2 + 3 + 5  # numeric, plan and region (with missing) one-hot
    assert "classes" not in features["rows"]
    assert drift["rows"]["drift"] == 4
    assert model["rows"]["segments"] == 3
