"""One expectation of a gate as plain data (``ExpectationSpec``), and the shorthand checks that add or replace them.

No Great Expectations import: ``validation`` turns specs into a GX suite. A check replaces a
default of the same rule on the same column (or on the row count), in the same table and with
the same severity; a check of another severity is added next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from include.retrain.config import CheckRule, Severity


@dataclass(frozen=True)
class ExpectationSpec:
    """One expectation: GX class name, arguments, severity, and the gate table it checks.

    ``rule`` names the shorthand rule a default implements (``between``, ``in_set``, ...), so a
    check of that rule can replace it; None marks an invariant no check replaces.
    """

    expectation: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "fail"
    table: str = "data"
    rule: str | None = None

    @property
    def override_key(self) -> tuple[str, str | None, Any, str]:
        """What a check must match to replace this spec: table, rule, column and severity."""
        return (self.table, self.rule, self.kwargs.get("column"), self.severity)


def not_null(column: str, max_null_fraction: float, **extra: Any) -> ExpectationSpec:
    kwargs: dict[str, Any] = {"column": column}
    if max_null_fraction > 0:
        kwargs["mostly"] = round(1.0 - max_null_fraction, 10)
    return ExpectationSpec("ExpectColumnValuesToNotBeNull", kwargs, rule="max_null_fraction", **extra)


def check_spec(check: CheckRule, table: str) -> ExpectationSpec:
    """The GX expectation one shorthand check stands for, on ``table``."""
    if check.table == "row_count":
        assert check.between is not None, "CheckRule: a table check takes `between`"
        low, high = check.between
        return ExpectationSpec(
            "ExpectTableRowCountToBeBetween",
            {"min_value": low, "max_value": high},
            rule="between",
            severity=check.severity,
            table=table,
        )
    column = check.column
    assert column is not None, "CheckRule: a check names a column or the table"
    if check.between is not None:
        low, high = check.between
        kwargs = {"column": column, "min_value": low, "max_value": high}
        return ExpectationSpec(
            "ExpectColumnValuesToBeBetween", kwargs, rule="between", severity=check.severity, table=table
        )
    if check.in_set is not None:
        return ExpectationSpec(
            "ExpectColumnValuesToBeInSet",
            {"column": column, "value_set": list(check.in_set)},
            rule="in_set",
            severity=check.severity,
            table=table,
        )
    if check.max_null_fraction is not None:
        return not_null(column, check.max_null_fraction, severity=check.severity, table=table)
    if check.mean_between is not None:
        low, high = check.mean_between
        kwargs = {"column": column, "min_value": low, "max_value": high}
        return ExpectationSpec(
            "ExpectColumnMeanToBeBetween", kwargs, rule="mean_between", severity=check.severity, table=table
        )
    if check.unique:
        return ExpectationSpec(
            "ExpectColumnValuesToBeUnique", {"column": column}, rule="unique", severity=check.severity, table=table
        )
    return ExpectationSpec(
        "ExpectColumnValuesToMatchRegex",
        {"column": column, "regex": check.regex},
        rule="regex",
        severity=check.severity,
        table=table,
    )


def apply_checks(
    defaults: Sequence[ExpectationSpec], checks: Sequence[CheckRule], tables: Callable[[CheckRule], Sequence[str]]
) -> list[ExpectationSpec]:
    """Defaults minus those a check replaces, then the checks (each on every table ``tables`` names)."""
    added = [check_spec(check, table) for check in checks for table in tables(check)]
    replaced = {spec.override_key for spec in added}
    kept = [spec for spec in defaults if spec.rule is None or spec.override_key not in replaced]
    return [*kept, *added]
