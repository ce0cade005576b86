"""Run a gate with the Great Expectations 1.x core API (ephemeral context, pandas source).

Imported only inside task bodies: GX is heavy. Analytics are switched off before import.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from collections.abc import Mapping, Sequence
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.expectations import ExpectColumnValuesToBeInTypeList

from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.result import SAMPLE_SIZE, ExpectationOutcome, GateResult, json_safe

#: SUMMARY keeps a short sample of unexpected values and never the full unexpected list.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}


class ExpectColumnDtypeToBeIn(ExpectColumnValuesToBeInTypeList):
    """Expect the column's pandas dtype name (``Int64``, ``category``, ``str``...) to be in ``type_list``.

    GX's own type expectation compares dtype objects, which cannot express pandas' nullable
    and categorical dtypes; this subclass compares ``str(dtype)`` and reports it as observed.
    """

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine: Any = None) -> dict:
        column = self.configuration.kwargs["column"]
        dtypes = {item["name"]: item["type"] for item in metrics["table.column_types"]}
        observed = str(dtypes[column])
        return {"success": observed in self.configuration.kwargs["type_list"], "result": {"observed_value": observed}}


def _expectation(spec: ExpectationSpec) -> Any:
    cls = (
        ExpectColumnDtypeToBeIn
        if spec.expectation == "ExpectColumnDtypeToBeIn"
        else getattr(gx.expectations, spec.expectation)
    )
    kwargs = {k: v for k, v in spec.kwargs.items() if v is not None}
    return cls(**kwargs, meta={"severity": spec.severity})


def _outcome(table: str, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = str(result.exception_info.get("exception_message") or "error").splitlines()[0][:300]
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    return ExpectationOutcome(
        table=table,
        expectation=config.type,
        kwargs=json_safe(kwargs),
        severity=str((config.meta or {}).get("severity", "fail")),
        success=bool(result.success),
        observed=json_safe(details.get("observed_value")),
        unexpected_count=details.get("unexpected_count"),
        unexpected_percent=json_safe(details.get("unexpected_percent")),
        unexpected_sample=json_safe(list(details.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]),
        error=error,
    )


def run_gate(gate: str, tables: Mapping[str, pd.DataFrame], specs: Sequence[ExpectationSpec]) -> GateResult:
    """Validate each table against its specs in one ephemeral GX context."""
    missing_tables = sorted({s.table for s in specs} - set(tables))
    if missing_tables:
        raise ValueError(f"gate {gate}: no data given for tables {missing_tables}")
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(name=gate)
    outcomes: list[ExpectationOutcome] = []
    for table, frame in tables.items():
        table_specs = [s for s in specs if s.table == table]
        if not table_specs:
            continue
        batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(table)
        suite = context.suites.add(gx.ExpectationSuite(name=f"{gate}.{table}"))
        for spec in table_specs:
            suite.add_expectation(_expectation(spec))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{gate}.{table}", data=batch, suite=suite)
        )
        result = validation.run(batch_parameters={"dataframe": frame}, result_format=RESULT_FORMAT)
        outcomes.extend(_outcome(table, r) for r in result.results)
    return GateResult(gate=gate, outcomes=tuple(outcomes), row_counts={t: len(f) for t, f in tables.items()})
