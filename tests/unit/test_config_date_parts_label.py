"""Config of date parts (``features.date_parts``) and a derived label (``dataset.label``), issue 16 item 9.

Each bad file is refused with its path, the field and the offending value in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.config import load_pipeline
from include.retrain.errors import ConfigError
from tests.e2e.flights_variant import FLIGHTS_YAML


def flights() -> dict[str, Any]:
    return yaml.safe_load(FLIGHTS_YAML)


def write(tmp_path: Path, edit: Callable[[dict[str, Any]], None] | None = None, text: str | None = None) -> Path:
    raw = flights()
    if edit is not None:
        edit(raw)
    path = tmp_path / "flights.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def refused(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> str:
    path = write(tmp_path, edit)
    with pytest.raises(ConfigError) as info:
        load_pipeline(path)
    message = str(info.value)
    assert str(path) in message
    return message


class TestDateParts:
    def test_parts_become_named_features_compared_by_drift(self, tmp_path: Path) -> None:
        config = load_pipeline(write(tmp_path))
        features = config.features

        assert features.date_part_columns == [
            "flight_date_month",
            "flight_date_dayofweek",
            "flight_date_is_weekend",
            "scheduled_departure_hour",
        ]
        assert features.all[-2:] == ["flight_date", "scheduled_departure"]  # the model takes the dates
        assert features.compared[-4:] == features.date_part_columns
        assert features.sources(["distance", "flight_date_month", "flight_date_is_weekend"]) == [
            "distance",
            "flight_date",
        ]

    def test_a_date_part_can_be_a_drift_column_and_a_feature_check_column(self, tmp_path: Path) -> None:
        def edit(raw: dict[str, Any]) -> None:
            raw["expectations"]["drift"] = {"columns": ["flight_date_month", "distance"]}
            raw["expectations"]["features"]["checks"] = [{"column": "flight_date_month", "between": [1, 12]}]

        config = load_pipeline(write(tmp_path, edit))

        assert config.expectations.drift.columns == ("flight_date_month", "distance")

    def test_a_date_column_itself_is_no_drift_column(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["expectations"].update(drift={"columns": ["flight_date"]}))

        assert "expectations.drift.columns: ['flight_date'] are not model features" in message
        assert "signup_date_month" in message

    @pytest.mark.parametrize(
        ("parts", "expected"),
        [
            (["month", "weekday"], "flight_date: unknown date part 'weekday'; choose from ['year', 'quarter'"),
            ([], "flight_date: list at least one date part"),
            (["month", "month"], "flight_date: a date part is listed more than once"),
        ],
        ids=["unknown-part", "empty", "duplicate"],
    )
    def test_bad_part_lists_are_refused(self, tmp_path: Path, parts: list[str], expected: str) -> None:
        message = refused(tmp_path, lambda raw: raw["features"]["date_parts"].update(flight_date=parts))

        assert "features.date_parts" in message
        assert expected in message

    def test_hour_is_for_datetime_columns_only(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["features"]["date_parts"].update(flight_date=["hour"]))

        assert "features.date_parts.flight_date: ['hour'] is a part of datetime columns" in message
        assert "'flight_date' is a date column" in message

    def test_a_column_that_is_no_date_is_refused(self, tmp_path: Path) -> None:
        def edit(raw: dict[str, Any]) -> None:
            raw["dataset"]["columns"]["gate"] = {"type": "string"}
            raw["features"]["date_parts"]["gate"] = ["month"]

        message = refused(tmp_path, edit)

        assert "features.date_parts.gate: 'gate' has type string; date parts need a date or datetime" in message

    def test_an_undeclared_column_is_refused(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["features"]["date_parts"].update(booked_on=["month"]))

        assert "features.date_parts.booked_on: 'booked_on' is not a column in dataset.columns" in message

    def test_a_part_named_like_another_feature_is_refused(self, tmp_path: Path) -> None:
        def edit(raw: dict[str, Any]) -> None:
            raw["dataset"]["columns"]["flight_date_month"] = {"type": "int"}
            raw["features"]["numeric"].append("flight_date_month")

        message = refused(tmp_path, edit)

        assert "the derived feature 'flight_date_month' is named like a feature or the target" in message


class TestDerivedLabel:
    def test_the_label_is_a_boolean_column_of_the_raw_window(self, tmp_path: Path) -> None:
        dataset = load_pipeline(write(tmp_path)).dataset

        assert dataset.target == "late"
        assert "late" not in dataset.columns
        assert dataset.target_spec.type == "bool"
        assert list(dataset.raw_columns)[-2:] == ["arr_delay", "late"]
        assert dataset.label is not None
        assert dataset.label.describe("late") == "late = arr_delay > 15"

    @pytest.mark.parametrize("kind", ["numeric", "categorical", "passthrough"])
    def test_the_source_column_is_refused_as_a_feature(self, tmp_path: Path, kind: str) -> None:
        def edit(raw: dict[str, Any]) -> None:
            if kind == "categorical":
                raw["dataset"]["columns"]["arr_delay"] = {"type": "category", "values": ["early", "late"]}
                raw["dataset"]["label"] = {"column": "arr_delay", "equals": "late"}
            raw["features"].setdefault(kind, []).append("arr_delay")

        message = refused(tmp_path, edit)

        assert f"features.{kind}: 'arr_delay' is the source of the derived label 'late'" in message
        assert "hand the model the answer" in message

    def test_a_target_that_is_also_a_landing_column_is_refused(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["dataset"]["columns"].update(late={"type": "bool"}))

        assert "target 'late' is derived by label from 'arr_delay', so it must not also be a column" in message

    def test_an_undeclared_source_is_refused(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["dataset"]["label"].update(column="dep_delay"))

        assert "label.column 'dep_delay' is not a column in dataset.columns" in message

    def test_exactly_one_rule(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["dataset"]["label"].update(less_than=100))

        assert "dataset.label" in message
        assert "label has exactly one rule of ['greater_than', 'less_than', 'equals', 'in_set']" in message
        assert "found ['greater_than', 'less_than']" in message

    def test_a_number_rule_on_a_text_column_is_refused(self, tmp_path: Path) -> None:
        message = refused(tmp_path, lambda raw: raw["dataset"]["label"].update(column="carrier"))

        assert "label.greater_than: compares numbers, but label.column 'carrier' has type category" in message

    def test_a_value_outside_the_columns_values_is_refused(self, tmp_path: Path) -> None:
        message = refused(
            tmp_path, lambda raw: raw["dataset"].update(label={"column": "carrier", "in_set": ["AA", "ZZ"]})
        )

        assert "label.in_set: 'ZZ' is not one of 'carrier''s values ['AA', 'DL', 'UA', 'WN']" in message

    def test_an_unquoted_yes_on_a_text_column_says_how_to_quote_it(self, tmp_path: Path) -> None:
        text = FLIGHTS_YAML.replace(
            "label: {column: arr_delay, greater_than: 15}", "label: {column: red_eye, equals: Yes}"
        )
        path = write(tmp_path, text=text)

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        message = str(info.value)
        assert "dataset.label.equals: the boolean True, not text: YAML 1.1 reads unquoted Yes as a boolean" in message
        assert "write 'Yes' in quotes" in message
        assert message.count("label.equals") == 1  # said once, not again as a type error

    def test_a_quoted_text_value_loads(self, tmp_path: Path) -> None:
        text = FLIGHTS_YAML.replace(
            "label: {column: arr_delay, greater_than: 15}", "label: {column: red_eye, equals: 'Yes'}"
        )
        text = text.replace("categorical: [carrier, red_eye]", "categorical: [carrier]")
        config = load_pipeline(write(tmp_path, text=text))

        assert config.dataset.label is not None
        assert config.dataset.label.describe("late") == "late = red_eye == 'Yes'"

    def test_a_regression_model_is_refused(self, tmp_path: Path) -> None:
        def edit(raw: dict[str, Any]) -> None:
            raw["model"]["estimator"] = "sklearn.ensemble.HistGradientBoostingRegressor"
            raw["promotion"] = {"metric": "rmse"}

        message = refused(tmp_path, edit)

        assert "dataset.label derives a binary label" in message
        assert "is a regression model" in message

    def test_positive_class_is_true_or_false(self, tmp_path: Path) -> None:
        assert load_pipeline(write(tmp_path, lambda raw: raw["dataset"].update(positive_class=False)))
        message = refused(tmp_path, lambda raw: raw["dataset"].update(positive_class="late"))

        assert "positive_class 'late' is not a label of the bool target 'late'" in message

    def test_raw_checks_may_name_the_derived_label(self, tmp_path: Path) -> None:
        def edit(raw: dict[str, Any]) -> None:
            raw["expectations"]["raw"]["checks"] = [{"column": "late", "mean_between": [0.05, 0.95]}]

        assert load_pipeline(write(tmp_path, edit)).expectations.raw.checks[0].column == "late"
