"""Deterministic synthetic landing data (demo, tests, benchmarks).

The shipped variants have hand-written generators (``GENERATORS``, by dataset name) with
realistic effects; :func:`generator_for` gives any variant a generator, falling back to one
derived from its YAML schema (:class:`SchemaGenerator`), so a YAML-only variant needs no Python.
"""

from __future__ import annotations

import math
from datetime import date

from dev.synthetic.churn import churn_day
from dev.synthetic.demand import demand_day
from dev.synthetic.landing import DayGenerator
from dev.synthetic.schema import SchemaGenerator
from include.retrain.config import PipelineConfig

#: Hand-written generators by dataset name: ``generator(day, rows) -> DataFrame``.
GENERATORS = {"churn": churn_day, "demand": demand_day}


def generator_for(config: PipelineConfig) -> DayGenerator:
    """The variant's day generator: the hand-written one of its dataset if it produces exactly the
    declared columns, else one derived from the schema."""
    hand_written = GENERATORS.get(config.dataset.name)
    if hand_written is not None and set(hand_written(date(2026, 1, 1), 3).columns) == set(config.dataset.columns):
        return hand_written
    return SchemaGenerator(config)


def rows_per_day(config: PipelineConfig, at_least: int) -> int:
    """Rows per daily partition so that a window of ``config`` passes its row-count gates.

    Covers ``expectations.raw.min_rows`` and the features gate's train and holdout minimums (with
    a margin for the split), stays under ``expectations.raw.max_rows``, and is never below
    ``at_least``.
    """
    rules, holdout = config.expectations, config.split.holdout_fraction
    needed = max(
        rules.raw.min_rows,
        rules.features.min_train_rows / (1 - holdout),
        rules.features.min_holdout_rows / holdout,
    )
    rows = max(at_least, math.ceil(1.3 * needed / config.window.days))
    if rules.raw.max_rows is not None:
        rows = min(rows, rules.raw.max_rows // config.window.days)
    return rows


__all__ = ["GENERATORS", "SchemaGenerator", "churn_day", "demand_day", "generator_for", "rows_per_day"]
