"""Missing values of nullable columns (pandas' NA in Int64, boolean, string columns) in a gate's data docs.

A nullable int with nulls is common in real tables; its not-null check lists the NA values as
unexpected, and GX's renderer cannot compare pd.NA with "" (``boolean value of NA is ambiguous``),
so it logged an error and left the unexpected-values table out of the page.
"""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from include.retrain.gates.data_docs import render_data_docs
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.validation import run_gate


def test_na_values_render_without_a_renderer_error(caplog: pytest.LogCaptureFixture) -> None:
    table = pd.DataFrame(
        {
            "dependents": pd.array([1, None, 3, None, 2, 0, 1, 2, 3, 4], dtype="Int64"),
            "partner": pd.array(["Yes", None, "No", "No", "Yes", "Yes", "No", None, "No", "Yes"], dtype="string"),
        }
    )
    specs = [
        ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "dependents", "mostly": 0.5}, table="data"),
        ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": "partner", "mostly": 0.5}, table="data"),
    ]
    result = run_gate("validate_raw", {"data": table}, specs, [], {})

    with caplog.at_level(logging.ERROR):
        page = render_data_docs(result, {"pipeline": "telco", "run_key": "2026-03-01"}, "s3://b/r.json")

    assert result.success
    assert not [r for r in caplog.records if "data docs rendering" in r.getMessage()]
    assert "dependents" in page
