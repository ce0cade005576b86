"""The model gate's segment table: one row per judged segment of ``evaluate/segment_metrics.json``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from include.retrain.config import SegmentsConfig


def segments_table(by_segment: Mapping[str, Any], rules: SegmentsConfig, metric: str) -> tuple[pd.DataFrame, list[str]]:
    """One row per judged segment (enough holdout rows, metric defined), and notes on the others."""
    rows = []
    notes = []
    for value, found in by_segment["segments"].items():
        label = f"{by_segment['column']}={value}"
        score = found["metrics"][metric]
        if found["rows"] < rules.min_rows:
            notes.append(f"segment {label}: {found['rows']} holdout rows (< min_rows {rules.min_rows}), not judged")
        elif score is None or math.isnan(score):
            notes.append(f"segment {label}: {metric} is undefined on its {found['rows']} holdout rows, not judged")
        else:
            rows.append((label, found["rows"], score))
    table = pd.DataFrame(rows, columns=["segment", "rows", metric]).astype({metric: "float64"})
    return table, notes
