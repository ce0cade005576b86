"""One gate check (``expectations.<gate>.checks[]``): the column, one rule, its severity."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from include.retrain.config.base import (
    Fraction,
    _Strict,
)

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
