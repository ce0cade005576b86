"""``retrain_<name>``: ingest -> validate_raw -> build_features -> validate_features -> check_drift
-> train -> evaluate -> validate_model -> promote, for one pipeline config."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from dags.retrain_factory.docs import TASK_DOCS, dag_doc
from dags.retrain_factory.landing_watch import landing_asset
from dags.retrain_factory.model_asset import announce_promotion, model_alias
from dags.retrain_factory.notifications import notifier_callbacks
from dags.retrain_factory.params import build_params
from dags.retrain_factory.runner import run_step
from dags.retrain_factory.task_args import infra_task_args
from include.retrain.config import PipelineConfig


def dag_schedule(config: PipelineConfig) -> Any:
    """Cron, the landing Asset, or either of the two (whichever comes first); and retrain requests with retrain_when."""
    cron = config.schedule.cron
    assets = [landing_asset(config.dataset)] if config.schedule.on_new_data else []
    if config.monitoring.retrain_when is not None:  # score_<name> may ask for a retrain
        from dags.retrain_factory.score_dag import retrain_request_asset

        assets.append(retrain_request_asset(config))
    if not assets:
        return cron
    asset = assets[0] if len(assets) == 1 else AssetAny(*assets)
    if cron is None:
        return asset
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(cron, timezone=config.schedule.timezone), assets=asset)


# C901 counts the DAG's shape: its nine tasks are defined inside (each one line of logic, a call
# into include/), so splitting it would only scatter the DAG's definition.
def build_retrain_dag(config: PipelineConfig) -> DAG:  # noqa: C901
    """Create the retraining DAG for ``config``; each task body is one call into ``include``."""
    limits = config.tasks
    infra = infra_task_args(limits)
    # Gates retry infra faults (a lost worker, an S3 outage) like any task; their data verdicts raise
    # AirflowFailException (runner.run_step), which Airflow never retries.
    gate: dict[str, Any] = {**infra}
    training = {**infra, "pool": limits.pool, "execution_timeout": timedelta(minutes=limits.train_timeout_minutes)}
    start = config.schedule.start_date

    @dag(
        dag_id=config.dag_id,
        description=(config.description.strip().splitlines() or [f"Retrain {config.name}"])[0][:200],
        doc_md=dag_doc(config),
        schedule=dag_schedule(config),
        start_date=pendulum.datetime(start.year, start.month, start.day, tz=config.schedule.timezone),
        catchup=config.schedule.catchup,
        max_active_runs=1,
        tags=sorted({"retraining", config.name, *config.tags}),
        # A task that fails for good (a gate at once, an infra task after its retries) ends the run:
        # one failure message per failed run.
        default_args={"owner": config.owner, "on_failure_callback": notifier_callbacks(config, "failure")},
        params=build_params(config),
    )
    def retrain() -> None:
        # Each task imports its body (include/retrain/tasks/) inside the task, never at parse time, and
        # reads its upstream manifests back from XCom (include/retrain/manifests.py).
        @task(multiple_outputs=False, doc_md=TASK_DOCS["ingest"], **infra)
        def ingest(**context: Any) -> dict:
            from include.retrain.tasks.ingest import ingest as body

            return run_step(config, body, context)

        @task(multiple_outputs=False, doc_md=TASK_DOCS["validate_raw"], **gate)
        def validate_raw(ingested: dict, **context: Any) -> dict:
            from include.retrain.manifests import IngestManifest
            from include.retrain.tasks.gates import validate_raw as body

            return run_step(config, body, context, IngestManifest.from_xcom(ingested))

        @task(multiple_outputs=False, doc_md=TASK_DOCS["build_features"], **infra)
        def build_features(ingested: dict, **context: Any) -> dict:
            from include.retrain.manifests import IngestManifest
            from include.retrain.tasks.features import build_features as body

            return run_step(config, body, context, IngestManifest.from_xcom(ingested))

        @task(multiple_outputs=False, doc_md=TASK_DOCS["validate_features"], **gate)
        def validate_features(features: dict, **context: Any) -> dict:
            from include.retrain.manifests import FeaturesManifest
            from include.retrain.tasks.gates import validate_features as body

            return run_step(config, body, context, FeaturesManifest.from_xcom(features))

        @task(multiple_outputs=False, doc_md=TASK_DOCS["check_drift"], **gate)
        def check_drift(ingested: dict, **context: Any) -> dict:
            from include.retrain.manifests import IngestManifest
            from include.retrain.tasks.drift import check_drift as body

            return run_step(config, body, context, IngestManifest.from_xcom(ingested))

        @task(multiple_outputs=False, doc_md=TASK_DOCS["train"], **training)
        def train(features: dict, **context: Any) -> dict:
            from include.retrain.manifests import FeaturesManifest
            from include.retrain.tasks.train import train as body

            return run_step(config, body, context, FeaturesManifest.from_xcom(features))

        @task(multiple_outputs=False, doc_md=TASK_DOCS["evaluate"], **infra)
        def evaluate(features: dict, trained: dict, **context: Any) -> dict:
            from include.retrain.manifests import FeaturesManifest, TrainManifest
            from include.retrain.tasks.evaluate import evaluate as body

            return run_step(
                config, body, context, FeaturesManifest.from_xcom(features), TrainManifest.from_xcom(trained)
            )

        @task(multiple_outputs=False, doc_md=TASK_DOCS["validate_model"], **gate)
        def validate_model(evaluated: dict, **context: Any) -> dict:
            from include.retrain.manifests import EvaluateManifest
            from include.retrain.tasks.gates import validate_model as body

            return run_step(config, body, context, EvaluateManifest.from_xcom(evaluated))

        @task(
            multiple_outputs=False,
            doc_md=TASK_DOCS["promote"],
            on_success_callback=notifier_callbacks(config, "promotion"),
            outlets=[model_alias(config)],
            **infra,
        )
        def promote(
            ingested: dict, features: dict, trained: dict, evaluated: dict, gates: list, **context: Any
        ) -> dict:
            from include.retrain import manifests as m
            from include.retrain.tasks.promote import promote as body

            scored = m.EvaluateManifest.from_xcom(evaluated)
            manifest = run_step(
                config,
                body,
                context,
                m.IngestManifest.from_xcom(ingested),
                m.FeaturesManifest.from_xcom(features),
                m.TrainManifest.from_xcom(trained),
                scored,
                [m.GateSummary.from_xcom(summary) for summary in gates],
            )
            announce_promotion(config, context, champion_before=scored.champion_version, manifest=manifest)
            return manifest

        ingested = ingest()
        raw_gate = validate_raw(ingested)
        features = build_features(ingested)
        raw_gate >> features
        features_gate = validate_features(features)
        # After the feature gate, so each bad window fails at exactly one gate (the first).
        drift_gate = check_drift(ingested)
        features_gate >> drift_gate
        trained = train(features)
        drift_gate >> trained
        evaluated = evaluate(features, trained)
        model_gate = validate_model(evaluated)
        promote(ingested, features, trained, evaluated, [raw_gate, features_gate, drift_gate, model_gate])

    return retrain()
