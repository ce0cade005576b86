"""Model freshness: how long ago a variant last retrained successfully, and whether that is too long.

A successful retrain is a run that registered a new version (its ``registered`` event). Runs
that fail, dry runs and re-runs on the same inputs register nothing, so they do not count: the
newest model is still as old as its data. The registry is the source, not Airflow's run
history, so a paused DAG or a data-aware variant whose data stopped arriving is caught too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from include.retrain.errors import PipelineFailure
from include.retrain.registry import ModelRegistry


class StaleModel(PipelineFailure):
    """No successful retrain within the expected interval: the check fails (no retry) and alerts."""


@dataclass(frozen=True)
class Freshness:
    """The newest successful retrain of a variant, measured against its limit at ``checked_at``."""

    pipeline: str
    checked_at: datetime
    max_age_hours: float | None
    last_retrain_at: datetime | None = None
    version: str | None = None

    @property
    def age_hours(self) -> float | None:
        if self.last_retrain_at is None:
            return None
        return (self.checked_at - self.last_retrain_at).total_seconds() / 3600

    @property
    def stale(self) -> bool:
        """Over the limit, or never retrained; never stale without a limit."""
        if self.max_age_hours is None:
            return False
        age = self.age_hours
        return age is None or age > self.max_age_hours

    def describe(self) -> str:
        limit = f"limit {self.max_age_hours:g} h" if self.max_age_hours is not None else "no limit set"
        if self.last_retrain_at is None:
            return f"{self.pipeline}: no successful retrain yet ({limit})"
        verdict = "STALE: " if self.stale else ""
        return (
            f"{verdict}{self.pipeline}: last successful retrain {self.age_hours:.1f} h ago "
            f"({self.last_retrain_at:%Y-%m-%d %H:%M} UTC, version {self.version}; {limit})"
        )

    def manifest(self) -> dict[str, Any]:
        """What the freshness check returns through XCom: its line for the grid view first."""
        return {
            "summary": self.describe(),
            "pipeline": self.pipeline,
            "last_retrain_at": self.last_retrain_at.isoformat() if self.last_retrain_at else None,
            "version": self.version,
            "age_hours": None if self.age_hours is None else round(self.age_hours, 2),
            "max_age_hours": self.max_age_hours,
        }


def check_freshness(registry: ModelRegistry, max_age_hours: float | None, *, now: datetime) -> Freshness:
    """Read the newest ``registered`` event of the registry and compare its age with the limit."""
    newest = registry.recent_events(1, kind="registered")
    if not newest:
        return Freshness(registry.pipeline, now, max_age_hours)
    event = newest[0]
    return Freshness(
        registry.pipeline,
        now,
        max_age_hours,
        last_retrain_at=datetime.fromisoformat(event["at"]),
        version=event["version"],
    )


def require_fresh(registry: ModelRegistry, max_age_hours: float | None, *, now: datetime) -> dict[str, Any]:
    """The freshness check's manifest; StaleModel (the task fails, no retry) when the model is stale."""
    freshness = check_freshness(registry, max_age_hours, now=now)
    if freshness.stale:
        raise StaleModel(freshness.describe())
    return freshness.manifest()
