"""The landing schema's columns (``dataset.columns``) and a label derived from one of them (``dataset.label``)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from include.retrain.config.base import (
    COLUMN_RE,
    WINDOW_END,
    ColumnType,
    Fraction,
    _Strict,
)

#: The rules a derived label (``dataset.label``) may use; exactly one per label.
LABEL_RULES = ("greater_than", "less_than", "equals", "in_set")


class ColumnSpec(_Strict):
    """One column of the landing data: its type and the domain the raw gate enforces."""

    type: ColumnType = Field(
        description="Declared type: int, float, bool, string, category, date or datetime. A bool column reads "
        "true/false, t/f, yes/no, y/n and 1/0 in any case."
    )
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
    landing_name: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The column's header in the landing files when it is not a valid column name, e.g. "
        "`fixed acidity` or `education-num`: ingest, scoring and live monitoring read it under this name and the "
        "rest of the config (features, checks, target) uses the key. null = the files use the key.",
    )

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
