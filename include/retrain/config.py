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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from include.retrain.errors import ConfigError

#: libyaml's safe loader when PyYAML was built with it (several times faster at parse time).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Bounds on one variant file, so one hostile file cannot stall or crash discovery (it runs at every
#: DAG file parse and every registry page request). A real config is a few kB and a few levels deep.
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_DEPTH = 32

#: Where the shipped variants live; ``RETRAIN_PIPELINES_DIR`` points elsewhere (tests, forks).
DEFAULT_PIPELINES_DIR = Path(__file__).resolve().parents[1] / "pipelines"

NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"
COLUMN_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
BUCKET_RE = r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$"
CONN_ID_RE = r"^[A-Za-z0-9_.\-]{1,250}$"
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

#: Parts ``features.date_parts`` may take from a date or datetime column (``hour``: datetime only).
#: Each becomes one numeric model feature ``<column>_<part>``; ``dayofweek`` counts Monday as 0 and
#: ``is_weekend`` is 1 on Saturday and Sunday.
DATE_PARTS = ("year", "quarter", "month", "day", "dayofweek", "dayofyear", "is_weekend", "hour")
DATETIME_ONLY_PARTS = frozenset({"hour"})

#: The rules a derived label (``dataset.label``) may use; exactly one per label.
LABEL_RULES = ("greater_than", "less_than", "equals", "in_set")

CRON_PRESETS = frozenset({"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


def _value_fits(value: Any, column_type: str) -> bool:
    """``value`` is a label a column of ``column_type`` can hold (bool is no int here)."""
    return {
        "bool": isinstance(value, bool),
        "int": isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer(),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "category": isinstance(value, str),
        "string": isinstance(value, str),
    }.get(column_type, False)


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


#: ``max: window_end`` on a date or datetime column: every value before the run's window end.
WINDOW_END = "window_end"


class ColumnSpec(_Strict):
    """One column of the landing data: its type and the domain the raw gate enforces."""

    type: ColumnType = Field(description="Declared type: int, float, bool, string, category, date or datetime.")
    description: str = Field("", description="What the column means (documentation only).")
    max_null_fraction: Fraction = Field(0.0, description="Largest share of nulls validate_raw accepts (0 = none).")
    min: float | date | None = Field(
        None,
        description="Smallest allowed value: a number (int and float columns) or a date YYYY-MM-DD (date and "
        "datetime columns, midnight).",
    )
    max: float | date | Literal["window_end"] | None = Field(
        None,
        description="Largest allowed value: a number (int and float columns) or a date YYYY-MM-DD (date and "
        "datetime columns, midnight); `window_end` (date and datetime columns): every value before the run's "
        "window end, so nothing is dated after the data.",
    )
    values: tuple[str, ...] | None = Field(None, description="Allowed values (category and string columns).")

    @field_validator("min", "max", mode="before")
    @classmethod
    def _bound_text(cls, value: Any, info: Any) -> Any:
        """A quoted date becomes a date; other text is refused in one sentence (not one per union member)."""
        if not isinstance(value, str) or (info.field_name == "max" and value == WINDOW_END):
            return value
        try:
            float(value)
            return value  # a quoted number, as before
        except ValueError:
            pass
        try:
            return date.fromisoformat(value)
        except ValueError:
            also = ", or window_end" if info.field_name == "max" else ""
            raise ValueError(f"must be a number or a date YYYY-MM-DD{also}; got {value!r}") from None

    @model_validator(mode="after")
    def _domain_fits_type(self) -> ColumnSpec:
        self._bounds_fit_type()
        if self.values is not None and self.type not in ("category", "string"):
            raise ValueError(f"values apply to category and string columns, not {self.type}")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values must list at least one allowed value")
        return self

    def _bounds_fit_type(self) -> None:
        """Numbers bound int and float columns; dates (and ``max: window_end``) bound date and datetime columns."""
        if self.min is None and self.max is None:
            return
        if self.type not in ("int", "float", "date", "datetime"):
            raise ValueError(f"min/max apply to int, float, date and datetime columns, not {self.type}")
        article = "an" if self.type == "int" else "a"
        for name, value in (("min", self.min), ("max", self.max)):
            if value is None:
                continue
            if self.type in ("int", "float") and not isinstance(value, float):
                raise ValueError(f"{name} of {article} {self.type} column must be a number, got {value!r}")
            if self.type in ("date", "datetime") and isinstance(value, float):
                also = " or window_end" if name == "max" else ""
                raise ValueError(f"{name} of a {self.type} column must be a date YYYY-MM-DD{also}, got {value!r}")
        # Both numbers or both dates here (checked above).
        if self.min is not None and self.max is not None and self.max != WINDOW_END and self.min > self.max:  # type: ignore[operator]
            word = "is after" if isinstance(self.min, date) else "is greater than"
            raise ValueError(f"min ({self.min}) {word} max ({self.max})")


LabelValue = str | int | float | bool


class LabelConfig(_Strict):
    """A binary label derived from one landing column, e.g. ``{column: arr_delay, greater_than: 15}``.

    The label (named by ``dataset.target``) is true where the rule holds, false where it does not,
    and missing where the source value is missing (``dataset.target_nulls`` decides what then).
    """

    column: str = Field(
        pattern=COLUMN_RE,
        description="The landing column the label is derived from (a column of dataset.columns: int, float, bool, "
        "category or string). It is refused as a model feature: it holds the answer.",
    )
    greater_than: float | None = Field(
        None, description="Label true where the column (int or float) is greater than this number."
    )
    less_than: float | None = Field(None, description="Label true where the column (int or float) is less than this.")
    equals: LabelValue | None = Field(
        None, description="Label true where the column equals this value (a label of its type; quote text)."
    )
    in_set: tuple[LabelValue, ...] | None = Field(
        None, min_length=1, description="Label true where the column holds one of these values."
    )

    @model_validator(mode="after")
    def _one_rule(self) -> LabelConfig:
        rules = [name for name in LABEL_RULES if getattr(self, name) is not None]
        if len(rules) != 1:
            found = f"found {rules}" if rules else "found none"
            raise ValueError(f"label has exactly one rule of {list(LABEL_RULES)}; {found}")
        return self

    @property
    def rule(self) -> str:
        """The rule key this label uses (``greater_than``, ``in_set``, ...)."""
        return next(name for name in LABEL_RULES if getattr(self, name) is not None)

    @property
    def operand(self) -> Any:
        return getattr(self, self.rule)

    def describe(self, target: str) -> str:
        """``late = arr_delay > 15``: the label's definition in one line (reports, model cards)."""
        words = {"greater_than": ">", "less_than": "<", "equals": "==", "in_set": "in"}
        operand = self.operand
        shown = list(operand) if isinstance(operand, tuple) else operand
        if isinstance(shown, float) and shown.is_integer():
            shown = int(shown)
        return f"{target} = {self.column} {words[self.rule]} {shown!r}"


#: A derived label is a boolean column (true where its rule holds).
DERIVED_LABEL_SPEC = ColumnSpec(type="bool", description="derived by dataset.label")


class DatasetConfig(_Strict):
    """Where the landing data is and what it must look like."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$", description="Dataset folder in the landing bucket."
    )
    bucket: str = Field("retrain-landing", pattern=BUCKET_RE, description="Landing bucket.")
    prefix: str = Field("", description="Key prefix above the dataset folder (relative, no `..`).")
    format: Literal["parquet", "csv"] = Field("parquet", description="File format of the landing files.")
    columns: dict[Annotated[str, Field(pattern=COLUMN_RE)], ColumnSpec] = Field(
        min_length=1, description="The schema: column name to type and domain (see ColumnSpec keys)."
    )
    target: str = Field(
        description="The label column. With `label`, the name of the label derived from another column: then it is "
        "not a landing column (not in dataset.columns) but a boolean column ingest adds, which every gate, the "
        "split, the metrics and the model card read like a landed one."
    )
    label: LabelConfig | None = Field(
        None,
        description="A binary label derived at ingest from one landing column instead of a landed label column, "
        "e.g. `{column: arr_delay, greater_than: 15}` with `target: late`: `late` is true where `arr_delay > 15`, "
        "false where not, and missing where `arr_delay` is missing (so `target_nulls: drop` drops those rows, `fail` "
        "fails validate_raw). Exactly one rule: `greater_than` or `less_than` (a number; int and float columns), "
        "`equals` (one value of the column's type) or `in_set` (a list of them). Needs a classification estimator; "
        "the default positive class is `true`. The source column stays in the raw window (its declared domain is "
        "checked) but may not be a feature: it holds the answer. null = `target` is a landing column.",
    )
    id_column: str | None = Field(None, description="Unique row id; checked for uniqueness, used by the hash split.")
    event_date_column: str | None = Field(None, description="Date column of the event; used by the time split.")
    positive_class: str | int | bool | None = Field(
        None,
        description="Binary classification: the label that f1 and average_precision score as positive and whose "
        "probability is the model gate's `score` (roc_auc is the same either way). Default (null): the last label "
        "in sorted order (1 of 0/1, true of false, 'yes' of 'no'). A label the holdout does not have fails evaluate.",
    )
    target_nulls: Literal["fail", "drop"] = Field(
        "fail",
        description="Rows whose target is missing: fail (validate_raw fails on any, a gate verdict with its "
        "report) or drop (ingest drops them before the gates and counts them as `target_nulls_dropped`: labels "
        "that arrive later). The target takes no max_null_fraction.",
    )
    partition_column: str = Field("ds", pattern=COLUMN_RE, description="Column ingest adds from ds=YYYY-MM-DD.")
    allow_extra_columns: bool = Field(False, description="Accept columns not in the schema.")
    max_file_mb: float = Field(512.0, gt=0, description="Landing files above this size fail ingest.")

    _check_prefix = field_validator("prefix")(classmethod(lambda cls, v: check_safe_prefix(v)))

    @model_validator(mode="after")
    def _columns_exist(self) -> DatasetConfig:
        if self.label is not None:
            self._label_fits_columns()
        for field in ("target", "id_column", "event_date_column"):
            column = getattr(self, field)
            if field == "target" and self.label is not None:
                continue
            if column is not None and column not in self.columns:
                raise ValueError(f"{field} {column!r} is not a column in dataset.columns")
        if self.event_date_column and self.columns[self.event_date_column].type not in ("date", "datetime"):
            raise ValueError(f"event_date_column {self.event_date_column!r} must be a date or datetime column")
        if self.partition_column in self.columns:
            raise ValueError(
                f"partition_column {self.partition_column!r} is added from the ds=YYYY-MM-DD path; "
                "it must not also be a data column"
            )
        if self.target_spec.max_null_fraction > 0:
            raise ValueError(
                f"columns.{self.target}.max_null_fraction: the target's missing values are governed by "
                "dataset.target_nulls (fail: any missing label fails validate_raw; drop: rows without a label are "
                "dropped at ingest and counted), not by max_null_fraction; remove it from the target"
            )
        if self.positive_class is not None:
            self._positive_class_fits_target()
        return self

    def _positive_class_fits_target(self) -> None:
        """``positive_class`` is a label the target column can hold: its type, ``values`` and ``min``/``max``."""
        value, spec = self.positive_class, self.target_spec
        fits = {
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "category": isinstance(value, str),
            "string": isinstance(value, str),
        }.get(spec.type, False)
        if not fits:
            hint = " (write a number unquoted)" if spec.type in ("int", "float") and isinstance(value, str) else ""
            if isinstance(value, bool) and spec.type in ("category", "string"):
                hint = " (YAML 1.1 reads an unquoted yes/no/on/off/true/false as a boolean: quote the label)"
            raise ValueError(f"positive_class {value!r} is not a label of the {spec.type} target {self.target!r}{hint}")
        if spec.values is not None and value not in spec.values:
            raise ValueError(f"positive_class {value!r} is not one of the target's values {list(spec.values)}")
        low, high = spec.min, spec.max
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and ((isinstance(low, float) and value < low) or (isinstance(high, float) and value > high)):
            raise ValueError(f"positive_class {value!r} is outside the target's min/max [{low}, {high}]")

    def _label_fits_columns(self) -> None:
        """A derived label: a new column name, from a declared column, by a rule that fits that column's type."""
        label = self.label
        assert label is not None
        if self.target in self.columns:
            raise ValueError(
                f"target {self.target!r} is derived by label from {label.column!r}, so it must not also be a column "
                f"of dataset.columns; name the derived label something else (or drop label to use the column)"
            )
        if not re.match(COLUMN_RE, self.target) or self.target == self.partition_column:
            raise ValueError(f"target {self.target!r}: a derived label needs a new column name matching {COLUMN_RE}")
        spec = self.columns.get(label.column)
        if spec is None:
            raise ValueError(f"label.column {label.column!r} is not a column in dataset.columns")
        if label.column == self.id_column:
            raise ValueError(f"label.column {label.column!r} is the id column")
        rule, operand = label.rule, label.operand
        if rule in ("greater_than", "less_than"):
            if spec.type not in ("int", "float"):
                raise ValueError(
                    f"label.{rule}: compares numbers, but label.column {label.column!r} has type {spec.type} "
                    "(use equals or in_set)"
                )
            return
        if spec.type in ("date", "datetime"):
            raise ValueError(f"label.{rule}: label.column {label.column!r} is a {spec.type} column; no label from it")
        for value in operand if isinstance(operand, tuple) else (operand,):
            if not _value_fits(value, spec.type):
                hint = ""
                if isinstance(value, bool) and spec.type in ("category", "string"):
                    hint = " (YAML 1.1 reads an unquoted yes/no/on/off/true/false as a boolean: quote the value)"
                raise ValueError(
                    f"label.{rule}: {value!r} is not a value of the {spec.type} column {label.column!r}{hint}"
                )
            if spec.values is not None and value not in spec.values:
                raise ValueError(f"label.{rule}: {value!r} is not one of {label.column!r}'s values {list(spec.values)}")

    @property
    def target_spec(self) -> ColumnSpec:
        """The target's column spec: declared, or a boolean for a label derived by ``label``."""
        return DERIVED_LABEL_SPEC if self.label is not None else self.columns[self.target]

    @property
    def raw_columns(self) -> dict[str, ColumnSpec]:
        """The columns of the raw window ingest writes: the declared ones and a derived label."""
        if self.label is None:
            return dict(self.columns)
        return {**self.columns, self.target: DERIVED_LABEL_SPEC}

    @property
    def landing_prefix(self) -> str:
        """Key prefix holding the ``ds=YYYY-MM-DD`` partitions, with a trailing slash."""
        return "/".join(p for p in (self.prefix, self.name) if p) + "/"

    @property
    def landing_uri(self) -> str:
        return f"s3://{self.bucket}/{self.landing_prefix}"


class WindowConfig(_Strict):
    """The training window: how many daily partitions before the run's data interval end."""

    days: int = Field(28, ge=1, le=3650, description="Daily partitions before the data interval end.")


Transform = Literal["log1p", "sqrt", "standardize"]


class FeaturesConfig(_Strict):
    """Which columns feed the model and how."""

    numeric: tuple[str, ...] = Field((), description="Numeric features (median-imputed).")
    categorical: tuple[str, ...] = Field((), description="Categorical features (one-hot, unknowns ignored).")
    passthrough: tuple[str, ...] = Field((), description="Numeric columns passed through unchanged.")
    transforms: dict[str, Transform] = Field(
        default_factory=dict, description="Per numeric feature: log1p, sqrt or standardize."
    )
    date_parts: dict[Annotated[str, Field(pattern=COLUMN_RE)], tuple[str, ...]] = Field(
        default_factory=dict,
        description="Per date or datetime column, the parts that become numeric features, e.g. "
        "`{signup_date: [month, dayofweek]}` gives `signup_date_month` and `signup_date_dayofweek`. Parts: year, "
        "quarter, month, day, dayofweek (Monday = 0), dayofyear, is_weekend (1 on Saturday and Sunday) and, for "
        "datetime columns only, hour. They are computed inside the registered model (a `DateParts` step of its "
        "feature transformer, allowlisted for model files), so serving passes the date column itself "
        "(`to_model_input` gives it as datetime64, missing = NaT; a missing date's parts are median-imputed). The "
        "reference profile and check_drift compare each part like a numeric feature (its name in "
        "`expectations.drift.columns`), and validate_features' leakage and constant checks judge each part.",
    )

    @field_validator("date_parts")
    @classmethod
    def _known_parts(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for column, parts in value.items():
            if not parts:
                raise ValueError(f"{column}: list at least one date part of {list(DATE_PARTS)}")
            for part in parts:
                if part not in DATE_PARTS:
                    raise ValueError(f"{column}: unknown date part {part!r}; choose from {list(DATE_PARTS)}")
            if len(set(parts)) != len(parts):
                raise ValueError(f"{column}: a date part is listed more than once in {list(parts)}")
        return value

    @model_validator(mode="after")
    def _sane_lists(self) -> FeaturesConfig:
        all_features = self.all
        if not all_features:
            raise ValueError("at least one feature is required (numeric, categorical, passthrough or date_parts)")
        duplicates = sorted({c for c in all_features if all_features.count(c) > 1})
        if duplicates:
            raise ValueError(f"columns listed more than once: {duplicates}")
        for column in self.transforms:
            if column not in self.numeric:
                raise ValueError(f"transforms.{column}: transforms apply to numeric features only")
        return self

    @property
    def all(self) -> list[str]:
        """Every column the model takes (its input): the feature columns and the date columns of ``date_parts``."""
        return [*self.numeric, *self.categorical, *self.passthrough, *self.date_parts]

    @property
    def date_part_columns(self) -> list[str]:
        """The numeric features ``date_parts`` derives: ``<column>_<part>``, in config order."""
        return [f"{column}_{part}" for column, parts in self.date_parts.items() for part in parts]

    @property
    def compared(self) -> list[str]:
        """The columns the reference profile describes and check_drift compares: features and date parts."""
        return [*self.numeric, *self.categorical, *self.passthrough, *self.date_part_columns]

    def sources(self, compared: list[str] | tuple[str, ...]) -> list[str]:
        """The input columns ``compared`` columns come from (a date part: its date column)."""
        parts = {f"{column}_{part}": column for column, names in self.date_parts.items() for part in names}
        return list(dict.fromkeys(parts.get(name, name) for name in compared))


ParamValue = int | float | bool | str | None


class ModelConfig(_Strict):
    """The estimator (from an allowlist), its parameters and the seed."""

    estimator: str = Field(description="Dotted path of an allowlisted sklearn estimator.")
    params: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], ParamValue] = Field(
        default_factory=dict, description="Estimator parameters; manual triggers may override these keys only."
    )
    seed: int = Field(42, ge=0, le=2**32 - 1, description="random_state for the estimator and the splits.")

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

    strategy: Literal["hash", "random", "time"] = Field("hash", description="hash (by id), random or time.")
    holdout_fraction: float = Field(0.2, ge=0.05, le=0.5, description="Share of rows held out.")
    stratify: bool = Field(True, description="Stratify the random split by class (classification).")


class BootstrapConfig(_Strict):
    """A paired bootstrap test on the shared holdout: is the candidate's improvement real or noise?

    Both models are scored on the same resampled rows, so the test sees only the difference
    between them, not the sampling noise of the holdout that both share. The same settings give
    the model card's metric intervals (``stats.bootstrap``).
    """

    samples: int = Field(
        1000,
        ge=100,
        le=100_000,
        description="Bootstrap resamples in all, each as many draws as the holdout has rows. From 20,000 "
        "holdout rows on they come from a bag of little bootstraps: samples/100 disjoint random subsets of n^0.7 "
        "holdout rows (at least 2,000; larger for a rare class; fewer subsets if they do not fit) share them evenly.",
    )
    confidence: float = Field(
        0.95, ge=0.5, le=0.999, description="Confidence level of the two-sided interval of the metric difference."
    )


class PromotionConfig(_Strict):
    """When a newly trained model becomes champion."""

    metric: str = Field(description="Holdout metric that decides promotion.")
    threshold: float | None = Field(None, description="Bar every model must reach (>= maximize, <= minimize).")
    min_improvement: float = Field(0.0, ge=0, description="How much a candidate must beat the champion by.")
    bootstrap: BootstrapConfig | None = Field(
        None,
        description="Paired bootstrap test: promote only if the lower bound of the interval of the improvement "
        "exceeds min_improvement; null = compare point values.",
    )

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in METRICS:
            raise ValueError(f"unknown metric {value!r}; choose one of {sorted(METRICS)}")
        return value

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return METRICS[self.metric][1]


Severity = Literal["fail", "warn"]
Bounds = tuple[float | None, float | None]

#: Shorthand rule keys of a check, in the order docs/concepts/gates.md documents them.
CHECK_RULES = ("between", "in_set", "max_null_fraction", "mean_between", "unique", "regex")


class CheckRule(_Strict):
    """One expectation in shorthand: a column (or the table), exactly one rule, and a severity.

    ``{column: monthly_charges, between: [0, 300], severity: warn}`` becomes
    ``ExpectColumnValuesToBeBetween(column="monthly_charges", min_value=0, max_value=300)``
    with severity warn (``include.retrain.gates.expectations`` does the mapping).
    """

    column: str | None = Field(None, description="Column the rule applies to (give `column` or `table`).")
    table: Literal["row_count"] | None = Field(
        None, description="Table-level subject instead of a column: `row_count` (with `between`)."
    )
    between: Bounds | None = Field(
        None,
        description="[min, max] for every value, or the row count with `table` (null = open side). "
        "ExpectColumnValuesToBeBetween / ExpectTableRowCountToBeBetween.",
    )
    in_set: tuple[str | int | float | bool, ...] | None = Field(
        None, min_length=1, description="Allowed values. ExpectColumnValuesToBeInSet."
    )
    max_null_fraction: Fraction | None = Field(
        None, description="Largest share of nulls. ExpectColumnValuesToNotBeNull (mostly = 1 - value)."
    )
    mean_between: Bounds | None = Field(
        None, description="[min, max] for the column mean (null = open side). ExpectColumnMeanToBeBetween."
    )
    unique: Literal[True] | None = Field(None, description="`true`: no value twice. ExpectColumnValuesToBeUnique.")
    regex: str | None = Field(
        None, min_length=1, description="Every value matches (re.search). ExpectColumnValuesToMatchRegex."
    )
    severity: Severity = Field("fail", description="fail: stops the run; warn: recorded in the report, run goes on.")

    @model_validator(mode="after")
    def _one_subject_one_rule(self) -> CheckRule:
        if (self.column is None) == (self.table is None):
            raise ValueError("a check names exactly one of `column` or `table`")
        rules = [name for name in CHECK_RULES if getattr(self, name) is not None]
        if len(rules) != 1:
            found = f"found {rules}" if rules else "found none"
            raise ValueError(f"a check has exactly one rule of {list(CHECK_RULES)}; {found}")
        if self.table is not None and rules != ["between"]:
            raise ValueError(f"table: {self.table} takes `between`, not `{rules[0]}`")
        for name in ("between", "mean_between"):
            bounds = getattr(self, name)
            if bounds is None:
                continue
            low, high = bounds
            if low is None and high is None:
                raise ValueError(f"{name} needs at least one bound ([min, null] or [null, max])")
            if low is not None and high is not None and low > high:
                raise ValueError(f"{name}: min ({low}) is greater than max ({high})")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from exc
        return self

    @property
    def rule(self) -> str:
        """The rule key this check uses (``between``, ``in_set``, ...)."""
        return next(name for name in CHECK_RULES if getattr(self, name) is not None)

    @property
    def subject(self) -> str:
        """What the check is about, for messages: ``column 'x'`` or ``table row_count``."""
        return f"column {self.column!r}" if self.column is not None else f"table {self.table}"


Checks = tuple[CheckRule, ...]


class RawGateConfig(_Strict):
    """Rules for ``validate_raw``: table rules here, column defaults from ``dataset.columns``."""

    min_rows: int = Field(1, ge=1, description="Fewest rows a window may have.")
    max_rows: int | None = Field(None, ge=1, description="Most rows a window may have.")
    freshness_days: int | None = Field(
        2, ge=0, description="Newest partition may lag the day before the window end by this many days."
    )
    checks: Checks = Field(
        (), description="Shorthand expectations on the raw window; they add to or replace the schema defaults."
    )


class FeaturesGateConfig(_Strict):
    """Rules for ``validate_features``."""

    min_train_rows: int = Field(50, ge=1, description="Fewest training rows.")
    min_holdout_rows: int = Field(20, ge=1, description="Fewest holdout rows.")
    min_class_fraction: Fraction | None = Field(0.01, description="Smallest share of any class in training rows.")
    max_class_fraction: Fraction | None = Field(None, description="Largest share of any class in training rows.")
    min_feature_std: float | None = Field(
        0.0,
        ge=0,
        description="Each feature's standard deviation on the training rows must exceed this "
        "(0: no constant features); null = no check.",
    )
    on_constant_feature: Severity = Field(
        "warn",
        description="fail: a constant feature stops the run (a stuck upstream column); warn: recorded, "
        "for data with features constant by nature (e.g. blank pixels).",
    )
    max_single_feature_score: float | None = Field(
        0.999,
        ge=0.5,
        le=1.0,
        description="Leakage bar: the most one feature alone may predict the target on the training rows "
        "(ROC AUC either way or per-value purity; absolute Spearman correlation for regression); null = no check.",
    )
    checks: Checks = Field(
        (), description="Shorthand expectations on the train and holdout feature matrices (added to the defaults)."
    )

    @model_validator(mode="after")
    def _sane(self) -> FeaturesGateConfig:
        low, high = self.min_class_fraction, self.max_class_fraction
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_class_fraction ({low}) is greater than max_class_fraction ({high})")
        for number, check in enumerate(self.checks):
            if check.table is not None:
                raise ValueError(
                    f"checks[{number}]: table rules do not apply to feature matrices; "
                    "use min_train_rows / min_holdout_rows"
                )
        return self


class SegmentsConfig(_Strict):
    """Per-segment floors for ``validate_model``: the metric on each segment of the holdout."""

    column: str = Field(description="Dataset column whose values define the segments (category, string, bool, int).")
    threshold: float = Field(
        description="Bar each segment's holdout metric must reach (>= maximize, <= minimize metrics)."
    )
    min_rows: int = Field(50, ge=1, description="Segments with fewer holdout rows are reported, not judged.")


class ModelGateConfig(_Strict):
    """Rules for ``validate_model``; the metric threshold comes from ``promotion``."""

    min_prediction_std: float = Field(
        1e-6, ge=0, description="Holdout scores must spread at least this much (not degenerate)."
    )
    max_regression: float | None = Field(
        None, ge=0, description="validate_model fails if the candidate is worse than the champion by more."
    )
    segments: SegmentsConfig | None = Field(None, description="Per-segment metric floors; null = none.")
    checks: Checks = Field(
        (),
        description="Shorthand expectations on the holdout metrics (a metric name or improvement_over_champion) "
        "and scores (`score`, `table: row_count`).",
    )


class LabelDriftConfig(_Strict):
    """Rules for the label's distribution in ``check_drift``: class shares or the target's bins vs the champion's."""

    psi_warn: float = Field(0.1, ge=0, description="Label PSI above this is recorded as a warning.")
    psi_fail: float = Field(
        0.25, ge=0, description="Label PSI above this is label drift (fails or warns per on_drift)."
    )
    on_drift: Severity = Field("warn", description="fail: label drift stops the run; warn: recorded, run goes on.")

    @model_validator(mode="after")
    def _ordered(self) -> LabelDriftConfig:
        if self.psi_warn > self.psi_fail:
            raise ValueError(f"psi_warn ({self.psi_warn}) is greater than psi_fail ({self.psi_fail})")
        return self


class DriftGateConfig(_Strict):
    """Rules for ``check_drift``: this window against the champion's reference profile."""

    columns: tuple[str, ...] | None = Field(
        None,
        description="Features to compare (a date column by its parts: `signup_date_month`); null = every model "
        "feature and date part.",
    )
    bins: int = Field(10, ge=2, le=100, description="Quantile bins per numeric feature in the reference profile.")
    psi_warn: float = Field(0.1, ge=0, description="PSI above this is recorded as a warning.")
    psi_fail: float = Field(0.25, ge=0, description="PSI above this is drift (fails or warns per on_drift).")
    ks_max: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Optional: KS statistic (on the reference bin edges) above this is drift, numeric features.",
    )
    on_drift: Severity = Field("warn", description="fail: drift stops the run; warn: recorded, run goes on.")
    label: LabelDriftConfig | None = Field(
        LabelDriftConfig(),
        description="The label's distribution against the champion's training rows (classification: PSI of the "
        "class shares; regression: PSI of the target over the reference's quantile bins), with its own bars; "
        "null = not compared.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> DriftGateConfig:
        if self.psi_warn > self.psi_fail:
            raise ValueError(f"psi_warn ({self.psi_warn}) is greater than psi_fail ({self.psi_fail})")
        return self


class ExpectationsConfig(_Strict):
    """The Great Expectations gates between stages."""

    raw: RawGateConfig = Field(RawGateConfig(), description="Rules for validate_raw.")
    features: FeaturesGateConfig = Field(FeaturesGateConfig(), description="Rules for validate_features.")
    drift: DriftGateConfig = Field(DriftGateConfig(), description="Rules for check_drift.")
    model: ModelGateConfig = Field(ModelGateConfig(), description="Rules for validate_model.")


class ScheduleConfig(_Strict):
    """When the scheduler runs the variant."""

    cron: str | None = Field("0 3 * * *", description="Cron expression or preset; null = no time schedule.")
    on_new_data: bool = Field(
        False, description="Also run when watch_landing sees a new ds partition (an Airflow Asset event)."
    )
    start_date: date = Field(date(2026, 1, 1), description="First data interval the scheduler considers.")
    catchup: bool = Field(False, description="Create runs for missed intervals since start_date.")
    timezone: str = Field("UTC", description="IANA timezone of the cron schedule.")

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

    conn_id: str = Field("aws_default", pattern=CONN_ID_RE, description="Airflow connection to the S3 endpoint.")
    bucket: str = Field(
        "retrain-artifacts", pattern=BUCKET_RE, description="Bucket for run artifacts and the registry."
    )
    prefix: str = Field("retraining", description="Key prefix above `<pipeline>/` (relative, no `..`).")
    max_attempts: int = Field(
        10,
        ge=1,
        le=30,
        description="S3 client attempts per request (botocore standard retries, jittered exponential backoff); "
        "rides out a few seconds of refused connections or 5xx inside every task, gates included. With the "
        "default timeouts a request to an endpoint that never answers fails within 176 s (docs: Faults and "
        "what happens). The connection's config_kwargs win.",
    )
    connect_timeout_seconds: float = Field(
        2.0, gt=0, description="S3 client connect timeout per attempt (a TCP connect, not a transfer)."
    )
    read_timeout_seconds: float = Field(
        13.0,
        gt=0,
        description="S3 client read timeout per attempt: the longest wait for the next byte of an answer, "
        "not for a whole transfer, so large uploads and downloads are not cut short while bytes flow.",
    )

    _check_prefix = field_validator("prefix")(classmethod(lambda cls, v: check_safe_prefix(v)))


class DeploymentConfig(_Strict):
    """How a promoted model reaches serving: the pointer serving systems poll, and how it moves."""

    strategy: Literal["direct", "blue_green", "canary"] = Field(
        "direct",
        description="direct (the champion is deployed at once), blue_green (two slots, the idle one receives "
        "the model, then the pointer switches) or canary (the candidate shadows the champion first).",
    )
    canary_runs: int = Field(
        3, ge=1, le=100, description="canary: later runs in a row the challenger must win before it becomes champion."
    )
    notify_conn_id: str | None = Field(
        None,
        pattern=CONN_ID_RE,
        description="Airflow HTTP connection that receives deployed.json by POST when it changes; null = no hook.",
    )
    notify_timeout_seconds: float = Field(10.0, gt=0, le=300, description="Timeout of the HTTP hook call.")


NotificationEvent = Literal["failure", "promotion", "stale_model"]


class NotificationsConfig(_Strict):
    """Who hears about failed runs, new champions and stale models: one JSON message per event.

    The list of events is ``events``, not ``on``: YAML 1.1 (PyYAML) reads a bare ``on`` key as
    the boolean true.
    """

    webhook_conn_id: str | None = Field(
        None,
        pattern=CONN_ID_RE,
        description="Airflow HTTP connection that receives each message as JSON by POST (Slack-compatible `text` "
        "field included); null = no notifications.",
    )
    events: tuple[NotificationEvent, ...] = Field(
        ("failure", "promotion", "stale_model"),
        description="Which events send a message: failure (a run failed: task, reason, report link), promotion "
        "(a new champion), stale_model (no successful retrain within monitoring.max_model_age_hours).",
    )
    timeout_seconds: float = Field(10.0, gt=0, le=300, description="Timeout of each POST.")


class MonitoringConfig(_Strict):
    """What ops expect of a variant: how old its newest model may get before someone is told."""

    max_model_age_hours: float | None = Field(
        None,
        gt=0,
        description="check_model_freshness fails and alerts when the last successful retrain (the newest registered "
        "version) is older than this; null = not checked.",
    )


class TasksConfig(_Strict):
    """Airflow task defaults: retries after infra faults (every task, gates included), timeouts, pool."""

    retries: int = Field(
        3, ge=0, le=20, description="Retries of every task after an infra fault (gates included); data failures never."
    )
    retry_delay_seconds: float = Field(30.0, gt=0, description="First retry delay.")
    retry_backoff: float = Field(2.0, ge=1.0, le=10.0, description="Multiplier of the delay per retry.")
    max_retry_delay_seconds: float = Field(600.0, gt=0, description="Cap on the retry delay.")
    execution_timeout_minutes: float = Field(60.0, gt=0, description="Timeout of each task but train.")
    train_timeout_minutes: float = Field(240.0, gt=0, description="Timeout of the train task.")
    pool: str = Field("training", min_length=1, description="Airflow pool of the train task.")
    threads: int | None = Field(
        1,
        ge=1,
        le=1024,
        description="Native threads (OpenMP, BLAS) each task may use; size it to the cores a task really gets. "
        "null = the libraries' default, one per core (oversubscribes a shared worker).",
    )


#: Config sections about alerting only; they never change what a run produces (see config_hash).
OPERATIONAL_SECTIONS = ("notifications", "monitoring")


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

    @model_validator(mode="after")
    def _consistent(self) -> PipelineConfig:
        columns = self.dataset.columns
        reserved = {self.dataset.target, self.dataset.id_column}
        label = self.dataset.label
        for kind, names in (
            ("numeric", self.features.numeric),
            ("categorical", self.features.categorical),
            ("passthrough", self.features.passthrough),
        ):
            for column in names:
                if label is not None and column == label.column:
                    raise ValueError(
                        f"features.{kind}: {column!r} is the source of the derived label {self.dataset.target!r} "
                        f"(dataset.label.column): as a feature it would hand the model the answer; remove it"
                    )
        self._date_parts_fit_columns()
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
        target_type = self.dataset.target_spec.type
        if self.model.task == "regression" and label is not None:
            raise ValueError(
                f"dataset.label derives a binary label; {self.model.estimator} is a regression model (use a "
                "classifier, or drop label and name a numeric target column)"
            )
        if self.model.task == "regression" and target_type not in ("int", "float"):
            raise ValueError(f"dataset.target {self.dataset.target!r} must be int or float for regression")
        if self.model.task == "regression" and self.dataset.positive_class is not None:
            raise ValueError(
                f"dataset.positive_class applies to classification; {self.model.estimator} is a regression model "
                "(remove positive_class)"
            )
        if self.split.strategy == "hash" and not self.dataset.id_column:
            raise ValueError("split.strategy hash needs dataset.id_column (or use strategy random or time)")
        return self

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
            lambda c: c in raw_columns,
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
            lambda c: c in numeric or c.startswith(one_hot),
            "the feature matrix (a numeric or passthrough feature, a date part <column>_<part>, the target, or "
            "<categorical>_<value>)",
        )
        model_columns = {m for m, (task, _) in METRICS.items() if task == self.model.task}
        model_columns |= {"improvement_over_champion", "score"}
        _check_columns(
            "expectations.model.checks",
            rules.model.checks,
            lambda c: c in model_columns,
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

    @property
    def dag_id(self) -> str:
        return f"retrain_{self.name}"

    def config_hash(self) -> str:
        """sha256 of the canonical config: recorded with every version, part of its id.

        Who is alerted and when (``notifications``, ``monitoring``) does not change what a run
        produces, so those sections are left out: tuning an alert never mints a new version.
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


def _check_columns(where: str, checks: tuple[CheckRule, ...], known: Callable[[str], bool], table: str) -> None:
    """Refuse a check whose column is not in the table its gate validates."""
    for number, check in enumerate(checks):
        if check.column is not None and not known(check.column):
            raise ValueError(f"{where}[{number}]: column {check.column!r} is not in {table}")


def pipelines_dir() -> Path:
    """The folder holding ``<name>.yaml`` variant files."""
    return Path(os.environ.get("RETRAIN_PIPELINES_DIR") or DEFAULT_PIPELINES_DIR)


def _format_validation_error(error: ValidationError, booleans: Callable[[], YamlBooleans] | None = None) -> list[str]:
    """One ``location: message`` per pydantic error; a YAML 1.1 boolean where text belongs says so."""
    problems = []
    for item in error.errors():
        if booleans is not None and isinstance(item.get("input"), bool) and item["type"] == "string_type":
            found = booleans().get(tuple(item["loc"]))
            if found is not None:
                problems.append(_yaml11_problem(tuple(item["loc"]), item["input"], *found))
                continue
        location = ".".join(str(part) for part in item["loc"] if part != "[key]") or "(top level)"
        if "[key]" in item["loc"]:
            location += " (the key itself)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key (not part of the pipeline config schema)"
        elif item["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{location}: {message}")
    return problems


#: Where YAML 1.1 read an unquoted word as a boolean: the path to it (loaded keys and list indexes;
#: a key's own path ends with "[key]") -> (the word as written, its line).
YamlBooleans = dict[tuple[Any, ...], tuple[str, int]]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"


def _yaml11_booleans(text: str) -> YamlBooleans:
    """Every plain scalar of ``text`` that YAML 1.1 (PyYAML) reads as a boolean: yes, no, on, off, true, false.

    Composed from the text again, so only for a file that already has a problem (anchors and deep
    nesting are refused before, by ``_check_yaml_bounds``).
    """
    found: YamlBooleans = {}

    def loaded(node: yaml.Node) -> Any:
        if node.tag == _BOOL_TAG:
            return node.value.lower() in ("yes", "true", "on")
        if node.tag == _INT_TAG:
            try:
                return int(node.value)
            except ValueError:
                return node.value
        return node.value

    def walk(node: yaml.Node, path: tuple[Any, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.tag == _BOOL_TAG:
                        found[(*path, loaded(key), "[key]")] = (key.value, key.start_mark.line + 1)
                    walk(value, (*path, loaded(key)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))
        elif node.tag == _BOOL_TAG and not node.style:
            found[path] = (node.value, node.start_mark.line + 1)

    root = yaml.compose(text, Loader=_YAML_LOADER)
    if root is not None:
        walk(root, ())
    return found


def _where(path: tuple[Any, ...]) -> str:
    """``("dataset", "columns", "x", "values", 0)`` -> ``dataset.columns.x.values[0]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else f".{part}"
    return text.lstrip(".") or "(top level)"


def _yaml11_problem(path: tuple[Any, ...], value: bool, written: str, line: int) -> str:
    return (
        f"{_where(path)}: the boolean {value}, not text: YAML 1.1 reads unquoted {written} as a boolean; "
        f"write '{written}' in quotes (line {line})"
    )


def _boolean_keys(node: Any, booleans: Callable[[], YamlBooleans], path: tuple[Any, ...] = ()) -> list[str]:
    """Keys YAML 1.1 turned into booleans (a bare on/off/yes/no), named instead of "Keys should be strings"."""
    if not isinstance(node, dict):
        return []
    problems = []
    for key, value in node.items():
        if isinstance(key, bool):
            written, line = booleans().get((*path, key, "[key]"), (str(key).lower(), 0))
            problems.append(
                f"{_where(path)}: a key reads as the boolean {str(key).lower()}: YAML 1.1 reads unquoted {written} "
                f"as a boolean; write '{written}' in quotes (line {line}), or for notifications use `events`"
            )
        else:
            problems += _boolean_keys(value, booleans, (*path, key))
    return problems


def _text_labels_read_as_booleans(raw: dict[str, Any], booleans: Callable[[], YamlBooleans]) -> list[str]:
    """Labels of text columns that YAML 1.1 made booleans where booleans are also valid config.

    ``dataset.positive_class`` and a raw check's ``in_set`` accept booleans (for bool columns), so
    pydantic takes ``Yes`` for ``true`` there; for a category or string column it is a text label.
    """
    dataset = raw.get("dataset") if isinstance(raw.get("dataset"), dict) else {}
    columns = dataset.get("columns") if isinstance(dataset.get("columns"), dict) else {}

    def is_text(column: Any) -> bool:
        spec = columns.get(column) if isinstance(column, str) else None
        return isinstance(spec, dict) and spec.get("type") in ("category", "string")

    places: list[tuple[tuple[Any, ...], Any]] = []
    if is_text(dataset.get("target")):
        places.append((("dataset", "positive_class"), dataset.get("positive_class")))
    label = dataset.get("label") if isinstance(dataset.get("label"), dict) else {}
    if is_text(label.get("column")):
        places.append((("dataset", "label", "equals"), label.get("equals")))
        for index, value in enumerate(label["in_set"] if isinstance(label.get("in_set"), list) else []):
            places.append((("dataset", "label", "in_set", index), value))
    expectations = raw.get("expectations") if isinstance(raw.get("expectations"), dict) else {}
    gate = expectations.get("raw") if isinstance(expectations.get("raw"), dict) else {}
    checks = gate.get("checks") if isinstance(gate.get("checks"), list) else []
    for number, check in enumerate(checks):
        if isinstance(check, dict) and is_text(check.get("column")) and isinstance(check.get("in_set"), list):
            for index, value in enumerate(check["in_set"]):
                places.append((("expectations", "raw", "checks", number, "in_set", index), value))
    problems = []
    for path, value in places:
        if isinstance(value, bool) and (found := booleans().get(path)) is not None:
            problems.append(_yaml11_problem(path, value, *found))
    return problems


def _cached(compute: Callable[[], YamlBooleans]) -> Callable[[], YamlBooleans]:
    cache: list[YamlBooleans] = []

    def get() -> YamlBooleans:
        if not cache:
            cache.append(compute())
        return cache[0]

    return get


def _check_yaml_bounds(path: Path, text: str) -> None:
    """Refuse anchors and aliases and deep nesting, from the parser's events, before anything is built.

    One alias can stand for a whole mapping, so a 1 kB file of nested aliases ("billion laughs")
    expands to 10**9 values once walked; merge keys (``<<: *a``) copy them eagerly. libyaml's
    composer recurses once per nesting level and crashes the process around 100,000 levels. The
    event stream itself is flat and cheap (well under a millisecond for a shipped variant).
    """
    depth = 0
    for event in yaml.parse(text, Loader=_YAML_LOADER):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            mark = event.start_mark
            written = f"*{anchor}" if isinstance(event, yaml.AliasEvent) else f"&{anchor}"
            raise ConfigError(
                str(path),
                [
                    f"line {mark.line + 1}, column {mark.column + 1}: YAML anchors and aliases ({written}) are not "
                    "accepted in pipeline configs (a few nested aliases expand a small file into billions of "
                    "values); write the value out in full where it is used"
                ],
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_CONFIG_DEPTH:
                mark = event.start_mark
                raise ConfigError(
                    str(path),
                    [
                        f"line {mark.line + 1}, column {mark.column + 1}: values are nested more than "
                        f"{MAX_CONFIG_DEPTH} levels deep; a pipeline config needs fewer than ten"
                    ],
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def load_pipeline(path: str | Path) -> PipelineConfig:
    """Load and validate one variant file; raise :class:`ConfigError` naming file, field and reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                str(path),
                [
                    f"(file): {size / 1024:.0f} KiB is more than a pipeline config may have "
                    f"({MAX_CONFIG_BYTES // 1024} KiB); a variant file is a few kB: is this the right file?"
                ],
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"cannot read file: {exc}"]) from exc
    try:
        _check_yaml_bounds(path, text)
        raw: Any = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), [f"YAML syntax error: {where}{getattr(exc, 'problem', exc)}"]) from exc
    if not isinstance(raw, dict):
        raise ConfigError(str(path), ["(top level): the file must be a mapping of config keys"])
    booleans = _cached(lambda: _yaml11_booleans(text))
    if problems := _boolean_keys(raw, booleans):
        raise ConfigError(str(path), problems)
    raw.setdefault("name", path.stem)
    labels = _text_labels_read_as_booleans(raw, booleans)
    try:
        config = PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        problems = _format_validation_error(exc, booleans)
        if any(".positive_class:" in label for label in labels):  # said once, with the word as written
            problems = [p for p in problems if not p.startswith("dataset: positive_class")]
        if any(".label." in label for label in labels):
            problems = [p for p in problems if not p.startswith("dataset: label.")]
        raise ConfigError(str(path), labels + problems) from exc
    if labels:
        raise ConfigError(str(path), labels)
    return config


@dataclass(frozen=True)
class PipelineSource:
    """The outcome of loading one YAML file: a config, or the error that stops it."""

    path: Path
    name: str
    config: PipelineConfig | None = None
    error: ConfigError | None = None


def discover_pipelines(directory: str | Path | None = None) -> list[PipelineSource]:
    """Load every ``*.yaml``/``*.yml`` file; a broken file never hides the others.

    Returns one entry per file, sorted by file name. A problem between files refuses every file
    involved, never only the later one: two files claiming one name (else the first in sort order
    would silently own ``retrain_<name>`` and its registry) and variants whose storage trees
    overlap (each one's registry listing would read the other's objects).
    """
    folder = Path(directory) if directory is not None else pipelines_dir()
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    outcomes: dict[Path, PipelineConfig | ConfigError] = {}
    for path in files:
        try:
            outcomes[path] = load_pipeline(path)
        except ConfigError as exc:
            outcomes[path] = exc
    loaded = {path: outcome for path, outcome in outcomes.items() if isinstance(outcome, PipelineConfig)}
    duplicates, overlaps = _duplicate_names(loaded), _overlapping_trees(loaded)
    sources: list[PipelineSource] = []
    for path, outcome in outcomes.items():
        if isinstance(outcome, ConfigError):
            sources.append(PipelineSource(path=path, name=_fallback_name(path), error=outcome))
        elif path in duplicates or path in overlaps:
            error = ConfigError(str(path), duplicates.get(path, []) + overlaps.get(path, []))
            # A shared name is the problem: show each file under its own stem, not under the name.
            name = _fallback_name(path) if path in duplicates else outcome.name
            sources.append(PipelineSource(path=path, name=name, error=error))
        else:
            sources.append(PipelineSource(path=path, name=outcome.name, config=outcome))
    return _unique_broken_names(sources, {source.name for source in sources if source.config is not None})


def _duplicate_names(loaded: dict[Path, PipelineConfig]) -> dict[Path, list[str]]:
    """The problem of each file whose variant name another file also claims."""
    claims: dict[str, list[Path]] = {}
    for path, config in loaded.items():
        claims.setdefault(config.name, []).append(path)
    problems: dict[Path, list[str]] = {}
    for name, paths in claims.items():
        for path in paths if len(paths) > 1 else ():
            others = ", ".join(other.name for other in paths if other != path)
            problems[path] = [
                f"name: variant name {name!r} is also claimed by {others}; every file claiming it is refused, so "
                f"none takes over retrain_{name} or its registry. Give each file its own `name` (a copied file "
                "needs a new one)"
            ]
    return problems


@dataclass(frozen=True)
class _Tree:
    """A folder in a bucket, as path segments: ``s3://bucket/a/b/`` is ``("bucket", ("a", "b"))``."""

    bucket: str
    parts: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/" + "".join(f"{part}/" for part in self.parts)

    def overlaps(self, other: _Tree) -> bool:
        """One folder is the other or lies inside it (by whole segments: ``alpha_v2/`` is not in ``alpha/``)."""
        common = min(len(self.parts), len(other.parts))
        return self.bucket == other.bucket and self.parts[:common] == other.parts[:common]


def _artifact_tree(config: PipelineConfig) -> _Tree:
    """``s3://<storage.bucket>/<storage.prefix>/<name>/``: the variant's registry/ and runs/."""
    return _Tree(config.storage.bucket, (*(p for p in config.storage.prefix.split("/") if p), config.name))


def _landing_tree(config: PipelineConfig) -> _Tree:
    return _Tree(config.dataset.bucket, tuple(config.dataset.landing_prefix.strip("/").split("/")))


def _overlapping_trees(loaded: dict[Path, PipelineConfig]) -> dict[Path, list[str]]:
    """Refuse variants whose artifact trees nest, or whose landing data nests with an artifact tree.

    A registry listing (events, versions) would read another variant's objects, and ingest would
    read artifacts as landing data (or runs would write among it). Sharing landing data is fine.
    """
    problems: dict[Path, list[str]] = {}
    items = list(loaded.items())
    for index, (path, config) in enumerate(items):
        artifacts = _artifact_tree(config)
        for other_path, other in items[index + 1 :]:
            theirs = _artifact_tree(other)
            if other.name != config.name and artifacts.overlaps(theirs):  # one name: a duplicate, said once
                for own, own_tree, far, far_config, far_tree in (
                    (path, artifacts, other_path, other, theirs),
                    (other_path, theirs, path, config, artifacts),
                ):
                    problems.setdefault(own, []).append(
                        f"storage.prefix: this variant's artifact tree {own_tree.uri} (its registry/ and runs/) and "
                        f"that of {far_config.name!r} in {far.name}, {far_tree.uri}, overlap: one lies inside the "
                        "other, so each registry would list the other's objects. Give one of them another "
                        "storage.prefix or storage.bucket"
                    )
        for other_path, other in items:
            landing, theirs = _landing_tree(config), _artifact_tree(other)
            if not landing.overlaps(theirs):
                continue
            if other_path == path:
                problems.setdefault(path, []).append(
                    f"dataset.prefix: the landing data {landing.uri} and this variant's own artifact tree "
                    f"{theirs.uri} overlap, so ingest would read artifacts as data. Move one of them "
                    "(dataset.bucket/dataset.prefix or storage.bucket/storage.prefix)"
                )
                continue
            problems.setdefault(path, []).append(
                f"dataset.prefix: this variant's landing data {landing.uri} and the artifact tree of "
                f"{other.name!r} in {other_path.name}, {theirs.uri}, overlap, so ingest would read artifacts as "
                "data and runs would write among landing files. Move one of them (dataset.bucket/dataset.prefix "
                "or storage.bucket/storage.prefix)"
            )
            problems.setdefault(other_path, []).append(
                f"storage.prefix: this variant's artifact tree {theirs.uri} and the landing data of "
                f"{config.name!r} in {path.name}, {landing.uri}, overlap, so that variant's ingest would read these "
                "artifacts as data. Move one of them (storage.bucket/storage.prefix or dataset.bucket/dataset.prefix)"
            )
    return problems


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
