"""Gate cost against plain pandas: each gate's GX validation vs the same rules in pandas, at 1M rows.

The tables are what the gate tasks validate for a 1M-row churn window (built in-process with the
stage functions, no S3): the raw window, the train and holdout feature matrices with the
``feature_stats`` and ``classes`` tables, the drift table against a reference profile, and the
model gate's metrics, scores and segments. The specs are the ones the gates derive from the
shipped config. Each side runs ``REPEATS`` times, alternately, in this process; the ratio of
median CPU seconds is reported per gate. Both must agree that clean data passes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import median
from benchmarks.landing import rows_per_day
from benchmarks.pandas_rules import run_rules
from include.retrain.config import PipelineConfig, load_pipeline, pipelines_dir
from include.retrain.runs import RunOptions, resolve_window

ROWS = 1_000_000
REPEATS = 5
WINDOW_END = date(2026, 2, 1)


def gate_inputs(config: PipelineConfig, rows: int) -> dict[str, tuple[dict[str, pd.DataFrame], list[Any], dict]]:
    """Per gate: its tables, its expectation specs and its keyed tables, for a clean window of ``rows`` rows."""
    from dev.synthetic import GENERATORS
    from include.retrain.gates.drift import drift_table
    from include.retrain.gates.expectations import (
        drift_expectations,
        features_expectations,
        model_expectations,
        raw_expectations,
    )
    from include.retrain.gates.feature_tables import class_shares, feature_stats
    from include.retrain.gates.profile import reference_profile
    from include.retrain.stages.features import (
        build_feature_transformer,
        fit_features,
        target_values,
        to_model_input,
        transform_features,
    )
    from include.retrain.stages.ingest import assemble_window, coerce_to_schema
    from include.retrain.stages.split import split_holdout

    dataset, features = config.dataset, config.features
    days = config.window.days
    first = WINDOW_END - timedelta(days=days)
    generator = GENERATORS[dataset.name]
    frames = [
        (first + timedelta(days=n), generator(first + timedelta(days=n), count))
        for n, count in enumerate(rows_per_day(rows, days))
    ]
    raw = coerce_to_schema(assemble_window(frames, dataset.partition_column), dataset.columns)
    window = resolve_window(config, RunOptions.from_params({}, config), WINDOW_END)
    split = split_holdout(
        raw,
        config.split,
        target=dataset.target,
        task=config.model.task,
        seed=config.model.seed,
        time_column=dataset.event_date_column or dataset.partition_column,
        id_column=dataset.id_column,
    )
    transformer = build_feature_transformer(features)
    train = fit_features(transformer, to_model_input(split.train, features))
    holdout = transform_features(transformer, to_model_input(split.holdout, features))
    y_train = target_values(split.train, dataset.target, config.model.task)
    y_holdout = target_values(split.holdout, dataset.target, config.model.task)
    stats = feature_stats(train, holdout, y_train, config.model.task, config.model.seed)
    feature_tables = {
        "train": train.assign(**{dataset.target: y_train}),
        "holdout": holdout.assign(**{dataset.target: y_holdout}),
        "feature_stats": stats,
        "classes": class_shares(pd.Series(y_train)),
    }
    profile = reference_profile(
        split.train, numeric=[*features.numeric, *features.passthrough], categorical=features.categorical
    )
    drift, _ = drift_table(profile, raw[features.all], features.all)
    scores = np.random.default_rng(0).beta(2, 4, size=len(holdout))
    metrics = pd.DataFrame([{"roc_auc": 0.73, "f1": 0.5, "improvement_over_champion": 0.001}], dtype="float64")
    segments = pd.DataFrame({"segment": ["plan=basic", "plan=premium"], "rows": [1000, 400], "roc_auc": [0.7, 0.72]})
    return {
        "validate_raw": ({"data": raw}, raw_expectations(config, window), {}),
        "validate_features": (
            feature_tables,
            features_expectations(config, classification=True),
            {"feature_stats": "feature"},
        ),
        "check_drift": ({"drift": drift}, drift_expectations(config), {"drift": "feature"}),
        "validate_model": (
            {"metrics": metrics, "scores": pd.DataFrame({"score": scores}), "segments": segments},
            model_expectations(config, has_champion=True),
            {"segments": "segment"},
        ),
    }


def _cpu(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.process_time()
    value = action()
    return time.process_time() - started, value


def run(rows: int = ROWS, repeats: int = REPEATS) -> dict[str, Any]:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from include.retrain.gates.validation import run_gate

    config = load_pipeline(pipelines_dir() / "churn.yaml")
    inputs = gate_inputs(config, rows)
    results: dict[str, Any] = {}
    for gate, (tables, specs, keys) in inputs.items():
        gx_times, pandas_times = [], []
        for _ in range(repeats):
            seconds, result = _cpu(lambda: run_gate(gate, tables, specs, row_keys=keys))  # noqa: B023
            gx_times.append(seconds)
            seconds, outcomes = _cpu(lambda: run_rules(tables, specs))  # noqa: B023
            pandas_times.append(seconds)
        pandas_ok = all(ok for ok, _, _ in outcomes)
        if not result.success or not pandas_ok:
            raise RuntimeError(f"{gate}: clean data must pass (GX {result.success}, pandas {pandas_ok})")
        results[gate] = {
            "expectations": len(specs),
            "rows": {name: len(frame) for name, frame in tables.items()},
            "gx_cpu_seconds": round(median(gx_times), 3),
            "pandas_cpu_seconds": round(median(pandas_times), 4),
            "ratio": round(median(gx_times) / max(median(pandas_times), 1e-6), 1),
        }
        print(
            f"  {gate:<18} {len(specs):3d} expectations: GX {results[gate]['gx_cpu_seconds']:.2f}s, "
            f"pandas {results[gate]['pandas_cpu_seconds']:.3f}s ({results[gate]['ratio']:.1f}x)",
            flush=True,
        )
    return {"gate_vs_pandas": {"rows": rows, "repeats": repeats, "gates": results}}
