"""Run a gate with the Great Expectations 1.x core API (ephemeral context, pandas source).

Imported only inside task bodies: GX is heavy. Analytics are switched off before import.
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine
from great_expectations.expectations import ExpectColumnValuesToBeInTypeList
from great_expectations.expectations.metadata_types import FailureSeverity

from include.retrain.frames import release_unused_memory
from include.retrain.gates import (
    aggregates,  # noqa: F401  (registers mean, sum and standard deviation without a per-value scan)
    unique,  # noqa: F401  (registers the lean unique metric)
    vectorized,  # noqa: F401  (registers the vectorised between metric)
)
from include.retrain.gates.batches import Table, batches
from include.retrain.gates.expectations import ExpectationSpec
from include.retrain.gates.result import SAMPLE_SIZE, ExpectationOutcome, GateResult, json_safe

#: SUMMARY keeps a short sample of unexpected values and never the full unexpected list.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE}

# GX fingerprints every in-memory batch under 1 GB by hashing every cell (a third of
# validate_raw's time on a 1M-row window). The fingerprint names a batch for GX's own stores and
# sites; a gate's batches live in one ephemeral context and its reports never carried it.
pandas_execution_engine.HASH_THRESHOLD = 0


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


def _raised(result: Any) -> bool:
    """Whether GX could not evaluate the expectation (its info is flat or keyed by metric)."""
    info = result.exception_info or {}
    return bool(info.get("raised_exception")) or any(
        isinstance(v, dict) and v.get("raised_exception") for v in info.values()
    )


def _merged(gate: str, table: str, results: list[Any], specs: Sequence[ExpectationSpec]) -> Any:
    """One suite result for a table validated in several batches, in GX's own order (grouped by column)."""
    if len(results) == 1:
        return results[0]
    first_seen: dict[Any, int] = {}
    for spec in specs:
        first_seen.setdefault(spec.kwargs.get("column"), len(first_seen))

    def position(result: Any) -> tuple[int, int]:
        column = result.expectation_config.kwargs.get("column")
        # GX lists expectations that could not run first, then the rest grouped by column.
        return (0 if _raised(result) else 1, -1 if column is None else first_seen.get(column, len(first_seen)))

    merged = results[0]
    merged.results = sorted((r for result in results for r in result.results), key=position)
    successful = sum(bool(r.success) for r in merged.results)
    evaluated = len(merged.results)
    merged.success = successful == evaluated
    merged.suite_name = f"{gate}.{table}"
    merged.statistics = {
        "evaluated_expectations": evaluated,
        "successful_expectations": successful,
        "unsuccessful_expectations": evaluated - successful,
        "success_percent": successful / evaluated * 100 if evaluated else None,
    }
    return merged


#: Our severities as GX's own, so GX tools rank failures the same way.
GX_SEVERITY = {"fail": FailureSeverity.CRITICAL, "warn": FailureSeverity.WARNING}


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


def _stamped(result: Any) -> Any:
    """``result`` with the run id and time that ``ValidationDefinition.run`` would have added.

    A gate validates its batches with ``Batch.validate``: the same GX validator without
    registering a suite and a validation definition in the context's stores and storing the
    result there, which a throwaway context never reads back (a third of a small gate's time).
    The data docs page shows when the validation ran, so the stamp stays.
    """
    run_id = RunIdentifier(run_time=datetime.now(UTC))
    result.meta.update(run_id=run_id, validation_time=run_id.run_time)
    return result


def forget_batch(source: Any) -> None:
    """Drop what validating a batch left in memory: GX's cached metrics, its batch frame, Arrow's freed pages.

    GX's execution engine caches every metric it computes, per-row ones included (the null
    filtered column, each expectation's condition), for the life of the context. A finished
    batch's metrics are never asked for again (their keys carry the batch id); kept, they add up
    to about half a copy of the window (at 10M rows, 400 MiB by the last column batch).
    """
    engine = source.get_execution_engine()
    cache = getattr(engine, "_metric_cache", None)  # GX has no public way to clear it
    if cache is not None:
        cache.clear()
    engine.batch_manager.batch_data_cache.clear()  # the batch's frame: the next one replaces it anyway
    release_unused_memory()


def run_gate(
    gate: str,
    tables: Mapping[str, Table],
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
        key = (row_keys or {}).get(table)
        result_format = {**RESULT_FORMAT, "unexpected_index_column_names": [key]} if key else RESULT_FORMAT
        results = []
        # One asset for the table's batches: GX rewrites the whole project config on every asset
        # and batch definition it adds. Each batch's metrics are forgotten before the next one
        # (they share the batch id).
        definition = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe(table)
        for batch_frame, batch_specs in batches(frame, table_specs, key):
            batch = definition.get_batch(batch_parameters={"dataframe": batch_frame})
            suite = gx.ExpectationSuite(
                name=f"{gate}.{table}", expectations=[_expectation(spec) for spec in batch_specs]
            )
            results.append(_stamped(batch.validate(suite, result_format=result_format)))
            del batch_frame, batch  # before the next batch is read
            forget_batch(source)
        result = _merged(gate, table, results, table_specs)
        outcomes.extend(_outcome(table, r, key) for r in result.results)
        validations.append((table, result))
    return GateResult(
        gate=gate,
        outcomes=tuple(outcomes),
        row_counts={t: len(f) for t, f in tables.items()},
        notes=tuple(notes),
        validations=tuple(validations),
    )
