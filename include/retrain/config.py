"""Typed, validated pipeline configuration: one YAML file per variant.

Kept light on purpose: DAG files import this module at parse time, so it uses only
pydantic and PyYAML (both already loaded by Airflow) and never touches data or network.
Every model forbids unknown keys, so a typo is an error, not a silently ignored knob.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from include.retrain.errors import ConfigError

#: Where the shipped variants live; ``RETRAIN_PIPELINES_DIR`` points elsewhere (tests, forks).
DEFAULT_PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"

NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"
COLUMN_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
BUCKET_RE = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"
_PREFIX_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_.=\-]+$")

ColumnType = Literal["int", "float", "bool", "string", "category", "date", "datetime"]
NUMERIC_TYPES = frozenset({"int", "float", "bool"})
CATEGORICAL_TYPES = frozenset({"string", "category", "bool"})

#: Estimators a config may name, with the task each one solves. Anything else is refused:
#: the model file allowlist (``modelio``) is derived from this list.
ESTIMATORS: dict[str, Literal["classification", "regression"]] = {
    "sklearn.ensemble.HistGradientBoostingClassifier": "classification",
    "sklearn.ensemble.HistGradientBoostingRegressor": "regression",
    "sklearn.ensemble.RandomForestClassifier": "classification",
    "sklearn.ensemble.RandomForestRegressor": "regression",
    "sklearn.linear_model.LogisticRegression": "classification",
    "sklearn.linear_model.Ridge": "regression",
}

#: Metrics a promotion policy may use: the task they apply to and which way is better.
METRICS: dict[str, tuple[Literal["classification", "regression"], Literal["maximize", "minimize"]]] = {
    "roc_auc": ("classification", "maximize"),
    "average_precision": ("classification", "maximize"),
    "accuracy": ("classification", "maximize"),
    "f1": ("classification", "maximize"),
    "log_loss": ("classification", "minimize"),
    "rmse": ("regression", "minimize"),
    "mae": ("regression", "minimize"),
    "r2": ("regression", "maximize"),
}

CRON_PRESETS = frozenset({"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def check_safe_prefix(value: str) -> str:
    """Refuse S3 prefixes that could escape their folder (``..``, absolute, odd characters)."""
    if value == "":
        return value
    if value.startswith("/") or value.endswith("/") or "//" in value:
        raise ValueError(f"{value!r} must be relative, without leading/trailing or double slashes")
    for segment in value.split("/"):
        if segment in (".", "..") or not _PREFIX_SEGMENT_RE.match(segment):
            raise ValueError(f"{value!r} has an unsafe path segment {segment!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One column of the landing data: its type and the domain the raw gate enforces."""

    type: ColumnType
    description: str = ""
    max_null_fraction: Fraction = 0.0
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _domain_fits_type(self) -> ColumnSpec:
        if (self.min is not None or self.max is not None) and self.type not in ("int", "float"):
            raise ValueError(f"min/max apply to int and float columns, not {self.type}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.values is not None and self.type not in ("category", "string"):
            raise ValueError(f"values apply to category and string columns, not {self.type}")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values must list at least one allowed value")
        return self


class DatasetConfig(_Strict):
    """Where the landing data is and what it must look like."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")]
    bucket: Annotated[str, Field(pattern=BUCKET_RE)] = "retrain-landing"
    prefix: str = ""
    format: Literal["parquet", "csv"] = "parquet"
    columns: dict[Annotated[str, Field(pattern=COLUMN_RE)], ColumnSpec] = Field(min_length=1)
    target: str
    id_column: str | None = None
    event_date_column: str | None = None
    partition_column: Annotated[str, Field(pattern=COLUMN_RE)] = "ds"
    allow_extra_columns: bool = False
    max_file_mb: Annotated[float, Field(gt=0)] = 512.0

    _check_prefix = field_validator("prefix")(classmethod(lambda cls, v: check_safe_prefix(v)))

    @model_validator(mode="after")
    def _columns_exist(self) -> DatasetConfig:
        for field in ("target", "id_column", "event_date_column"):
            column = getattr(self, field)
            if column is not None and column not in self.columns:
                raise ValueError(f"{field} {column!r} is not a column in dataset.columns")
        if self.event_date_column and self.columns[self.event_date_column].type not in ("date", "datetime"):
            raise ValueError(f"event_date_column {self.event_date_column!r} must be a date or datetime column")
        if self.partition_column in self.columns:
            raise ValueError(
                f"partition_column {self.partition_column!r} is added from the ds=YYYY-MM-DD path; "
                "it must not also be a data column"
            )
        return self

    @property
    def landing_prefix(self) -> str:
        """Key prefix holding the ``ds=YYYY-MM-DD`` partitions, with a trailing slash."""
        return "/".join(p for p in (self.prefix, self.name) if p) + "/"

    @property
    def landing_uri(self) -> str:
        return f"s3://{self.bucket}/{self.landing_prefix}"


class WindowConfig(_Strict):
    """The training window: how many daily partitions before the run's data interval end."""

    days: Annotated[int, Field(ge=1, le=3650)] = 28


Transform = Literal["log1p", "sqrt", "standardize"]


class FeaturesConfig(_Strict):
    """Which columns feed the model and how."""

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    passthrough: tuple[str, ...] = ()
    transforms: dict[str, Transform] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sane_lists(self) -> FeaturesConfig:
        all_features = self.all
        if not all_features:
            raise ValueError("at least one feature is required (numeric, categorical or passthrough)")
        duplicates = sorted({c for c in all_features if all_features.count(c) > 1})
        if duplicates:
            raise ValueError(f"columns listed more than once: {duplicates}")
        for column in self.transforms:
            if column not in self.numeric:
                raise ValueError(f"transforms.{column}: transforms apply to numeric features only")
        return self

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.passthrough]


ParamValue = int | float | bool | str | None


class ModelConfig(_Strict):
    """The estimator (from an allowlist), its parameters and the seed."""

    estimator: str
    params: dict[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")], ParamValue] = Field(default_factory=dict)
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 42

    @field_validator("estimator")
    @classmethod
    def _allowed(cls, value: str) -> str:
        if value not in ESTIMATORS:
            raise ValueError(f"{value!r} is not an allowed estimator; choose one of {sorted(ESTIMATORS)}")
        return value

    @property
    def task(self) -> Literal["classification", "regression"]:
        return ESTIMATORS[self.estimator]


class SplitConfig(_Strict):
    """How the window is split into training and holdout rows.

    ``hash`` (default) assigns a row by a stable hash of ``dataset.id_column``: a row held out
    once stays held out in every later window, so the champion never trained on any row of a
    later candidate's holdout and the comparison is fair. ``random`` (seeded, per window) and
    ``time`` (latest rows) are for data without stable ids; with overlapping windows the
    champion may have trained on part of their holdout.
    """

    strategy: Literal["hash", "random", "time"] = "hash"
    holdout_fraction: Annotated[float, Field(ge=0.05, le=0.5)] = 0.2
    stratify: bool = True


class PromotionConfig(_Strict):
    """When a newly trained model becomes champion."""

    metric: str
    threshold: float | None = None
    min_improvement: Annotated[float, Field(ge=0)] = 0.0

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; choose one of {sorted(METRICS)}")
        return value

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return METRICS[self.metric][1]


class RawGateConfig(_Strict):
    """Table-level rules for ``validate_raw``; column rules come from ``dataset.columns``."""

    min_rows: Annotated[int, Field(ge=1)] = 1
    max_rows: Annotated[int, Field(ge=1)] | None = None
    freshness_days: Annotated[int, Field(ge=0)] | None = 2


class FeaturesGateConfig(_Strict):
    """Rules for ``validate_features``."""

    min_train_rows: Annotated[int, Field(ge=1)] = 50
    min_holdout_rows: Annotated[int, Field(ge=1)] = 20
    min_class_fraction: Fraction | None = 0.01


class ModelGateConfig(_Strict):
    """Rules for ``validate_model``; the metric threshold comes from ``promotion``."""

    min_prediction_std: Annotated[float, Field(ge=0)] = 1e-6
    max_regression: Annotated[float, Field(ge=0)] | None = None


class ExpectationsConfig(_Strict):
    """The Great Expectations gates between stages."""

    raw: RawGateConfig = RawGateConfig()
    features: FeaturesGateConfig = FeaturesGateConfig()
    model: ModelGateConfig = ModelGateConfig()


class ScheduleConfig(_Strict):
    """When the scheduler runs the variant."""

    cron: str | None = "0 3 * * *"
    start_date: date = date(2026, 1, 1)
    catchup: bool = False
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None or value in CRON_PRESETS:
            return value
        from croniter import croniter  # light; Airflow itself depends on it

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as UTC or Europe/Berlin)") from exc
        return value


class StorageConfig(_Strict):
    """Where artifacts and the registry live, and which Airflow connection reaches them."""

    conn_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-]{1,250}$")] = "aws_default"
    bucket: Annotated[str, Field(pattern=BUCKET_RE)] = "retrain-artifacts"
    prefix: str = "retraining"

    _check_prefix = field_validator("prefix")(classmethod(lambda cls, v: check_safe_prefix(v)))


class TasksConfig(_Strict):
    """Airflow task defaults for the variant's infra tasks (gates never retry)."""

    retries: Annotated[int, Field(ge=0, le=20)] = 3
    retry_delay_seconds: Annotated[float, Field(gt=0)] = 30.0
    retry_backoff: Annotated[float, Field(ge=1.0, le=10.0)] = 2.0
    max_retry_delay_seconds: Annotated[float, Field(gt=0)] = 600.0
    execution_timeout_minutes: Annotated[float, Field(gt=0)] = 60.0
    train_timeout_minutes: Annotated[float, Field(gt=0)] = 240.0
    pool: Annotated[str, Field(min_length=1)] = "training"


class PipelineConfig(_Strict):
    """One retraining variant; becomes the DAG ``retrain_<name>``."""

    name: Annotated[str, Field(pattern=NAME_RE)]
    description: str = ""
    owner: str = "ml-platform"
    tags: tuple[str, ...] = ()
    dataset: DatasetConfig
    window: WindowConfig = WindowConfig()
    features: FeaturesConfig
    model: ModelConfig
    split: SplitConfig = SplitConfig()
    promotion: PromotionConfig
    expectations: ExpectationsConfig = ExpectationsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    storage: StorageConfig = StorageConfig()
    tasks: TasksConfig = TasksConfig()

    @model_validator(mode="after")
    def _consistent(self) -> PipelineConfig:
        columns = self.dataset.columns
        reserved = {self.dataset.target, self.dataset.id_column}
        for kind, names, allowed in (
            ("numeric", self.features.numeric, NUMERIC_TYPES),
            ("categorical", self.features.categorical, CATEGORICAL_TYPES),
            ("passthrough", self.features.passthrough, NUMERIC_TYPES),
        ):
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
        metric_task = METRICS[self.promotion.metric][0]
        if metric_task != self.model.task:
            raise ValueError(
                f"promotion.metric {self.promotion.metric!r} is a {metric_task} metric but "
                f"{self.model.estimator} is a {self.model.task} model"
            )
        target_type = columns[self.dataset.target].type
        if self.model.task == "regression" and target_type not in ("int", "float"):
            raise ValueError(f"dataset.target {self.dataset.target!r} must be int or float for regression")
        if self.split.strategy == "hash" and not self.dataset.id_column:
            raise ValueError("split.strategy hash needs dataset.id_column (or use strategy random or time)")
        return self

    @property
    def dag_id(self) -> str:
        return f"retrain_{self.name}"

    def config_hash(self) -> str:
        """sha256 of the canonical config: recorded with every version, part of its id."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def pipelines_dir() -> Path:
    """The folder holding ``<name>.yaml`` variant files."""
    return Path(os.environ.get("RETRAIN_PIPELINES_DIR") or DEFAULT_PIPELINES_DIR)


def _format_validation_error(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (not part of the pipeline config schema)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{location}: {message}")
    return problems


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Load and validate one variant file; raise :class:`ConfigError` naming file, field and reason."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"YAML syntax error: {where}{getattr(exc, 'problem', exc)}"]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["(top level): the file must be a mapping of config keys"])
    raw.setdefault("name", path.stem)
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(str(path), _format_validation_error(exc)) from exc


@dataclass(frozen=True)
class PipelineSource:
    """The outcome of loading one YAML file: a config, or the error that stops it."""

    path: Path
    name: str
    config: PipelineConfig | None = None
    error: ConfigError | None = None


def discover_pipelines(directory: str | Path | None = None) -> list[PipelineSource]:
    """Load every ``*.yaml``/``*.yml`` file; a broken file never hides the others.

    Returns one entry per file, sorted by file name. A name claimed by an earlier file makes
    every later file with that name an error, so each DAG id has exactly one source.
    """
    folder = Path(directory) if directory is not None else pipelines_dir()
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    sources: list[PipelineSource] = []
    claimed: dict[str, Path] = {}
    for path in files:
        try:
            config = load_pipeline(path)
        except ConfigError as exc:
            sources.append(PipelineSource(path=path, name=_fallback_name(path), error=exc))
            continue
        if config.name in claimed:
            error = ConfigError(
                str(path), [f"name: variant name {config.name!r} is already used by {claimed[config.name].name}"]
            )
            sources.append(PipelineSource(path=path, name=_fallback_name(path), error=error))
            continue
        claimed[config.name] = path
        sources.append(PipelineSource(path=path, name=config.name, config=config))
    return _unique_broken_names(sources, set(claimed))


def _unique_broken_names(sources: list[PipelineSource], valid_names: set[str]) -> list[PipelineSource]:
    """Give each broken file a name no valid variant uses, so it never shadows a working DAG."""
    taken = set(valid_names)
    result = []
    for source in sources:
        if source.error is not None:
            name, counter = source.name, 1
            while name in taken:
                name = f"{source.name}_broken" if counter == 1 else f"{source.name}_broken{counter}"
                counter += 1
            source = PipelineSource(path=source.path, name=name, error=source.error)
        taken.add(source.name)
        result.append(source)
    return result


def _fallback_name(path: Path) -> str:
    """A DAG-id-safe name for a file whose config could not be read."""
    return re.sub(r"[^a-z0-9_]", "_", path.stem.lower()) or "unnamed"
