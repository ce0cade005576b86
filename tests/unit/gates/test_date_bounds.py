"""Date and datetime columns take ``min``/``max``: absolute dates, and ``max: window_end``.

Before, ``min``/``max`` applied only to int and float columns, so a future ``signup_date`` passed
every gate. The config shape is checked by pydantic (a clear error naming the field), and the raw
gate checks the bounds with GX's ``ExpectColumnValuesToBeBetween`` on the real frame.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from dev.synthetic.churn import churn_day
from include.retrain.config import ColumnSpec, PipelineConfig, load_pipeline
from include.retrain.errors import ConfigError
from include.retrain.gates.expectations import ExpectationSpec, raw_expectations
from include.retrain.runs import TrainingWindow

CHURN_YAML = Path(__file__).resolve().parents[3] / "include" / "pipelines" / "churn.yaml"
WINDOW = TrainingWindow.ending(date(2026, 2, 1), 28)


def _churn_with_signup(tmp_path: Path, **bounds: Any) -> Path:
    raw = yaml.safe_load(CHURN_YAML.read_text(encoding="utf-8"))
    raw["dataset"]["columns"]["signup_date"] = {"type": "date", **bounds}
    path = tmp_path / "churn.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _between(specs: list[ExpectationSpec], column: str) -> list[ExpectationSpec]:
    return [s for s in specs if s.expectation == "ExpectColumnValuesToBeBetween" and s.kwargs.get("column") == column]


class TestConfigShape:
    def test_yaml_dates_and_window_end(self, tmp_path: Path) -> None:
        config = load_pipeline(_churn_with_signup(tmp_path, min=date(2015, 1, 1), max="window_end"))

        spec = config.dataset.columns["signup_date"]
        assert (spec.min, spec.max) == (date(2015, 1, 1), "window_end")

    def test_quoted_dates_are_dates(self) -> None:
        spec = ColumnSpec(type="datetime", min="2015-01-01", max="2030-12-31")

        assert (spec.min, spec.max) == (date(2015, 1, 1), date(2030, 12, 31))

    def test_numeric_bounds_stay_numbers(self) -> None:
        spec = ColumnSpec(type="int", min=0, max=100)

        assert (spec.min, spec.max) == (0.0, 100.0)
        assert all(isinstance(v, float) for v in (spec.min, spec.max))

    @pytest.mark.parametrize(
        ("bounds", "reason"),
        [
            pytest.param(
                {"type": "date", "min": 5}, "min of a date column must be a date YYYY-MM-DD", id="number-on-date"
            ),
            pytest.param({"type": "date", "min": "window_end"}, "min", id="window-end-as-min"),
            pytest.param(
                {"type": "int", "max": "window_end"}, "max of an int column must be a number", id="window-end-on-int"
            ),
            pytest.param(
                {"type": "float", "min": "2020-01-01"}, "min of a float column must be a number", id="date-on-float"
            ),
            pytest.param({"type": "string", "max": "window_end"}, "min/max apply to", id="bound-on-string"),
            pytest.param(
                {"type": "date", "min": "2030-01-01", "max": "2020-01-01"}, "is after max", id="min-after-max"
            ),
            pytest.param({"type": "date", "max": "yesterday"}, "max", id="not-a-date"),
        ],
    )
    def test_refused_with_a_clear_reason(self, bounds: dict[str, Any], reason: str) -> None:
        with pytest.raises(ValueError, match=reason):
            ColumnSpec(**bounds)

    def test_a_bad_bound_in_yaml_names_the_file_and_field(self, tmp_path: Path) -> None:
        path = _churn_with_signup(tmp_path, max=20260101)

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        assert str(path) in str(info.value)
        assert any(p.startswith("dataset.columns.signup_date") for p in info.value.problems), info.value.problems


class TestRawExpectations:
    def test_absolute_bounds(self, tmp_path: Path) -> None:
        config = load_pipeline(_churn_with_signup(tmp_path, min="2015-01-01", max="2030-12-31"))

        (spec,) = _between(raw_expectations(config, WINDOW), "signup_date")
        assert spec.kwargs == {
            "column": "signup_date",
            "min_value": "2015-01-01T00:00:00",
            "max_value": "2030-12-31T00:00:00",
        }
        assert spec.rule == "between"
        assert spec.severity == "fail"

    def test_window_end_is_an_exclusive_bound_at_the_run_window_end(self, tmp_path: Path) -> None:
        config = load_pipeline(_churn_with_signup(tmp_path, max="window_end"))

        (spec,) = _between(raw_expectations(config, WINDOW), "signup_date")
        assert spec.kwargs == {
            "column": "signup_date",
            "min_value": None,
            "max_value": "2026-02-01T00:00:00",
            "strict_max": True,
        }

    def test_numeric_bounds_unchanged(self, tmp_path: Path) -> None:
        config = load_pipeline(CHURN_YAML)

        specs = _between(raw_expectations(config, WINDOW), "support_calls")
        assert specs[0].kwargs == {"column": "support_calls", "min_value": 0.0, "max_value": 100.0}


class TestRawGate:
    """Real GX on a real frame: a signup dated after the window end fails validate_raw by name."""

    @pytest.fixture(scope="class")
    def config(self, tmp_path_factory: pytest.TempPathFactory) -> PipelineConfig:
        return load_pipeline(_churn_with_signup(tmp_path_factory.mktemp("cfg"), min="2000-01-01", max="window_end"))

    @staticmethod
    def _raw(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(ds=pd.Timestamp("2026-01-31")).astype({"ds": "datetime64[us]"})

    def test_future_dates_fail_the_gate(self, config: PipelineConfig) -> None:
        from include.retrain.gates.validation import run_gate

        frame = churn_day(date(2026, 1, 31), 200)
        frame.loc[[3, 7], "signup_date"] = pd.Timestamp("2026-02-01")  # the window end: the future of the data
        frame.loc[[11], "signup_date"] = pd.Timestamp("2027-06-30")

        result = run_gate("validate_raw", {"data": self._raw(frame)}, raw_expectations(config, WINDOW))

        assert not result.success
        (failure,) = [o for o in result.failures if o.column == "signup_date"]
        assert failure.expectation == "expect_column_values_to_be_between"
        assert failure.unexpected_count == 3
        assert "signup_date" in result.failure_message("s3://b/r.json")

    def test_dates_inside_the_bounds_pass(self, config: PipelineConfig) -> None:
        from include.retrain.gates.validation import run_gate

        frame = churn_day(date(2026, 1, 31), 200)

        result = run_gate("validate_raw", {"data": self._raw(frame)}, raw_expectations(config, WINDOW))

        assert [o for o in result.outcomes if o.column == "signup_date" and not o.success] == []

    def test_dates_before_min_fail(self, config: PipelineConfig) -> None:
        from include.retrain.gates.validation import run_gate

        frame = churn_day(date(2026, 1, 31), 200)
        frame.loc[[5], "signup_date"] = pd.Timestamp("1999-12-31")

        result = run_gate("validate_raw", {"data": self._raw(frame)}, raw_expectations(config, WINDOW))

        (failure,) = [o for o in result.failures if o.column == "signup_date"]
        assert failure.unexpected_count == 1
