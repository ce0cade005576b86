"""Where the landing data is and what it must look like (``dataset``), and the training window (``window``)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from include.retrain.config.base import (
    BUCKET_RE,
    COLUMN_RE,
    SafePrefix,
    _Strict,
    _value_fits,
)
from include.retrain.config.columns import DERIVED_LABEL_SPEC, ColumnSpec, LabelConfig


class CsvConfig(_Strict):
    """The dialect of CSV landing files (``dataset.format: csv``): UTF-8 with a header row, and these."""

    delimiter: Literal[",", ";", "\t", "|"] = Field(
        ",",
        description="Field separator: `,`, `;` (as European spreadsheets and UCI's wine and bank tables write), a "
        'tab (`"\\t"`) or `|`.',
    )
    missing_values: tuple[str, ...] = Field(
        (),
        description="Text that means missing besides pandas' defaults (empty, `NA`, `N/A`, `NaN`, `null`, `None`, "
        '...), e.g. `["?"]` for the UCI adult table.',
    )
    skip_initial_space: bool = Field(False, description="Ignore spaces after each delimiter (`39, State-gov`).")


class DatasetConfig(_Strict):
    """Where the landing data is and what it must look like."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$", description="Dataset folder in the landing bucket."
    )
    bucket: str = Field("retrain-landing", pattern=BUCKET_RE, description="Landing bucket.")
    prefix: SafePrefix = Field("", description="Key prefix above the dataset folder (relative, no `..`).")
    format: Literal["parquet", "csv"] = Field("parquet", description="File format of the landing files.")
    csv: CsvConfig = Field(default_factory=CsvConfig, description="The CSV dialect (format csv).")
    columns: dict[str, ColumnSpec] = Field(
        min_length=1,
        description="The schema: column name to type and domain (see ColumnSpec keys). A name is letters, digits "
        "and `_`, not starting with a digit; a landing header that is not (`fixed acidity`) gets a key that is and "
        "`landing_name: fixed acidity`.",
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
    id_column: str | None = Field(
        None,
        description="Unique row id; checked for uniqueness, used by the hash split (without it the hash split hashes "
        "each row's declared values) and required by `scoring`.",
    )
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

    @field_validator("columns", mode="before")
    @classmethod
    def _column_names(cls, value: Any) -> Any:
        """A name that is not an identifier is refused with the way to keep the landing header as it is."""
        if not isinstance(value, dict):
            return value
        fixes = []
        for name in value:
            if not isinstance(name, str) or not re.match(COLUMN_RE, name):
                key = re.sub(r"\W+", "_", str(name)).strip("_").lower() or "column"
                key = key if re.match(COLUMN_RE, key) else f"c_{key}"[:128]
                fixes.append(f"{name!r}: name the column e.g. {key} and add landing_name: {str(name)!r}")
        if fixes:
            raise ValueError(
                "column names are letters, digits and _ (not starting with a digit); to read landing headers "
                "like these, " + "; ".join(fixes)
            )
        return value

    @model_validator(mode="after")
    def _csv_only_for_csv(self) -> DatasetConfig:
        if self.csv != CsvConfig() and self.format != "csv":  # the default dialect round-trips with any format
            raise ValueError(f"csv: the CSV dialect applies to format csv, and this dataset's format is {self.format}")
        return self

    @model_validator(mode="after")
    def _landing_names_unique(self) -> DatasetConfig:
        """Each landing header maps to one column: two columns may not read the same header."""
        readers: dict[str, list[str]] = {}
        for name, spec in self.columns.items():
            readers.setdefault(spec.landing_name or name, []).append(name)
        for header, names in readers.items():
            if len(names) > 1:
                raise ValueError(f"columns {names} all read the landing column {header!r}; give each its own")
        return self

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
        if isinstance(value, int | float) and not isinstance(value, bool):
            below = isinstance(low, int | float) and value < low
            above = isinstance(high, int | float) and value > high
            if below or above:
                raise ValueError(f"positive_class {value!r} is outside the target's min/max [{low}, {high}]")

    def _label_fits_columns(self) -> None:
        """A derived label: a new column name, from a declared column, by a rule that fits that column's type."""
        label = self.label
        assert label is not None
        spec = self._label_source_spec(label)
        rule = label.rule
        if rule in ("greater_than", "less_than"):
            if spec.type not in ("int", "float"):
                raise ValueError(
                    f"label.{rule}: compares numbers, but label.column {label.column!r} has type {spec.type} "
                    "(use equals or in_set)"
                )
            return
        if spec.type in ("date", "datetime"):
            raise ValueError(f"label.{rule}: label.column {label.column!r} is a {spec.type} column; no label from it")
        self._label_operand_fits(label, spec)

    def _label_source_spec(self, label: LabelConfig) -> ColumnSpec:
        """The spec of the label's source column, once the target is a new name and the source a declared column."""
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
        return spec

    @staticmethod
    def _label_operand_fits(label: LabelConfig, spec: ColumnSpec) -> None:
        """An equals/in_set label's values are values of its source column (its type, and its values if listed)."""
        rule, operand = label.rule, label.operand
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
    def landing_renames(self) -> dict[str, str]:
        """Landing header to column name, for the columns whose ``landing_name`` differs from their name."""
        return {spec.landing_name: name for name, spec in self.columns.items() if spec.landing_name not in (None, name)}

    @property
    def row_identity_columns(self) -> list[str]:
        """What identifies a row for the hash split when there is no ``id_column``: its declared values.

        Neither the target nor a derived label's source column: a label corrected later leaves the
        row on its side of the split.
        """
        answer = {self.target, *([self.label.column] if self.label is not None else [])}
        return [name for name in self.columns if name not in answer]

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
