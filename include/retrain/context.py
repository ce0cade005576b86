"""RunContext: everything a task body needs to know about its run, built once per task."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from include.retrain.config import PipelineConfig
from include.retrain.layout import RUNS, RunPath
from include.retrain.registry import ModelRegistry
from include.retrain.runs import RunOptions, TrainingWindow, check_window_end, make_run_key, resolve_window
from include.retrain.storage import ArtifactStore

#: Multipart settings for artifacts: large parts keep request counts low on big frames.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNKSIZE = 64 * 1024 * 1024
MAX_CONCURRENCY = 8


def transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_CHUNKSIZE,
        max_concurrency=MAX_CONCURRENCY,
    )


def dry_run_key(run_key: str, run_id: str) -> str:
    """A dry run's own folder: ``<run key>-dry-run-<hash of the run id>``, never a real run's.

    A dry run of a window writes its artifacts (gate reports included) beside the real run's
    folder, not into it, so a real run's model card never links a dry run's report and a real
    run's retry never meets a dry run's files. Its retries share the run id, so they share it too.
    """
    return f"{run_key}-dry-run-{hashlib.sha256(run_id.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class RunContext:
    """A run's config, options, window and run key, plus its store and registry."""

    config: PipelineConfig
    options: RunOptions
    window: TrainingWindow
    run_key: str
    run_id: str
    triggered_by: str
    client: Any = field(repr=False)
    store: ArtifactStore = field(repr=False)
    #: Airflow's connection lookup (``conn_id -> Connection``), for the deployment hook; None outside Airflow.
    get_connection: Callable[[str], Any] | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        config: PipelineConfig,
        *,
        params: Mapping[str, Any],
        data_interval_end: datetime | date,
        run_id: str,
        triggered_by: str,
        client: Any,
        get_connection: Callable[[str], Any] | None = None,
    ) -> RunContext:
        """Validate the run's Params and derive its window and run key."""
        options = RunOptions.from_params(params, config)
        window = resolve_window(config, options, data_interval_end)
        check_window_end(config, window, options)
        store = ArtifactStore(client, config.storage.bucket, config.storage.prefix, transfer_config())
        run_key = make_run_key(window, options.data_overrides(config))
        if options.dry_run:
            run_key = dry_run_key(run_key, run_id)
        return cls(
            config=config,
            options=options,
            window=window,
            run_key=run_key,
            run_id=run_id,
            triggered_by=triggered_by,
            client=client,
            store=store,
            get_connection=get_connection,
        )

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.store, self.config.name)

    def stage_key(self, stage: str, filename: str) -> str:
        """``<prefix>/<pipeline>/runs/<run key>/<stage>/<filename>``."""
        return self.store.key(self.config.name, RUNS, self.run_key, stage, filename)

    def key(self, artifact: RunPath) -> str:
        """The store key of one of the run's artifacts (named in ``include.retrain.layout``)."""
        return self.stage_key(artifact.stage, artifact.name)

    def describe(self) -> dict[str, Any]:
        """Identity of the run, recorded in manifests and reports."""
        return {
            "pipeline": self.config.name,
            "run_key": self.run_key,
            "run_id": self.run_id,
            "triggered_by": self.triggered_by,
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat()},
        }
