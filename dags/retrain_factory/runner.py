"""Run one step of ``include.retrain.steps`` inside an Airflow task.

Heavy imports (pandas, sklearn, GX, boto3) happen here, inside the task, never at parse time.
A PipelineFailure (bad data, failed gate, invalid Params, tampered artifact) becomes an
AirflowFailException: the task fails at once, without retries. Everything else propagates
and Airflow retries it with backoff.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from include.retrain.config import PipelineConfig


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


def run_step(config: PipelineConfig, step: str, context: dict[str, Any], *upstream: Any) -> dict[str, Any]:
    """Build the RunContext from the Airflow context and call ``steps.<step>``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.retrain import steps
    from include.retrain.context import RunContext
    from include.retrain.errors import PipelineFailure

    dag_run = context["dag_run"]
    interval_end = window_end_from_assets(context) or context.get("data_interval_end") or dag_run.run_after
    try:
        run = RunContext.create(
            config,
            params=dict(context["params"]),
            data_interval_end=interval_end,
            run_id=dag_run.run_id,
            triggered_by=triggered_by(dag_run),
            client=S3Hook(aws_conn_id=config.storage.conn_id).get_conn(),
        )
        return getattr(steps, step)(run, *upstream)
    except PipelineFailure as exc:
        raise AirflowFailException(str(exc)) from exc
