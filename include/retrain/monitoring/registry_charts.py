"""The registry page's charts: which series, markers and bars each one draws from the overview.

* The promotion metric per version over time: each of the newest registered versions' policy
  metric on its own holdout, at its registration time, with the champion's promotions and
  rollbacks as markers and the policy's threshold as a bar. Versions trained on different windows
  are not compared row for row here: the chart shows the trend, the decision table the comparison.
* PSI per feature over training runs: each of the newest runs' check_drift values at the end of
  its training window, with the gate's warning and failure bars.
* PSI per feature over scoring days (``score_<name>``): each of the newest scored days' values
  against the profile of the version that scored it, with the same bars.
* The live metric per scored day (``score_<name>`` with ``scoring.label_delay_days``): one series
  per version that served, its bootstrap interval in each point's tooltip, a marker where a new
  version starts serving, and the ``monitoring.retrain_when`` bar when there is one.

The bounds (how many versions, events and runs are read) are in :mod:`overview` and
:mod:`drift_history`; each chart's notes say them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from include.retrain.config import PipelineConfig
from include.retrain.monitoring.charts import Bar, Marker, Point, Series, TimeChart
from include.retrain.monitoring.drift_history import DriftHistory
from include.retrain.monitoring.live_history import LiveHistory
from include.retrain.monitoring.overview import HISTORY_SHOWN, MOVES_CHARTED, VERSIONS_CHARTED, VariantOverview
from include.retrain.monitoring.serving_drift import ServingDriftHistory

_MOVE_WORDS = {"promoted": "promoted to champion", "rolled_back": "champion again by a rollback"}


def _time(text: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def promotion_metric_chart(overview: VariantOverview) -> TimeChart:
    """Each charted version's own holdout metric at its registration time; promotions and rollbacks marked."""
    policy = overview.config.promotion
    by_metric: dict[str, list[Point]] = {}
    for item in overview.history:
        at = _time(item.registered_at)
        if at is not None and item.metric and item.value is not None:
            by_metric.setdefault(item.metric, []).append(Point(at, item.value, {"version": item.version}))
    # The policy metric first; a version registered under another policy metric keeps its own series.
    series = [Series(name, by_metric[name]) for name in sorted(by_metric, key=lambda n: (n != policy.metric, n))]
    starts = [p.at for s in series for p in s.points]
    markers = []
    for move in overview.moves:
        at = _time(move.at)
        if at is not None and starts and at >= min(starts):
            words = f"{move.version} {_MOVE_WORDS.get(move.event, move.event)} {at:%Y-%m-%d %H:%M} UTC: {move.reason}"
            markers.append(Marker(at, move.event, words, {"version": move.version}))
    versions = sum(len(s.points) for s in series)
    notes = [
        f"{versions} registered versions (the newest, at most {VERSIONS_CHARTED}), each on its own holdout (the "
        f"rows of the run that trained it), at its registration time; the table below lists the newest "
        f"{HISTORY_SHOWN}. Vertical lines: promotions and rollbacks since the first version charted (the newest "
        f"{MOVES_CHARTED} of each)."
    ]
    bars = [Bar(policy.threshold, "promotion threshold")] if policy.threshold is not None else []
    return TimeChart(
        title=f"{policy.metric} per version over time",
        value_label=f"{policy.metric} on the version's own holdout",
        series=series,
        markers=markers,
        bars=bars,
        notes=notes,
    )


def drift_bars(psi_warn: float, psi_fail: float) -> list[Bar]:
    """The drift gate's bars: its warning and failure PSI, or the failure alone when the warning is not below it."""
    if psi_warn < psi_fail:
        return [Bar(psi_warn, "warning above"), Bar(psi_fail, "drift above")]
    return [Bar(psi_fail, "drift above")]


def drift_chart(history: DriftHistory | None, *, psi_warn: float, psi_fail: float) -> TimeChart:
    """PSI per feature (and per label) at each run's window end, with the drift gate's bars."""
    by_feature: dict[str, list[Point]] = {}
    runs = history.runs if history is not None else []
    for run in runs:
        attributes = {"run-key": run.run_key}
        for feature, value in run.psi.items():
            by_feature.setdefault(feature, []).append(Point(run.window_end, value, attributes))
        for column, value in run.label_psi.items():
            by_feature.setdefault(f"label {column}", []).append(Point(run.window_end, value, attributes))
    return TimeChart(
        title="PSI per feature over training runs (check_drift)",
        value_label="PSI against the champion's training rows",
        series=[Series(name, points) for name, points in sorted(by_feature.items())],
        bars=drift_bars(psi_warn, psi_fail),
        notes=list(history.notes) if history is not None else [],
    )


def serving_drift_chart(history: ServingDriftHistory, *, psi_warn: float, psi_fail: float) -> TimeChart:
    """PSI per feature on each scored day, against the profile of the version that scored it; the drift bars."""
    by_feature: dict[str, list[Point]] = {}
    for scored in history.days:
        at = datetime.combine(scored.day, time(), tzinfo=UTC)
        for feature, value in scored.psi.items():
            by_feature.setdefault(feature, []).append(Point(at, value, {"version": scored.version}))
    return TimeChart(
        title="PSI per feature over scoring days",
        value_label="PSI against the serving version's training rows",
        series=[Series(name, points) for name, points in sorted(by_feature.items())],
        bars=drift_bars(psi_warn, psi_fail),
        notes=list(history.notes),
    )


def live_metric_chart(history: LiveHistory, config: PipelineConfig) -> TimeChart:
    """Each measured day's live metric, one series per version that served; a marker where a version starts."""
    by_version: dict[str, list[Point]] = {}
    starts: dict[str, datetime] = {}
    for day in history.days:
        at = datetime.combine(day.day, time(), tzinfo=UTC)
        attributes = {"version": day.version, "metric": day.metric}
        if day.ci_low is not None and day.ci_high is not None:
            attributes |= {"ci-low": f"{day.ci_low:.4f}", "ci-high": f"{day.ci_high:.4f}"}
        by_version.setdefault(day.version, []).append(Point(at, day.value, attributes))
        starts.setdefault(day.version, at)
    first = min(starts.values(), default=None)
    markers = [
        Marker(at, "new_version", f"{version} serving from {at:%Y-%m-%d}", {"version": version})
        for version, at in sorted(starts.items(), key=lambda item: item[1])
        if at != first
    ]
    when = config.monitoring.retrain_when
    bars = []
    if when is not None and when.live_metric_below is not None:
        bars.append(Bar(when.live_metric_below, f"retrain when worse for {when.for_days} day(s)"))
    elif config.promotion.threshold is not None:
        bars.append(Bar(config.promotion.threshold, "promotion threshold"))
    delay = config.scoring.label_delay_days if config.scoring is not None else None
    notes = [
        f"{len(history.days)} scored days whose labels landed ({delay} day(s) after the day), each measured "
        "on the version that scored it; hover a point for its bootstrap interval.",
        *history.notes,
    ]
    return TimeChart(
        title=f"Live {config.promotion.metric} per scored day",
        value_label=f"{config.promotion.metric} on the day's labelled predictions",
        series=[Series(version, points) for version, points in by_version.items()],
        markers=markers,
        bars=bars,
        notes=notes,
    )
