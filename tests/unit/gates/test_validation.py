"""Unit tests for ``include.retrain.gates.validation.run_gate`` with real Great Expectations.

The raw gate of the churn config runs on a clean synthetic 28-day window shaped like ingest
(assemble_window + coerce_to_schema); each test injects one fault into a copy of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.config import ColumnSpec, PipelineConfig, load_pipeline
from include.retrain.gates import batches as gate_batches
from include.retrain.gates import validation
from include.retrain.gates.expectations import ExpectationSpec, raw_expectations
from include.retrain.gates.parquet_table import ParquetTable
from include.retrain.gates.result import GateResult
from include.retrain.gates.validation import run_gate
from include.retrain.runs import TrainingWindow
from include.retrain.stages.ingest import assemble_window, coerce_to_schema
from tests.unit.gates.conftest import schema_defaults

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
WINDOW = TrainingWindow.ending(date(2026, 2, 1), 28)
ROWS_PER_DAY = 50
REPORT_URI = "s3://retrain-artifacts/retraining/churn/runs/2026-02-01/validate_raw/report.json"

Fault = Callable[[pd.DataFrame, TrainingWindow], tuple[pd.DataFrame, TrainingWindow]]


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    """The churn variant's schema defaults (its shorthand checks are tested elsewhere)."""
    return schema_defaults(load_pipeline(CHURN_YAML))


@pytest.fixture(scope="module")
def clean(config: PipelineConfig) -> pd.DataFrame:
    days = [WINDOW.start + timedelta(days=i) for i in range(WINDOW.days)]
    raw = assemble_window([(day, churn_day(day, ROWS_PER_DAY)) for day in days], config.dataset.partition_column)
    return coerce_to_schema(raw, config.dataset.columns)


def raw_gate(config: PipelineConfig, frame: pd.DataFrame, window: TrainingWindow = WINDOW) -> GateResult:
    return run_gate("validate_raw", {"data": frame}, raw_expectations(config, window))


def failing(result: GateResult) -> set[tuple[str, str | None]]:
    return {(o.expectation, o.column) for o in result.failures}


# -- faults: each returns the damaged copy of the clean window (and the window to validate) ----


def missing_column(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    return frame.drop(columns=["plan"]), window


def extra_column(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    return frame.assign(discount=0.1), window


def wrong_dtype(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    """tenure_months as CSV strings with one non-numeric value: coercion leaves it as str."""
    strings = frame.copy()
    strings["tenure_months"] = strings["tenure_months"].astype("str")
    strings.loc[5, "tenure_months"] = "about a year"
    coerced = coerce_to_schema(strings, {"tenure_months": ColumnSpec(type="int", min=0, max=120)})
    assert str(coerced["tenure_months"].dtype) == "str"
    return coerced, window


def nulls_over_threshold(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    damaged = frame.copy()
    damaged.loc[damaged.index[::10], "monthly_charges"] = np.nan  # 10% on top of the ~1% synthetic nulls
    return damaged, window


def out_of_range(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    damaged = frame.copy()
    damaged.loc[[3, 300, 900], "support_calls"] = 250
    return damaged, window


def unknown_category(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    damaged = frame.copy()
    damaged["plan"] = damaged["plan"].cat.add_categories(["platinum"])
    damaged.loc[[7, 8], "plan"] = "platinum"
    return damaged, window


def duplicate_ids(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    damaged = frame.copy()
    damaged.loc[100, "customer_id"] = damaged.loc[0, "customer_id"]
    return damaged, window


def empty_window(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    return frame.iloc[0:0].copy(), window


def stale_data(frame: pd.DataFrame, window: TrainingWindow) -> tuple[pd.DataFrame, TrainingWindow]:
    return frame, TrainingWindow.ending(window.end + timedelta(days=30), window.days)


FAULTS = [
    pytest.param(
        missing_column,
        {
            ("expect_table_columns_to_match_set", None),
            ("expect_column_to_exist", "plan"),
            ("expect_column_dtype_to_be_in", "plan"),
            ("expect_column_values_to_not_be_null", "plan"),
            ("expect_column_values_to_be_in_set", "plan"),
        },
        "expect_column_to_exist(column='plan')",
        id="missing-column",
    ),
    pytest.param(
        extra_column,
        {("expect_table_columns_to_match_set", None)},
        "'discount'",
        id="extra-column",
    ),
    pytest.param(
        wrong_dtype,
        {("expect_column_dtype_to_be_in", "tenure_months"), ("expect_column_values_to_be_between", "tenure_months")},
        "expect_column_dtype_to_be_in(column='tenure_months', type_list=['Int64'",
        id="wrong-dtype",
    ),
    pytest.param(
        nulls_over_threshold,
        {("expect_column_values_to_not_be_null", "monthly_charges")},
        "expect_column_values_to_not_be_null(column='monthly_charges', mostly=0.95)",
        id="nulls-over-threshold",
    ),
    pytest.param(
        out_of_range,
        {("expect_column_values_to_be_between", "support_calls")},
        "3 unexpected values",
        id="out-of-range",
    ),
    pytest.param(
        unknown_category,
        {("expect_column_values_to_be_in_set", "plan")},
        "'platinum'",
        id="unknown-category",
    ),
    pytest.param(
        duplicate_ids,
        {("expect_column_values_to_be_unique", "customer_id")},
        "C20260104-0000000",
        id="duplicate-ids",
    ),
    pytest.param(
        empty_window,
        {("expect_table_row_count_to_be_between", None), ("expect_column_max_to_be_between", "ds")},
        "expect_table_row_count_to_be_between(min_value=1000) on data: observed 0",
        id="empty-window",
    ),
    pytest.param(
        stale_data,
        {("expect_column_max_to_be_between", "ds")},
        "observed 2026-01-31",
        id="stale-data",
    ),
]


class TestRawGate:
    """A clean window passes; every injected fault fails the gate and is named."""

    def test_clean_window_passes(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        result = raw_gate(config, clean)
        assert result.success, result.failure_message(REPORT_URI)
        assert result.failures == []
        assert result.warnings == []
        assert len(result.outcomes) == len(raw_expectations(config, WINDOW))
        assert result.row_counts == {"data": WINDOW.days * ROWS_PER_DAY}
        assert result.gate == "validate_raw"

    @pytest.mark.parametrize(("fault", "expected", "message"), FAULTS)
    def test_fault_fails_the_gate(
        self,
        config: PipelineConfig,
        clean: pd.DataFrame,
        fault: Fault,
        expected: set[tuple[str, str | None]],
        message: str,
    ) -> None:
        frame, window = fault(clean, WINDOW)
        result = raw_gate(config, frame, window)
        assert not result.success
        assert failing(result) == expected
        text = result.failure_message(REPORT_URI)
        assert text.startswith(f"Gate validate_raw failed: {len(expected)} of ")
        assert message in text
        assert text.endswith(f"Report: {REPORT_URI}")
        summary = result.summary(REPORT_URI)
        assert summary["success"] is False
        assert any(message in line for line in summary["failed"])

    def test_fault_does_not_touch_the_clean_frame(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        assert raw_gate(config, clean).success

    @pytest.mark.parametrize(
        ("days_missing", "fresh"),
        [pytest.param(2, True, id="two-days-late-ok"), pytest.param(3, False, id="three-days-late-stale")],
    )
    def test_freshness_boundary(
        self, config: PipelineConfig, clean: pd.DataFrame, days_missing: int, fresh: bool
    ) -> None:
        last_day = pd.Timestamp(WINDOW.end - timedelta(days=days_missing + 1))
        result = raw_gate(config, clean[clean["ds"] <= last_day])
        assert result.success is fresh
        if not fresh:
            assert failing(result) == {("expect_column_max_to_be_between", "ds")}


class TestGateResult:
    """Warnings, the XCom summary, the full report and the failure message of a real gate run."""

    def test_warn_severity_does_not_fail_the_gate(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        warn = ExpectationSpec("ExpectColumnMeanToBeBetween", {"column": "tenure_months", "max_value": 1}, "warn")
        result = run_gate("validate_raw", {"data": clean}, [*raw_expectations(config, WINDOW), warn])
        assert result.success
        assert result.failures == []
        assert [(o.expectation, o.column, o.severity) for o in result.warnings] == [
            ("expect_column_mean_to_be_between", "tenure_months", "warn")
        ]
        summary = result.summary(REPORT_URI)
        assert summary["success"] is True
        assert summary["failed"] == []
        assert len(summary["warnings"]) == 1
        assert summary["warnings"][0].startswith("expect_column_mean_to_be_between(column='tenure_months'")
        assert "observed" in summary["warnings"][0]

    def test_warnings_are_counted_in_the_failure_message(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        warn = ExpectationSpec("ExpectColumnMeanToBeBetween", {"column": "tenure_months", "max_value": 1}, "warn")
        frame, _ = extra_column(clean, WINDOW)
        result = run_gate("validate_raw", {"data": frame}, [*raw_expectations(config, WINDOW), warn])
        assert not result.success
        assert len(result.warnings) == 1
        assert "(1 warnings, see the report)" in result.failure_message(REPORT_URI)

    def test_summary_is_json_and_small(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        damaged = clean.copy()
        damaged.loc[damaged.index[::3], "monthly_charges"] = np.nan
        damaged.loc[damaged.index[::2], "support_calls"] = 999
        damaged["customer_id"] = "same-id"
        result = raw_gate(config, damaged)
        summary = result.summary(REPORT_URI)
        encoded = json.dumps(summary, allow_nan=False)
        assert len(encoded) < 4000
        assert json.loads(encoded) == summary
        assert set(summary) == {
            "summary",
            "gate",
            "success",
            "evaluated",
            "failed",
            "dependent_failures",
            "warnings",
            "notes",
            "rows",
            "report_uri",
            "html_report_uri",
        }
        assert summary["evaluated"] == len(result.outcomes)
        assert summary["rows"] == {"data": len(damaged)}
        assert summary["report_uri"] == REPORT_URI
        assert len(summary["failed"]) == 3
        failed = sum(not o.success for o in result.outcomes)
        assert (
            summary["summary"]
            == f"FAILED: {len(result.outcomes) - failed}/{len(result.outcomes)} expectations met, 0 warnings"
        )
        # Samples are short: never the full list of unexpected values.
        assert all(len(o.unexpected_sample) <= 10 for o in result.outcomes)
        assert "same-id" in encoded

    def test_report_lists_every_expectation_with_observed_values(
        self, config: PipelineConfig, clean: pd.DataFrame
    ) -> None:
        specs = raw_expectations(config, WINDOW)
        frame, _ = out_of_range(clean, WINDOW)
        result = raw_gate(config, frame)
        report = result.report({"run_key": "2026-02-01", "window": str(WINDOW)})
        json.dumps(report, allow_nan=False)
        assert report["gate"] == "validate_raw"
        assert report["success"] is False
        assert report["context"] == {"run_key": "2026-02-01", "window": str(WINDOW)}
        assert report["statistics"] == {
            "evaluated": len(specs),
            "successful": len(specs) - 1,
            "failed": 1,
            "warnings": 0,
            "rows": {"data": len(frame)},
        }
        entries = report["expectations"]
        assert len(entries) == len(specs)
        by_key = {(e["expectation"], e["kwargs"].get("column")): e for e in entries}
        assert len(by_key) == len(specs)
        assert by_key[("expect_table_row_count_to_be_between", None)]["observed"] == len(frame)
        assert by_key[("expect_column_dtype_to_be_in", "tenure_months")]["observed"] == "Int64"
        assert by_key[("expect_column_dtype_to_be_in", "plan")]["observed"] == "category"
        assert by_key[("expect_column_max_to_be_between", "ds")]["observed"] == "2026-01-31T00:00:00"
        assert by_key[("expect_column_values_to_not_be_null", "monthly_charges")]["unexpected_count"] == int(
            frame["monthly_charges"].isna().sum()
        )
        range_check = by_key[("expect_column_values_to_be_between", "support_calls")]
        assert range_check["success"] is False
        assert range_check["unexpected_count"] == 3
        assert range_check["unexpected_sample"] == [250, 250, 250]
        for entry in entries:
            assert {"table", "expectation", "kwargs", "severity", "success", "observed"} <= set(entry)

    def test_missing_column_summarizes_dependent_failures(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        frame, _ = missing_column(clean, WINDOW)
        result = raw_gate(config, frame)
        dependent = sum(1 for s in raw_expectations(config, WINDOW) if s.kwargs.get("column") == "plan") - 1
        assert dependent == 3
        text = result.failure_message(REPORT_URI)
        lines = [line for line in text.splitlines() if line.startswith("  - ")]
        assert len(lines) == 2
        assert any(line.startswith("  - expect_column_to_exist(column='plan')") for line in lines)
        assert any(line.startswith("  - expect_table_columns_to_match_set(") for line in lines)
        assert f"({dependent} further checks on the missing columns could not run)" in text
        assert "expect_column_values_to_be_in_set(column='plan'" not in text
        assert "expect_column_dtype_to_be_in(column='plan'" not in text
        summary = result.summary(REPORT_URI)
        assert summary["dependent_failures"] == dependent
        assert len(summary["failed"]) == 2
        assert len(result.failures) == 2 + dependent

    def test_missing_table_is_refused(self, config: PipelineConfig, clean: pd.DataFrame) -> None:
        with pytest.raises(ValueError, match="no data given for tables \\['data'\\]"):
            run_gate("validate_raw", {"other": clean}, raw_expectations(config, WINDOW))

    def test_several_tables_in_one_gate(self) -> None:
        specs = [
            ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 3}, table="train"),
            ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 3}, table="holdout"),
        ]
        tables = {"train": pd.DataFrame({"x": [1, 2, 3]}), "holdout": pd.DataFrame({"x": [1]})}
        result = run_gate("validate_features", tables, specs)
        assert [(o.table, o.success) for o in result.outcomes] == [("train", True), ("holdout", False)]
        assert result.row_counts == {"train": 3, "holdout": 1}
        assert "on holdout: observed 1" in result.failure_message(REPORT_URI)


class TestDerivedTables:
    """Small derived tables (one row per feature, segment, ...) name the failing row by its key."""

    def test_keyed_samples_name_the_row(self) -> None:
        table = pd.DataFrame({"feature": ["a", "b", "c"], "psi": [0.01, 0.9, np.nan]})
        spec = ExpectationSpec("ExpectColumnValuesToBeBetween", {"column": "psi", "max_value": 0.25}, table="drift")
        result = run_gate("check_drift", {"drift": table}, [spec], row_keys={"drift": "feature"})
        (outcome,) = result.failures
        assert outcome.unexpected_sample == [{"feature": "b", "psi": 0.9}]
        assert "e.g. [{'feature': 'b', 'psi': 0.9}]" in result.failure_message(REPORT_URI)

    def test_notes_reach_summary_and_report(self) -> None:
        result = run_gate("check_drift", {}, [], ["no champion yet (first run)"])
        assert result.success
        assert result.summary(REPORT_URI, "s3://x/check_drift.html")["notes"] == ["no champion yet (first run)"]
        assert result.report({})["notes"] == ["no champion yet (first run)"]


def test_renamed_column_names_the_missing_and_the_unexpected(config: PipelineConfig, clean: pd.DataFrame) -> None:
    result = raw_gate(config, clean.rename(columns={"plan": "plan_name"}))
    (line,) = [o.describe() for o in result.failures if o.expectation == "expect_table_columns_to_match_set"]
    assert line.endswith("unexpected ['plan_name']; missing ['plan']")


def test_failure_message_gives_both_reports(config: PipelineConfig, clean: pd.DataFrame) -> None:
    frame, _ = extra_column(clean, WINDOW)
    text = raw_gate(config, frame).failure_message(REPORT_URI, "s3://bucket/gates/validate_raw.html")
    assert text.splitlines()[-2:] == [f"Report: {REPORT_URI}", "Data docs (HTML): s3://bucket/gates/validate_raw.html"]


class TestBetweenOnEveryNumericDtype:
    """``between`` is compared in one step for every numeric dtype (gates.vectorized), with Python's results."""

    def test_float32_infinities_are_outside_the_largest_float64(self) -> None:
        # In float32 the bound 1.8e308 would itself round to inf and let infinities through.
        frame = pd.DataFrame({"x": np.array([0.0, 1.0, np.inf, -np.inf, np.nan], dtype="float32")})
        spec = ExpectationSpec(
            "ExpectColumnValuesToBeBetween",
            {"column": "x", "min_value": -1.7976931348623157e308, "max_value": 1.7976931348623157e308},
            table="m",
        )
        (outcome,) = run_gate("validate_features", {"m": frame}, [spec]).outcomes
        assert (outcome.success, outcome.unexpected_count) == (False, 2)

    @pytest.mark.parametrize("dtype", ["Int64", "Int32", "int64", "float64", "Float64"])
    def test_nullable_and_plain_numbers_ignore_missing_values(self, dtype: str) -> None:
        values = [1, 2, 3, 4, 9] if dtype.startswith("int") else [1, None, 3, 4, 9]
        frame = pd.DataFrame({"x": pd.array(values, dtype=dtype)})
        spec = ExpectationSpec(
            "ExpectColumnValuesToBeBetween",
            {"column": "x", "min_value": 1, "max_value": 4, "strict_min": True},
            table="m",
        )
        (outcome,) = run_gate("validate_raw", {"m": frame}, [spec]).outcomes
        assert outcome.unexpected_count == 2
        assert outcome.unexpected_sample == [1, 9]

    def test_dates_keep_gx_own_comparison(self) -> None:
        frame = pd.DataFrame({"ds": pd.to_datetime(["2026-01-01", "2026-03-01"]).astype("datetime64[us]")})
        spec = ExpectationSpec(
            "ExpectColumnValuesToBeBetween", {"column": "ds", "max_value": "2026-02-01T00:00:00"}, table="m"
        )
        (outcome,) = run_gate("validate_raw", {"m": frame}, [spec]).outcomes
        assert outcome.unexpected_count == 1


class TestColumnBatches:
    """Large tables are validated a column at a time (gates.batches), with the same results."""

    @pytest.mark.parametrize(
        "fault",
        [pytest.param(None, id="clean")] + [pytest.param(p.values[0], id=p.id) for p in FAULTS],
    )
    def test_same_report_as_one_batch(
        self, config: PipelineConfig, clean: pd.DataFrame, fault: Fault | None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        frame, window = fault(clean.copy(), WINDOW) if fault else (clean, WINDOW)
        whole = raw_gate(config, frame, window)
        monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
        split = raw_gate(config, frame, window)

        assert len(list(gate_batches.batches(frame, raw_expectations(config, window)))) > 1
        report, split_report = whole.report({}), split.report({})
        assert split_report["statistics"] == report["statistics"]
        assert sorted(map(json.dumps, split_report["expectations"])) == sorted(map(json.dumps, report["expectations"]))
        assert sorted(split.failure_message(REPORT_URI).splitlines()) == sorted(
            whole.failure_message(REPORT_URI).splitlines()
        )
        if fault is not missing_column:  # GX lists what could not run first; otherwise the order is GX's own
            assert split_report["expectations"] == report["expectations"]
        (_, merged), (_, single) = split.validations[0], whole.validations[0]
        assert merged.statistics == single.statistics
        assert merged.success == single.success

    def test_each_batch_leaves_no_cached_metrics_behind(
        self, config: PipelineConfig, clean: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """GX's engine would keep every batch's per-row metrics until the gate ends (gates.validation.forget_batch)."""
        monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
        cached: list[tuple[int, int]] = []
        forget_batch = validation.forget_batch

        def measured(source: Any) -> None:
            before = len(source.get_execution_engine()._metric_cache)
            forget_batch(source)
            cached.append((before, len(source.get_execution_engine()._metric_cache)))

        monkeypatch.setattr(validation, "forget_batch", measured)
        assert raw_gate(config, clean).success
        assert len(cached) == len(list(gate_batches.batches(clean, raw_expectations(config, WINDOW))))
        assert all(before > 0 for before, _ in cached)  # the engine the batch ran on held its metrics
        assert all(after == 0 for _, after in cached)


class TestParquetTable:
    """A window handed over as a Parquet file (validate_raw) gets the report its frame gets, never read whole."""

    @staticmethod
    def written(frame: pd.DataFrame, tmp_path: Path) -> Path:
        path = tmp_path / "raw.parquet"
        frame.to_parquet(path, index=False, compression="zstd")  # as ingest writes the window
        return path

    @pytest.mark.parametrize(
        "fault",
        [pytest.param(None, id="clean")] + [pytest.param(p.values[0], id=p.id) for p in FAULTS],
    )
    def test_same_report_as_the_frame_read_whole(
        self,
        config: PipelineConfig,
        clean: pd.DataFrame,
        fault: Fault | None,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        parquet_reads: list[list[str] | None],
    ) -> None:
        frame, window = fault(clean.copy(), WINDOW) if fault else (clean, WINDOW)
        path = self.written(frame, tmp_path)
        whole = raw_gate(config, pd.read_parquet(path), window)
        monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
        lazy = raw_gate(config, ParquetTable.open(path), window)

        report, lazy_report = whole.report({}), lazy.report({})
        assert lazy_report["statistics"] == report["statistics"]
        assert sorted(map(json.dumps, lazy_report["expectations"])) == sorted(map(json.dumps, report["expectations"]))
        if fault is not missing_column:  # GX lists what could not run first; otherwise the order is GX's own
            assert lazy_report["expectations"] == report["expectations"]
        assert lazy.success == whole.success
        assert lazy.row_counts == whole.row_counts
        assert parquet_reads  # a column at a time: the window is never in memory whole
        assert all(columns is not None and len(columns) == 1 for columns in parquet_reads)

    def test_small_table_is_read_once_whole(
        self, config: PipelineConfig, clean: pd.DataFrame, tmp_path: Path, parquet_reads: list[list[str] | None]
    ) -> None:
        path = self.written(clean, tmp_path)
        assert len(clean) < gate_batches.COLUMN_BATCH_ROWS
        whole = raw_gate(config, pd.read_parquet(path))
        lazy = raw_gate(config, ParquetTable.open(path))
        assert lazy.report({}) == whole.report({})
        assert parquet_reads == [None]  # one read of every column, as one batch

    def test_a_check_across_columns_reads_their_values(
        self, clean: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Only shape expectations see the table's shape; others read the real values (here they differ)."""
        path = self.written(clean, tmp_path)
        specs = [
            ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": 1}),
            ExpectationSpec(
                "ExpectColumnPairValuesToBeEqual", {"column_A": "tenure_months", "column_B": "support_calls"}
            ),
        ]
        monkeypatch.setattr(gate_batches, "COLUMN_BATCH_ROWS", 0)
        lazy = run_gate("validate_raw", {"data": ParquetTable.open(path)}, specs)
        whole = run_gate("validate_raw", {"data": pd.read_parquet(path)}, specs)
        assert [o.success for o in lazy.outcomes] == [o.success for o in whole.outcomes]
        assert not lazy.success  # on the shape's zeros the pair would be equal
