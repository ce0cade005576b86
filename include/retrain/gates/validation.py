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


#: Our severities as GX's own, so GX tools rank failures the same way.
GX_SEVERITY = {"fail": "critical", "warn": "warning"}


def _expectation(spec: ExpectationSpec) -> Any:
    cls = (
        ExpectColumnDtypeToBeIn
        if spec.expectation == "ExpectColumnDtypeToBeIn"
        else getattr(gx.expectations, spec.expectation)
    )
    kwargs = {k: v for k, v in spec.kwargs.items() if v is not None}
    return cls(**kwargs, meta={"severity": spec.severity}, severity=GX_SEVERITY[spec.severity])


def _keyed_sample(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Unexpected rows of a keyed table as ``{key: name, column: value}`` (key first, for reading)."""
    return [{key: row.get(key), **{k: v for k, v in row.items() if k != key}} for row in rows]


def _outcome(table: str, result: Any, key: str | None = None) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    sample = list(details.get("partial_unexpected_list") or [])
    if key and details.get("partial_unexpected_index_list"):
        sample = _keyed_sample(details["partial_unexpected_index_list"], key)
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
        unexpected_sample=json_safe(sample[:SAMPLE_SIZE]),
        mismatched=json_safe((details.get("details") or {}).get("mismatched")),
        error=error,
    )


def run_gate(
    gate: str,
    tables: Mapping[str, pd.DataFrame],
    specs: Sequence[ExpectationSpec],
    notes: Sequence[str] = (),
    row_keys: Mapping[str, str] | None = None,
) -> GateResult:
    """Validate each table against its specs in one ephemeral GX context.

    ``row_keys`` names the key column of small derived tables (one row per feature, segment,
    ...): unexpected values are then sampled with their key, so a message names the feature.
    ``notes`` are sentences for the report about what the gate did not check and why. The GX
    results stay on the GateResult (for the HTML data docs), never in its JSON.
    """
    missing_tables = sorted({s.table for s in specs} - set(tables))
    if missing_tables:
        raise ValueError(f"gate {gate}: no data given for tables {missing_tables}")
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas(name=gate)
    outcomes: list[ExpectationOutcome] = []
    validations: list[tuple[str, Any]] = []
    for table, frame in tables.items():
        table_specs = [s for s in specs if s.table == table]
        if not table_specs:
            continue
        batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(table)
        # All expectations at once: adding them one by one re-serialises the suite each time.
        expectations = [_expectation(spec) for spec in table_specs]
        suite = context.suites.add(gx.ExpectationSuite(name=f"{gate}.{table}", expectations=expectations))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{gate}.{table}", data=batch, suite=suite)
        )
        key = (row_keys or {}).get(table)
        result_format = {**RESULT_FORMAT, "unexpected_index_column_names": [key]} if key else RESULT_FORMAT
        result = validation.run(batch_parameters={"dataframe": frame}, result_format=result_format)
        outcomes.extend(_outcome(table, r, key) for r in result.results)
        validations.append((table, result))
    return GateResult(
        gate=gate,
        outcomes=tuple(outcomes),
        row_counts={t: len(f) for t, f in tables.items()},
        notes=tuple(notes),
        validations=tuple(validations),
    )
