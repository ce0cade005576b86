"""One retraining variant (``PipelineConfig``): its sections, and the rules that span them."""

from __future__ import annotations

import hashlib
import json

from pydantic import Field, model_validator

from include.retrain.config.base import (
    CATEGORICAL_TYPES,
    NAME_RE,
    NUMERIC_TYPES,
    _Strict,
)
from include.retrain.config.checks import CheckRule
from include.retrain.config.dataset import DatasetConfig, WindowConfig
from include.retrain.config.deployment import DeploymentConfig
from include.retrain.config.expectations import ExpectationsConfig, LabelDriftConfig
from include.retrain.config.features import DATETIME_ONLY_PARTS, FeaturesConfig
from include.retrain.config.model import METRICS, ModelConfig, PromotionConfig, SplitConfig
from include.retrain.config.notifications import MonitoringConfig, NotificationsConfig
from include.retrain.config.schedule import ScheduleConfig
from include.retrain.config.scoring import ScoringConfig
from include.retrain.config.storage import StorageConfig
from include.retrain.config.tasks import TasksConfig

#: Config sections about alerting and serving only; they never change what a run produces (see config_hash).
OPERATIONAL_SECTIONS = ("notifications", "monitoring", "scoring")


class PipelineConfig(_Strict):
    """One retraining variant; becomes the DAG ``retrain_<name>``."""

    name: str = Field(pattern=NAME_RE, description="Variant name; the DAG is `retrain_<name>`. Default: the file name.")
    description: str = Field("", description="Markdown shown as the DAG's docs.")
    owner: str = Field("ml-platform", description="Airflow owner of every task.")
    tags: tuple[str, ...] = Field((), description="Extra DAG tags (retraining and the name are always set).")
    dataset: DatasetConfig = Field(description="Landing data location and schema.")
    window: WindowConfig = Field(WindowConfig(), description="Training window.")
    features: FeaturesConfig = Field(description="Model features.")
    model: ModelConfig = Field(description="Estimator, parameters and seed.")
    split: SplitConfig = Field(SplitConfig(), description="Train/holdout split.")
    promotion: PromotionConfig = Field(description="Promotion policy.")
    expectations: ExpectationsConfig = Field(ExpectationsConfig(), description="Gate rules.")
    schedule: ScheduleConfig = Field(ScheduleConfig(), description="Scheduling.")
    storage: StorageConfig = Field(StorageConfig(), description="Artifact store and registry location.")
    deployment: DeploymentConfig = Field(DeploymentConfig(), description="How promoted models are deployed.")
    tasks: TasksConfig = Field(TasksConfig(), description="Task retries, timeouts and pool.")
    notifications: NotificationsConfig = Field(
        NotificationsConfig(), description="Messages about failed runs, promotions and stale models."
    )
    monitoring: MonitoringConfig = Field(MonitoringConfig(), description="Model freshness expectations.")
    scoring: ScoringConfig | None = Field(
        None,
        description="Batch scoring of new landing data with the deployed model: adds the DAG `score_<name>`. "
        "null = no scoring DAG.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> PipelineConfig:
        """Cross-section checks: features against the columns, the metric and target against the model."""
        self._label_source_not_a_feature()
        self._date_parts_fit_columns()
        self._features_fit_columns()
        self._model_fits_target()
        return self

    def _feature_lists(self) -> tuple[tuple[str, tuple[str, ...], frozenset[str]], ...]:
        """Each feature kind with its columns and the column types it allows."""
        return (
            ("numeric", self.features.numeric, NUMERIC_TYPES),
            ("categorical", self.features.categorical, CATEGORICAL_TYPES),
            ("passthrough", self.features.passthrough, NUMERIC_TYPES),
        )

    def _label_source_not_a_feature(self) -> None:
        """A derived label's source column is no feature (it would hand the model the answer)."""
        label = self.dataset.label
        if label is None:
            return
        for kind, names, _allowed in self._feature_lists():
            for column in names:
                if column == label.column:
                    raise ValueError(
                        f"features.{kind}: {column!r} is the source of the derived label {self.dataset.target!r} "
                        f"(dataset.label.column): as a feature it would hand the model the answer; remove it"
                    )

    def _features_fit_columns(self) -> None:
        """Every feature is a declared column, not the target or id, of a type its kind allows."""
        columns = self.dataset.columns
        reserved = {self.dataset.target, self.dataset.id_column}
        for kind, names, allowed in self._feature_lists():
            for column in names:
                if column not in columns:
                    raise ValueError(f"features.{kind}: {column!r} is not a column in dataset.columns")
                if column in reserved:
                    raise ValueError(f"features.{kind}: {column!r} is the target or id column")
                if columns[column].type not in allowed:
                    raise ValueError(
                        f"features.{kind}: {column!r} has type {columns[column].type}; "
                        f"{kind} features need one of {sorted(allowed)}"
                    )

    def _model_fits_target(self) -> None:
        """The promotion metric is for the model's task; a regression model has a numeric, underived target."""
        metric_task = METRICS[self.promotion.metric][0]
        if metric_task != self.model.task:
            raise ValueError(
                f"promotion.metric {self.promotion.metric!r} is a {metric_task} metric but "
                f"{self.model.estimator} is a {self.model.task} model"
            )
        target_type = self.dataset.target_spec.type
        if self.model.task != "regression":
            return
        if self.dataset.label is not None:
            raise ValueError(
                f"dataset.label derives a binary label; {self.model.estimator} is a regression model (use a "
                "classifier, or drop label and name a numeric target column)"
            )
        if target_type not in ("int", "float"):
            raise ValueError(f"dataset.target {self.dataset.target!r} must be int or float for regression")
        if self.dataset.positive_class is not None:
            raise ValueError(
                f"dataset.positive_class applies to classification; {self.model.estimator} is a regression model "
                "(remove positive_class)"
            )

    def _date_parts_fit_columns(self) -> None:
        """Each ``date_parts`` column is a declared date/datetime column; ``hour`` needs a datetime."""
        columns, features = self.dataset.columns, self.features
        for column, parts in features.date_parts.items():
            where = f"features.date_parts.{column}"
            if column not in columns:
                raise ValueError(f"{where}: {column!r} is not a column in dataset.columns")
            if column in (self.dataset.target, self.dataset.id_column):
                raise ValueError(f"{where}: {column!r} is the target or id column")
            kind = columns[column].type
            if kind not in ("date", "datetime"):
                raise ValueError(f"{where}: {column!r} has type {kind}; date parts need a date or datetime column")
            only = sorted(DATETIME_ONLY_PARTS.intersection(parts))
            if kind == "date" and only:
                raise ValueError(
                    f"{where}: {only} is a part of datetime columns; {column!r} is a date column (no time of day)"
                )
        taken = {*features.numeric, *features.categorical, *features.passthrough, self.dataset.target}
        for name in features.date_part_columns:
            if name in taken:
                raise ValueError(
                    f"features.date_parts: the derived feature {name!r} is named like a feature or the target; "
                    "rename that column"
                )

    @model_validator(mode="after")
    def _gate_columns_exist(self) -> PipelineConfig:
        """Every column a gate rule names exists in the table that gate checks."""
        rules = self.expectations
        dataset = self.dataset
        raw_columns = {*dataset.raw_columns, dataset.partition_column}
        _check_columns(
            "expectations.raw.checks",
            rules.raw.checks,
            raw_columns,
            "dataset.columns" + (" (or the derived label)" if dataset.label else ""),
        )
        for number, check in enumerate(rules.raw.checks):
            if check.column == dataset.target and check.max_null_fraction is not None:
                raise ValueError(
                    f"expectations.raw.checks[{number}]: max_null_fraction on the target {dataset.target!r}: its "
                    "missing values are governed by dataset.target_nulls (fail or drop)"
                )
        numeric = {*self.features.numeric, *self.features.passthrough, *self.features.date_part_columns}
        numeric.add(dataset.target)
        one_hot = tuple(f"{c}_" for c in self.features.categorical)
        _check_columns(
            "expectations.features.checks",
            rules.features.checks,
            numeric,
            "the feature matrix (a numeric or passthrough feature, a date part <column>_<part>, the target, or "
            "<categorical>_<value>)",
            prefixes=one_hot,
        )
        model_columns = {m for m, (task, _) in METRICS.items() if task == self.model.task}
        model_columns |= {"improvement_over_champion", "score"}
        _check_columns(
            "expectations.model.checks",
            rules.model.checks,
            model_columns,
            f"the model gate's tables ({', '.join(sorted(model_columns))})",
        )
        unknown = sorted(set(rules.drift.columns or ()) - set(self.features.compared))
        if unknown:
            raise ValueError(
                f"expectations.drift.columns: {unknown} are not model features (a date column is compared by its "
                "parts: name them, e.g. signup_date_month)"
            )
        segments = rules.model.segments
        if segments is not None:
            column = dataset.columns.get(segments.column)
            if column is None or segments.column == dataset.target:
                raise ValueError(f"expectations.model.segments.column {segments.column!r} is not a non-target column")
            if column.type not in ("category", "string", "bool", "int"):
                raise ValueError(
                    f"expectations.model.segments.column {segments.column!r} has type {column.type}; "
                    "segments need a category, string, bool or int column"
                )
        return self

    @model_validator(mode="after")
    def _scoring_has_ids(self) -> PipelineConfig:
        """Predictions are joined back to their rows by id: scoring needs ``dataset.id_column``."""
        if self.scoring is not None and not self.dataset.id_column:
            raise ValueError("scoring needs dataset.id_column: each prediction row carries the id it scores")
        when = self.monitoring.retrain_when
        if when is not None and self.scoring is None:
            raise ValueError("monitoring.retrain_when needs a scoring section: score_<name> checks it")
        live = when is not None and when.live_metric_below is not None
        if live and self.scoring is not None and self.scoring.label_delay_days is None:
            raise ValueError("monitoring.retrain_when.live_metric_below needs scoring.label_delay_days (live metrics)")
        return self

    @property
    def dag_id(self) -> str:
        return f"retrain_{self.name}"

    def config_hash(self) -> str:
        """sha256 of the canonical config: recorded with every version, part of its id.

        Who is alerted and when (``notifications``, ``monitoring``) and how the deployed model is
        used (``scoring``) do not change what a run produces, so those sections are left out:
        tuning an alert or a scoring schedule never mints a new version.
        """
        content = self.model_dump(mode="json", exclude=set(OPERATIONAL_SECTIONS))
        # Keys added later, whose unset default keeps the old behaviour, leave the hash as it was, so
        # upgrading the bundle does not mint new versions of unchanged variants.
        if content["dataset"].get("positive_class") is None:
            del content["dataset"]["positive_class"]
        if content["dataset"].get("target_nulls") == "fail":
            del content["dataset"]["target_nulls"]
        if content["dataset"].get("label") is None:
            del content["dataset"]["label"]
        if not content["features"].get("date_parts"):
            del content["features"]["date_parts"]
        if content["expectations"]["drift"].get("label") == LabelDriftConfig().model_dump(mode="json"):
            del content["expectations"]["drift"]["label"]  # a gate setting only: the model is the same
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _check_columns(
    where: str, checks: tuple[CheckRule, ...], known: set[str], table: str, prefixes: tuple[str, ...] = ()
) -> None:
    """Refuse a check whose column is not in the table its gate validates: a ``known`` name or one of ``prefixes``."""
    for number, check in enumerate(checks):
        column = check.column
        if column is not None and column not in known and not column.startswith(prefixes):
            raise ValueError(f"{where}[{number}]: column {column!r} is not in {table}")
