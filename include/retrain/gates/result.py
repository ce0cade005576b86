"""A gate's outcome: per-expectation results, the small XCom summary and the failure message."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from include.retrain.summaries import gate_headline

SAMPLE_SIZE = 10
_MAX_TEXT = 200


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars, dates and NaN into plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, datetime | date):
        return None if str(value) == "NaT" else value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value[:_MAX_TEXT] if isinstance(value, str) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    return None if text in ("nan", "NaT", "<NA>") else text[:_MAX_TEXT]


@dataclass(frozen=True)
class ExpectationOutcome:
    """What one expectation found on one table of a gate."""

    table: str
    expectation: str
    kwargs: dict[str, Any]
    severity: str
    success: bool
    observed: Any = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    unexpected_sample: list[Any] = field(default_factory=list)
    mismatched: dict[str, Any] | None = None
    error: str | None = None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    def describe(self) -> str:
        """One line a person can act on: the rule, where, and what was found."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items() if k not in ("batch_id",) and v is not None)
        line = f"{self.expectation}({args}) on {self.table}"
        if self.error:
            return f"{line}: could not run: {self.error}"
        found = []
        if self.unexpected_count:
            pct = f" ({self.unexpected_percent:.2f}%)" if self.unexpected_percent is not None else ""
            found.append(f"{self.unexpected_count} unexpected values{pct}")
            if self.unexpected_sample:
                found.append(f"e.g. {self.unexpected_sample[:5]}")
        if self.mismatched:
            found += [f"{kind} {names}" for kind, names in self.mismatched.items() if names]
        elif self.observed is not None:
            found.append(f"observed {self.observed}")
        return f"{line}: {'; '.join(found) or 'failed'}"


@dataclass(frozen=True)
class GateResult:
    """Every outcome of one gate (in GX's result order, grouped by column) and the row counts.

    ``notes`` say what the gate could not check and why (e.g. no champion to compare with);
    ``values`` are the rows of the tables a gate computed and then validated (check_drift's PSI and
    KS per feature), kept in the JSON report so the registry page can chart them over runs;
    ``validations`` keeps GX's own result per table for the HTML data docs (never serialised).
    """

    gate: str
    outcomes: tuple[ExpectationOutcome, ...]
    row_counts: dict[str, int]
    notes: tuple[str, ...] = ()
    values: dict[str, list[dict[str, Any]]] = field(default_factory=dict, compare=False)
    validations: tuple[tuple[str, Any], ...] = field(default=(), repr=False, compare=False)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "fail"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warn"]

    @property
    def success(self) -> bool:
        return not self.failures

    def _headline_failures(self) -> tuple[list[ExpectationOutcome], int]:
        """Failures minus the checks that only failed because their column is missing."""
        missing = {(o.table, o.column) for o in self.failures if o.expectation == "expect_column_to_exist" and o.column}
        headline = [
            o for o in self.failures if o.expectation == "expect_column_to_exist" or (o.table, o.column) not in missing
        ]
        return headline, len(self.failures) - len(headline)

    @property
    def statistics(self) -> dict[str, Any]:
        return {
            "evaluated": len(self.outcomes),
            "successful": sum(o.success for o in self.outcomes),
            "failed": len(self.failures),
            "warnings": len(self.warnings),
            "rows": dict(self.row_counts),
        }

    def summary(self, report_uri: str, html_uri: str | None = None) -> dict[str, Any]:
        """The small summary that goes to XCom and the grid view, with both report URIs."""
        headline, dependent = self._headline_failures()
        return {
            "summary": self.headline(),
            "gate": self.gate,
            "success": self.success,
            "evaluated": len(self.outcomes),
            "failed": [o.describe() for o in headline],
            "dependent_failures": dependent,
            "warnings": [o.describe() for o in self.warnings],
            "notes": list(self.notes),
            "rows": dict(self.row_counts),
            "report_uri": report_uri,
            "html_report_uri": html_uri,
        }

    def headline(self) -> str:
        """``passed: 34/34 expectations met, 0 warnings``: the gate's line in the grid view."""
        successful = sum(o.success for o in self.outcomes)
        return gate_headline(
            success=self.success, evaluated=len(self.outcomes), successful=successful, warnings=len(self.warnings)
        )

    def report(self, context: dict[str, Any]) -> dict[str, Any]:
        """The full JSON report: every expectation with its observed value and samples."""
        return json_safe(
            {
                "gate": self.gate,
                "success": self.success,
                "context": context,
                "statistics": self.statistics,
                "notes": list(self.notes),
                "expectations": [asdict(o) for o in self.outcomes],
                **({"values": self.values} if self.values else {}),
            }
        )

    def failure_message(self, report_uri: str, html_uri: str | None = None) -> str:
        """What the failed task says: the failed expectations with what was observed, and the reports."""
        headline, dependent = self._headline_failures()
        lines = [f"Gate {self.gate} failed: {len(self.failures)} of {len(self.outcomes)} expectations failed"]
        lines += [f"  - {o.describe()}" for o in headline]
        if dependent:
            lines.append(f"  ({dependent} further checks on the missing columns could not run)")
        if self.warnings:
            lines.append(f"  ({len(self.warnings)} warnings, see the report)")
        lines.append(f"Report: {report_uri}")
        if html_uri:
            lines.append(f"Data docs (HTML): {html_uri}")
        return "\n".join(lines)
