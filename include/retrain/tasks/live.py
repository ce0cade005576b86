"""``measure_live``: the deployed model's live metric on scored days whose labels have landed since.

For each scored day D with D + ``scoring.label_delay_days`` before the run's data interval end
and no live record yet: the day's predictions joined (by id) with the landing partition read
*with* its label, the promotion metric of the version that scored it with a bootstrap interval,
and one immutable record ``registry/live/<version>/ds=<D>.json`` (written create-only: a retry or
a re-run finds it and writes nothing). A day whose labels have not landed gets no record yet.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from include.retrain.artifact_ref import ArtifactRef
from include.retrain.gates.result import json_safe
from include.retrain.landing import read_landing_files
from include.retrain.layout import (
    LIVE,
    PREDICTIONS_MANIFEST,
    PREDICTIONS_PART,
    PREDICTIONS_ROOT,
    live_file,
    partition_day,
)
from include.retrain.registry import ModelRegistry
from include.retrain.scoring.outputs import read_manifest
from include.retrain.scoring.run import ScoringRun
from include.retrain.stages.ingest import assemble_window, coerce_to_schema, landing_files
from include.retrain.stages.labels import derive_label
from include.retrain.stages.live import join_labels, live_metric, live_record, live_series, ready_days, scored_version
from include.retrain.storage import ArtifactStore, ObjectAlreadyExists


@dataclass(frozen=True)
class LiveManifest:
    """What ``measure_live`` returns through XCom: the days recorded, waiting for labels, or recorded before."""

    run: dict[str, Any]
    recorded: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_labels_yet: list[str] = field(default_factory=list)
    already_recorded: list[str] = field(default_factory=list)
    summary: str = ""

    def to_xcom(self) -> dict[str, Any]:
        return {"summary": self.summary, **json_safe(asdict(self))}


def scored_days(run: ScoringRun) -> list[date]:
    """Every day with predictions (a manifest), from one listing of ``predictions/``."""
    keys = run.store.list_keys(run.key(PREDICTIONS_ROOT) + "/")
    days = {partition_day(key) for key in keys if key.endswith("/" + PREDICTIONS_MANIFEST)}
    return sorted(day for day in days if day is not None)


def measured_days(registry: ModelRegistry) -> list[date]:
    """Every day with a live record, whichever version scored it (a day is scored once)."""
    days = {partition_day(key) for key in registry.store.list_keys(registry.key(LIVE) + "/")}
    return sorted(day for day in days if day is not None)


def read_live_series(registry: ModelRegistry, version: str | None = None) -> list[dict[str, Any]]:
    """The live series, sorted by day then version: every record, or only ``version``'s (its own folder)."""
    keys = registry.store.list_keys(registry.key(LIVE, *([version] if version else [])) + "/")
    return live_series(record for key in keys if (record := registry.store.read_json(key)) is not None)


def _labels(run: ScoringRun, day: date) -> pd.DataFrame:
    """The landing partition of ``day`` with its label (derived if ``dataset.label``): id and target."""
    dataset = run.config.dataset
    landing = ArtifactStore(run.client, dataset.bucket)
    prefix = f"{dataset.landing_prefix}ds={day.isoformat()}/"
    files = [f for f in landing_files(landing.list_objects(prefix), dataset) if f.partition == day]
    frames, _ = read_landing_files(run.client, landing, dataset, files)
    frame = derive_label(coerce_to_schema(assemble_window(frames, dataset.partition_column), dataset.columns), dataset)
    assert dataset.id_column is not None  # scoring requires it
    return frame[[dataset.id_column, dataset.target]]


def _predictions(run: ScoringRun, day: date) -> pd.DataFrame:
    """The day's ``part.parquet``, checked against the sha256 its manifest recorded."""
    manifest = read_manifest(run, day)
    ref = ArtifactRef.from_dict(manifest["files"][PREDICTIONS_PART])
    return pd.read_parquet(io.BytesIO(run.store.get_bytes(ref)))


def _measure_day(run: ScoringRun, day: date) -> dict[str, Any] | str:
    """Write the day's live record and return it; else why not: ``no labels`` or ``already recorded``."""
    config = run.config
    assert config.dataset.id_column is not None
    predictions = _predictions(run, day)
    labelled = join_labels(predictions, _labels(run, day), config.dataset.id_column, config.dataset.target)
    if labelled.joined.empty:
        return "no labels"
    version = scored_version(predictions)
    promotion = config.promotion
    measured = live_metric(
        labelled.joined, config.dataset.target, promotion.metric, promotion.bootstrap, config.model.seed
    )
    record = json_safe(live_record(day, version, promotion.metric, measured, labelled, run.describe()))
    try:
        run.registry.store.put_json(run.registry.key(*live_file(version, day.isoformat())), record, create_only=True)
    except ObjectAlreadyExists:  # another attempt wrote it first: the record stands as written
        return "already recorded"
    return dict(record)


def measure_live(run: ScoringRun) -> LiveManifest:
    """Record the live metric of every due, unrecorded scored day (see the module docstring)."""
    scoring = run.config.scoring
    if scoring is None or scoring.label_delay_days is None:
        return LiveManifest(run.describe(), summary="live monitoring is off (scoring.label_delay_days is null)")
    scored, measured = scored_days(run), measured_days(run.registry)
    due = ready_days(scored, measured, run.end, scoring.label_delay_days, scoring.max_partitions_per_run)
    recorded: dict[str, dict[str, Any]] = {}
    waiting: list[str] = []
    already = [d.isoformat() for d in measured]
    for day in due:
        record = _measure_day(run, day)
        if isinstance(record, dict):
            recorded[day.isoformat()] = record
        else:
            (waiting if record == "no labels" else already).append(day.isoformat())
    text = _summary(run.config.promotion.metric, recorded, waiting, due)
    return LiveManifest(run.describe(), recorded, waiting, already, text)


def _summary(metric: str, recorded: dict[str, dict[str, Any]], waiting: list[str], due: list[date]) -> str:
    if not due:
        return "nothing to measure: no scored day is past its label delay without a live record"
    parts = [
        f"{day}: {metric} {r['value']} ({r['model_version']}, {r['rows_joined']} rows)" for day, r in recorded.items()
    ]
    text = f"recorded live {metric} for {len(recorded)} day(s)" + (": " + "; ".join(parts) if parts else "")
    if waiting:
        text += f"; no labels yet for {waiting}"
    return text
