"""A scoring run: its variant, the day its data interval ends, its run key, store and registry.

The run key is the data interval's end (for a run started by a landing event, the day after the
newest announced partition), never wall-clock time: re-running a run scores the same partitions
and recognizes its own predictions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from include.retrain.config import PipelineConfig
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ArtifactStore


def interval_end_day(config: PipelineConfig, data_interval_end: datetime | date) -> date:
    """The data interval's end as a ``ds`` day in the schedule's timezone (as retrain runs read it)."""
    if isinstance(data_interval_end, datetime):
        if data_interval_end.tzinfo is not None:
            data_interval_end = data_interval_end.astimezone(ZoneInfo(config.schedule.timezone))
        return data_interval_end.date()
    return data_interval_end


@dataclass(frozen=True)
class ScoringRun:
    """Everything the scoring task body needs to know about its run."""

    config: PipelineConfig
    end: date
    run_key: str
    run_id: str
    triggered_by: str
    client: Any = field(repr=False)
    store: ArtifactStore = field(repr=False)

    @classmethod
    def create(
        cls, config: PipelineConfig, *, data_interval_end: datetime | date, run_id: str, triggered_by: str, client: Any
    ) -> ScoringRun:
        end = interval_end_day(config, data_interval_end)
        store = ArtifactStore(client, config.storage.bucket, config.storage.prefix)
        return cls(config, end, end.isoformat(), run_id, triggered_by, client, store)

    @property
    def registry(self) -> ModelRegistry:
        return ModelRegistry(self.store, self.config.name)

    def key(self, *parts: str) -> str:
        """The store key of ``parts`` under ``<prefix>/<pipeline>/``."""
        return self.store.key(self.config.name, *parts)

    def describe(self) -> dict[str, Any]:
        return {
            "pipeline": self.config.name,
            "run_key": self.run_key,
            "run_id": self.run_id,
            "triggered_by": self.triggered_by,
            "interval_end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class ScoringManifest:
    """What ``score`` returns through XCom: small, JSON, no frames.

    ``partitions`` are the days the run covers (``already_scored`` of them were written by an
    earlier attempt of the same run), ``predictions`` their predictions files' URIs by day.
    """

    run: dict[str, Any]
    model_version: str | None
    challenger_version: str | None
    partitions: list[str]
    already_scored: list[str]
    rows: dict[str, int]
    predictions: dict[str, str]
    max_psi: dict[str, float | None]
    summary: str

    def to_xcom(self) -> dict[str, Any]:
        """The manifest, ``summary`` first (as every task's XCom), with the Asset event's extra under ``event``."""
        return {"summary": self.summary, **asdict(self), "event": self.event_extra()}

    def event_extra(self) -> dict[str, Any]:
        """What the ``predictions/<name>`` Asset event carries."""
        return {
            "partitions": self.partitions,
            "model_version": self.model_version,
            "challenger_version": self.challenger_version,
            "run_key": self.run["run_key"],
            "predictions": self.predictions,
        }
