"""PSI per feature over a variant's newest scoring days, from each day's ``predictions/ds=<day>/drift.json``.

``score_<name>`` compares each scored partition's inputs with the deployed version's reference
profile and writes the values (one row per compared feature: ``feature``, ``kind``, ``psi``,
``ks``) with the version that scored the day (:mod:`include.retrain.scoring.outputs`). The
registry page charts the newest :data:`DAYS_READ` days: the day folders are listed one level deep,
the newest days' documents read (:data:`PARALLEL_READS` at a time). A day without a document (it
is being scored) or with one that cannot be read is a note, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from include.retrain.layout import PREDICTIONS_ROOT, SERVING_DRIFT, partition_day, prediction_file
from include.retrain.monitoring.drift_history import finite_number, folder_names
from include.retrain.storage import ArtifactStore

#: How many of the newest scored days the registry page reads.
DAYS_READ = 60
#: How many documents are read at once.
PARALLEL_READS = 8


@dataclass(frozen=True)
class ScoredDayDrift:
    """One scored day's PSI per compared feature, against the profile of the version that scored it."""

    day: date
    version: str
    psi: dict[str, float]


@dataclass(frozen=True)
class ServingDriftHistory:
    """The newest scored days' drift values, oldest first, and what could not be charted, in words."""

    days: list[ScoredDayDrift]
    notes: list[str]


def scored_day_drift(day: date, document: Mapping[str, Any]) -> ScoredDayDrift:
    """A day's values from its ``drift.json`` (rows without a finite PSI are left out)."""
    rows = document.get("features")
    if not isinstance(rows, list):
        raise ValueError("the document lists no features")
    psi = {
        str(row.get("feature")): value
        for row in rows
        if isinstance(row, Mapping) and (value := finite_number(row.get("psi"))) is not None
    }
    return ScoredDayDrift(day, str(document.get("model_version") or "unknown"), psi)


def _read(store: ArtifactStore, pipeline: str, day: date) -> ScoredDayDrift | str | None:
    """A day's values; None without a document; a sentence when it cannot be read."""
    try:
        found = store.read_object(store.key(pipeline, *prediction_file(day.isoformat(), SERVING_DRIFT)))
        if found is None:
            return None
        document = json.loads(found.data)
        if not isinstance(document, Mapping):
            raise ValueError("the document is not a JSON object")
        return scored_day_drift(day, document)
    except Exception as exc:  # shown as a note
        return f"{day} ({type(exc).__name__}: {str(exc)[:120]})"


def read_serving_drift(store: ArtifactStore, pipeline: str, *, limit: int = DAYS_READ) -> ServingDriftHistory:
    """The drift values of the newest ``limit`` scored days of ``pipeline``."""
    try:
        folders = folder_names(store, store.key(pipeline, PREDICTIONS_ROOT) + "/")
    except Exception as exc:  # the page shows the rest of the registry
        return ServingDriftHistory([], [f"The scored days could not be listed ({type(exc).__name__}: {exc})."])
    days = sorted(day for folder in folders if (day := partition_day(folder)) is not None)
    newest = days[-limit:] if limit > 0 else []
    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        found = list(pool.map(lambda day: _read(store, pipeline, day), newest))
    charted = [item for item in found if isinstance(item, ScoredDayDrift)]
    unreadable = [item for item in found if isinstance(item, str)]
    missing = sum(item is None for item in found)
    notes = [f"Read the {len(newest)} newest of {len(days)} scored days, each against the profile of its version."]
    if missing:
        notes.append(f"No {SERVING_DRIFT} for {missing} (the day is being scored).")
    if unreadable:
        notes.append(f"{len(unreadable)} could not be read: {'; '.join(unreadable[-3:])}.")
    return ServingDriftHistory(charted, notes)
