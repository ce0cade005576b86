"""Deterministic synthetic landing data (demo, tests, benchmarks).

The shipped variants have hand-written generators (``GENERATORS``, by dataset name) with
realistic effects; :func:`generator_for` gives any variant a generator, falling back to one
derived from its YAML schema (:class:`SchemaGenerator`), so a YAML-only variant needs no Python.
"""

from __future__ import annotations

from datetime import date

from include.retrain.config import PipelineConfig
from include.retrain.synthetic.churn import churn_day
from include.retrain.synthetic.demand import demand_day
from include.retrain.synthetic.landing import DayGenerator
from include.retrain.synthetic.schema import SchemaGenerator

#: Hand-written generators by dataset name: ``generator(day, rows) -> DataFrame``.
GENERATORS = {"churn": churn_day, "demand": demand_day}


def generator_for(config: PipelineConfig) -> DayGenerator:
    """The variant's day generator: the hand-written one of its dataset if it produces exactly the
    declared columns, else one derived from the schema."""
    hand_written = GENERATORS.get(config.dataset.name)
    if hand_written is not None and set(hand_written(date(2026, 1, 1), 3).columns) == set(config.dataset.columns):
        return hand_written
    return SchemaGenerator(config)


__all__ = ["GENERATORS", "SchemaGenerator", "churn_day", "demand_day", "generator_for"]
