"""Notice new landing partitions: the data-aware trigger behind ``schedule.on_new_data``.

The ``watch_landing`` DAG calls :func:`check_for_new_partition` for each watched dataset and
emits an Airflow Asset event when a newer ``ds`` partition has landed. The last event's extra
remembers what was seen, so the event history is the only state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from include.retrain.config import DatasetConfig
from include.retrain.stages.ingest import newest_partition
from include.retrain.storage import ArtifactStore

EVENT_KEY = "newest_partition"


@dataclass(frozen=True)
class LandingUpdate:
    """A partition newer than the last one announced."""

    newest_partition: date
    previous_partition: date | None

    def event_extra(self) -> dict[str, str | None]:
        """What the Asset event carries; retrain runs read their window end from it."""
        return {
            EVENT_KEY: self.newest_partition.isoformat(),
            "previous_partition": self.previous_partition.isoformat() if self.previous_partition else None,
        }


def last_announced(extra: dict[str, Any] | None) -> date | None:
    """The partition recorded in an earlier event's extra, if it has one."""
    value = (extra or {}).get(EVENT_KEY)
    return date.fromisoformat(value) if value else None


def check_for_new_partition(client: Any, dataset: DatasetConfig, last_seen: date | None) -> LandingUpdate | None:
    """List the dataset's landing partitions; return an update if one is newer than ``last_seen``."""
    listing = ArtifactStore(client, dataset.bucket).list_objects(dataset.landing_prefix)
    newest = newest_partition(listing, dataset)
    if newest is None or (last_seen is not None and newest <= last_seen):
        return None
    return LandingUpdate(newest_partition=newest, previous_partition=last_seen)
