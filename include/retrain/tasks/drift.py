"""``check_drift``: this window against the reference profile stored with the champion."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from include.retrain.context import RunContext
from include.retrain.frames import read_frame
from include.retrain.gates.drift_acceptance import (
    acceptance_context,
    acceptance_note,
    record_drift_accepted,
    waive_failures,
    waived_outcomes,
)
from include.retrain.gates.drift_inputs import champion_profile, drift_tables
from include.retrain.gates.expectations import ExpectationSpec, drift_expectations
from include.retrain.gates.publish import publish_gate, run_gate
from include.retrain.manifests import GateSummary, IngestManifest
from include.retrain.stages.dates import with_date_parts


def check_drift(run: RunContext, ingested: IngestManifest) -> GateSummary:
    """Gate: this window's features and label against the reference profile stored with the champion.

    Compares every row of the window (model input columns and the target of ``raw.parquet``)
    with the champion's training rows. With no champion (first run), or a champion registered
    without a profile, there is nothing to compare: the gate passes and its notes say why.

    With the Param ``accept_drift`` (and a reason), drift that would fail the run is recorded as a
    warning for this run only: the reports say it was accepted, by whom and why, and the registry
    records one ``drift_accepted`` event about the champion compared with (none for a dry run).
    """
    config = run.config
    champion, profile, reason = champion_profile(run.registry)
    if profile is None:
        return publish_gate(run, run_gate("check_drift", {}, [], [reason]), champion=champion)
    columns = list(config.expectations.drift.columns or config.features.compared)
    read = list(dict.fromkeys([*config.features.sources(columns), config.dataset.target]))
    frame = with_date_parts(read_frame(run.store, ingested.ref("raw"), columns=read), config.features)
    tables, notes = drift_tables(config, profile, frame, columns)
    specs = drift_expectations(config, label="label" in tables)
    waived: list[ExpectationSpec] = []
    if run.options.accept_drift:
        specs, waived = waive_failures(specs)
        notes.append(acceptance_note(run))
    result = run_gate("check_drift", tables, specs, notes, row_keys={"drift": "feature", "label": "column"})
    # The compared values go into the report too: the registry page charts PSI per feature over runs.
    result = replace(result, values={name: table.to_dict("records") for name, table in tables.items()})
    accepted = waived_outcomes(result, waived)
    context: dict[str, Any] = {"champion": champion, "reference_rows": profile.get("rows")}
    if run.options.accept_drift:
        context["drift_accepted"] = acceptance_context(run, accepted)
    summary = publish_gate(run, result, **context)
    if accepted and champion is not None and not run.options.dry_run:
        record_drift_accepted(run, champion, accepted, summary)
    return summary
