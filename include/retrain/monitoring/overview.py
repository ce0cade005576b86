"""What the registry page shows for one variant, read from its registry.

The champion and how it got there (the promotion decision: both models' metrics on the same
holdout rows, and the paired bootstrap interval when the test ran), the history of each version's
own holdout metric, the deployed pointer, a canary in progress, the recent events and the model's
freshness; for the charts, the newest versions' metrics, the champion's moves (promotions and
rollbacks) and the newest runs' drift values (:mod:`drift_history`). Read only through
``ModelRegistry``, ``read_deployed`` and the run folders' reports: the page sees exactly what
serving and rollback see.
The last run's gate outcomes come from Airflow (see :class:`LastRun`), not from the registry.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from include.retrain.config import PipelineConfig
from include.retrain.layout import METRICS_FILE, MODEL_CARD_JSON
from include.retrain.monitoring.drift_history import DriftHistory, read_drift_history
from include.retrain.monitoring.freshness import Freshness, check_freshness
from include.retrain.monitoring.live_history import LiveHistory, read_live_history
from include.retrain.monitoring.serving_drift import ServingDriftHistory, read_serving_drift
from include.retrain.promotion.canary import challenger_alias
from include.retrain.promotion.deploy import DeployedPointer, read_deployed
from include.retrain.registry import CHAMPION, AliasPointer, ModelRegistry

#: How many of the newest registry events the page lists.
EVENTS_SHOWN = 15
#: How many of the newest registered versions the metrics history lists.
HISTORY_SHOWN = 8
#: How many of the newest registered versions the metric chart draws (two small reads each).
VERSIONS_CHARTED = 30
#: How many of the newest promotions, and of the newest rollbacks, the metric chart marks.
MOVES_CHARTED = 30
#: How many small registry or report objects the page reads at once (S3 latency, not CPU, bounds it).
PARALLEL_READS = 8
#: How far back (in ``promoted`` events) the page looks for the promotion that made the champion.
PROMOTIONS_SEARCHED = 50


@dataclass(frozen=True)
class VersionMetrics:
    """A version's holdout metrics (``metrics.json``) and its model card's gate summaries."""

    version: str
    metric: str
    value: float
    metrics: dict[str, float]
    gates: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PromotionDecisionView:
    """The decision that made a version champion, as recorded when it was made.

    ``candidate_metrics`` and ``champion_metrics`` are both models scored on the same holdout rows
    (``holdout_rows`` rows of run ``run_id``), the rows the decision compared; the champion's are
    None when there was none, or when the card's evaluation compared with another version than the
    one the promotion replaced (another run moved the champion in between). ``significance`` is the
    paired bootstrap test (``details.significance`` of the ``promoted`` event) when it ran.
    """

    version: str
    at: str
    run_id: str
    reason: str
    metric: str
    compared_with: str | None
    forced: bool
    strategy: str | None
    holdout_rows: int | None
    candidate_metrics: dict[str, float] | None
    champion_metrics: dict[str, float] | None
    significance: dict[str, Any] | None
    canary: dict[str, Any] | None = None


@dataclass(frozen=True)
class VersionValue:
    """A registered version and its policy metric on its own holdout (``manifest.json`` metadata)."""

    version: str
    registered_at: str
    metric: str | None
    value: float | None


@dataclass(frozen=True)
class ChampionMove:
    """A ``promoted`` or ``rolled_back`` event: when ``version`` became champion, and why."""

    event: str
    version: str
    at: str
    reason: str


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
    #: How the champion got there (None: no champion, or its promotion is not among the newest events).
    decision: PromotionDecisionView | None = None
    #: Each of the newest versions' policy metric on its own holdout (not comparable row for row),
    #: newest first: the table lists ``HISTORY_SHOWN``, the chart all ``VERSIONS_CHARTED``.
    history: list[VersionValue] = field(default_factory=list)
    #: The newest promotions and rollbacks, oldest first (the chart's markers).
    moves: list[ChampionMove] = field(default_factory=list)
    #: The newest runs' drift values (None: not read).
    drift: DriftHistory | None = None
    #: The newest scored days' live metric (None: the variant measures no live metric).
    live: LiveHistory | None = None
    #: The newest scored days' PSI per feature (None: the variant has no ``scoring`` section).
    serving_drift: ServingDriftHistory | None = None


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
    metrics = json.loads(registry.read_file(record.version, METRICS_FILE))
    has_card = MODEL_CARD_JSON in record.files
    card = json.loads(registry.read_file(record.version, MODEL_CARD_JSON)) if has_card else {}
    return VersionMetrics(
        version=record.version,
        metric=metrics["metric"],
        value=metrics["value"],
        metrics=metrics["metrics"],
        gates=list(card.get("gates") or []),
    )


def promotion_decision(registry: ModelRegistry, version: str | None) -> PromotionDecisionView | None:
    """How ``version`` last became champion: its newest ``promoted`` event and its model card.

    None without a version or when no ``promoted`` event of it is among the newest ones.
    """
    if version is None:
        return None
    event = next((e for e in registry.recent_events(PROMOTIONS_SEARCHED, "promoted") if e["version"] == version), None)
    record = registry.get_version(version)
    if event is None or record is None:
        return None
    details = event.get("details") or {}
    has_card = MODEL_CARD_JSON in record.files
    card = json.loads(registry.read_file(version, MODEL_CARD_JSON)) if has_card else {}
    compared_with = details.get("previous_version")
    at_evaluation = card.get("champion_at_evaluation") or {}
    same_rows = compared_with is not None and at_evaluation.get("version") == compared_with
    canary = None
    if details.get("strategy") == "canary":
        scored = registry.recent_events(PROMOTIONS_SEARCHED, "canary_scored")
        canary = next((e.get("details") for e in scored if e["version"] == version), None)
    return PromotionDecisionView(
        version=version,
        at=event.get("at", ""),
        run_id=event.get("run_id", ""),
        reason=event.get("reason", ""),
        metric=card.get("metric") or record.metadata.get("metric", ""),
        compared_with=compared_with,
        forced=bool(details.get("forced")),
        strategy=details.get("strategy"),
        holdout_rows=(card.get("bootstrap") or {}).get("rows"),
        candidate_metrics=card.get("metrics"),
        champion_metrics=(at_evaluation.get("metrics") or None) if same_rows else None,
        significance=details.get("significance"),
        canary=canary,
    )


def metrics_history(registry: ModelRegistry, limit: int = HISTORY_SHOWN) -> list[VersionValue]:
    """The newest ``limit`` registered versions, newest first, each with its own holdout's policy metric.

    The manifests are read ``PARALLEL_READS`` at a time. A version whose manifest cannot be read is
    listed without a metric (the page shows the rest).
    """
    events = registry.recent_events(limit, "registered")

    def metadata(version: str) -> dict[str, Any]:
        try:
            record = registry.get_version(version)
        except Exception:  # a corrupt manifest: listed, without a value
            return {}
        return record.metadata if record else {}

    with ThreadPoolExecutor(PARALLEL_READS) as pool:
        found = list(pool.map(metadata, [event["version"] for event in events]))
    return [
        VersionValue(event["version"], event.get("at", ""), meta.get("metric"), meta.get("value"))
        for event, meta in zip(events, found, strict=True)
    ]


def champion_moves(registry: ModelRegistry, limit: int = MOVES_CHARTED) -> list[ChampionMove]:
    """The newest ``limit`` promotions and the newest ``limit`` rollbacks, oldest first."""
    moves = [
        ChampionMove(kind, str(event.get("version", "")), str(event.get("at", "")), str(event.get("reason", "")))
        for kind in ("promoted", "rolled_back")
        for event in registry.recent_events(limit, kind)
    ]
    return sorted(moves, key=lambda move: move.at)


def read_overview(config: PipelineConfig, registry: ModelRegistry, *, now: datetime) -> VariantOverview:
    """Everything the registry page shows for ``config``'s variant, from its registry."""
    champion = registry.get_alias(CHAMPION)
    challenger, canary = challenger_alias(registry)
    measures_live = config.scoring is not None and config.scoring.label_delay_days is not None
    return VariantOverview(
        config=config,
        champion=champion,
        champion_metrics=version_metrics(registry, champion.version if champion else None),
        previous_metrics=version_metrics(registry, champion.previous_version if champion else None),
        deployed=read_deployed(registry),
        decision=promotion_decision(registry, champion.version if champion else None),
        history=metrics_history(registry, VERSIONS_CHARTED),
        moves=champion_moves(registry),
        drift=read_drift_history(registry.store, registry.pipeline),
        live=read_live_history(registry) if measures_live else None,
        serving_drift=read_serving_drift(registry.store, registry.pipeline) if config.scoring is not None else None,
        challenger=challenger if canary is not None else None,
        events=registry.recent_events(EVENTS_SHOWN),
        freshness=check_freshness(registry, config.monitoring.max_model_age_hours, now=now),
    )
