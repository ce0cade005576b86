"""Which expectations each gate runs, derived from the pipeline config.

Plain data (no Great Expectations import): a spec (``expectation_spec``) names a GX expectation
class, its arguments, its severity and the table of the gate it applies to. ``validation`` turns
specs into a GX suite.

Defaults come from the schema and the gate settings; the shorthand ``checks`` of each gate
add to them. A check replaces a default of the same rule on the same column (or on the row
count), in the same table *and with the same severity*; a check of another severity is added next
to it, so
``{column: x, between: [0, 300], severity: warn}`` warns above 300 while the schema's ``max``
still fails the run. Invariants (dtypes, no NaN/inf features, leakage, ...) are never replaced.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.retrain.config import WINDOW_END, CheckRule, ColumnSpec, PipelineConfig
from include.retrain.gates.expectation_spec import ExpectationSpec, apply_checks, check_spec, not_null
from include.retrain.gates.feature_tables import COUNT_COLUMNS
from include.retrain.runs import TrainingWindow
from include.retrain.stages.ingest import PANDAS_DTYPES

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


def _bounds(column: str, spec: ColumnSpec, window: TrainingWindow) -> dict[str, Any]:
    """``ExpectColumnValuesToBeBetween`` arguments for a column's ``min``/``max``.

    Dates become ISO timestamps at midnight (JSON in the reports; GX compares them with the
    column's datetimes). ``max: window_end`` is the run's window end, exclusive: a value on or
    after it is dated after the newest partition the run reads.
    """
    if spec.type not in ("date", "datetime"):
        return {"column": column, "min_value": spec.min, "max_value": spec.max}
    kwargs: dict[str, Any] = {"column": column, "min_value": _midnight(spec.min), "max_value": None}
    if spec.max == WINDOW_END:
        kwargs.update(max_value=_midnight(window.end), strict_max=True)
    else:
        kwargs["max_value"] = _midnight(spec.max)
    return kwargs


def _midnight(day: Any) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00"


def raw_expectations(config: PipelineConfig, window: TrainingWindow) -> list[ExpectationSpec]:
    """``validate_raw``: schema, types, nulls, ranges, categories, row count, unique ids, freshness, checks."""
    dataset = config.dataset
    rules = config.expectations.raw
    columns = dataset.raw_columns  # the declared columns, and a label dataset.label derives at ingest
    expected_columns = [*columns, dataset.partition_column]
    specs = [
        ExpectationSpec(
            "ExpectTableColumnsToMatchSet",
            {"column_set": expected_columns, "exact_match": not dataset.allow_extra_columns},
        ),
        ExpectationSpec(
            "ExpectTableRowCountToBeBetween", {"min_value": rules.min_rows, "max_value": rules.max_rows}, rule="between"
        ),
    ]
    for name, spec in columns.items():
        specs.append(ExpectationSpec("ExpectColumnToExist", {"column": name}))
        specs.append(
            ExpectationSpec("ExpectColumnDtypeToBeIn", {"column": name, "type_list": ACCEPTED_DTYPES[spec.type]})
        )
        if name == dataset.target:
            # An invariant no check relaxes: missing labels are governed by dataset.target_nulls
            # (fail: this gate fails on any; drop: ingest dropped them before the gate).
            specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": name}))
        elif spec.max_null_fraction < 1.0:
            specs.append(not_null(name, spec.max_null_fraction))
        if spec.min is not None or spec.max is not None:
            specs.append(ExpectationSpec("ExpectColumnValuesToBeBetween", _bounds(name, spec, window), rule="between"))
        if spec.values is not None:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeInSet", {"column": name, "value_set": list(spec.values)}, rule="in_set"
                )
            )
    if dataset.id_column:
        specs.append(ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": dataset.id_column}, rule="unique"))
    if rules.freshness_days is not None:
        newest_allowed = window.end - timedelta(days=rules.freshness_days + 1)
        specs.append(
            ExpectationSpec(
                "ExpectColumnMaxToBeBetween",
                {"column": dataset.partition_column, "min_value": f"{newest_allowed.isoformat()}T00:00:00"},
            )
        )
    return apply_checks(specs, rules.checks, lambda check: ["data"])


def features_expectations(config: PipelineConfig, *, classification: bool) -> list[ExpectationSpec]:
    """``validate_features``: finite, non-null, non-constant features, split sizes, class balance, leakage.

    Tables: ``train`` and ``holdout`` (feature matrix plus target); for classification
    ``classes`` (one row per class with its share of the training rows); ``feature_stats`` (one
    row per feature: its standard deviation on the training rows, its single-feature score
    against the target, see ``gates.leakage``, and its missing and infinite values per matrix,
    see ``gates.feature_tables``). Shorthand checks apply to both matrices.
    """
    rules = config.expectations.features
    target = config.dataset.target
    specs = [
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": rules.min_train_rows}, table="train"),
        ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": rules.min_holdout_rows}, table="holdout"),
    ]
    for table in ("train", "holdout"):
        specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": target}, table=table))
    # No NaN and no inf in any feature of either matrix: one count per feature and matrix.
    for column in COUNT_COLUMNS:
        specs.append(
            ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": column, "max_value": 0}, table="feature_stats")
        )
    if rules.min_feature_std is not None:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "std", "min_value": rules.min_feature_std, "strict_min": True},
                rules.on_constant_feature,
                table="feature_stats",
            )
        )
    if rules.max_single_feature_score is not None:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "single_feature_score", "max_value": rules.max_single_feature_score},
                table="feature_stats",
            )
        )
    if classification:
        specs.append(ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 2}, table="classes"))
        if rules.min_class_fraction is not None or rules.max_class_fraction is not None:
            bounds = {"min_value": rules.min_class_fraction, "max_value": rules.max_class_fraction}
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween",
                    {"column": "fraction", **{k: v for k, v in bounds.items() if v is not None}},
                    table="classes",
                )
            )
    return apply_checks(specs, rules.checks, lambda check: ["train", "holdout"])


def drift_expectations(config: PipelineConfig, *, label: bool = False) -> list[ExpectationSpec]:
    """``check_drift``: each feature's PSI (and optionally KS) against the champion's reference.

    Table ``drift``: one row per compared feature (see ``gates.drift.drift_table``). Above
    ``psi_warn`` is a warning; above ``psi_fail`` (or ``ks_max``) is drift, with the severity
    ``on_drift`` gives. With ``label`` (the label was compared), table ``label``: one row (see
    ``gates.drift.label_drift_table``) against the bars of ``expectations.drift.label``.
    """
    rules = config.expectations.drift
    specs = []
    if label and rules.label is not None:
        bars = rules.label
        if bars.psi_warn < bars.psi_fail:
            specs.append(
                ExpectationSpec(
                    "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": bars.psi_warn}, "warn", "label"
                )
            )
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": bars.psi_fail}, bars.on_drift, "label"
            )
        )
    if rules.psi_warn < rules.psi_fail:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": rules.psi_warn}, "warn", "drift"
            )
        )
    specs.append(
        ExpectationSpec(
            "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": rules.psi_fail}, rules.on_drift, "drift"
        )
    )
    if rules.ks_max is not None:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween", {"column": "ks", "max_value": rules.ks_max}, rules.on_drift, "drift"
            )
        )
    return specs


def _model_table(check: CheckRule) -> list[str]:
    return ["scores"] if check.table == "row_count" or check.column == "score" else ["metrics"]


def model_expectations(config: PipelineConfig, *, has_champion: bool) -> list[ExpectationSpec]:
    """``validate_model``: metric threshold, no regression beyond tolerance, sane scores, segment floors.

    Tables: ``metrics`` (one row: the candidate's holdout metrics, and its improvement over the
    champion when there is one), ``scores`` (the candidate's holdout scores) and, with segments
    configured, ``segments`` (one row per judged segment: ``segment``, ``rows`` and the metric).
    """
    policy = config.promotion
    rules = config.expectations.model
    specs = []
    if policy.threshold is not None:
        bound = "min_value" if policy.direction == "maximize" else "max_value"
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": policy.metric, bound: policy.threshold},
                table="metrics",
                rule="between",
            )
        )
    specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": policy.metric}, table="metrics"))
    if has_champion and rules.max_regression is not None:
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": "improvement_over_champion", "min_value": -rules.max_regression},
                table="metrics",
                rule="between",
            )
        )
    specs.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "score"}, table="scores"))
    specs.append(
        ExpectationSpec(
            "ExpectColumnStdevToBeBetween", {"column": "score", "min_value": rules.min_prediction_std}, table="scores"
        )
    )
    if rules.segments is not None:
        bound = "min_value" if policy.direction == "maximize" else "max_value"
        specs.append(
            ExpectationSpec(
                "ExpectColumnValuesToBeBetween",
                {"column": policy.metric, bound: rules.segments.threshold},
                table="segments",
            )
        )
    return apply_checks(specs, rules.checks, _model_table)


__all__ = [
    "ACCEPTED_DTYPES",
    "CheckRule",
    "ExpectationSpec",
    "apply_checks",
    "check_spec",
    "drift_expectations",
    "features_expectations",
    "model_expectations",
    "raw_expectations",
]
