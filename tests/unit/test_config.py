"""include.retrain.config: the shipped variant loads, bad files fail loudly, discovery isolates them."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.retrain.config import (
    DEFAULT_PIPELINES_DIR,
    PipelineConfig,
    PipelineSource,
    discover_pipelines,
    load_pipeline,
    pipelines_dir,
)
from include.retrain.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHURN_YAML = PROJECT_ROOT / "include" / "pipelines" / "churn.yaml"

Mutation = Callable[[dict[str, Any]], None]


def churn_raw() -> dict[str, Any]:
    """The shipped churn variant as a plain dict, ready to be mutated."""
    return yaml.safe_load(CHURN_YAML.read_text(encoding="utf-8"))


def write_yaml(path: Path, raw: Any) -> Path:
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def variant(name: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid config (the churn variant), renamed; ``name=None`` drops the key entirely."""
    raw = churn_raw()
    if name is None:
        del raw["name"]
    else:
        raw["name"] = name
    raw.update(changes)
    return raw


def broken_variant() -> dict[str, Any]:
    """A config that fails validation (but is valid YAML)."""
    raw = churn_raw()
    raw["window"]["days"] = "many"
    return raw


# --- the shipped variant ---------------------------------------------------------------------


class TestShippedChurn:
    """include/pipelines/churn.yaml loads and its values arrive typed, not as raw strings."""

    def test_default_pipelines_dir_is_the_shipped_folder(self) -> None:
        assert CHURN_YAML.parent == DEFAULT_PIPELINES_DIR

    def test_loads_with_typed_values(self) -> None:
        config = load_pipeline(CHURN_YAML)

        assert isinstance(config, PipelineConfig)
        assert config.name == "churn"
        assert config.dag_id == "retrain_churn"
        assert config.model.task == "classification"
        assert config.promotion.metric == "roc_auc"
        assert config.promotion.direction == "maximize"
        assert config.window.days == 28
        assert config.schedule.start_date == date(2026, 1, 1)
        assert config.dataset.columns["monthly_charges"].type == "float"
        assert config.dataset.columns["monthly_charges"].max == 500.0
        assert config.dataset.columns["plan"].values == ("basic", "standard", "premium")
        assert config.features.all == [
            "tenure_months",
            "monthly_charges",
            "support_calls",
            "plan",
            "region",
        ]
        assert config.model.params == {"max_iter": 150, "learning_rate": 0.08, "max_leaf_nodes": 31}

    def test_promotion_and_deployment_defaults(self, tmp_path: Path) -> None:
        """No bootstrap test and direct deployment unless the YAML asks: older variants keep their behaviour."""
        raw = churn_raw()
        raw["promotion"].pop("bootstrap")  # the shipped churn asks for the test; a variant that does not gets none
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert load_pipeline(CHURN_YAML).promotion.bootstrap is not None
        assert config.promotion.bootstrap is None
        assert config.deployment.strategy == "direct"
        assert config.deployment.notify_conn_id is None

    def test_each_task_gets_one_native_thread_unless_the_yaml_says_otherwise(self, tmp_path: Path) -> None:
        assert load_pipeline(CHURN_YAML).tasks.threads == 1
        raw = churn_raw()
        raw["tasks"] = {"threads": None}
        assert load_pipeline(write_yaml(tmp_path / "churn.yaml", raw)).tasks.threads is None

    def test_bootstrap_and_deployment_sections(self, tmp_path: Path) -> None:
        raw = churn_raw()
        raw["promotion"]["bootstrap"] = {"samples": 2000}
        raw["deployment"] = {"strategy": "canary", "canary_runs": 2, "notify_conn_id": "serving_hook"}
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert (config.promotion.bootstrap.samples, config.promotion.bootstrap.confidence) == (2000, 0.95)
        assert (config.deployment.strategy, config.deployment.canary_runs) == ("canary", 2)
        assert config.deployment.notify_conn_id == "serving_hook"

    def test_hash_split_without_an_id_column_hashes_the_declared_values_but_the_target(self, tmp_path: Path) -> None:
        """Public tables rarely have ids: the default split still keeps each row on one side in every window."""
        raw = churn_raw()
        del raw["dataset"]["id_column"]
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert config.split.strategy == "hash"
        assert config.dataset.row_identity_columns == [c for c in raw["dataset"]["columns"] if c != "churned"]

    def test_landing_names_map_headers_to_column_names(self, tmp_path: Path) -> None:
        raw = churn_raw()
        raw["dataset"]["columns"]["monthly_charges"]["landing_name"] = "Monthly Charges ($)"
        raw["dataset"]["columns"]["plan"]["landing_name"] = "plan"  # the same as the key: nothing to rename
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert config.dataset.landing_renames == {"Monthly Charges ($)": "monthly_charges"}
        assert load_pipeline(CHURN_YAML).dataset.landing_renames == {}

    def test_landing_location(self) -> None:
        config = load_pipeline(CHURN_YAML)

        assert config.dataset.landing_prefix == "churn/"
        assert config.dataset.landing_uri == "s3://retrain-landing/churn/"

    def test_landing_prefix_includes_the_dataset_prefix(self, tmp_path: Path) -> None:
        raw = churn_raw()
        raw["dataset"]["prefix"] = "landing/v1"
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert config.dataset.landing_prefix == "landing/v1/churn/"
        assert config.dataset.landing_uri == "s3://retrain-landing/landing/v1/churn/"

    def test_round_trip_through_yaml_is_still_valid(self, tmp_path: Path) -> None:
        """The bad-config table mutates this round trip: unmutated, it must load cleanly."""
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", churn_raw()))

        assert config == load_pipeline(CHURN_YAML)


# --- bad configs -----------------------------------------------------------------------------


def _set(*path_and_value: Any) -> Mutation:
    """A mutation that sets ``raw[a][b]...[z] = value``."""
    *keys, last, value = path_and_value

    def mutate(raw: dict[str, Any]) -> None:
        node = raw
        for key in keys:
            node = node[key]
        node[last] = value

    return mutate


def _delete(*path: str) -> Mutation:
    *keys, last = path

    def mutate(raw: dict[str, Any]) -> None:
        node = raw
        for key in keys:
            node = node[key]
        del node[last]

    return mutate


def _empty_features(raw: dict[str, Any]) -> None:
    raw["features"]["numeric"] = []
    raw["features"]["categorical"] = []


def _append_numeric_feature(raw: dict[str, Any]) -> None:
    raw["features"]["numeric"].append("balance")


#: (mutation of a valid config, field path the message must name, reason it must give)
BAD_CONFIGS = [
    pytest.param(_set("colour", "blue"), "colour", "unknown key", id="unknown-top-level-key"),
    pytest.param(
        _set("dataset", "columns", "plan", "colour", "red"),
        "dataset.columns.plan.colour",
        "unknown key",
        id="unknown-nested-key",
    ),
    pytest.param(_set("window", "days", "many"), "window.days", "valid integer", id="wrong-type"),
    pytest.param(_delete("model"), "model", "required key is missing", id="missing-required-section"),
    pytest.param(
        _set("model", "estimator", "sklearn.svm.SVC"),
        "model.estimator",
        "'sklearn.svm.SVC' is not an allowed estimator",
        id="unknown-estimator",
    ),
    pytest.param(
        _set("dataset", "target", "label"),
        "dataset",
        "target 'label' is not a column in dataset.columns",
        id="target-not-a-column",
    ),
    pytest.param(
        _set("schedule", "cron", "0 25 * * *"),
        "schedule.cron",
        "'0 25 * * *' is not a valid cron expression",
        id="bad-cron",
    ),
    pytest.param(_empty_features, "features", "at least one feature is required", id="empty-feature-lists"),
    pytest.param(
        _append_numeric_feature,
        "features.numeric",
        "'balance' is not a column in dataset.columns",
        id="feature-not-a-column",
    ),
    pytest.param(
        _set("dataset", "columns", "region", {"type": "float"}),
        "features.categorical",
        "'region' has type float",
        id="categorical-feature-of-type-float",
    ),
    pytest.param(
        _set("promotion", "metric", "rmse"),
        "promotion.metric",
        "'rmse' is a regression metric",
        id="metric-of-wrong-task",
    ),
    pytest.param(
        _set("promotion", "metric", "gini"),
        "promotion.metric",
        "unknown metric 'gini'",
        id="unknown-metric",
    ),
    pytest.param(
        _set("storage", "prefix", "../x"),
        "storage.prefix",
        "unsafe path segment '..'",
        id="storage-prefix-parent",
    ),
    pytest.param(
        _set("storage", "prefix", "/abs"),
        "storage.prefix",
        "must be relative",
        id="storage-prefix-absolute",
    ),
    pytest.param(
        _set("dataset", "prefix", "a/../b"),
        "dataset.prefix",
        "unsafe path segment '..'",
        id="dataset-prefix-parent",
    ),
    pytest.param(
        _set("schedule", "timezone", "Mars/Olympus_Mons"),
        "schedule.timezone",
        "unknown timezone 'Mars/Olympus_Mons'",
        id="unknown-timezone",
    ),
    pytest.param(
        _set("dataset", "columns", "fixed acidity", {"type": "float"}),
        "dataset.columns",
        "column names are letters, digits and _ (not starting with a digit); to read landing headers like these, "
        "'fixed acidity': name the column e.g. fixed_acidity and add landing_name: 'fixed acidity'",
        id="column-name-with-a-space-shows-landing-name",
    ),
    pytest.param(
        _set("dataset", "csv", {"delimiter": ";"}),
        "dataset",
        "csv: the CSV dialect applies to format csv, and this dataset's format is parquet",
        id="csv-dialect-on-parquet",
    ),
    pytest.param(
        _set("dataset", "csv", {"delimiter": ":"}),
        "dataset.csv.delimiter",
        "Input should be ',', ';', '\\t' or '|'",
        id="unknown-csv-delimiter",
    ),
    pytest.param(
        _set("dataset", "columns", "plan", "landing_name", "region"),
        "dataset",
        "columns ['plan', 'region'] all read the landing column 'region'; give each its own",
        id="two-columns-read-one-landing-header",
    ),
    pytest.param(
        _set("dataset", "columns", "plan", "landing_name", "plan\nname"),
        "dataset.columns.plan.landing_name",
        "String should match pattern",
        id="landing-name-with-a-newline",
    ),
    pytest.param(
        _set("dataset", "columns", "tenure_months", "min", 200),
        "dataset.columns.tenure_months",
        "min (200.0) is greater than max (120.0)",
        id="min-greater-than-max",
    ),
    pytest.param(
        _set("promotion", "bootstrap", {"samples": 10}),
        "promotion.bootstrap.samples",
        "greater than or equal to 100",
        id="too-few-bootstrap-samples",
    ),
    pytest.param(
        _set("promotion", "bootstrap", {"confidence": 1.0}),
        "promotion.bootstrap.confidence",
        "less than or equal to 0.999",
        id="bootstrap-confidence-of-one",
    ),
    pytest.param(
        _set("deployment", {"strategy": "shadow"}),
        "deployment.strategy",
        "'direct', 'blue_green' or 'canary'",
        id="unknown-deployment-strategy",
    ),
    pytest.param(
        _set("deployment", {"canary_runs": 0}),
        "deployment.canary_runs",
        "greater than or equal to 1",
        id="canary-without-runs",
    ),
    pytest.param(
        _set("deployment", {"notify_conn_id": "http://hook"}),
        "deployment.notify_conn_id",
        "should match pattern",
        id="hook-url-instead-of-connection-id",
    ),
    pytest.param(
        _set("notifications", {"webhook_conn_id": "ops", "events": ["failure", "weather"]}),
        "notifications.events.1",
        "'failure', 'promotion' or 'stale_model'",
        id="unknown-notification-event",
    ),
    pytest.param(
        _set("monitoring", {"max_model_age_hours": 0}),
        "monitoring.max_model_age_hours",
        "greater than 0",
        id="zero-model-age",
    ),
]


def _add_check(gate: str, check: dict[str, Any]) -> Mutation:
    """A mutation appending one shorthand check to ``expectations.<gate>.checks``."""

    def mutate(raw: dict[str, Any]) -> None:
        raw["expectations"].setdefault(gate, {}).setdefault("checks", []).append(check)

    return mutate


#: Bad gate rules: the shorthand checks, drift thresholds and segment floors.
BAD_GATE_RULES = [
    pytest.param(
        _add_check("raw", {"column": "plan", "betwen": [0, 1]}),
        "expectations.raw.checks.2.betwen",
        "unknown key",
        id="check-unknown-rule-key",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "between": [0, 1], "unique": True}),
        "expectations.raw.checks.2",
        "exactly one rule of ['between', 'in_set', 'max_null_fraction', 'mean_between', 'unique', 'regex']; "
        "found ['between', 'unique']",
        id="check-two-rules",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "severity": "warn"}),
        "expectations.raw.checks.2",
        "found none",
        id="check-no-rule",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "table": "row_count", "between": [1, 2]}),
        "expectations.raw.checks.2",
        "exactly one of `column` or `table`",
        id="check-column-and-table",
    ),
    pytest.param(
        _add_check("raw", {"table": "row_count", "in_set": [1]}),
        "expectations.raw.checks.2",
        "table: row_count takes `between`, not `in_set`",
        id="check-table-with-in_set",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "between": [5, 1]}),
        "expectations.raw.checks.2",
        "between: min (5.0) is greater than max (1.0)",
        id="check-between-reversed",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "mean_between": [None, None]}),
        "expectations.raw.checks.2",
        "mean_between needs at least one bound",
        id="check-no-bounds",
    ),
    pytest.param(
        _add_check("raw", {"column": "customer_id", "regex": "C[0-9"}),
        "expectations.raw.checks.2",
        "regex 'C[0-9' does not compile",
        id="check-bad-regex",
    ),
    pytest.param(
        _add_check("raw", {"column": "plan", "in_set": ["a"], "severity": "error"}),
        "expectations.raw.checks.2.severity",
        "'fail' or 'warn'",
        id="check-unknown-severity",
    ),
    pytest.param(
        _add_check("raw", {"column": "balance", "between": [0, 1]}),
        "expectations.raw.checks[2]",
        "column 'balance' is not in dataset.columns",
        id="raw-check-unknown-column",
    ),
    pytest.param(
        _add_check("features", {"column": "customer_id", "between": [0, 1]}),
        "expectations.features.checks[0]",
        "column 'customer_id' is not in the feature matrix",
        id="features-check-not-a-feature",
    ),
    pytest.param(
        _add_check("features", {"table": "row_count", "between": [1, None]}),
        "expectations.features",
        "table rules do not apply to feature matrices",
        id="features-check-table-rule",
    ),
    pytest.param(
        _add_check("model", {"column": "rmse", "between": [0, 1]}),
        "expectations.model.checks[1]",
        "column 'rmse' is not in the model gate's tables",
        id="model-check-metric-of-other-task",
    ),
    pytest.param(
        _set("expectations", "drift", "psi_warn", 0.5),
        "expectations.drift",
        "psi_warn (0.5) is greater than psi_fail (0.25)",
        id="drift-thresholds-reversed",
    ),
    pytest.param(
        _set("expectations", "drift", "columns", ["signup_date"]),
        "expectations.drift.columns",
        "['signup_date'] are not model features",
        id="drift-column-not-a-feature",
    ),
    pytest.param(
        _set("expectations", "drift", "on_drift", "stop"),
        "expectations.drift.on_drift",
        "'fail' or 'warn'",
        id="drift-unknown-on_drift",
    ),
    pytest.param(
        _set("expectations", "model", "segments", {"column": "monthly_charges", "threshold": 0.6}),
        "expectations.model.segments.column",
        "'monthly_charges' has type float",
        id="segments-on-a-float-column",
    ),
    pytest.param(
        _set("expectations", "model", "segments", {"column": "plan"}),
        "expectations.model.segments.threshold",
        "required key is missing",
        id="segments-without-threshold",
    ),
    pytest.param(
        lambda raw: raw.update(tasks={"threads": 0}),
        "tasks.threads",
        "greater than or equal to 1",
        id="zero-threads",
    ),
    pytest.param(
        _set("expectations", "features", "max_class_fraction", 0.01),
        "expectations.features",
        "min_class_fraction (0.05) is greater than max_class_fraction (0.01)",
        id="class-fraction-bounds-reversed",
    ),
]


class TestBadConfig:
    """Each bad file raises ConfigError naming the file, the field path and the reason."""

    @pytest.mark.parametrize(("mutate", "field", "reason"), BAD_CONFIGS + BAD_GATE_RULES)
    def test_rejected_with_field_and_reason(self, tmp_path: Path, mutate: Mutation, field: str, reason: str) -> None:
        raw = churn_raw()
        mutate(raw)
        path = write_yaml(tmp_path / "churn.yaml", raw)

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        error = info.value
        assert error.path == str(path)
        assert str(path) in str(error)
        matching = [p for p in error.problems if field in p and reason in p]
        assert matching, f"no problem names {field!r} with {reason!r}: {error.problems}"
        assert all(p in str(error) for p in matching)

    def test_field_path_prefixes_the_problem(self, tmp_path: Path) -> None:
        """A field-level error is reported as ``<dotted path>: <reason>``."""
        raw = churn_raw()
        raw["window"]["days"] = "many"
        path = write_yaml(tmp_path / "churn.yaml", raw)

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        assert len(info.value.problems) == 1
        assert info.value.problems[0].startswith("window.days: ")

    def test_a_bare_on_key_is_explained(self, tmp_path: Path) -> None:
        """YAML 1.1 reads ``on:`` as ``true:``; the error says so instead of "Keys should be strings"."""
        path = tmp_path / "churn.yaml"
        path.write_text(CHURN_YAML.read_text() + "notifications:\n  on: [failure]\n", encoding="utf-8")

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        [problem] = info.value.problems
        assert problem.startswith("notifications: a key reads as the boolean true")
        assert "use `events`" in problem

    def test_yaml_syntax_error_names_the_line(self, tmp_path: Path) -> None:
        path = tmp_path / "churn.yaml"
        path.write_text("name: churn\nwindow:\n  days: 28\nfeatures: {numeric: [a, b}\n", encoding="utf-8")

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        message = str(info.value)
        assert str(path) in message
        assert "YAML syntax error" in message
        assert "line 4" in message

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(yaml.safe_dump([churn_raw()]), id="list"),
            pytest.param("just a string\n", id="scalar"),
            pytest.param("", id="empty-file"),
        ],
    )
    def test_top_level_must_be_a_mapping(self, tmp_path: Path, content: str) -> None:
        path = tmp_path / "churn.yaml"
        path.write_text(content, encoding="utf-8")

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        message = str(info.value)
        assert str(path) in message
        assert "(top level)" in message
        assert "mapping" in message

    def test_missing_file_is_a_config_error(self, tmp_path: Path) -> None:
        path = tmp_path / "absent.yaml"

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        assert str(path) in str(info.value)
        assert "cannot read file" in str(info.value)


# --- discovery -------------------------------------------------------------------------------


def _by_file(sources: list[PipelineSource]) -> dict[str, PipelineSource]:
    return {s.path.name: s for s in sources}


class TestDiscoverPipelines:
    """Every file yields one source; a broken or duplicate file never hides or shadows a valid one."""

    def test_broken_file_does_not_hide_valid_ones(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "a_valid.yaml", variant("alpha"))
        (tmp_path / "b_syntax.yaml").write_text("name: [unclosed\n", encoding="utf-8")
        write_yaml(tmp_path / "c_invalid.yaml", broken_variant())
        write_yaml(tmp_path / "d_valid.yml", variant("delta"))
        (tmp_path / "notes.md").write_text("not a pipeline", encoding="utf-8")

        sources = discover_pipelines(tmp_path)

        assert [s.path.name for s in sources] == ["a_valid.yaml", "b_syntax.yaml", "c_invalid.yaml", "d_valid.yml"]
        by_file = _by_file(sources)
        assert by_file["a_valid.yaml"].config is not None
        assert by_file["a_valid.yaml"].config.name == "alpha"
        assert by_file["d_valid.yml"].config is not None
        assert by_file["d_valid.yml"].config.name == "delta"
        assert isinstance(by_file["b_syntax.yaml"].error, ConfigError)
        assert isinstance(by_file["c_invalid.yaml"].error, ConfigError)
        assert "window.days" in str(by_file["c_invalid.yaml"].error)

    def test_each_source_has_either_config_or_error(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "one.yaml", variant("one"))
        write_yaml(tmp_path / "two.yaml", broken_variant())
        write_yaml(tmp_path / "three.yaml", variant("one"))  # duplicate name

        sources = discover_pipelines(tmp_path)

        assert len(sources) == 3
        for source in sources:
            assert (source.config is None) != (source.error is None), source
            if source.config is not None:
                assert source.name == source.config.name
        assert [s.config is not None for s in sources] == [False, False, False]  # one and three share a name

    def test_names_are_unique(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "churn.yaml", broken_variant())
        write_yaml(tmp_path / "churn.yml", broken_variant())
        write_yaml(tmp_path / "x.yaml", variant("churn"))
        write_yaml(tmp_path / "y.yaml", variant("churn_broken"))

        sources = discover_pipelines(tmp_path)

        names = [s.name for s in sources]
        assert len(names) == len(set(names)) == 4
        assert _by_file(sources)["x.yaml"].name == "churn"
        assert _by_file(sources)["y.yaml"].name == "churn_broken"

    def test_two_files_claiming_one_name_are_both_refused(self, tmp_path: Path) -> None:
        """A copied file still saying ``name: churn`` must not take over churn's DAG and registry (no first-wins)."""
        write_yaml(tmp_path / "churn-experiment.yaml", variant("churn"))
        write_yaml(tmp_path / "churn.yaml", variant("churn"))
        write_yaml(tmp_path / "other.yaml", variant("other"))

        by_file = _by_file(discover_pipelines(tmp_path))

        for copy, other in (("churn-experiment.yaml", "churn.yaml"), ("churn.yaml", "churn-experiment.yaml")):
            source = by_file[copy]
            assert source.config is None, copy
            assert source.error is not None
            message = str(source.error)
            assert str(tmp_path / copy) in message
            assert other in message
            assert "name: " in message
            assert "'churn'" in message
        assert by_file["churn.yaml"].name == "churn"
        assert by_file["churn-experiment.yaml"].name == "churn_experiment"
        assert by_file["other.yaml"].config is not None

    def test_three_files_claiming_one_name_each_name_the_others(self, tmp_path: Path) -> None:
        for stem in ("a", "b", "c"):
            write_yaml(tmp_path / f"{stem}.yaml", variant("churn"))

        sources = discover_pipelines(tmp_path)

        assert all(s.config is None for s in sources)
        for source in sources:
            others = {"a.yaml", "b.yaml", "c.yaml"} - {source.path.name}
            assert all(name in str(source.error) for name in others), str(source.error)
        assert len({s.name for s in sources}) == 3

    @pytest.mark.parametrize(
        ("broken_file", "valid_file"),
        [
            pytest.param("churn.yaml", "variant.yaml", id="broken-sorts-first"),
            pytest.param("churn.yaml", "a_variant.yaml", id="broken-sorts-last"),
        ],
    )
    def test_broken_file_never_shadows_a_valid_variant(self, tmp_path: Path, broken_file: str, valid_file: str) -> None:
        write_yaml(tmp_path / broken_file, broken_variant())
        write_yaml(tmp_path / valid_file, variant("churn"))

        by_file = _by_file(discover_pipelines(tmp_path))

        assert by_file[valid_file].name == "churn"
        assert by_file[valid_file].config is not None
        assert by_file[broken_file].name == "churn_broken"
        assert by_file[broken_file].error is not None

    def test_broken_file_keeps_its_stem_when_free(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "Fraud-Daily.yaml", broken_variant())

        (source,) = discover_pipelines(tmp_path)

        assert source.error is not None
        assert source.name == "fraud_daily"

    def test_name_defaults_to_file_stem(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "retention_v2.yaml", variant(None))

        (source,) = discover_pipelines(tmp_path)

        assert source.error is None
        assert source.config is not None
        assert source.name == "retention_v2"
        assert source.config.name == "retention_v2"
        assert source.config.dag_id == "retrain_retention_v2"

    def test_explicit_name_wins_over_stem(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "some_file.yaml", variant("churn_eu"))

        (source,) = discover_pipelines(tmp_path)

        assert source.config is not None
        assert source.name == "churn_eu"

    def test_empty_directory(self, tmp_path: Path) -> None:
        assert discover_pipelines(tmp_path) == []

    def test_shipped_folder_is_all_valid(self) -> None:
        sources = discover_pipelines(DEFAULT_PIPELINES_DIR)

        assert "churn" in {s.name for s in sources}
        assert all(s.error is None for s in sources), [str(s.error) for s in sources if s.error]


# --- bounded YAML ----------------------------------------------------------------------------


def alias_bomb() -> str:
    """A "billion laughs" of nested mapping aliases: under 1 kB of YAML, 10**9 values once expanded."""
    lines = ["name: bomb", "l0: &l0 {" + ", ".join(f"k{i}: lol" for i in range(10)) + "}"]
    for level in range(1, 9):
        lines.append(f"l{level}: &l{level} {{" + ", ".join(f"k{i}: *l{level - 1}" for i in range(10)) + "}")
    return "\n".join(lines) + "\n"


def _discover_in_a_child(folder: Path, timeout: float = 60.0) -> dict[str, Any]:
    """Run discovery in its own interpreter: a hang is cut off at ``timeout``, a crash cannot take pytest down."""
    code = textwrap.dedent(
        """
        import json, sys, time
        from include.retrain.config import discover_pipelines
        start = time.perf_counter()
        sources = discover_pipelines(sys.argv[1])
        seconds = time.perf_counter() - start
        found = [{"file": s.path.name, "name": s.name, "ok": s.config is not None, "error": str(s.error or "")}
                 for s in sources]
        print(json.dumps({"seconds": seconds, "sources": found}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"discovery died with exit code {result.returncode}: {result.stderr[-2000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


class TestBoundedYaml:
    """One hostile file cannot stall or crash discovery: aliases, deep nesting and huge files are refused."""

    def test_alias_bomb_is_refused_at_once_naming_the_file_and_line(self, tmp_path: Path) -> None:
        bomb = tmp_path / "bomb.yaml"
        bomb.write_text(alias_bomb(), encoding="utf-8")
        assert bomb.stat().st_size < 1024
        write_yaml(tmp_path / "valid.yaml", variant("valid"))

        outcome = _discover_in_a_child(tmp_path)

        assert outcome["seconds"] < 2.0, outcome
        by_file = {s["file"]: s for s in outcome["sources"]}
        assert by_file["valid.yaml"]["ok"]
        error = by_file["bomb.yaml"]["error"]
        assert not by_file["bomb.yaml"]["ok"]
        assert str(bomb) in error
        assert "line 2" in error, error  # the first anchor, before any alias expands it
        assert "&l0" in error
        assert "aliases" in error

    def test_deep_nesting_is_refused_not_a_crash(self, tmp_path: Path) -> None:
        """100,000 nested brackets (200 kB) overflow libyaml's recursive composer: a segfault without the bound."""
        deep = tmp_path / "deep.yaml"
        deep.write_text("name: deep\nwindow: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
        write_yaml(tmp_path / "valid.yaml", variant("valid"))

        outcome = _discover_in_a_child(tmp_path)

        assert outcome["seconds"] < 2.0, outcome
        by_file = {s["file"]: s for s in outcome["sources"]}
        assert by_file["valid.yaml"]["ok"]
        assert str(deep) in by_file["deep.yaml"]["error"]
        assert "line 2" in by_file["deep.yaml"]["error"]
        assert "nested" in by_file["deep.yaml"]["error"]

    def test_an_anchor_is_refused_with_its_line_and_the_fix(self, tmp_path: Path) -> None:
        path = tmp_path / "churn.yaml"
        text = CHURN_YAML.read_text(encoding="utf-8")
        text = text.replace("  bucket: retrain-landing", "  bucket: &landing retrain-landing", 1)
        path.write_text(text + "tags: [*landing]\n", encoding="utf-8")
        line = 1 + text.splitlines().index("  bucket: &landing retrain-landing")

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        message = str(info.value)
        assert str(path) in message
        assert f"line {line}" in message
        assert "&landing" in message
        assert "write the value out" in message

    def test_a_file_over_the_size_cap_is_refused_before_parsing(self, tmp_path: Path) -> None:
        path = tmp_path / "churn.yaml"
        path.write_text(CHURN_YAML.read_text(encoding="utf-8") + "# padding\n" * 40_000, encoding="utf-8")

        with pytest.raises(ConfigError) as info:
            load_pipeline(path)

        assert str(path) in str(info.value)
        assert "KiB" in str(info.value)

    def test_the_shipped_variants_stay_within_the_bounds(self) -> None:
        assert all(source.config is not None for source in discover_pipelines(DEFAULT_PIPELINES_DIR))


# --- overlapping storage ---------------------------------------------------------------------


def with_storage(name: str, prefix: str, bucket: str = "retrain-artifacts") -> dict[str, Any]:
    raw = variant(name)
    raw["storage"] = {**raw.get("storage", {}), "bucket": bucket, "prefix": prefix}
    return raw


def with_landing(name: str, bucket: str, prefix: str) -> dict[str, Any]:
    raw = variant(name)
    raw["dataset"].update(bucket=bucket, prefix=prefix)
    return raw


class TestOverlappingStorage:
    """A variant's tree (``<prefix>/<name>/``: registry and runs) holds no other variant's tree or landing data."""

    @pytest.mark.parametrize(
        ("prefix", "name", "inner"),
        [
            pytest.param("retraining/alpha/registry", "beta", "retraining/alpha/registry/beta/", id="inside-registry"),
            pytest.param("retraining/alpha/runs/2026", "beta", "retraining/alpha/runs/2026/beta/", id="inside-runs"),
            pytest.param("retraining/alpha", "runs", "retraining/alpha/runs/", id="is-the-runs-tree"),
            pytest.param("retraining/alpha", "beta", "retraining/alpha/beta/", id="inside-the-tree"),
        ],
    )
    def test_a_tree_inside_another_refuses_both_naming_files_and_paths(
        self, tmp_path: Path, prefix: str, name: str, inner: str
    ) -> None:
        write_yaml(tmp_path / "alpha.yaml", with_storage("alpha", "retraining"))
        write_yaml(tmp_path / "beta.yaml", with_storage(name, prefix))
        write_yaml(tmp_path / "gamma.yaml", with_storage("gamma", "retraining"))

        by_file = _by_file(discover_pipelines(tmp_path))

        assert by_file["gamma.yaml"].config is not None
        for own, other in (("alpha.yaml", "beta.yaml"), ("beta.yaml", "alpha.yaml")):
            source = by_file[own]
            assert source.config is None, own
            message = str(source.error)
            assert str(tmp_path / own) in message
            assert other in message
            assert "storage.prefix" in message
            assert "s3://retrain-artifacts/retraining/alpha/" in message
            assert f"s3://retrain-artifacts/{inner}" in message
        assert by_file["alpha.yaml"].name == "alpha"
        assert by_file["beta.yaml"].name == name

    @pytest.mark.parametrize(
        ("second", "why"),
        [
            pytest.param(with_storage("beta", "retraining"), "siblings", id="siblings"),
            pytest.param(with_storage("alpha_v2", "retraining"), "a longer name is not a sub-folder", id="alpha_v2"),
            pytest.param(with_storage("beta", "retraining/alph"), "alph is not alpha", id="segment-prefix"),
            pytest.param(
                with_storage("beta", "retraining/alpha/registry", bucket="other-artifacts"), "other bucket", id="bucket"
            ),
        ],
    )
    def test_separate_trees_are_fine(self, tmp_path: Path, second: dict[str, Any], why: str) -> None:
        write_yaml(tmp_path / "alpha.yaml", with_storage("alpha", "retraining"))
        write_yaml(tmp_path / "second.yaml", second)

        sources = discover_pipelines(tmp_path)

        assert all(s.config is not None for s in sources), (why, [str(s.error) for s in sources if s.error])

    def test_landing_data_inside_another_variants_tree_refuses_both(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "alpha.yaml", with_storage("alpha", "retraining"))
        write_yaml(tmp_path / "beta.yaml", with_landing("beta", "retrain-artifacts", "retraining/alpha/runs"))

        by_file = _by_file(discover_pipelines(tmp_path))

        beta, alpha = str(by_file["beta.yaml"].error), str(by_file["alpha.yaml"].error)
        assert by_file["alpha.yaml"].config is None
        assert by_file["beta.yaml"].config is None
        assert "dataset.prefix" in beta
        assert "alpha.yaml" in beta
        assert "storage.prefix" in alpha
        assert "beta.yaml" in alpha
        for message in (alpha, beta):
            assert "s3://retrain-artifacts/retraining/alpha/runs/churn/" in message
            assert "s3://retrain-artifacts/retraining/alpha/" in message

    def test_an_artifact_tree_inside_landing_data_is_refused(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "alpha.yaml", variant("alpha"))  # lands at s3://retrain-landing/churn/
        write_yaml(tmp_path / "beta.yaml", with_storage("beta", "churn", bucket="retrain-landing"))

        by_file = _by_file(discover_pipelines(tmp_path))

        assert by_file["alpha.yaml"].config is None
        assert by_file["beta.yaml"].config is None
        assert "s3://retrain-landing/churn/beta/" in str(by_file["alpha.yaml"].error)

    def test_a_variants_landing_inside_its_own_tree_is_refused(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "alpha.yaml", with_landing("alpha", "retrain-artifacts", "retraining/alpha"))

        (source,) = discover_pipelines(tmp_path)

        assert source.config is None
        assert "dataset.prefix" in str(source.error)
        assert "s3://retrain-artifacts/retraining/alpha/churn/" in str(source.error)

    def test_a_tree_inside_a_refused_duplicates_tree_is_refused_too(self, tmp_path: Path) -> None:
        """Fixing the duplicate name later must not be what first reveals the overlap."""
        write_yaml(tmp_path / "alpha.yaml", with_storage("alpha", "retraining"))
        write_yaml(tmp_path / "alpha-copy.yaml", with_storage("alpha", "retraining"))
        write_yaml(tmp_path / "beta.yaml", with_storage("beta", "retraining/alpha/registry"))

        by_file = _by_file(discover_pipelines(tmp_path))

        assert all(source.config is None for source in by_file.values())
        beta = str(by_file["beta.yaml"].error)
        assert "alpha.yaml" in beta
        assert "alpha-copy.yaml" in beta
        alpha = str(by_file["alpha.yaml"].error)
        assert "also claimed by alpha-copy.yaml" in alpha
        assert "beta.yaml" in alpha
        assert by_file["alpha.yaml"].name == "alpha"
        assert by_file["alpha-copy.yaml"].name == "alpha_copy"

    def test_variants_may_share_landing_data(self, tmp_path: Path) -> None:
        write_yaml(tmp_path / "alpha.yaml", variant("alpha"))
        write_yaml(tmp_path / "beta.yaml", variant("beta"))

        assert all(s.config is not None for s in discover_pipelines(tmp_path))


# --- config hash -----------------------------------------------------------------------------


class TestConfigHash:
    """config_hash identifies the config's content: same content, same hash; any change, new hash."""

    def test_stable_for_the_same_config(self, tmp_path: Path) -> None:
        shipped = load_pipeline(CHURN_YAML)
        # Same content, different key order and formatting (sorted keys, no comments).
        path = tmp_path / "churn.yaml"
        path.write_text(yaml.safe_dump(churn_raw(), sort_keys=True), encoding="utf-8")

        digest = shipped.config_hash()

        assert re.fullmatch(r"[0-9a-f]{64}", digest)
        assert digest == shipped.config_hash()
        assert digest == load_pipeline(CHURN_YAML).config_hash()
        assert digest == load_pipeline(path).config_hash()

    @pytest.mark.parametrize(
        "mutate",
        [
            pytest.param(_set("window", "days", 29), id="window-days"),
            pytest.param(_set("model", "params", "learning_rate", 0.1), id="model-param"),
            pytest.param(_set("model", "seed", 7), id="seed"),
            pytest.param(_set("promotion", "threshold", 0.7), id="threshold"),
            pytest.param(_set("dataset", "columns", "tenure_months", "max", 121), id="column-domain"),
            pytest.param(_set("storage", "prefix", "other"), id="storage-prefix"),
        ],
    )
    def test_changes_when_a_value_changes(self, tmp_path: Path, mutate: Mutation) -> None:
        raw = churn_raw()
        mutate(raw)
        changed = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert changed.config_hash() != load_pipeline(CHURN_YAML).config_hash()

    @pytest.mark.parametrize(
        "mutate",
        [
            pytest.param(_set("notifications", "webhook_conn_id", "ops_webhook"), id="webhook"),
            pytest.param(_set("monitoring", "max_model_age_hours", 99), id="max-model-age"),
        ],
    )
    def test_alerting_settings_do_not_change_it(self, tmp_path: Path, mutate: Mutation) -> None:
        """Tuning an alert must not mint new version ids for the same data and model config."""
        raw = churn_raw()
        raw.setdefault("notifications", {})
        mutate(raw)
        changed = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))

        assert changed != load_pipeline(CHURN_YAML)
        assert changed.config_hash() == load_pipeline(CHURN_YAML).config_hash()


# --- pipelines folder ------------------------------------------------------------------------


class TestPipelinesDir:
    """RETRAIN_PIPELINES_DIR moves the folder; unset (or empty) it is the shipped one."""

    def test_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("RETRAIN_PIPELINES_DIR", raising=False)

        assert pipelines_dir() == DEFAULT_PIPELINES_DIR

    def test_empty_value_means_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("RETRAIN_PIPELINES_DIR", "")

        assert pipelines_dir() == DEFAULT_PIPELINES_DIR

    def test_environment_variable_overrides(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

        assert pipelines_dir() == tmp_path

    def test_discovery_reads_the_overridden_folder(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        write_yaml(tmp_path / "only.yaml", variant("only"))
        monkeypatch.setenv("RETRAIN_PIPELINES_DIR", str(tmp_path))

        sources = discover_pipelines()

        assert [s.name for s in sources] == ["only"]
        assert sources[0].path == tmp_path / "only.yaml"


class TestGateRules:
    """Shorthand checks, drift and segment rules parse into typed values."""

    def test_every_rule_key_parses(self, tmp_path: Path) -> None:
        raw = churn_raw()
        raw["expectations"]["raw"]["checks"] = yaml.safe_load(
            """
            - {column: monthly_charges, between: [0, 300], severity: warn}
            - {column: plan, in_set: [basic, standard, premium]}
            - {column: region, max_null_fraction: 0.02}
            - {column: tenure_months, mean_between: [10, null]}
            - {column: customer_id, unique: true}
            - {column: customer_id, regex: "^C\\\\d{8}-\\\\d+$"}
            - {table: row_count, between: [1000, 100000]}
            """
        )
        config = load_pipeline(write_yaml(tmp_path / "churn.yaml", raw))
        checks = config.expectations.raw.checks
        assert [c.rule for c in checks] == [
            "between",
            "in_set",
            "max_null_fraction",
            "mean_between",
            "unique",
            "regex",
            "between",
        ]
        assert checks[0].between == (0.0, 300.0)
        assert checks[0].severity == "warn"
        assert {c.severity for c in checks[1:]} == {"fail"}
        assert checks[3].mean_between == (10.0, None)
        assert checks[5].regex == "^C\\d{8}-\\d+$"
        assert (checks[6].table, checks[6].subject) == ("row_count", "table row_count")

    def test_shipped_churn_gate_rules(self) -> None:
        rules = load_pipeline(CHURN_YAML).expectations
        assert [(c.column, c.rule, c.severity) for c in rules.raw.checks] == [
            ("monthly_charges", "between", "warn"),
            ("tenure_months", "mean_between", "warn"),
        ]
        assert (rules.drift.on_drift, rules.drift.psi_warn, rules.drift.psi_fail) == ("fail", 0.1, 0.25)
        assert rules.model.segments is not None
        assert (rules.model.segments.column, rules.model.segments.threshold) == ("plan", 0.6)
        assert rules.features.max_single_feature_score == 0.999
        assert rules.features.on_constant_feature == "fail"
