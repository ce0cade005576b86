"""Run identity: the training window, the options a trigger may set, and the run key.

The run key is derived from the data interval (never wall-clock time) plus any option that
changes what the run computes, so re-running a run writes exactly the same keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from include.retrain.config import PipelineConfig
from include.retrain.errors import InvalidRunOptions

MAX_WINDOW_DAYS = 3650
#: The dates a ``window_end`` Param may take (inclusive). Far enough either way for any real
#: window; near ``date.min`` a window's start would not exist (OverflowError, once retried as infra).
WINDOW_END_RANGE = (date(1970, 1, 1), date(2999, 12, 31))
#: The same range as a JSON-schema pattern for the trigger form (years 1970 to 2999): Airflow's
#: form ignores ``formatMinimum``/``formatMaximum``, and a pattern refuses the value before a run exists.
WINDOW_END_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}$"


@dataclass(frozen=True)
class TrainingWindow:
    """Daily partitions ``start <= ds < end``; ``end`` is the day the run's data interval ends."""

    start: date
    end: date

    @classmethod
    def ending(cls, end: date, days: int) -> TrainingWindow:
        return cls(start=end - timedelta(days=days), end=end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end

    def __str__(self) -> str:
        last = self.end - timedelta(days=1)
        return f"{self.start.isoformat()}..{last.isoformat()} ({self.days} days)"


@dataclass(frozen=True)
class RunOptions:
    """What a manual trigger may change. The defaults mean "as the config says"."""

    window_end: date | None = None
    window_days: int | None = None
    dry_run: bool = False
    force_promote: bool = False
    accept_drift: bool = False
    reason: str = ""
    sample_fraction: float = 1.0
    model_params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], config: PipelineConfig) -> RunOptions:
        """Validate trigger Params against the config; raise InvalidRunOptions naming the param."""
        window_end = _parse_date(params.get("window_end"), "window_end")
        low, high = WINDOW_END_RANGE
        if window_end is not None and not low <= window_end <= high:
            raise InvalidRunOptions(
                f"param window_end must be a date from {low.isoformat()} to {high.isoformat()}, "
                f"got {params.get('window_end')!r}"
            )
        window_days = params.get("window_days")
        if window_days is not None and (
            isinstance(window_days, bool) or not isinstance(window_days, int) or not 1 <= window_days <= MAX_WINDOW_DAYS
        ):
            raise InvalidRunOptions(f"param window_days must be an integer from 1 to {MAX_WINDOW_DAYS}")
        fraction = params.get("sample_fraction", 1.0)
        if fraction is None:
            fraction = 1.0
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
            raise InvalidRunOptions("param sample_fraction must be a number in (0, 1]")
        force = bool(params.get("force_promote", False))
        reason = str(params.get("reason") or "").strip()
        if force and not reason:
            raise InvalidRunOptions("param reason is required (non-empty) when force_promote is true")
        accept_drift = bool(params.get("accept_drift", False))
        if accept_drift and not reason:
            raise InvalidRunOptions(
                "param reason is required (non-empty) when accept_drift is true: it is recorded in the registry "
                "event drift_accepted"
            )
        overrides = params.get("model_params") or {}
        if not isinstance(overrides, Mapping):
            raise InvalidRunOptions("param model_params must be an object of estimator parameters")
        unknown = sorted(set(overrides) - set(config.model.params))
        if unknown:
            raise InvalidRunOptions(
                f"param model_params: {unknown} not overridable; the config declares {sorted(config.model.params)}"
            )
        return cls(
            window_end=window_end,
            window_days=window_days,
            dry_run=bool(params.get("dry_run", False)),
            force_promote=force,
            accept_drift=accept_drift,
            reason=reason,
            sample_fraction=float(fraction),
            model_params=dict(overrides),
        )

    def data_overrides(self, config: PipelineConfig) -> dict[str, Any]:
        """Options that change what the run computes, where they differ from the config."""
        overrides: dict[str, Any] = {}
        if self.window_days is not None and self.window_days != config.window.days:
            overrides["window_days"] = self.window_days
        if self.sample_fraction != 1.0:
            overrides["sample_fraction"] = self.sample_fraction
        declared = config.model.params
        # 150.0 is not 150: the estimator would receive a float, so it counts as a change.
        changed = {
            k: v for k, v in self.model_params.items() if (type(v), v) != (type(declared.get(k)), declared.get(k))
        }
        if changed:
            overrides["model_params"] = changed
        return overrides


def _parse_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        text = str(value)
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError as exc:
        raise InvalidRunOptions(f"param {name} must be a date YYYY-MM-DD, got {value!r}") from exc


def resolve_window(config: PipelineConfig, options: RunOptions, data_interval_end: datetime | date) -> TrainingWindow:
    """The window a run trains on: it ends at the data interval end unless a Param moves it.

    ``ds`` partitions are days in the schedule's timezone, so an aware interval end is
    converted to that timezone before taking its date.
    """
    if isinstance(data_interval_end, datetime):
        if data_interval_end.tzinfo is not None:
            data_interval_end = data_interval_end.astimezone(ZoneInfo(config.schedule.timezone))
        data_interval_end = data_interval_end.date()
    end = options.window_end or data_interval_end
    days = options.window_days or config.window.days
    try:
        return TrainingWindow.ending(end, days)
    except OverflowError as exc:  # only reachable through Params: the range checks above keep it out
        raise InvalidRunOptions(
            f"param window_end/window_days: a {days}-day window ending {end.isoformat()} starts before year 1"
        ) from exc


def check_window_end(config: PipelineConfig, window: TrainingWindow, options: RunOptions) -> None:
    """Refuse a window that ends before ``schedule.start_date``, naming both dates.

    The variant's data begins at its start date. Airflow creates no task instance for a run whose
    logical date is before the DAG's start date (such a run succeeds having done nothing), so a
    window end from the Param ``window_end``, a backfill or a landing event is checked here, by
    the run's first task, and a ``dag.test()`` caller checks its logical date before running.
    """
    start = config.schedule.start_date
    if window.end >= start:
        return
    source = "the Param window_end" if options.window_end is not None else "the run's data interval end"
    raise InvalidRunOptions(
        f"window end {window.end.isoformat()} ({source}) is before schedule.start_date {start.isoformat()} "
        f"of variant {config.name!r}: its data begins on {start.isoformat()}. Choose a window end on or after "
        f"{start.isoformat()}, or move schedule.start_date earlier in the variant's YAML"
    )


def make_run_key(window: TrainingWindow, overrides: Mapping[str, Any]) -> str:
    """``<window end>`` or ``<window end>_<hash of overrides>``: stable across re-runs."""
    key = window.end.isoformat()
    if overrides:
        canonical = json.dumps(overrides, sort_keys=True, default=str, separators=(",", ":"))
        key += "_" + hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return key
