"""The deployed versions' live metric per day, from ``registry/live/<version>/ds=<day>.json``.

``score_<name>``'s ``measure_live`` writes one record per scored day once its labels landed
(:mod:`include.retrain.tasks.live`). The registry page charts the newest :data:`DAYS_READ` days:
the keys are listed once, the newest days' records read (:data:`PARALLEL_READS` at a time). A
record that is unreadable or lacks a numeric value is a note, never an error: the page shows the
rest.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from include.retrain.layout import LIVE, partition_day
from include.retrain.monitoring.drift_history import finite_number
from include.retrain.registry import ModelRegistry

#: How many of the newest measured days the registry page reads.
DAYS_READ = 90
#: How many records are read at once.
PARALLEL_READS = 8


@dataclass(frozen=True)
class LiveDay:
    """One scored day's live metric: the version that scored it, the value and its interval."""

    day: date
    version: str
    metric: str
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class LiveHistory:
    """The newest measured days, oldest first, and what could not be charted, in words."""

    days: list[LiveDay]
    notes: list[str]


def live_day(record: Any) -> LiveDay | None:
    """A record as the chart reads it, or None when it lacks a day, a version, a metric or a finite value."""
    if not isinstance(record, dict):
        return None
    value = finite_number(record.get("value"))
    version, metric = record.get("model_version"), record.get("metric")
    try:
        day = date.fromisoformat(str(record.get("partition")))
    except ValueError:
        return None
    if value is None or not isinstance(version, str) or not isinstance(metric, str):
        return None
    return LiveDay(
        day, version, metric, value, finite_number(record.get("ci_low")), finite_number(record.get("ci_high"))
    )


def read_live_history(registry: ModelRegistry, limit: int = DAYS_READ) -> LiveHistory:
    """The newest ``limit`` measured days' records; unreadable ones counted in a note."""
    listed = registry.store.list_keys(registry.key(LIVE) + "/")
    keys = [key for key in listed if key.endswith(".json") and partition_day(key) is not None]
    newest = sorted(keys, key=lambda key: (partition_day(key), key))[-limit:]

    def read(key: str) -> Any:
        try:
            return registry.store.read_json(key)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    with ThreadPoolExecutor(max_workers=PARALLEL_READS) as pool:
        records = list(pool.map(read, newest))
    days = [found for record in records if (found := live_day(record)) is not None]
    notes = []
    if len(keys) > len(newest):
        notes.append(f"the newest {limit} of {len(keys)} measured days")
    if len(days) < len(newest):
        notes.append(f"{len(newest) - len(days)} live record(s) unreadable or without a value, left out")
    return LiveHistory(sorted(days, key=lambda d: (d.day, d.version)), notes)
