"""Which columns feed the model and how (``features``), date parts included."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from include.retrain.config.base import (
    COLUMN_RE,
    _Strict,
)

#: Parts ``features.date_parts`` may take from a date or datetime column (``hour``: datetime only).
#: Each becomes one numeric model feature ``<column>_<part>``; ``dayofweek`` counts Monday as 0 and
#: ``is_weekend`` is 1 on Saturday and Sunday.
DATE_PARTS = ("year", "quarter", "month", "day", "dayofweek", "dayofyear", "is_weekend", "hour")
DATETIME_ONLY_PARTS = frozenset({"hour"})

Transform = Literal["log1p", "sqrt", "standardize"]


class FeaturesConfig(_Strict):
    """Which columns feed the model and how."""

    numeric: tuple[str, ...] = Field((), description="Numeric features (median-imputed).")
    categorical: tuple[str, ...] = Field((), description="Categorical features (one-hot, unknowns ignored).")
    passthrough: tuple[str, ...] = Field((), description="Numeric columns passed through unchanged.")
    max_categories: int = Field(
        1000,
        ge=2,
        le=1_000_000,
        description="Most distinct values (missing counts as one) a categorical feature may have in the training "
        "rows; more fails build_features before any matrix is built: one-hot encoding makes one column per value, "
        "so an id or free text as a feature would need terabytes.",
    )
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
