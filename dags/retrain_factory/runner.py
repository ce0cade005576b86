"""Run a task body of ``include.retrain`` inside an Airflow task.

Heavy imports (pandas, sklearn, GX, boto3) happen here, inside the task, never at parse time.
A PipelineFailure (bad data, failed gate, invalid Params, tampered artifact, refused rollback)
becomes an AirflowFailException: the task fails at once, without retries. Everything else
propagates and Airflow retries it with backoff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from include.retrain.config import PipelineConfig, StorageConfig
from include.retrain.monitoring.links import GATE_SUMMARY_KEY

if TYPE_CHECKING:
    from include.retrain.storage import ArtifactStore


def triggered_by(dag_run: Any) -> str:
    """Who or what started the run, for the audit trail: run type, and the user if any."""
    run_type = str(getattr(dag_run, "run_type", "unknown")).split(".")[-1].lower()
    user = getattr(dag_run, "triggering_user_name", None)
    return f"{run_type}:{user}" if user else run_type


def window_end_from_assets(context: dict[str, Any]) -> date | None:
    """For a run triggered by new landing data: the day after the newest announced partition."""
    from include.retrain.landing_watch import last_announced

    announced = [
        last_announced(event.extra)
        for events in (context.get("triggering_asset_events") or {}).values()
        for event in events
    ]
    newest = max((day for day in announced if day is not None), default=None)
    return newest + timedelta(days=1) if newest else None


@contextmanager
def _fail_fast_on_pipeline_failures(context: dict[str, Any]) -> Iterator[None]:
    """PipelineFailure -> AirflowFailException; a failed gate first leaves its summary in XCom.

    A failing task pushes no return value, so the summary (with the report URI) goes under
    ``GATE_SUMMARY_KEY``: the gate-report link, the registry page and notifications read it there.
    """
    from include.retrain.errors import GateFailure, PipelineFailure

    try:
        yield
    except GateFailure as exc:
        context["ti"].xcom_push(key=GATE_SUMMARY_KEY, value=exc.summary)
        raise AirflowFailException(str(exc)) from exc
    except PipelineFailure as exc:
        raise AirflowFailException(str(exc)) from exc


def s3_client(storage: StorageConfig) -> Any:
    """A boto3 S3 client from the variant's Airflow connection, with the variant's retry budget.

    Retries happen inside the client first (standard mode: connection errors, 5xx, throttling,
    with exponential backoff), so a short outage is ridden out inside one task attempt; Airflow's
    task retries (gates included) cover longer ones. ``config_kwargs`` in the connection's extra
    take precedence over these defaults.

    The hook supplies the session (credentials, role assumption, region) and the endpoint. Two
    costs of ``hook.get_client_type`` are left out, each about a quarter of a small task: its
    User-Agent tagging walks the call stack with ``inspect.stack()`` on every call, and each new
    session parses botocore's S3 model and endpoint JSON again. The client is made from the
    session directly, with one botocore data loader per process, filled before a LocalExecutor
    worker forks its tasks (``include.retrain.botocore_data``).
    """
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.retrain.botocore_data import use_shared_loader
    from include.retrain.storage import client_config

    hook = S3Hook(aws_conn_id=storage.conn_id)
    defaults = client_config(storage)
    from_connection = hook.conn_config.botocore_config
    session = hook.get_session()
    use_shared_loader(session)
    return session.client(
        "s3",
        endpoint_url=hook.conn_config.get_service_endpoint_url(service_name="s3"),
        config=defaults.merge(from_connection) if from_connection else defaults,
        verify=hook.verify,
    )


def _connection_lookup() -> Callable[[str], Any]:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection


def run_step(
    config: PipelineConfig, body: Callable[..., Any], context: dict[str, Any], *upstream: Any
) -> dict[str, Any]:
    """Build the RunContext from the Airflow context, call the task body and return its manifest for XCom.

    ``body`` is a function of ``include.retrain.tasks`` (imported inside the task, so parsing never
    pays for it), ``upstream`` the typed manifests it takes; what it returns (a manifest or a gate
    summary) goes to XCom as ``to_xcom()``, the JSON dict downstream tasks read back with ``from_xcom``.
    """
    from include.retrain.context import RunContext
    from include.retrain.threads import cpu_budget

    dag_run = context["dag_run"]
    interval_end = window_end_from_assets(context) or context.get("data_interval_end") or dag_run.run_after
    with _fail_fast_on_pipeline_failures(context):
        run = RunContext.create(
            config,
            params=dict(context["params"]),
            data_interval_end=interval_end,
            run_id=dag_run.run_id,
            triggered_by=triggered_by(dag_run),
            client=s3_client(config.storage),
            get_connection=_connection_lookup(),
        )
        with cpu_budget(config.tasks.threads):
            return body(run, *upstream).to_xcom()


def _scoring_run(config: PipelineConfig, context: dict[str, Any]) -> Any:
    """The ``ScoringRun`` of the run's data interval (or the landing event's newest partition)."""
    from include.retrain.scoring.run import ScoringRun

    dag_run = context["dag_run"]
    interval_end = window_end_from_assets(context) or context.get("data_interval_end") or dag_run.run_after
    return ScoringRun.create(
        config,
        data_interval_end=interval_end,
        run_id=dag_run.run_id,
        triggered_by=triggered_by(dag_run),
        client=s3_client(config.storage),
    )


def run_scoring(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    """Call ``tasks.score.score`` for the run's data interval (or the landing event's newest partition)."""
    from include.retrain.tasks.score import score
    from include.retrain.threads import cpu_budget

    with _fail_fast_on_pipeline_failures(context):
        run = _scoring_run(config, context)
        with cpu_budget(config.tasks.threads):
            return score(run).to_xcom()


def run_live(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    """Call ``tasks.live.measure_live`` for the same run (the scored days whose labels are due)."""
    from include.retrain.tasks.live import measure_live
    from include.retrain.threads import cpu_budget

    with _fail_fast_on_pipeline_failures(context):
        run = _scoring_run(config, context)
        with cpu_budget(config.tasks.threads):
            return measure_live(run).to_xcom()


def run_retrain_request(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    """Call ``tasks.retrain_request.request_retrain`` for the same run (after ``measure_live``)."""
    from include.retrain.tasks.retrain_request import request_retrain

    with _fail_fast_on_pipeline_failures(context):
        return request_retrain(_scoring_run(config, context))


def variant_store(config: PipelineConfig) -> ArtifactStore:
    """The variant's artifact store, through its Airflow connection with the tasks' retry budget."""
    from include.retrain.storage import ArtifactStore

    return ArtifactStore(s3_client(config.storage), config.storage.bucket, config.storage.prefix)


def run_rollback(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    """Call ``promotion.rollback.rollback_champion`` with the run's Params on the variant's registry."""
    from include.retrain.promotion.rollback import rollback_champion
    from include.retrain.registry import ModelRegistry

    dag_run = context["dag_run"]
    params = context["params"]
    with _fail_fast_on_pipeline_failures(context):
        return rollback_champion(
            ModelRegistry(variant_store(config), config.name),
            config.deployment,
            to_version=str(params.get("to_version") or ""),
            reason=str(params.get("reason") or ""),
            expected_champion=str(params.get("expected_champion") or ""),
            requested_at=requested_at(dag_run),
            audit={"run_id": dag_run.run_id, "triggered_by": triggered_by(dag_run)},
            get_connection=_connection_lookup(),
        )


def requested_at(dag_run: Any) -> datetime | None:
    """When the run was asked for: the earliest of its ``run_after`` and ``queued_at`` (a clear re-queues it)."""
    times = [t for t in (getattr(dag_run, "run_after", None), getattr(dag_run, "queued_at", None)) if t is not None]
    return min(times) if times else None


def run_freshness_check(config: PipelineConfig, context: dict[str, Any]) -> dict[str, Any]:
    """Fail (no retry) when the variant's newest successful retrain is older than its limit."""
    from datetime import UTC, datetime

    from include.retrain.monitoring.freshness import require_fresh
    from include.retrain.registry import ModelRegistry

    with _fail_fast_on_pipeline_failures(context):
        registry = ModelRegistry(variant_store(config), config.name)
        return require_fresh(registry, config.monitoring.max_model_age_hours, now=datetime.now(UTC))
