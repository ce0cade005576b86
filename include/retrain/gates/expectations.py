"""Which expectations each gate runs, derived from the pipeline config.

Plain data (no Great Expectations import): a spec names a GX expectation class, its
arguments, its severity and the table of the gate it applies to. ``validation`` turns
specs into a GX suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from include.retrain.config import PipelineConfig
from include.retrain.runs import TrainingWindow
from include.retrain.stages.ingest import PANDAS_DTYPES

Severity = Literal["fail", "warn"]

#: dtype names accepted for each declared type: what ``ingest`` produces, plus the numpy
#: equivalents a hand-made frame may carry.
_ALSO_ACCEPTED: dict[str, list[str]] = {
    "int": ["int64", "Int32", "int32"],
    "float": ["float32", "Float64"],
    "bool": ["bool"],
    "string": ["string"],
    "date": ["datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
    "datetime": ["datetime64[ns]", "datetime64[ms]", "datetime64[s]"],
}
ACCEPTED_DTYPES: dict[str, list[str]] = {
    kind: [dtype, *_ALSO_ACCEPTED.get(kind, [])] for kind, dtype in PANDAS_DTYPES.items()
}

#: Largest finite float64; ``between(-FLOAT_MAX, FLOAT_MAX)`` fails on inf and NaN.
FLOAT_MAX = 1.7976931348623157e308


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation: GX class name, arguments, severity, and the gate table it checks."""

    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "fail"
    table: str = "data"


def raw_expectations(config: PipelineConfig, window: TrainingWindow) -> list[ExpectationSpec]:
    """``validate_raw``: schema, types, nulls, ranges, categories, row count, unique ids, freshness."""
    dataset = config.dataset
    rules = config.expectations.raw
    expected_columns = [*dataset.columns, dataset.partition_column]
    specs = [
        ExpectationSpec(
            "ExpectTableColumnsToMatchSet",
            {"column_set": expected_columns, "exact_match": not dataset.allow_extra_columns},
        ),
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": rules.min_rows, "max_value": rules.max_rows}),
    ]
    for name, spec in dataset.columns.items():
        specs.append(ExpectationSpec("ExpectColumnToExist", {"column": name}))
        specs.append(
            ExpectationSpec("ExpectColumnDtypeToBeIn", {"column": name, "type_list": ACCEPTED_DTYPES[spec.type]})
        )
        if spec.max_null_fraction < 1.0:
            kwargs: dict[str, Any] = {"column": name}
            if spec.max_null_fraction > 0:
                kwargs["mostly"] = round(1.0 - spec.max_null_fraction, 10)
            specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", kwargs))
        if spec.min is not None or spec.max is not None:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween", {"column": name, "min_value": spec.min, "max_value": spec.max}
                )
            )
        if spec.values is not None:
            specs.append(
                ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": name, "value_set": list(spec.values)})
            )
    if dataset.id_column:
        specs.append(ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": dataset.id_column}))
    if rules.freshness_days is not None:
        newest_allowed = window.end - timedelta(days=rules.freshness_days + 1)
        specs.append(
            ExpectationSpec(
                "ExpectColumnMaxToBeBetween",
                {"column": dataset.partition_column, "min_value": f"{newest_allowed.isoformat()}T00:00:00"},
            )
        )
    return specs


def features_expectations(
    config: PipelineConfig, feature_columns: Sequence[str], *, classification: bool
) -> list[ExpectationSpec]:
    """``validate_features``: finite, non-null features, split sizes, class balance.

    Tables: ``train`` and ``holdout`` (feature matrix plus target), and for classification
    ``classes`` (one row per class with its share of the training rows).
    """
    rules = config.expectations.features
    target = config.dataset.target
    specs = [
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": rules.min_train_rows}, table="train"),
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": rules.min_holdout_rows}, table="holdout"),
    ]
    for table in ("train", "holdout"):
        specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": target}, table=table))
        for column in feature_columns:
            specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": column}, table=table))
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": column, "min_value": -FLOAT_MAX, "max_value": FLOAT_MAX},
                    table=table,
                )
            )
    if classification:
        specs.append(ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 2}, table="classes"))
        if rules.min_class_fraction is not None:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "fraction", "min_value": rules.min_class_fraction},
                    table="classes",
                )
            )
    return specs


def model_expectations(config: PipelineConfig, *, has_champion: bool) -> list[ExpectationSpec]:
    """``validate_model``: metric threshold, no regression beyond tolerance, sane scores.

    Tables: ``metrics`` (one row: the candidate's metric, and its improvement over the
    champion when there is one) and ``scores`` (the candidate's holdout scores).
    """
    policy = config.promotion
    rules = config.expectations.model
    specs = []
    if policy.threshold is not None:
        bound = "min_value" if policy.direction == "maximize" else "max_value"
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween", {"column": policy.metric, bound: policy.threshold}, table="metrics"
            )
        )
    specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": policy.metric}, table="metrics"))
    if has_champion and rules.max_regression is not None:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "improvement_over_champion", "min_value": -rules.max_regression},
                table="metrics",
            )
        )
    specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "score"}, table="scores"))
    specs.append(
        ExpectationSpec(
            "ExpectColumnStdevToBeBetween", {"column": "score", "min_value": rules.min_prediction_std}, table="scores"
        )
    )
    return specs
