"""Unit tests for ``include.retrain.gates.expectations``: gate suites derived from the config."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from include.retrain.config import (
    CheckRule,
    ColumnSpec,
    FeaturesGateConfig,
    PipelineConfig,
    PromotionConfig,
    load_pipeline,
)
from include.retrain.gates.expectations import (
    ACCEPTED_DTYPES,
    FLOAT_MAX,
    ExpectationSpec,
    check_spec,
    drift_expectations,
    features_expectations,
    model_expectations,
    raw_expectations,
)
from include.retrain.runs import TrainingWindow
from tests.unit.gates.conftest import schema_defaults

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
WINDOW = TrainingWindow.ending(date(2026, 2, 1), 28)


@pytest.fixture(scope="module")
def shipped() -> PipelineConfig:
    return load_pipeline(CHURN_YAML)


@pytest.fixture(scope="module")
def config(shipped: PipelineConfig) -> PipelineConfig:
    """The churn variant's defaults, inferred from its schema (its checks are tested on their own)."""
    return schema_defaults(shipped)


def find(specs: list[ExpectationSpec], expectation: str, column: str | None = None, table: str | None = None):
    """The specs of one expectation type (optionally for one column / table)."""
    return [
        s
        for s in specs
        if s.expectation == expectation
        and (column is None or s.kwargs.get("column") == column)
        and (table is None or s.table == table)
    ]


def with_raw_rules(config: PipelineConfig, **rules) -> PipelineConfig:
    raw = config.expectations.raw.model_copy(update=rules)
    return config.model_copy(update={"expectations": config.expectations.model_copy(update={"raw": raw})})


class TestRawExpectations:
    """The raw gate checks schema, types, nulls, ranges, categories, rows, ids and freshness."""

    def test_all_specs_are_fail_severity_on_data(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        assert {s.table for s in specs} == {"data"}
        assert {s.severity for s in specs} == {"fail"}

    def test_table_column_set(self, config: PipelineConfig) -> None:
        (spec,) = find(raw_expectations(config, WINDOW), "ExpectTableColumnsToMatchSet")
        assert spec.kwargs == {
            "column_set": [
                "customer_id",
                "tenure_months",
                "plan",
                "monthly_charges",
                "support_calls",
                "region",
                "signup_date",
                "churned",
                "ds",
            ],
            "exact_match": True,
        }

    def test_extra_columns_allowed_relaxes_the_set(self, config: PipelineConfig) -> None:
        relaxed = config.model_copy(update={"dataset": config.dataset.model_copy(update={"allow_extra_columns": True})})
        (spec,) = find(raw_expectations(relaxed, WINDOW), "ExpectTableColumnsToMatchSet")
        assert spec.kwargs["exact_match"] is False

    def test_row_count(self, config: PipelineConfig) -> None:
        (spec,) = find(raw_expectations(config, WINDOW), "ExpectTableRowCountToBeBetween")
        assert spec.kwargs == {"min_value": 1000, "max_value": None}
        bounded = with_raw_rules(config, min_rows=5, max_rows=50)
        (spec,) = find(raw_expectations(bounded, WINDOW), "ExpectTableRowCountToBeBetween")
        assert spec.kwargs == {"min_value": 5, "max_value": 50}

    def test_every_column_exists_with_its_dtype(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        for name, column in config.dataset.columns.items():
            assert len(find(specs, "ExpectColumnToExist", name)) == 1, name
            (dtype,) = find(specs, "ExpectColumnDtypeToBeIn", name)
            assert dtype.kwargs["type_list"] == ACCEPTED_DTYPES[column.type], name
        assert find(specs, "ExpectColumnDtypeToBeIn", "tenure_months")[0].kwargs["type_list"][0] == "Int64"
        assert find(specs, "ExpectColumnDtypeToBeIn", "plan")[0].kwargs["type_list"] == ["category"]
        assert find(specs, "ExpectColumnDtypeToBeIn", "customer_id")[0].kwargs["type_list"][0] == "str"
        assert "datetime64[us]" in find(specs, "ExpectColumnDtypeToBeIn", "signup_date")[0].kwargs["type_list"]

    def test_null_checks_follow_max_null_fraction(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        for name in ("customer_id", "tenure_months", "plan", "support_calls", "signup_date", "churned"):
            (spec,) = find(specs, "ExpectColumnValuesToNotBeNull", name)
            assert spec.kwargs == {"column": name}, name
        for name in ("monthly_charges", "region"):
            (spec,) = find(specs, "ExpectColumnValuesToNotBeNull", name)
            assert spec.kwargs == {"column": name, "mostly": 0.95}, name

    def test_fully_nullable_column_has_no_null_check(self, config: PipelineConfig) -> None:
        columns = {**config.dataset.columns, "region": ColumnSpec(type="category", max_null_fraction=1.0)}
        relaxed = config.model_copy(update={"dataset": config.dataset.model_copy(update={"columns": columns})})
        specs = raw_expectations(relaxed, WINDOW)
        assert find(specs, "ExpectColumnValuesToNotBeNull", "region") == []
        assert len(find(specs, "ExpectColumnToExist", "region")) == 1

    def test_ranges_match_config(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        ranges = {
            s.kwargs["column"]: (s.kwargs["min_value"], s.kwargs["max_value"])
            for s in specs
            if s.expectation == "ExpectColumnValuesToBeBetween"
        }
        assert ranges == {
            "tenure_months": (0, 120),
            "monthly_charges": (0, 500),
            "support_calls": (0, 100),
            "churned": (0, 1),
        }

    def test_value_sets_match_config(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        sets = {
            s.kwargs["column"]: s.kwargs["value_set"] for s in specs if s.expectation == "ExpectColumnValuesToBeInSet"
        }
        assert sets == {"plan": ["basic", "standard", "premium"], "region": ["north", "south", "east", "west"]}

    def test_unique_id(self, config: PipelineConfig) -> None:
        specs = raw_expectations(config, WINDOW)
        (spec,) = find(specs, "ExpectColumnValuesToBeUnique")
        assert spec.kwargs == {"column": "customer_id"}
        no_id = config.model_copy(update={"dataset": config.dataset.model_copy(update={"id_column": None})})
        assert find(raw_expectations(no_id, WINDOW), "ExpectColumnValuesToBeUnique") == []

    @pytest.mark.parametrize(
        ("end", "freshness_days", "newest_allowed"),
        [
            pytest.param(date(2026, 2, 1), 2, "2026-01-29T00:00:00", id="two-days"),
            pytest.param(date(2026, 2, 1), 0, "2026-01-31T00:00:00", id="last-partition-required"),
            pytest.param(date(2026, 3, 1), 5, "2026-02-23T00:00:00", id="other-window"),
        ],
    )
    def test_freshness_bound_from_window_and_freshness_days(
        self, config: PipelineConfig, end: date, freshness_days: int, newest_allowed: str
    ) -> None:
        rules = with_raw_rules(config, freshness_days=freshness_days)
        specs = raw_expectations(rules, TrainingWindow.ending(end, 28))
        (spec,) = find(specs, "ExpectColumnMaxToBeBetween")
        assert spec.kwargs == {"column": "ds", "min_value": newest_allowed}

    def test_no_freshness_check_without_freshness_days(self, config: PipelineConfig) -> None:
        specs = raw_expectations(with_raw_rules(config, freshness_days=None), WINDOW)
        assert find(specs, "ExpectColumnMaxToBeBetween") == []

    def test_spec_count(self, config: PipelineConfig) -> None:
        # 2 table checks + 8 exist + 8 dtype + 8 null + 4 range + 2 set + unique + freshness
        assert len(raw_expectations(config, WINDOW)) == 34


class TestFeaturesExpectations:
    """The features gate checks each table: sizes, complete finite features, class balance."""

    COLUMNS = ("tenure_months", "plan_basic")

    def test_row_counts_per_table(self, config: PipelineConfig) -> None:
        specs = features_expectations(config, self.COLUMNS, classification=True)
        (train,) = find(specs, "ExpectTableRowCountToBeBetween", table="train")
        (holdout,) = find(specs, "ExpectTableRowCountToBeBetween", table="holdout")
        assert train.kwargs == {"min_value": 500}
        assert holdout.kwargs == {"min_value": 100}

    @pytest.mark.parametrize("table", ["train", "holdout"])
    def test_features_and_target_checked_in_both_tables(self, config: PipelineConfig, table: str) -> None:
        specs = features_expectations(config, self.COLUMNS, classification=True)
        assert len(find(specs, "ExpectColumnValuesToNotBeNull", "churned", table)) == 1
        assert find(specs, "ExpectColumnValuesToBeBetween", "churned", table) == []
        for column in self.COLUMNS:
            assert len(find(specs, "ExpectColumnValuesToNotBeNull", column, table)) == 1
            (finite,) = find(specs, "ExpectColumnValuesToBeBetween", column, table)
            assert finite.kwargs == {"column": column, "min_value": -FLOAT_MAX, "max_value": FLOAT_MAX}

    def test_class_balance_for_classification(self, config: PipelineConfig) -> None:
        specs = features_expectations(config, self.COLUMNS, classification=True)
        classes = [s for s in specs if s.table == "classes"]
        assert [(s.expectation, s.kwargs) for s in classes] == [
            ("ExpectTableRowCountToBeBetween", {"min_value": 2}),
            ("ExpectColumnValuesToBeBetween", {"column": "fraction", "min_value": 0.05, "max_value": 0.95}),
        ]

    def test_no_class_table_for_regression(self, config: PipelineConfig) -> None:
        specs = features_expectations(config, self.COLUMNS, classification=False)
        assert {s.table for s in specs} == {"train", "holdout", "feature_stats"}

    def test_spec_count(self, config: PipelineConfig) -> None:
        specs = features_expectations(config, self.COLUMNS, classification=True)
        # row counts + per table (target + 2 per feature) + constant and leakage + classes
        assert len(specs) == 2 + 2 * (1 + 2 * len(self.COLUMNS)) + 2 + 2


class TestModelExpectations:
    """The model gate checks threshold, regression against the champion, and score spread."""

    def test_without_champion_no_regression_check(self, config: PipelineConfig) -> None:
        specs = model_expectations(config, has_champion=False)
        assert find(specs, "ExpectColumnValuesToBeBetween", "improvement_over_champion") == []
        (threshold,) = find(specs, "ExpectColumnValuesToBeBetween", "roc_auc", "metrics")
        assert threshold.kwargs == {"column": "roc_auc", "min_value": 0.65}
        assert len(find(specs, "ExpectColumnValuesToNotBeNull", "roc_auc", "metrics")) == 1

    def test_with_champion_regression_bound(self, config: PipelineConfig) -> None:
        specs = model_expectations(config, has_champion=True)
        (spec,) = find(specs, "ExpectColumnValuesToBeBetween", "improvement_over_champion", "metrics")
        assert spec.kwargs == {"column": "improvement_over_champion", "min_value": -0.05}

    def test_no_regression_check_without_max_regression(self, config: PipelineConfig) -> None:
        model_rules = config.expectations.model.model_copy(update={"max_regression": None})
        relaxed = config.model_copy(
            update={"expectations": config.expectations.model_copy(update={"model": model_rules})}
        )
        specs = model_expectations(relaxed, has_champion=True)
        assert find(specs, "ExpectColumnValuesToBeBetween", "improvement_over_champion") == []

    def test_minimize_metric_bounds_from_above(self, config: PipelineConfig) -> None:
        regression = config.model_copy(update={"promotion": PromotionConfig(metric="rmse", threshold=5.0)})
        (spec,) = find(model_expectations(regression, has_champion=False), "ExpectColumnValuesToBeBetween", "rmse")
        assert spec.kwargs == {"column": "rmse", "max_value": 5.0}

    def test_no_threshold_check_without_threshold(self, config: PipelineConfig) -> None:
        no_bar = config.model_copy(update={"promotion": PromotionConfig(metric="roc_auc")})
        specs = model_expectations(no_bar, has_champion=False)
        assert find(specs, "ExpectColumnValuesToBeBetween", "roc_auc") == []
        assert len(find(specs, "ExpectColumnValuesToNotBeNull", "roc_auc")) == 1

    def test_scores_checks(self, config: PipelineConfig) -> None:
        specs = model_expectations(config, has_champion=False)
        scores = [(s.expectation, s.kwargs) for s in specs if s.table == "scores"]
        assert scores == [
            ("ExpectColumnValuesToNotBeNull", {"column": "score"}),
            ("ExpectColumnStdevToBeBetween", {"column": "score", "min_value": 1e-6}),
        ]
        assert {s.table for s in specs} == {"metrics", "scores"}


def with_gate(config: PipelineConfig, gate: str, **rules) -> PipelineConfig:
    """``config`` with some settings of one gate (raw, features, drift, model) changed."""
    updated = getattr(config.expectations, gate).model_copy(update=rules)
    return config.model_copy(update={"expectations": config.expectations.model_copy(update={gate: updated})})


class TestFeatureStatsExpectations:
    """Constant features and leakage are judged on the one-row-per-feature ``feature_stats`` table."""

    def test_constant_and_leakage_bounds(self, config: PipelineConfig) -> None:
        specs = features_expectations(config, ["a", "b"], classification=True)
        stats = [(s.expectation, s.kwargs, s.severity) for s in specs if s.table == "feature_stats"]
        assert stats == [
            ("ExpectColumnValuesToBeBetween", {"column": "std", "min_value": 0.0, "strict_min": True}, "fail"),
            ("ExpectColumnValuesToBeBetween", {"column": "single_feature_score", "max_value": 0.999}, "fail"),
        ]

    def test_constant_features_only_warn_unless_a_variant_says_fail(self, config: PipelineConfig) -> None:
        default = with_gate(config, "features", on_constant_feature="warn")
        (std,) = find(
            features_expectations(default, ["a"], classification=True), "ExpectColumnValuesToBeBetween", "std"
        )
        assert std.severity == "warn"
        assert FeaturesGateConfig().on_constant_feature == "warn"

    def test_both_can_be_switched_off(self, config: PipelineConfig) -> None:
        relaxed = with_gate(config, "features", min_feature_std=None, max_single_feature_score=None)
        specs = features_expectations(relaxed, ["a", "b"], classification=True)
        assert [s for s in specs if s.table == "feature_stats"] == []

    def test_class_share_bounds_on_either_side(self, config: PipelineConfig) -> None:
        only_max = with_gate(config, "features", min_class_fraction=None, max_class_fraction=0.9)
        (spec,) = find(
            features_expectations(only_max, ["a"], classification=True), "ExpectColumnValuesToBeBetween", "fraction"
        )
        assert spec.kwargs == {"column": "fraction", "max_value": 0.9}


class TestDriftExpectations:
    """PSI above psi_warn warns; above psi_fail (or KS above ks_max) is drift with on_drift's severity."""

    def test_shipped_churn_fails_on_drift(self, shipped: PipelineConfig) -> None:
        specs = drift_expectations(shipped)
        assert [(s.table, s.expectation, s.kwargs, s.severity) for s in specs] == [
            ("drift", "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": 0.1}, "warn"),
            ("drift", "ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": 0.25}, "fail"),
        ]

    def test_on_drift_warn_makes_every_drift_check_a_warning(self, shipped: PipelineConfig) -> None:
        lenient = with_gate(shipped, "drift", on_drift="warn", ks_max=0.2)
        specs = drift_expectations(lenient)
        assert {s.severity for s in specs} == {"warn"}
        assert [s.kwargs["column"] for s in specs] == ["psi", "psi", "ks"]

    def test_ks_only_when_configured(self, shipped: PipelineConfig) -> None:
        with_ks = with_gate(shipped, "drift", ks_max=0.2)
        (ks,) = [s for s in drift_expectations(with_ks) if s.kwargs["column"] == "ks"]
        assert (ks.kwargs, ks.severity) == ({"column": "ks", "max_value": 0.2}, "fail")

    def test_equal_thresholds_give_one_psi_check(self, shipped: PipelineConfig) -> None:
        same = with_gate(shipped, "drift", psi_warn=0.2, psi_fail=0.2)
        assert [(s.kwargs, s.severity) for s in drift_expectations(same)] == [
            ({"column": "psi", "max_value": 0.2}, "fail")
        ]


class TestSegmentExpectations:
    """With segments configured, every judged segment's metric must reach the segment threshold."""

    def test_maximize_metric_has_a_floor(self, shipped: PipelineConfig) -> None:
        (spec,) = [s for s in model_expectations(shipped, has_champion=False) if s.table == "segments"]
        assert (spec.expectation, spec.kwargs) == (
            "ExpectColumnValuesToBeBetween",
            {"column": "roc_auc", "min_value": 0.6},
        )

    def test_minimize_metric_has_a_ceiling(self, shipped: PipelineConfig) -> None:
        rmse = shipped.model_copy(update={"promotion": PromotionConfig(metric="log_loss")})
        (spec,) = [s for s in model_expectations(rmse, has_champion=False) if s.table == "segments"]
        assert spec.kwargs == {"column": "log_loss", "max_value": 0.6}

    def test_none_without_segments(self, config: PipelineConfig) -> None:
        plain = with_gate(config, "model", segments=None)
        assert {s.table for s in model_expectations(plain, has_champion=True)} == {"metrics", "scores"}


class TestCheckShorthand:
    """Each shorthand rule maps to one GX expectation; checks add to or replace the defaults."""

    @pytest.mark.parametrize(
        ("check", "expectation", "kwargs"),
        [
            pytest.param(
                {"column": "x", "between": [0, 300]},
                "ExpectColumnValuesToBeBetween",
                {"column": "x", "min_value": 0, "max_value": 300},
                id="between",
            ),
            pytest.param(
                {"column": "x", "between": [0.5, None]},
                "ExpectColumnValuesToBeBetween",
                {"column": "x", "min_value": 0.5, "max_value": None},
                id="between-open",
            ),
            pytest.param(
                {"column": "x", "in_set": ["a", "b"]},
                "ExpectColumnValuesToBeInSet",
                {"column": "x", "value_set": ["a", "b"]},
                id="in_set",
            ),
            pytest.param(
                {"column": "x", "max_null_fraction": 0.02},
                "ExpectColumnValuesToNotBeNull",
                {"column": "x", "mostly": 0.98},
                id="max_null_fraction",
            ),
            pytest.param(
                {"column": "x", "max_null_fraction": 0},
                "ExpectColumnValuesToNotBeNull",
                {"column": "x"},
                id="max_null_fraction-zero",
            ),
            pytest.param(
                {"column": "x", "mean_between": [1, 2]},
                "ExpectColumnMeanToBeBetween",
                {"column": "x", "min_value": 1, "max_value": 2},
                id="mean_between",
            ),
            pytest.param({"column": "x", "unique": True}, "ExpectColumnValuesToBeUnique", {"column": "x"}, id="unique"),
            pytest.param(
                {"column": "x", "regex": "^C\\d+$"},
                "ExpectColumnValuesToMatchRegex",
                {"column": "x", "regex": "^C\\d+$"},
                id="regex",
            ),
            pytest.param(
                {"table": "row_count", "between": [10, 20]},
                "ExpectTableRowCountToBeBetween",
                {"min_value": 10, "max_value": 20},
                id="table-row_count",
            ),
        ],
    )
    def test_rule_maps_to_one_expectation(self, check: dict, expectation: str, kwargs: dict) -> None:
        spec = check_spec(CheckRule.model_validate({**check, "severity": "warn"}), "data")
        assert (spec.expectation, spec.kwargs, spec.severity, spec.table) == (expectation, kwargs, "warn", "data")

    def test_shipped_churn_checks_are_added_as_warnings(self, shipped: PipelineConfig, config: PipelineConfig) -> None:
        defaults = raw_expectations(config, WINDOW)
        specs = raw_expectations(shipped, WINDOW)
        assert specs[: len(defaults)] == defaults
        assert [(s.expectation, s.kwargs, s.severity) for s in specs[len(defaults) :]] == [
            ("ExpectColumnValuesToBeBetween", {"column": "monthly_charges", "min_value": 0, "max_value": 300}, "warn"),
            ("ExpectColumnMeanToBeBetween", {"column": "tenure_months", "min_value": 10, "max_value": 40}, "warn"),
        ]
        # The schema's fail range stays next to the warning.
        ranges = find(specs, "ExpectColumnValuesToBeBetween", "monthly_charges")
        assert [(s.kwargs["max_value"], s.severity) for s in ranges] == [(500, "fail"), (300, "warn")]

    def test_same_rule_and_severity_replaces_the_default(self, config: PipelineConfig) -> None:
        checks = (
            CheckRule(column="monthly_charges", between=(0, 400)),
            CheckRule(column="region", max_null_fraction=0.2),
            CheckRule(column="plan", in_set=("basic", "gold")),
            CheckRule(table="row_count", between=(10, None)),
            CheckRule(column="customer_id", unique=True, severity="warn"),
        )
        specs = raw_expectations(with_gate(config, "raw", checks=checks), WINDOW)
        (charges,) = find(specs, "ExpectColumnValuesToBeBetween", "monthly_charges")
        assert charges.kwargs == {"column": "monthly_charges", "min_value": 0, "max_value": 400}
        (nulls,) = find(specs, "ExpectColumnValuesToNotBeNull", "region")
        assert nulls.kwargs == {"column": "region", "mostly": 0.8}
        (plan,) = find(specs, "ExpectColumnValuesToBeInSet", "plan")
        assert plan.kwargs["value_set"] == ["basic", "gold"]
        (rows,) = find(specs, "ExpectTableRowCountToBeBetween")
        assert rows.kwargs == {"min_value": 10, "max_value": None}
        # Another severity adds: the fail uniqueness check stays beside the warning.
        assert [s.severity for s in find(specs, "ExpectColumnValuesToBeUnique", "customer_id")] == ["fail", "warn"]

    def test_invariants_are_never_replaced(self, config: PipelineConfig) -> None:
        checks = (CheckRule(column="tenure_months", between=(0, None)),)
        specs = features_expectations(
            with_gate(config, "features", checks=checks), ["tenure_months"], classification=True
        )
        ranges = find(specs, "ExpectColumnValuesToBeBetween", "tenure_months", "train")
        assert [s.kwargs for s in ranges] == [
            {"column": "tenure_months", "min_value": -FLOAT_MAX, "max_value": FLOAT_MAX},
            {"column": "tenure_months", "min_value": 0, "max_value": None},
        ]
        assert len(find(specs, "ExpectColumnValuesToBeBetween", "tenure_months", "holdout")) == 2

    def test_model_checks_land_on_metrics_or_scores(self, config: PipelineConfig) -> None:
        checks = (
            CheckRule(column="roc_auc", between=(0.7, None)),
            CheckRule(column="f1", between=(0.3, None), severity="warn"),
            CheckRule(column="score", mean_between=(0.1, 0.6)),
            CheckRule(table="row_count", between=(100, None)),
        )
        specs = model_expectations(with_gate(config, "model", checks=checks), has_champion=False)
        (threshold,) = find(specs, "ExpectColumnValuesToBeBetween", "roc_auc", "metrics")
        assert threshold.kwargs == {"column": "roc_auc", "min_value": 0.7, "max_value": None}
        assert find(specs, "ExpectColumnValuesToBeBetween", "f1", "metrics")[0].severity == "warn"
        assert len(find(specs, "ExpectColumnMeanToBeBetween", "score", "scores")) == 1
        assert len(find(specs, "ExpectTableRowCountToBeBetween", table="scores")) == 1
