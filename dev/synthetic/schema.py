"""Synthetic landing data for any variant, derived from its YAML schema alone (no Python per variant).

``SchemaGenerator(config)`` is a day generator like the hand-written ones (``generator(day, rows)
-> DataFrame``): every declared column gets values of its type inside its declared domain
(``min``/``max``, ``values``, ``max_null_fraction``; the raw gate's ``between``, ``in_set``,
``mean_between``, ``max_null_fraction`` and ``unique`` checks narrow it further), the id column and
``unique`` columns are unique across days, date and datetime columns lie on or before the partition
day (so ``max: window_end`` holds), and the target follows the model features with noise:

- binary classification: a noisy linear score of the features above a fixed cut (about 45% of the
  rows in the positive class, the last in sorted order or ``dataset.positive_class``);
- multiclass: the same score cut into as many equal-share bins as there are classes;
- regression: the score scaled into the target's range (with a ``rmse``/``mae`` threshold, noise
  well inside it), clipped to ``min``/``max``;
- a label derived in config (``dataset.label``): the binary label as above, written into its source
  column (``arr_delay`` above 15 for the positive rows, at most 15 for the others; a value of the
  set for ``equals``/``in_set``), so the derived label is learnable and the source column carries it.

The features of the score are the model's: numeric and categorical columns, and each date part of
``features.date_parts`` (a month, a weekday) rather than the date itself.

So a model learns the signal (ROC AUC around 0.9, R2 around 0.8) while no single feature predicts
the target alone (the leakage gate), and every day has the same distribution (no drift). It cannot
make values match a ``regex`` check; such a check on generated data fails as it should.

Deterministic: the same config, seed, day and row count always give the same rows.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from dev.synthetic.domains import DEFAULT_DATE_SPAN_DAYS, column_domain, numeric_range, stable_seed
from include.retrain.config import WINDOW_END, ColumnSpec, PipelineConfig
from include.retrain.stages.dates import with_date_parts

#: Standard deviation of the noise added to the standardized feature score: the target is learnable
#: but not a function of the features.
NOISE = 0.5

#: Share of rows in the positive class of a binary target.
POSITIVE_SHARE = 0.45

#: Share of a column's ``max_null_fraction`` that is generated as nulls (the gate judges the window's
#: share against the bar, so the data stays well inside it).
NULL_SHARE_OF_BAR = 0.3


class SchemaGenerator:
    """Day generator for ``config``'s dataset: ``SchemaGenerator(config)(day, rows) -> DataFrame``."""

    def __init__(self, config: PipelineConfig, seed: int = 0) -> None:
        self.config = config
        self.seed = seed
        dataset = config.dataset
        checks = config.expectations.raw.checks
        self.domains = {name: column_domain(name, spec, checks) for name, spec in dataset.columns.items()}
        self.classes = self._classes() if config.model.task == "classification" else None
        # Per-variant constants (the same every day, so the data does not drift): feature weights
        # and the effect of each category value.
        fixed = np.random.default_rng([seed, stable_seed(config.name)])
        features = config.features.compared  # date columns count by their parts, as the model sees them
        self.weights = dict(zip(features, fixed.choice([-1.0, 1.0], size=len(features)), strict=True))
        self.effects: dict[str, dict[Any, float]] = {}
        for name in features:
            values = self._choices(name)
            if values is not None:
                effects = fixed.normal(0.0, 1.0, size=len(values))
                effects = (effects - effects.mean()) / (effects.std() or 1.0)
                self.effects[name] = dict(zip(values, effects, strict=True))

    # -- the columns ----------------------------------------------------------------------------

    def _choices(self, name: str) -> tuple[Any, ...] | None:
        """The values a category, string or bool column takes (None: numeric or date, or an id, or a date part)."""
        if name not in self.config.dataset.columns:
            return None
        spec, domain = self.config.dataset.columns[name], self.domains[name]
        if spec.type == "bool":
            return (False, True)
        if spec.type in ("category", "string") and not self._is_unique(name):
            return domain.values or tuple(f"{name}_{letter}" for letter in "abcd")
        if spec.type == "int" and domain.values is not None:
            return tuple(int(v) for v in domain.values if isinstance(v, int | float) and float(v).is_integer())
        return None

    def _is_unique(self, name: str) -> bool:
        return name == self.config.dataset.id_column or self.domains[name].unique

    def _column(self, name: str, day: date, rows: int, rng: np.random.Generator) -> pd.Series:
        spec, domain = self.config.dataset.columns[name], self.domains[name]
        kind = spec.type
        if self._is_unique(name):
            return self._unique(name, kind, day, rows)
        choices = self._choices(name)
        if choices:
            picked = [choices[i] for i in rng.integers(0, len(choices), size=rows)]
            if kind == "bool":
                return pd.Series(pd.array(picked, dtype="boolean"))
            if kind == "category":
                return pd.Series(pd.Categorical(picked, categories=list(dict.fromkeys(choices))))
            if kind == "int":
                return pd.Series(pd.array(picked, dtype="Int64"))
            return pd.Series(picked, dtype="str")
        if kind in ("int", "float"):
            transform = self.config.features.transforms.get(name)
            low, high = numeric_range(domain, non_negative=transform in ("log1p", "sqrt"))
            if kind == "int":
                low_int, high_int = math.ceil(low), math.floor(high)
                return pd.Series(pd.array(rng.integers(low_int, max(low_int, high_int) + 1, size=rows), dtype="Int64"))
            return pd.Series(np.round(rng.uniform(low, high, size=rows), 4).clip(low, high), dtype="float64")
        if kind in ("date", "datetime"):
            return self._dates(spec, day, rows, rng)
        raise ValueError(f"dataset.columns.{name}: no synthetic values for type {kind!r}")

    def _unique(self, name: str, kind: str, day: date, rows: int) -> pd.Series:
        """Values unique across days: the day is part of every value."""
        index = np.arange(rows)
        if kind in ("int", "float"):
            low = self.domains[name].low
            start = int(low or 0) + day.toordinal() * 1_000_000
            values = start + index
            return pd.Series(pd.array(values, dtype="Int64") if kind == "int" else values.astype("float64"))
        prefix = f"{name[:1].upper()}{day:%Y%m%d}-"
        return pd.Series(np.char.add(prefix, np.char.zfill(index.astype(str), 7)), dtype="str")

    def _dates(self, spec: ColumnSpec, day: date, rows: int, rng: np.random.Generator) -> pd.Series:
        """Dates on or before the partition day (so before any window end), inside min/max."""
        high = day
        if isinstance(spec.max, date) and spec.max != WINDOW_END:
            high = min(high, spec.max)
        low = spec.min if isinstance(spec.min, date) else high - timedelta(days=DEFAULT_DATE_SPAN_DAYS)
        if low > high:  # a column dated after the data by design (min in the future): stay inside min/max
            high = spec.max if isinstance(spec.max, date) else low + timedelta(days=DEFAULT_DATE_SPAN_DAYS)
        start = pd.Timestamp(datetime.combine(low, time()))
        days = rng.integers(0, (high - low).days + 1, size=rows)
        stamps = start + pd.to_timedelta(days, unit="D")
        if spec.type == "datetime":
            seconds = rng.integers(0, 86_400, size=rows)
            # the last day only up to midnight: a max date means midnight
            seconds = np.where(days == (high - low).days, 0, seconds)
            stamps = stamps + pd.to_timedelta(seconds, unit="s")
        return pd.Series(stamps.astype("datetime64[us]"))

    # -- the target -----------------------------------------------------------------------------

    def _classes(self) -> tuple[Any, ...]:
        """Labels of a classification target, in sorted order."""
        dataset = self.config.dataset
        target = dataset.target
        spec = dataset.target_spec
        if spec.type == "bool":
            return (False, True)
        domain = self.domains[target]
        if spec.type in ("int", "float"):
            if domain.values is not None:
                found = sorted(float(v) for v in domain.values if isinstance(v, int | float))
            else:
                low = 0 if domain.low is None else math.ceil(domain.low)
                high = low + 1 if domain.high is None else math.floor(domain.high)
                found = list(range(low, high + 1)) if high - low < 20 else [low, low + 1]
            return tuple(int(v) if spec.type == "int" else float(v) for v in found)
        if spec.type in ("category", "string"):
            return tuple(sorted(domain.values or (f"{target}_a", f"{target}_b")))
        raise ValueError(f"dataset.target {target!r}: no synthetic labels for a {spec.type} column")

    def _score(self, frame: pd.DataFrame) -> np.ndarray:
        """A standardized linear score of the model features (nulls count as average)."""
        frame = with_date_parts(frame, self.config.features)
        total = np.zeros(len(frame))
        for name, weight in self.weights.items():
            column = frame[name]
            if name in self.effects:
                effect = column.astype("object").map(self.effects[name])
                values = pd.to_numeric(effect, errors="coerce").fillna(0.0).to_numpy(dtype="float64")
            else:
                values = pd.to_numeric(column, errors="coerce").astype("float64").to_numpy()
                center, spread = np.nanmean(values) if np.isfinite(values).any() else 0.0, np.nanstd(values)
                values = np.nan_to_num((values - center) / (spread or 1.0))
            total += weight * values
        spread = total.std()
        return (total - total.mean()) / spread if spread > 0 else total

    def _target(self, frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
        target = self.config.dataset.target
        spec = self.config.dataset.target_spec
        noisy = self._score(frame) + rng.normal(0.0, NOISE, size=len(frame))
        spread = math.sqrt(1 + NOISE**2)
        if self.classes is not None:
            classes = list(self.classes)
            positive = getattr(self.config.dataset, "positive_class", None)
            if len(classes) == 2:
                if positive is not None and positive in classes:
                    classes = [c for c in classes if c != positive] + [positive]
                cuts = [NormalDist(0.0, spread).inv_cdf(1 - POSITIVE_SHARE)]
            else:
                cuts = [NormalDist(0.0, spread).inv_cdf(i / len(classes)) for i in range(1, len(classes))]
            labels = [classes[i] for i in np.searchsorted(cuts, noisy)]
            if spec.type == "bool":
                return pd.Series(pd.array(labels, dtype="boolean"))
            if spec.type == "int":
                return pd.Series(pd.array(labels, dtype="Int64"))
            if spec.type == "category":
                return pd.Series(pd.Categorical(labels, categories=list(self.classes)))
            return pd.Series(labels, dtype="float64" if spec.type == "float" else "str")
        low, high = numeric_range(self.domains[target], non_negative=False)
        center, signal = (low + high) / 2, (high - low) / 8
        promotion = self.config.promotion
        if promotion.metric in ("rmse", "mae") and promotion.threshold:
            # the noise term (NOISE x signal) stays at a third of the bar
            signal = min(signal, promotion.threshold / (3 * NOISE))
        values = np.clip(center + signal * noisy, low, high)
        if spec.type == "int":
            return pd.Series(pd.array(np.round(values).astype("int64"), dtype="Int64"))
        return pd.Series(np.round(values, 4), dtype="float64")

    def _label_source(self, labels: pd.Series, rng: np.random.Generator) -> pd.Series:
        """Values of ``dataset.label``'s source column that derive ``labels`` (true/false) under its rule."""
        label = self.config.dataset.label
        assert label is not None
        name = label.column
        spec, domain = self.config.dataset.columns[name], self.domains[name]
        positive = labels.to_numpy(dtype=bool, na_value=False)
        rows = len(positive)
        if label.rule in ("greater_than", "less_than"):
            low, high = numeric_range(domain, non_negative=False)
            cut = float(label.operand)
            step = 1.0 if spec.type == "int" else 1e-3
            above = (max(low, cut + step), high)  # > cut
            below = (low, min(high, cut - step if label.rule == "less_than" else cut))
            high_side = positive if label.rule == "greater_than" else ~positive
            if spec.type == "int":
                pick = [(math.ceil(a), max(math.ceil(a), math.floor(b))) for a, b in (above, below)]
                up = rng.integers(pick[0][0], pick[0][1] + 1, size=rows)
                down = rng.integers(pick[1][0], pick[1][1] + 1, size=rows)
                return pd.Series(pd.array(np.where(high_side, up, down), dtype="Int64"))
            up = np.round(rng.uniform(above[0], max(above), size=rows), 3)
            down = np.round(rng.uniform(below[0], max(below), size=rows), 3)
            return pd.Series(np.where(high_side, up, down).clip(low, high), dtype="float64")
        wanted = list(label.operand) if isinstance(label.operand, tuple) else [label.operand]
        others = [v for v in self._choices(name) or () if v not in wanted]
        if not others:
            others = [max(int(v) for v in wanted) + 1] if spec.type == "int" else [f"{name}_other"]
        picked = [
            wanted[i] if hit else others[j]
            for hit, i, j in zip(
                positive, rng.integers(0, len(wanted), size=rows), rng.integers(0, len(others), size=rows), strict=True
            )
        ]
        if spec.type == "bool":
            return pd.Series(pd.array(picked, dtype="boolean"))
        if spec.type == "int":
            return pd.Series(pd.array(picked, dtype="Int64"))
        if spec.type == "category":
            return pd.Series(pd.Categorical(picked, categories=list(dict.fromkeys([*(domain.values or ()), *picked]))))
        return pd.Series(picked, dtype="float64" if spec.type == "float" else "str")

    # -- one day ----------------------------------------------------------------------------------

    def __call__(self, day: date, rows: int) -> pd.DataFrame:
        rng = np.random.default_rng([self.seed, stable_seed(self.config.name), day.toordinal()])
        dataset = self.config.dataset
        frame = pd.DataFrame(
            {name: self._column(name, day, rows, rng) for name in dataset.columns if name != dataset.target}
        )
        # nulls after the target is derived from the complete rows' features
        labels = self._target(frame, rng)
        label = dataset.label
        if label is not None:
            frame[label.column] = self._label_source(labels, rng)
        else:
            frame[dataset.target] = labels
        for name in dataset.columns:
            fraction = self.domains[name].null_fraction * NULL_SHARE_OF_BAR
            if name == dataset.target or self._is_unique(name) or fraction <= 0:
                continue
            if label is not None and name == label.column and dataset.target_nulls == "fail":
                continue  # a missing source value is a missing label, which this variant refuses
            frame.loc[rng.random(rows) < fraction, name] = None
        return frame[list(dataset.columns)]
