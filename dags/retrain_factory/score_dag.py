"""``score_<name>``: score new landing partitions with the deployed model, for variants with ``scoring``."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from dags.retrain_factory.landing_watch import landing_asset
from dags.retrain_factory.notifications import notifier_callbacks
from dags.retrain_factory.runner import run_live, run_retrain_request, run_scoring
from dags.retrain_factory.task_args import infra_task_args
from include.retrain.config import PipelineConfig
from include.retrain.layout import PREDICTIONS_ROOT

SCORE_TASK_DOC = (
    "Finds the landing partitions in `scoring.lookback_days` before the run's data interval end that have no "
    "predictions yet (at most `scoring.max_partitions_per_run`, oldest first), reads them without the label, "
    "loads the model `registry/deployed.json` names (sha256-checked, allowlisted; a canary's challenger too), "
    "validates each partition with the raw gate's checks minus the label, then writes "
    "`predictions/ds=<date>/part.parquet`, `drift.json` (serving drift) and `manifest.json` per partition. "
    "Bad input, no deployed model or a tampered model file fail at once (no retry) and write no predictions; "
    "storage faults are retried with backoff. Skipped when there is nothing new to score."
)
LIVE_TASK_DOC = (
    "With `scoring.label_delay_days`: for each scored day D with D + label_delay_days before the run's data "
    "interval end and no live record yet, joins the day's predictions with the labels that have landed since "
    "(by id; rows still unlabeled are left out and counted) and writes the promotion metric of the version that "
    "scored it, with a bootstrap interval, to `registry/live/<version>/ds=<D>.json` (once: a re-run writes "
    "nothing new). Runs even when `score_partitions` had nothing new to score."
)


def predictions_asset(config: PipelineConfig) -> Asset:
    """``predictions/<name>``: updated each time ``score_<name>`` writes predictions (scheme-less, like landing)."""
    identity = f"{PREDICTIONS_ROOT}/{config.name}"
    uri = f"s3://{config.storage.bucket}/{'/'.join(p for p in (config.storage.prefix, config.name) if p)}/"
    return Asset(name=identity, uri=identity, extra={"s3_uri": uri + PREDICTIONS_ROOT + "/"})


def retrain_request_asset(config: PipelineConfig) -> Asset:
    """``retrain-request/<name>``: score_<name> asks for a retrain (``monitoring.retrain_when``)."""
    identity = f"retrain-request/{config.name}"
    return Asset(name=identity, uri=identity)


REQUEST_TASK_DOC = (
    "With `monitoring.retrain_when`: checks the deployed version's live metric (registry/live/) and serving PSI "
    "over the newest `for_days` days since its last request; when a condition holds, records a `retrain_requested` "
    "registry event with the reason and emits the Asset `retrain-request/<name>`, which starts `retrain_<name>` "
    "(normal gates and policy). Skipped when no condition holds."
)


def announce_or_skip(result: dict, happened: bool, asset: Asset, context: dict[str, Any]) -> dict:
    """A task's XCom when it did something (its Asset event carries ``result["event"]``); else the task is skipped."""
    from airflow.sdk.exceptions import AirflowSkipException

    if not happened:
        raise AirflowSkipException(result["summary"])
    context["outlet_events"][asset].extra = result["event"]
    return result


def scoring_schedule(config: PipelineConfig) -> Any:
    """The scoring cron, the landing Asset, or either of the two (whichever comes first)."""
    assert config.scoring is not None
    cron = config.scoring.cron
    if not config.scoring.on_new_data:
        return cron
    asset = landing_asset(config.dataset)
    if cron is None:
        return asset
    return AssetOrTimeSchedule(timetable=CronTriggerTimetable(cron, timezone=config.schedule.timezone), assets=asset)


def scoring_doc(config: PipelineConfig) -> str:
    assert config.scoring is not None
    when = [f"cron `{config.scoring.cron}`"] if config.scoring.cron else []
    if config.scoring.on_new_data:
        when.append(f"new landing data in `{config.dataset.landing_uri}`")
    return (
        f"# Score {config.name}\n\nScores new landing partitions with the deployed model of `{config.name}` and "
        f"writes `predictions/ds=<date>/` under `s3://{config.storage.bucket}/{config.storage.prefix}/"
        f"{config.name}/`, then emits the Asset `predictions/{config.name}`. Runs on " + " or ".join(when) + ".\n\n"
        "See the docs site's *Batch scoring* page for the predictions layout and serving drift."
    )


def build_scoring_dag(config: PipelineConfig) -> DAG:
    """Create ``score_<name>`` for a config with a ``scoring`` section: one task, one call into ``include``."""
    assert config.scoring is not None
    start = config.schedule.start_date
    asset = predictions_asset(config)
    measures_live = config.scoring.label_delay_days is not None

    @dag(
        dag_id=f"score_{config.name}",
        description=f"Score new {config.name} landing data with the deployed model",
        doc_md=scoring_doc(config),
        schedule=scoring_schedule(config),
        start_date=pendulum.datetime(start.year, start.month, start.day, tz=config.schedule.timezone),
        catchup=False,
        max_active_runs=1,
        tags=sorted({"scoring", config.name, *config.tags}),
        default_args={"owner": config.owner, "on_failure_callback": notifier_callbacks(config, "failure")},
    )
    def score() -> None:
        @task(multiple_outputs=False, doc_md=SCORE_TASK_DOC, outlets=[asset], **infra_task_args(config.tasks))
        def score_partitions(**context: Any) -> dict:
            result = run_scoring(config, context)
            return announce_or_skip(result, bool(result["partitions"]), asset, context)

        scored = score_partitions()
        if measures_live:

            @task(
                multiple_outputs=False,
                doc_md=LIVE_TASK_DOC,
                trigger_rule="none_failed",
                **infra_task_args(config.tasks),
            )
            def measure_live(**context: Any) -> dict:
                return run_live(config, context)

            scored = scored >> measure_live()
        if config.monitoring.retrain_when is not None:
            request = retrain_request_asset(config)

            @task(
                multiple_outputs=False,
                doc_md=REQUEST_TASK_DOC,
                trigger_rule="none_failed",
                outlets=[request],
                **infra_task_args(config.tasks),
            )
            def request_retrain(**context: Any) -> dict:
                result = run_retrain_request(config, context)
                return announce_or_skip(result, result["requested"], request, context)

            scored >> request_retrain()

    return score()
