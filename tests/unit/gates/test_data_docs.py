"""Unit tests for ``include.retrain.gates.data_docs``: GX's HTML data docs for one gate, on one page."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from include.retrain.gates.data_docs import render_data_docs, verdict
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.result import GateResult
from include.retrain.gates.validation import run_gate

REPORT_URI = "s3://retrain-artifacts/retraining/churn/runs/2026-02-01/gates/validate_features.json"


@pytest.fixture(scope="module")
def result() -> GateResult:
    """A two-table gate with a failure, a warning, a keyed derived table and a note."""
    tables = {
        "train": pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", "<script>alert(1)</script>", "b"]}),
        "feature_stats": pd.DataFrame({"feature": ["x", "<b>y</b>"], "std": [0.123456, 0.0]}),
    }
    specs = [
        ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": "label", "value_set": ["a", "b"]}, table="train"),
        ExpectationSpec("ExpectColumnMaxToBeBetween", {"column": "x", "max_value": 2.5}, "warn", table="train"),
        ExpectationSpec(
            "ExpectColumnValuesToBeBetween",
            {"column": "std", "min_value": 0, "strict_min": True},
            table="feature_stats",
        ),
        ExpectationSpec("ExpectColumnMeanToBeBetween", {"column": "std", "max_value": 0.01}, table="feature_stats"),
    ]
    return run_gate("validate_features", tables, specs, ["one feature was not scored"], {"feature_stats": "feature"})


@pytest.fixture(scope="module")
def page(result: GateResult) -> str:
    return render_data_docs(result, {"pipeline": "churn", "run_key": "2026-02-01"}, REPORT_URI)


def test_summary_comes_first_in_our_severities(result: GateResult, page: str) -> None:
    """GX marks a table failed on warnings too; the summary says which failures stop the run."""
    assert verdict(result) == "FAILED (3 failed, 1 warnings, 4 expectations)"
    assert page.index("Gate summary") < page.index("train: Overview")  # first in the table of contents
    for text in (
        "run_key: 2026-02-01",
        REPORT_URI,
        "Failed (severity fail)",
        "Warnings (severity warn)",
        "expect_column_max_to_be_between(column='x', max_value=2.5) on train: observed 3.0",
        "one feature was not scored",
    ):
        assert text in page, text


def test_every_table_has_its_gx_validation_sections(page: str) -> None:
    for section in ("train: Overview", "feature_stats: Overview", "Expectation Suite:", "validate_features.train"):
        assert section in page, section
    # GX formats the observed mean (a numpy scalar, which its formatter cannot take) itself.
    assert "0.061728" in page


def test_data_values_never_become_markup(page: str) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>y</b>" not in page


def test_page_stands_alone(page: str) -> None:
    """No links into a data docs site that a single uploaded page does not have."""
    assert not re.search(r'href="\.\./', page)
    assert page.lstrip().startswith("<!DOCTYPE html>")


def test_a_gate_with_no_tables_still_renders_its_notes() -> None:
    empty = run_gate("check_drift", {}, [], ["no champion yet (first run): nothing to compare with"])
    page = render_data_docs(empty, {}, REPORT_URI)
    assert "Gate check_drift: PASSED (0 failed, 0 warnings, 0 expectations)" in page
    assert "no champion yet (first run)" in page


def test_keyed_tables_name_the_row_in_the_summary(page: str) -> None:
    assert "e.g. [{'feature': '&lt;b&gt;y&lt;/b&gt;', 'std': 0.0}]" in page
