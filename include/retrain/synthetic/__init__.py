"""Deterministic synthetic landing data for the shipped variants (demo, tests, benchmarks)."""

from include.retrain.synthetic.churn import churn_day
from include.retrain.synthetic.demand import demand_day

#: Generators by dataset name: ``generator(day, rows) -> DataFrame``.
GENERATORS = {"churn": churn_day, "demand": demand_day}

__all__ = ["GENERATORS", "churn_day", "demand_day"]
