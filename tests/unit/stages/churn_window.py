"""A raw churn window shaped like ``ingest`` writes it, for the split and feature tests."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from dev.synthetic.churn import churn_day
from include.retrain.config import PipelineConfig
from include.retrain.stages.ingest import assemble_window, coerce_to_schema

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
FIRST_DAY = date(2026, 1, 1)


def raw_window(config: PipelineConfig, first_day: date, days: int, rows: int = 200) -> pd.DataFrame:
    """A raw window shaped like ingest: assembled partitions coerced to the schema."""
    frames = [(first_day + timedelta(days=i), churn_day(first_day + timedelta(days=i), rows)) for i in range(days)]
    return coerce_to_schema(assemble_window(frames, config.dataset.partition_column), config.dataset.columns)
