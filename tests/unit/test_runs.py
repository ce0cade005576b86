"""include.retrain.runs: training windows, trigger options and the run key derived from them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from include.retrain.config import PipelineConfig, load_pipeline
from include.retrain.errors import InvalidRunOptions, PipelineFailure
from include.retrain.runs import (
    MAX_WINDOW_DAYS,
    WINDOW_END_PATTERN,
    RunOptions,
    TrainingWindow,
    make_run_key,
    resolve_window,
)

CHURN_YAML = Path(__file__).resolve().parents[2] / "include" / "pipelines" / "churn.yaml"


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    """The shipped churn variant: 28-day window, params max_iter/learning_rate/max_leaf_nodes."""
    return load_pipeline(CHURN_YAML)


def test_fixture_config_is_what_these_tests_assume(config: PipelineConfig) -> None:
    assert config.window.days == 28
    assert config.model.params == {"max_iter": 150, "learning_rate": 0.08, "max_leaf_nodes": 31}


# --- TrainingWindow --------------------------------------------------------------------------


class TestTrainingWindow:
    """A window is the half-open range of daily partitions ``start <= ds < end``."""

    def test_ending(self) -> None:
        window = TrainingWindow.ending(date(2026, 1, 29), 28)

        assert window == TrainingWindow(start=date(2026, 1, 1), end=date(2026, 1, 29))
        assert window.days == 28

    def test_ending_crosses_month_and_leap_day(self) -> None:
        window = TrainingWindow.ending(date(2024, 3, 2), 2)

        assert window.start == date(2024, 2, 29)
        assert window.days == 2

    @pytest.mark.parametrize(
        ("day", "inside"),
        [
            pytest.param(date(2025, 12, 31), False, id="day-before-start"),
            pytest.param(date(2026, 1, 1), True, id="start"),
            pytest.param(date(2026, 1, 15), True, id="middle"),
            pytest.param(date(2026, 1, 28), True, id="last-day"),
            pytest.param(date(2026, 1, 29), False, id="end-is-exclusive"),
        ],
    )
    def test_contains(self, day: date, inside: bool) -> None:
        window = TrainingWindow.ending(date(2026, 1, 29), 28)

        assert window.contains(day) is inside

    def test_contains_exactly_days_partitions(self) -> None:
        window = TrainingWindow.ending(date(2026, 3, 1), 7)
        candidates = [date(2026, 2, d) for d in range(1, 29)] + [date(2026, 3, d) for d in range(1, 10)]

        inside = [d for d in candidates if window.contains(d)]

        assert len(inside) == window.days == 7
        assert inside[0] == window.start
        assert inside[-1] == date(2026, 2, 28)

    def test_str_shows_first_and_last_partition(self) -> None:
        assert str(TrainingWindow.ending(date(2026, 1, 29), 28)) == "2026-01-01..2026-01-28 (28 days)"


# --- RunOptions.from_params ------------------------------------------------------------------


class TestRunOptionsDefaults:
    """No (or empty) Params mean "as the config says"."""

    def test_no_params(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params({}, config)

        assert options == RunOptions()
        assert options.window_end is None
        assert options.window_days is None
        assert options.dry_run is False
        assert options.force_promote is False
        assert options.reason == ""
        assert options.sample_fraction == 1.0
        assert options.model_params == {}

    def test_params_form_defaults(self, config: PipelineConfig) -> None:
        """What the trigger form sends when nothing is filled in."""
        params = {
            "window_end": None,
            "window_days": None,
            "dry_run": False,
            "force_promote": False,
            "reason": "",
            "sample_fraction": 1.0,
            "model_params": {},
        }

        assert RunOptions.from_params(params, config) == RunOptions()

    def test_nulls_mean_defaults(self, config: PipelineConfig) -> None:
        params = {"window_end": "", "sample_fraction": None, "reason": None, "model_params": None}

        assert RunOptions.from_params(params, config) == RunOptions()


INVALID_PARAMS = [
    pytest.param({"window_end": "not-a-date"}, "window_end", id="window_end-not-a-date"),
    pytest.param({"window_end": "2026-02-30"}, "window_end", id="window_end-impossible-day"),
    pytest.param({"window_end": "30/01/2026"}, "window_end", id="window_end-wrong-format"),
    pytest.param({"window_end": "0001-01-01"}, "window_end", id="window_end-year-1"),
    pytest.param({"window_end": "1969-12-31"}, "window_end", id="window_end-before-1970"),
    pytest.param({"window_end": "3000-01-01"}, "window_end", id="window_end-year-3000"),
    pytest.param({"window_end": date(1, 1, 1)}, "window_end", id="window_end-date-year-1"),
    pytest.param({"window_days": 0}, "window_days", id="window_days-0"),
    pytest.param({"window_days": -1}, "window_days", id="window_days-negative"),
    pytest.param({"window_days": 4000}, "window_days", id="window_days-4000"),
    pytest.param({"window_days": MAX_WINDOW_DAYS + 1}, "window_days", id="window_days-max-plus-one"),
    pytest.param({"window_days": True}, "window_days", id="window_days-bool"),
    pytest.param({"window_days": 7.0}, "window_days", id="window_days-float"),
    pytest.param({"window_days": "7"}, "window_days", id="window_days-string"),
    pytest.param({"sample_fraction": 0}, "sample_fraction", id="sample_fraction-0"),
    pytest.param({"sample_fraction": -0.5}, "sample_fraction", id="sample_fraction-negative"),
    pytest.param({"sample_fraction": 1.5}, "sample_fraction", id="sample_fraction-1.5"),
    pytest.param({"sample_fraction": "x"}, "sample_fraction", id="sample_fraction-string"),
    pytest.param({"sample_fraction": True}, "sample_fraction", id="sample_fraction-bool"),
    pytest.param({"sample_fraction": float("nan")}, "sample_fraction", id="sample_fraction-nan"),
    pytest.param({"force_promote": True}, "reason", id="force_promote-without-reason"),
    pytest.param({"force_promote": True, "reason": ""}, "reason", id="force_promote-empty-reason"),
    pytest.param({"force_promote": True, "reason": "  \t\n "}, "reason", id="force_promote-whitespace-reason"),
    pytest.param({"model_params": {"n_estimators": 10}}, "model_params", id="model_params-undeclared-key"),
    pytest.param(
        {"model_params": {"learning_rate": 0.1, "max_depth": 3}},
        "model_params",
        id="model_params-one-undeclared-key",
    ),
    pytest.param({"model_params": "max_iter=10"}, "model_params", id="model_params-string"),
    pytest.param({"model_params": [["max_iter", 10]]}, "model_params", id="model_params-list"),
]


class TestRunOptionsInvalid:
    """Invalid Params raise InvalidRunOptions (a permanent failure) naming the param."""

    @pytest.mark.parametrize(("params", "name"), INVALID_PARAMS)
    def test_rejected_naming_the_param(self, config: PipelineConfig, params: dict[str, Any], name: str) -> None:
        with pytest.raises(InvalidRunOptions, match=rf"\bparam {name}\b"):
            RunOptions.from_params(params, config)

    def test_is_a_permanent_failure(self) -> None:
        assert issubclass(InvalidRunOptions, PipelineFailure)

    def test_undeclared_model_param_is_named(self, config: PipelineConfig) -> None:
        with pytest.raises(InvalidRunOptions) as info:
            RunOptions.from_params({"model_params": {"learning_rate": 0.1, "max_depth": 3}}, config)

        message = str(info.value)
        assert "max_depth" in message
        assert "learning_rate" in message  # listed among the declared ones
        assert "'max_depth'" in message.split("not overridable")[0]
        assert "'learning_rate'" not in message.split("not overridable")[0]

    def test_invalid_window_end_echoes_the_value(self, config: PipelineConfig) -> None:
        with pytest.raises(InvalidRunOptions, match="not-a-date"):
            RunOptions.from_params({"window_end": "not-a-date"}, config)

    def test_far_past_window_end_names_the_range(self, config: PipelineConfig) -> None:
        """0001-01-01 used to pass and end as an OverflowError (retried as an infra fault)."""
        with pytest.raises(InvalidRunOptions) as info:
            RunOptions.from_params({"window_end": "0001-01-01"}, config)

        assert str(info.value) == "param window_end must be a date from 1970-01-01 to 2999-12-31, got '0001-01-01'"

    @pytest.mark.parametrize("value", ["1970-01-01", "2999-12-31"])
    def test_window_end_range_is_inclusive(self, config: PipelineConfig, value: str) -> None:
        options = RunOptions.from_params({"window_end": value, "window_days": MAX_WINDOW_DAYS}, config)

        window = resolve_window(config, options, date(2026, 1, 30))

        assert window.end == date.fromisoformat(value)

    def test_window_end_pattern_matches_the_range(self) -> None:
        """The Param schema's pattern refuses what the code refuses, before a run exists."""
        pattern = re.compile(WINDOW_END_PATTERN)
        for ok in ("1970-01-01", "2026-03-01", "2999-12-31"):
            assert pattern.match(ok), ok
        for bad in ("0001-01-01", "1969-12-31", "3000-01-01", "20260-01-01", "2026-1-01"):
            assert not pattern.match(bad), bad


class TestRunOptionsValid:
    """Valid overrides are accepted and normalised."""

    def test_all_overrides(self, config: PipelineConfig) -> None:
        params = {
            "window_end": "2026-03-01",
            "window_days": 7,
            "dry_run": True,
            "force_promote": True,
            "reason": "  hotfix after incident 42  ",
            "sample_fraction": 0.5,
            "model_params": {"learning_rate": 0.1, "max_iter": 300},
        }

        options = RunOptions.from_params(params, config)

        assert options == RunOptions(
            window_end=date(2026, 3, 1),
            window_days=7,
            dry_run=True,
            force_promote=True,
            reason="hotfix after incident 42",
            sample_fraction=0.5,
            model_params={"learning_rate": 0.1, "max_iter": 300},
        )

    @pytest.mark.parametrize(
        "value",
        [
            pytest.param("2026-03-01", id="iso-date-string"),
            pytest.param("2026-03-01T00:00:00+00:00", id="iso-datetime-string"),
            pytest.param(date(2026, 3, 1), id="date"),
            pytest.param(datetime(2026, 3, 1, 3, 0, tzinfo=UTC), id="datetime"),
        ],
    )
    def test_window_end_forms(self, config: PipelineConfig, value: Any) -> None:
        options = RunOptions.from_params({"window_end": value}, config)

        assert options.window_end == date(2026, 3, 1)
        assert type(options.window_end) is date

    @pytest.mark.parametrize("days", [1, 28, MAX_WINDOW_DAYS])
    def test_window_days_bounds(self, config: PipelineConfig, days: int) -> None:
        assert RunOptions.from_params({"window_days": days}, config).window_days == days

    @pytest.mark.parametrize("fraction", [1, 1.0, 0.25, 1e-6])
    def test_sample_fraction_in_range(self, config: PipelineConfig, fraction: float) -> None:
        options = RunOptions.from_params({"sample_fraction": fraction}, config)

        assert options.sample_fraction == fraction
        assert isinstance(options.sample_fraction, float)

    def test_reason_without_force_is_kept(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params({"reason": "backfill"}, config)

        assert options.force_promote is False
        assert options.reason == "backfill"

    def test_model_params_are_copied(self, config: PipelineConfig) -> None:
        overrides = {"max_iter": 300}
        options = RunOptions.from_params({"model_params": overrides}, config)
        overrides["max_iter"] = 1

        assert options.model_params == {"max_iter": 300}


# --- data_overrides --------------------------------------------------------------------------


class TestDataOverrides:
    """Only options that change what the run computes, and only where they differ from the config."""

    def test_none_by_default(self, config: PipelineConfig) -> None:
        assert RunOptions().data_overrides(config) == {}

    def test_same_as_config_is_not_an_override(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params(
            {
                "window_days": config.window.days,
                "sample_fraction": 1.0,
                "model_params": dict(config.model.params),
            },
            config,
        )

        assert options.data_overrides(config) == {}

    def test_options_that_do_not_change_data_are_not_overrides(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params(
            {"window_end": "2026-03-01", "dry_run": True, "force_promote": True, "reason": "incident"}, config
        )

        assert options.data_overrides(config) == {}

    def test_window_days(self, config: PipelineConfig) -> None:
        assert RunOptions(window_days=7).data_overrides(config) == {"window_days": 7}

    def test_sample_fraction(self, config: PipelineConfig) -> None:
        assert RunOptions(sample_fraction=0.5).data_overrides(config) == {"sample_fraction": 0.5}

    def test_only_changed_model_params(self, config: PipelineConfig) -> None:
        options = RunOptions(model_params={"max_iter": 150, "learning_rate": 0.2})

        assert options.data_overrides(config) == {"model_params": {"learning_rate": 0.2}}

    def test_all_together(self, config: PipelineConfig) -> None:
        options = RunOptions(
            window_days=14, sample_fraction=0.25, model_params={"max_leaf_nodes": 31, "max_iter": 50}, dry_run=True
        )

        assert options.data_overrides(config) == {
            "window_days": 14,
            "sample_fraction": 0.25,
            "model_params": {"max_iter": 50},
        }


# --- resolve_window --------------------------------------------------------------------------


class TestResolveWindow:
    """The window ends at the data interval end unless Params move its end or change its length."""

    def test_datetime_interval_end(self, config: PipelineConfig) -> None:
        window = resolve_window(config, RunOptions(), datetime(2026, 1, 30, 3, 0, tzinfo=UTC))

        assert window == TrainingWindow(start=date(2026, 1, 2), end=date(2026, 1, 30))

    def test_date_interval_end(self, config: PipelineConfig) -> None:
        window = resolve_window(config, RunOptions(), date(2026, 1, 30))

        assert window == TrainingWindow(start=date(2026, 1, 2), end=date(2026, 1, 30))

    def test_window_end_param_moves_the_end(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params({"window_end": "2026-03-01"}, config)

        window = resolve_window(config, options, datetime(2026, 1, 30, 3, 0, tzinfo=UTC))

        assert window.end == date(2026, 3, 1)
        assert window.days == config.window.days

    def test_window_days_param_changes_the_length(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params({"window_days": 7}, config)

        window = resolve_window(config, options, date(2026, 1, 30))

        assert window == TrainingWindow(start=date(2026, 1, 23), end=date(2026, 1, 30))

    def test_both_params(self, config: PipelineConfig) -> None:
        options = RunOptions.from_params({"window_end": "2026-03-01", "window_days": 1}, config)

        window = resolve_window(config, options, date(2026, 1, 30))

        assert window == TrainingWindow(start=date(2026, 2, 28), end=date(2026, 3, 1))


# --- make_run_key ----------------------------------------------------------------------------


WINDOW = TrainingWindow.ending(date(2026, 1, 30), 28)


class TestMakeRunKey:
    """The run key is the window end, plus a hash of the overrides when there are any."""

    def test_window_end_without_overrides(self) -> None:
        assert make_run_key(WINDOW, {}) == "2026-01-30"

    def test_with_overrides_has_a_hash_suffix(self) -> None:
        assert re.fullmatch(r"2026-01-30_[0-9a-f]{10}", make_run_key(WINDOW, {"window_days": 7}))

    def test_stable_across_calls(self) -> None:
        overrides = {"sample_fraction": 0.5, "model_params": {"learning_rate": 0.1}}
        first = make_run_key(WINDOW, overrides)

        assert make_run_key(WINDOW, overrides) == first
        assert make_run_key(TrainingWindow.ending(date(2026, 1, 30), 28), dict(overrides)) == first

    def test_different_overrides_give_different_keys(self) -> None:
        variants: list[dict[str, Any]] = [
            {},
            {"window_days": 7},
            {"window_days": 14},
            {"sample_fraction": 0.5},
            {"sample_fraction": 0.25},
            {"model_params": {"learning_rate": 0.1}},
            {"model_params": {"learning_rate": 0.2}},
            {"model_params": {"max_iter": 0.1}},
            {"window_days": 7, "sample_fraction": 0.5},
        ]

        keys = [make_run_key(WINDOW, v) for v in variants]

        assert len(set(keys)) == len(variants)

    def test_different_window_end_gives_different_key(self) -> None:
        overrides = {"window_days": 7}
        other = TrainingWindow.ending(date(2026, 1, 31), 28)

        assert make_run_key(WINDOW, overrides) != make_run_key(other, overrides)
        assert make_run_key(other, {}) == "2026-01-31"

    def test_dict_order_does_not_matter(self) -> None:
        one = {"window_days": 7, "sample_fraction": 0.5, "model_params": {"max_iter": 300, "learning_rate": 0.1}}
        two = {"model_params": {"learning_rate": 0.1, "max_iter": 300}, "sample_fraction": 0.5, "window_days": 7}

        assert make_run_key(WINDOW, one) == make_run_key(WINDOW, two)

    def test_rerun_with_config_values_is_the_same_run(self, config: PipelineConfig) -> None:
        """Spelling out the config's own values must not fork a new run key."""
        interval_end = datetime(2026, 1, 30, 3, 0, tzinfo=UTC)
        plain = RunOptions.from_params({}, config)
        explicit = RunOptions.from_params(
            {"window_days": config.window.days, "model_params": dict(config.model.params)}, config
        )

        plain_key = make_run_key(resolve_window(config, plain, interval_end), plain.data_overrides(config))
        explicit_key = make_run_key(resolve_window(config, explicit, interval_end), explicit.data_overrides(config))

        assert plain_key == explicit_key == "2026-01-30"
