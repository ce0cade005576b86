"""What the registry page shows for one variant, read from its registry.

The champion and how it got there, its metrics next to the previous champion's, the deployed
pointer, a canary in progress, the recent events and the model's freshness. Read only through
``ModelRegistry`` and ``read_deployed``: the page sees exactly what serving and rollback see.
The last run's gate outcomes come from Airflow (see :class:`LastRun`), not from the registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from include.retrain.config import PipelineConfig
from include.retrain.deployment import DeployedPointer, challenger_alias, read_deployed
from include.retrain.monitoring.freshness import Freshness, check_freshness
from include.retrain.registry import CHAMPION, AliasPointer, ModelRegistry

#: How many of the newest registry events the page lists.
EVENTS_SHOWN = 15


@dataclass(frozen=True)
class VersionMetrics:
    """A version's holdout metrics (``metrics.json``) and its model card's gate summaries."""

    version: str
    metric: str
    value: float
    metrics: dict[str, float]
    gates: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class VariantOverview:
    """One variant's registry as ops need it."""

    config: PipelineConfig
    champion: AliasPointer | None
    champion_metrics: VersionMetrics | None
    previous_metrics: VersionMetrics | None
    deployed: DeployedPointer | None
    challenger: AliasPointer | None
    events: list[dict[str, Any]]
    freshness: Freshness


@dataclass(frozen=True)
class GateOutcome:
    """One gate task of a run: its Airflow state and the summary it left in XCom (if any)."""

    gate: str
    state: str | None
    summary: dict[str, Any] | None


@dataclass(frozen=True)
class LastRun:
    """The newest ``retrain_<name>`` run in Airflow and its gates."""

    dag_id: str
    run_id: str
    state: str
    run_type: str
    started: datetime | None
    gates: list[GateOutcome]


def version_metrics(registry: ModelRegistry, version: str | None) -> VersionMetrics | None:
    """A registered version's metrics and gate summaries (sha256-checked reads); None without a version."""
    record = registry.get_version(version) if version is not None else None
    if record is None:
        return None
    metrics = json.loads(registry.read_file(record.version, "metrics.json"))
    has_card = "model_card.json" in record.files
    card = json.loads(registry.read_file(record.version, "model_card.json")) if has_card else {}
    return VersionMetrics(
        version=record.version,
        metric=metrics["metric"],
        value=metrics["value"],
        metrics=metrics["metrics"],
        gates=list(card.get("gates") or []),
    )


def read_overview(config: PipelineConfig, registry: ModelRegistry, *, now: datetime) -> VariantOverview:
    """Everything the registry page shows for ``config``'s variant, from its registry."""
    champion = registry.get_alias(CHAMPION)
    challenger, canary = challenger_alias(registry)
    return VariantOverview(
        config=config,
        champion=champion,
        champion_metrics=version_metrics(registry, champion.version if champion else None),
        previous_metrics=version_metrics(registry, champion.previous_version if champion else None),
        deployed=read_deployed(registry),
        challenger=challenger if canary is not None else None,
        events=registry.recent_events(EVENTS_SHOWN),
        freshness=check_freshness(registry, config.monitoring.max_model_age_hours, now=now),
    )
