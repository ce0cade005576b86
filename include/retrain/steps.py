"""Task bodies, one function per DAG task: read inputs, call the stage, write outputs.

Each function takes the RunContext and the small manifests of upstream tasks, reads its
inputs by URI from the store (sha256-checked), calls a pure stage function, writes its outputs
under the run's folder and returns a small JSON manifest for XCom. The same manifest is
written next to the outputs as ``manifest.json`` so a run folder explains itself.

Raising a :class:`PipelineFailure` fails the task without retry; anything else is retried.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from include.retrain import model_card
from include.retrain.config import BootstrapConfig
from include.retrain.context import RunContext
from include.retrain.errors import DataFailure, GateFailure, InvalidRunOptions
from include.retrain.frames import (
    local_copy,
    read_column,
    read_frame,
    read_matrix_file,
    release_unused_memory,
    write_frame,
    write_frames,
)
from include.retrain.gates.drift import drift_table, label_drift_table, label_shares_note
from include.retrain.gates.expectations import (
    ExpectationSpec,
    drift_expectations,
    features_expectations,
    model_expectations,
    raw_expectations,
)
from include.retrain.gates.feature_tables import class_shares, feature_stats
from include.retrain.gates.profile import PROFILE_FILE, reference_profile
from include.retrain.gates.result import GateResult
from include.retrain.modelio import dump_model, load_model
from include.retrain.promotion.canary import advance_canary, challenger_alias, enter_canary
from include.retrain.promotion.deploy import publish
from include.retrain.promotion.policy import make_version_id
from include.retrain.promotion.promote import promote_to_champion
from include.retrain.promotion.scores import (
    CHAMPION_PREFIX,
    SEGMENT_COLUMN,
    HoldoutScores,
    holdout_rows,
    same_classes,
    score_summary,
)
from include.retrain.registry import CHAMPION
from include.retrain.stages.evaluate import evaluate_model, improvement, prediction_columns, segment_metrics
from include.retrain.stages.features import (
    build_feature_transformer,
    fit_transformer,
    split_columns,
    split_rows,
    target_values,
    to_model_input,
    transform_in_chunks,
    with_date_parts,
)
from include.retrain.stages.ingest import (
    assemble_window,
    coerce_to_schema,
    derive_label,
    drop_unlabelled,
    empty_window_failure,
    malformed_folders,
    read_landing_file,
    sample_rows,
    select_window_files,
)
from include.retrain.stages.train import assemble_model, fit_order, train_model
from include.retrain.stats.bootstrap import metric_intervals
from include.retrain.stats.resampling import holdout_plan
from include.retrain.storage import ArtifactRef, ArtifactStore, sha256_file
from include.retrain.summaries import stage_summary


def _ref(manifest: dict[str, Any], name: str) -> ArtifactRef:
    return ArtifactRef.from_dict(manifest["artifacts"][name])


def _finish(run: RunContext, stage: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Record the stage manifest in the run folder and return it for XCom, its one-line summary first."""
    manifest = {"summary": stage_summary(stage, manifest), "stage": stage, **run.describe(), **manifest}
    run.store.put_json(run.stage_key(stage, "manifest.json"), manifest)
    return manifest


def _run_gate(*args: Any, **kwargs: Any) -> GateResult:
    """``gates.validation.run_gate``, importing Great Expectations only when a gate task runs.

    GX costs about 2 s of CPU and 80 MiB to import; the five tasks that are not gates (each its
    own process on an Airflow worker) never pay for it.
    """
    from include.retrain.gates.validation import run_gate as validate

    return validate(*args, **kwargs)


def _publish_gate(run: RunContext, result: GateResult, **context: Any) -> dict[str, Any]:
    """Write the gate's JSON report and HTML data docs, then fail the task if a ``fail`` expectation failed.

    ``context`` adds facts to both reports (e.g. the champion a drift check compared with).
    """
    from include.retrain.gates.data_docs import HTML_CONTENT_TYPE, render_data_docs
    from include.retrain.monitoring.links import airflow_root, registry_page_path, run_path

    context = {**run.describe(), **context}
    report = run.store.put_json(run.stage_key("gates", f"{result.gate}.json"), result.report(context))
    root = airflow_root()  # the data docs link back to the run and the registry page on this Airflow
    page = render_data_docs(
        result,
        context,
        report.uri,
        run_url=root + run_path(run.config.dag_id, run.run_id),
        registry_url=root + registry_page_path(run.config.name),
    ).encode()
    html = run.store.put_bytes(run.stage_key("gates", f"{result.gate}.html"), page, content_type=HTML_CONTENT_TYPE)
    summary = result.summary(report.uri, html.uri)
    if not result.success:
        raise GateFailure(result.failure_message(report.uri, html.uri), summary=summary, report_uri=report.uri)
    return summary


# -- ingest ------------------------------------------------------------------------------------


def _check_model_overrides(run: RunContext) -> None:
    """Refuse a ``model_params`` override the estimator does not accept, before any data is read.

    The Param schema checks types only (``max_iter: -5`` is an integer); without this the run would
    read, validate and transform the window and fail at ``train``. Only a run with overrides
    imports scikit-learn here.
    """
    if not run.options.model_params:
        return
    from include.retrain.stages.train import make_estimator

    try:
        make_estimator(run.config.model, run.options.model_params)
    except InvalidRunOptions as exc:
        raise InvalidRunOptions(f"param model_params: {exc}") from exc


def ingest(run: RunContext) -> dict[str, Any]:
    """Read the window's landing partitions, coerce them to the schema, write ``raw.parquet``.

    A window without data files is a data failure here, with one message naming the window, the
    landing prefix and the partitions that do exist: an empty frame would only make every raw
    expectation fail for the same reason. Folders that are no ``ds=YYYY-MM-DD`` day are skipped
    and listed in the manifest (``skipped_folders``), for the raw gate's report to show.
    """
    _check_model_overrides(run)
    dataset = run.config.dataset
    landing = ArtifactStore(run.client, dataset.bucket)
    listing = list(landing.list_objects(dataset.landing_prefix))
    files = select_window_files(listing, dataset, run.window)
    if not files:
        raise empty_window_failure(listing, dataset, run.window)
    skipped = [landing.uri(dataset.landing_prefix + folder) for folder in malformed_folders(listing, dataset)]
    sources = []
    frames = []
    with tempfile.TemporaryDirectory(prefix="retrain-ingest-") as tmp:
        for number, landing_file in enumerate(files):
            path = Path(tmp) / f"{number}.{dataset.format}"
            run.client.download_file(dataset.bucket, landing_file.key, str(path))
            uri = landing.uri(landing_file.key)
            frame = read_landing_file(path, dataset.format, source=uri)
            sources.append({"uri": uri, "sha256": sha256_file(path), "rows": len(frame)})
            frames.append((landing_file.partition, frame))
            path.unlink()
    raw = assemble_window(frames, dataset.partition_column)
    raw = derive_label(coerce_to_schema(raw, dataset.columns), dataset)
    counts: dict[str, int] = {}
    if dataset.target_nulls == "drop":
        raw, counts["target_nulls_dropped"] = drop_unlabelled(raw, dataset.target)
    raw = sample_rows(raw, run.options.sample_fraction, run.config.model.seed)
    ref = write_frame(run.store, run.stage_key("ingest", "raw.parquet"), raw)
    landing_sha256 = hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()
    run.store.put_json(run.stage_key("ingest", "sources.json"), sources)
    return _finish(
        run,
        "ingest",
        {
            "files": len(files),
            "partitions": len({f.partition for f in files}),
            "rows": len(raw),
            **counts,
            "landing_sha256": landing_sha256,
            "skipped_folders": skipped,
            "artifacts": {"raw": ref.to_dict()},
        },
    )


def validate_raw(run: RunContext, ingested: dict[str, Any]) -> dict[str, Any]:
    """Gate: the raw window matches the declared schema and table rules.

    Folders ingest skipped (not ``ds=YYYY-MM-DD``) are a note in the report, not a failure.
    """
    raw = read_frame(run.store, _ref(ingested, "raw"))
    notes = [
        f"skipped {uri}: not a ds=YYYY-MM-DD partition folder, its files were not read"
        for uri in ingested.get("skipped_folders", [])
    ]
    if ingested.get("target_nulls_dropped"):
        notes.append(
            f"{ingested['target_nulls_dropped']} rows without a label ({run.config.dataset.target!r} missing) were "
            "dropped at ingest (dataset.target_nulls: drop)"
        )
    result = _run_gate("validate_raw", {"data": raw}, raw_expectations(run.config, run.window), notes)
    return _publish_gate(run, result)


# -- features ----------------------------------------------------------------------------------


def build_features(run: RunContext, ingested: dict[str, Any]) -> dict[str, Any]:
    """Split train/holdout, fit the feature transformer on train, write both matrices.

    Memory stays near one copy of the window: only the columns used here are read, the split
    chooses row positions and each side's model input is built from them a column at a time,
    the transformer is fitted branch by branch, and each matrix is transformed and written a
    chunk of rows at a time.
    """
    config = run.config
    features = config.features
    target = config.dataset.target
    task = config.model.task
    segments = config.expectations.model.segments
    time_column = config.dataset.event_date_column or config.dataset.partition_column
    id_column = config.dataset.id_column
    used = list(dict.fromkeys([*features.all, target, *([segments.column] if segments is not None else [])]))
    split_by = split_columns(config.split, time_column=time_column, id_column=id_column)
    raw = read_frame(run.store, _ref(ingested, "raw"), columns=list(dict.fromkeys([*split_by, *used])))
    rows = split_rows(
        raw,
        config.split,
        target=target,
        task=task,
        seed=config.model.seed,
        time_column=time_column,
        id_column=id_column,
    )
    raw = raw[used]  # the ids (hashed) or times (sorted) are done with
    release_unused_memory()
    numeric = [*features.numeric, *features.passthrough, *features.date_part_columns]
    profile = reference_profile(
        with_date_parts(raw[features.all].take(rows.train), features),
        numeric=numeric,
        categorical=features.categorical,
        bins=config.expectations.drift.bins,
        target=raw[target].take(rows.train),
        task=task,
    )
    y_train = target_values(raw[[target]].take(rows.train), target, task)
    y_holdout = target_values(raw[[target]].take(rows.holdout), target, task)
    train_input = to_model_input(raw, features, rows.train)
    holdout_input = to_model_input(raw, features, rows.holdout)
    segment_labels = None
    if segments is not None:
        segment_labels = _segment_labels(raw[segments.column].take(rows.holdout).reset_index(drop=True))
    del raw, rows
    release_unused_memory()
    transformer = fit_transformer(build_feature_transformer(features), train_input)
    feature_columns = [str(c) for c in transformer.get_feature_names_out()]
    if target in feature_columns:
        raise DataFailure(f"a feature column is named like the target {target!r}; rename one of them")

    def with_target(inputs: pd.DataFrame, y: np.ndarray) -> Iterator[pd.DataFrame]:
        done = 0
        for chunk in transform_in_chunks(transformer, inputs):
            yield chunk.assign(**{target: y[done : done + len(chunk)]})
            done += len(chunk)

    outputs = {
        "train": write_frames(run.store, run.stage_key("features", "train.parquet"), with_target(train_input, y_train)),
        "holdout": write_frames(
            run.store, run.stage_key("features", "holdout.parquet"), with_target(holdout_input, y_holdout)
        ),
    }
    del train_input
    if segment_labels is not None:
        holdout_input = holdout_input.assign(**{SEGMENT_COLUMN: segment_labels})
    outputs["holdout_input"] = write_frame(
        run.store, run.stage_key("features", "holdout_input.parquet"), holdout_input.assign(**{target: y_holdout})
    )
    transformer_file = dump_model(transformer)
    outputs["transformer"] = run.store.put_bytes(run.stage_key("features", "transformer.skops"), transformer_file)
    outputs["reference_profile"] = run.store.put_json(run.stage_key("features", PROFILE_FILE), profile)
    return _finish(
        run,
        "features",
        {
            "rows": {"train": len(y_train), "holdout": len(y_holdout)},
            "feature_columns": feature_columns,
            "artifacts": {name: ref.to_dict() for name, ref in outputs.items()},
        },
    )


def _segment_labels(values: pd.Series) -> pd.Series:
    """Segment values as strings (missing as ``(missing)``), a small categorical column."""
    labels = values.astype("str").astype(object)
    labels[values.isna().to_numpy()] = "(missing)"
    return labels.astype("category")


def validate_features(run: RunContext, features: dict[str, Any]) -> dict[str, Any]:
    """Gate: finite, complete, non-constant features of sufficient size and class balance, no leakage."""
    config = run.config
    target = config.dataset.target
    classification = config.model.task == "classification"
    train = read_frame(run.store, _ref(features, "train"))
    holdout = read_frame(run.store, _ref(features, "holdout"))
    stats = feature_stats(
        train.drop(columns=[target]),
        holdout.drop(columns=[target]),
        train[target].to_numpy(),
        config.model.task,
        config.model.seed,
    )
    tables = {"train": train, "holdout": holdout, "feature_stats": stats}
    if classification:
        tables["classes"] = class_shares(train[target])
    notes = []
    unscored = stats.loc[stats["single_feature_score"].isna(), "feature"].tolist()
    if unscored and config.expectations.features.max_single_feature_score is not None:
        notes.append(f"leakage not scored for {unscored}: missing or constant values, or too few rows per class")
    specs = features_expectations(config, classification=classification)
    result = _run_gate("validate_features", tables, specs, notes, row_keys={"feature_stats": "feature"})
    return _publish_gate(run, result)


# -- check_drift -------------------------------------------------------------------------------


def _champion_profile(run: RunContext) -> tuple[str | None, dict[str, Any] | None, str]:
    """The champion version and its reference profile, or why there is nothing to compare with."""
    champion = run.registry.get_alias(CHAMPION)
    if champion is None:
        return None, None, "no champion yet (first run): nothing to compare with, drift not checked"
    digest = champion.manifest_sha256  # what the alias recorded: a rewritten manifest is refused
    record = run.registry.get_version(champion.version, manifest_sha256=digest)
    if record is None or PROFILE_FILE not in record.files:
        return champion.version, None, f"champion {champion.version} has no {PROFILE_FILE}: drift not checked"
    profile = run.registry.read_file(champion.version, PROFILE_FILE, manifest_sha256=digest)
    return champion.version, json.loads(profile), ""


def check_drift(run: RunContext, ingested: dict[str, Any]) -> dict[str, Any]:
    """Gate: this window's features and label against the reference profile stored with the champion.

    Compares every row of the window (model input columns and the target of ``raw.parquet``)
    with the champion's training rows. With no champion (first run), or a champion registered
    without a profile, there is nothing to compare: the gate passes and its notes say why.

    With the Param ``accept_drift`` (and a reason), drift that would fail the run is recorded as a
    warning for this run only: the reports say it was accepted, by whom and why, and the registry
    records one ``drift_accepted`` event about the champion compared with (none for a dry run).
    """
    config = run.config
    rules = config.expectations.drift
    champion, profile, reason = _champion_profile(run)
    if profile is None:
        return _publish_gate(run, _run_gate("check_drift", {}, [], [reason]), champion=champion)
    columns = list(rules.columns or config.features.compared)
    target = config.dataset.target
    read = list(dict.fromkeys([*config.features.sources(columns), target]))
    frame = with_date_parts(read_frame(run.store, _ref(ingested, "raw"), columns=read), config.features)
    table, skipped = drift_table(profile, frame, columns)
    notes = [f"{column}: not compared, {why}" for column, why in skipped.items()]
    tables = {"drift": table}
    if rules.label is not None:
        label_table, why = label_drift_table(profile, frame[target])
        if label_table is None:
            notes.append(f"label {target}: not compared, {why}")
        else:
            tables["label"] = label_table
            if shares := label_shares_note(profile, frame[target]):
                notes.append(shares)
    specs = drift_expectations(config, label="label" in tables)
    waived: list[ExpectationSpec] = []
    if run.options.accept_drift:
        waived = [spec for spec in specs if spec.severity == "fail"]
        specs = [replace(spec, severity="warn") if spec.severity == "fail" else spec for spec in specs]
        notes.append(
            f"accept_drift is set by {run.triggered_by} (reason: {run.options.reason}): drift that would fail the "
            "run is recorded as a warning for this run only"
        )
    result = _run_gate("check_drift", tables, specs, notes, row_keys={"drift": "feature", "label": "column"})
    # The compared values go into the report too: the registry page charts PSI per feature over runs.
    result = replace(result, values={name: table.to_dict("records") for name, table in tables.items()})
    accepted = _waived_outcomes(result, waived)
    context: dict[str, Any] = {"champion": champion, "reference_rows": profile.get("rows")}
    if run.options.accept_drift:
        context["drift_accepted"] = {
            "reason": run.options.reason,
            "triggered_by": run.triggered_by,
            "waived": [outcome.describe() for outcome in accepted],
        }
    summary = _publish_gate(run, result, **context)
    if accepted and champion is not None and not run.options.dry_run:
        _record_drift_accepted(run, champion, accepted, summary)
    return summary


def _waived_outcomes(result: GateResult, waived: list[ExpectationSpec]) -> list[Any]:
    """The failed outcomes of expectations ``accept_drift`` turned from fail into warn."""
    keys = {(spec.table, spec.kwargs.get("column"), spec.kwargs.get("max_value")) for spec in waived}
    return [
        outcome
        for outcome in result.warnings
        if (outcome.table, outcome.column, outcome.kwargs.get("max_value")) in keys
    ]


def _record_drift_accepted(run: RunContext, champion: str, accepted: list[Any], summary: dict[str, Any]) -> None:
    """One ``drift_accepted`` event per run (a retry finds it and writes none)."""
    registry = run.registry
    change_id = hashlib.sha256(f"drift_accepted:{run.run_id}".encode()).hexdigest()[:32]
    if registry.has_event("drift_accepted", champion, change_id):
        return
    drifted = sorted(
        {
            str(row.get("feature") or row.get("column"))
            for outcome in accepted
            for row in outcome.unexpected_sample
            if isinstance(row, dict)
        }
    )
    registry.record_event(
        "drift_accepted",
        champion,
        run_id=run.run_id,
        triggered_by=run.triggered_by,
        reason=run.options.reason,
        details={
            "run_key": run.run_key,
            "window": run.describe()["window"],
            "drifted": drifted,
            "waived": [outcome.describe() for outcome in accepted],
            "report_uri": summary["report_uri"],
            "html_report_uri": summary["html_report_uri"],
        },
        change_id=change_id,
    )


# -- train -------------------------------------------------------------------------------------


def train(run: RunContext, features: dict[str, Any]) -> dict[str, Any]:
    """Fit the estimator on the training matrix; write transformer + estimator as one model."""
    config = run.config
    target = config.dataset.target
    overrides = run.options.model_params
    with local_copy(run.store, _ref(features, "train")) as path:
        # Laid out as the estimator splits it for early stopping, so fit never copies the matrix.
        order = fit_order(config.model, read_column(path, target), overrides)
        matrix, y = read_matrix_file(path, features["feature_columns"], target, rows=order.rows)
    transformer = load_model(run.store.get_bytes(_ref(features, "transformer")), source="feature transformer")
    started = time.perf_counter()
    estimator = train_model(matrix, y, config.model, overrides, validation_rows=order.validation)
    seconds = time.perf_counter() - started
    model = assemble_model(transformer, estimator)
    ref = run.store.put_bytes(run.stage_key("train", "model.skops"), dump_model(model))
    params = {k: v for k, v in estimator.get_params().items() if k in {*config.model.params, "random_state"}}
    return _finish(
        run,
        "train",
        {
            "estimator": config.model.estimator,
            "params": params,
            "seed": config.model.seed,
            "rows": len(matrix),
            "train_seconds": round(seconds, 3),
            "artifacts": {"model": ref.to_dict()},
        },
    )


# -- evaluate ----------------------------------------------------------------------------------


def evaluate(run: RunContext, features: dict[str, Any], trained: dict[str, Any]) -> dict[str, Any]:
    """Holdout metrics for the candidate, the champion and a canary's challenger on the same rows.

    ``predictions.parquet`` keeps the per-row outputs of the candidate and the champion next to
    the target, so promote can run the paired bootstrap test without scoring again; the model
    card gets a bootstrap interval for every candidate metric.
    """
    config = run.config
    metric = config.promotion.metric
    holdout, y = holdout_rows(run, features)
    model = load_model(run.store.get_bytes(_ref(trained, "model")), source="candidate model")
    candidate = evaluate_model(model, holdout, y, config.model.task, config.dataset.positive_class)
    columns: dict[str, Any] = {"target": y, **prediction_columns(candidate)}
    champion_alias = run.registry.get_alias(CHAMPION)
    champion_version = champion_alias.version if champion_alias else None
    champion: dict[str, Any] | None = None
    if champion_version is not None:
        scored, champion = score_summary(run, champion_version, holdout, y)
        champion["predictions_stored"] = scored is not None and same_classes(scored, candidate)
        if champion["predictions_stored"]:
            columns.update(prediction_columns(scored, CHAMPION_PREFIX))
    challenger: dict[str, Any] | None = None
    if config.deployment.strategy == "canary":
        _, canary = challenger_alias(run.registry)
        if canary is not None and canary.version != champion_version:
            _, challenger = score_summary(run, canary.version, holdout, y)
    artifacts = {}
    if config.expectations.model.segments is not None:
        segments = read_frame(run.store, _ref(features, "holdout_input"), columns=[SEGMENT_COLUMN])[SEGMENT_COLUMN]
        columns["segment"] = segments.to_numpy()
        by_segment = {
            "column": config.expectations.model.segments.column,
            "segments": segment_metrics(candidate, y, segments.astype("str").to_numpy()),
        }
        artifacts["segment_metrics"] = run.store.put_json(run.stage_key("evaluate", "segment_metrics.json"), by_segment)
    artifacts["predictions"] = write_frame(
        run.store, run.stage_key("evaluate", "predictions.parquet"), pd.DataFrame(columns)
    )
    bootstrap = config.promotion.bootstrap or BootstrapConfig()
    plan = holdout_plan(y, candidate.classes, bootstrap.samples)
    intervals = metric_intervals(
        y,
        candidate.outputs,
        candidate.classes,
        samples=bootstrap.samples,
        confidence=bootstrap.confidence,
        seed=config.model.seed,
    )
    value = candidate.metrics[metric]
    champion_value = champion["value"] if champion else None
    return _finish(
        run,
        "evaluate",
        {
            "metric": metric,
            "value": value,
            "metrics": candidate.metrics,
            "metrics_ci": {
                name: {"value": candidate.metrics[name], "ci_low": low, "ci_high": high}
                for name, (low, high) in intervals.items()
            },
            "bootstrap": {**plan.to_dict(), "confidence": bootstrap.confidence, "seed": config.model.seed},
            "classes": None if candidate.classes is None else candidate.classes.tolist(),
            "score_std": candidate.score_std,
            "champion": champion,
            "challenger": challenger,
            "improvement_over_champion": None
            if champion_value is None or math.isnan(champion_value)
            else improvement(value, champion_value, metric),
            "rows": len(y),
            "artifacts": {name: ref.to_dict() for name, ref in artifacts.items()},
        },
    )


def _segments_table(run: RunContext, evaluated: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    """One row per judged segment (enough holdout rows, metric defined), and notes on the others."""
    rules = run.config.expectations.model.segments
    metric = evaluated["metric"]
    by_segment = run.store.get_json(_ref(evaluated, "segment_metrics"))
    rows = []
    notes = []
    for value, found in by_segment["segments"].items():
        label = f"{by_segment['column']}={value}"
        score = found["metrics"][metric]
        if found["rows"] < rules.min_rows:
            notes.append(f"segment {label}: {found['rows']} holdout rows (< min_rows {rules.min_rows}), not judged")
        elif score is None or math.isnan(score):
            notes.append(f"segment {label}: {metric} is undefined on its {found['rows']} holdout rows, not judged")
        else:
            rows.append((label, found["rows"], score))
    table = pd.DataFrame(rows, columns=["segment", "rows", metric]).astype({metric: "float64"})
    return table, notes


def validate_model(run: RunContext, evaluated: dict[str, Any]) -> dict[str, Any]:
    """Gate: the candidate reaches its threshold, does not regress too far, scores sanely, per segment too."""
    row = {**evaluated["metrics"], evaluated["metric"]: evaluated["value"]}
    has_champion = evaluated["improvement_over_champion"] is not None
    if has_champion:
        row["improvement_over_champion"] = evaluated["improvement_over_champion"]
    tables = {
        "metrics": pd.DataFrame([row], dtype="float64"),
        "scores": read_frame(run.store, _ref(evaluated, "predictions"), columns=["score"]),
    }
    notes: list[str] = []
    if run.config.expectations.model.segments is not None:
        tables["segments"], notes = _segments_table(run, evaluated)
    specs = model_expectations(run.config, has_champion=has_champion)
    return _publish_gate(run, _run_gate("validate_model", tables, specs, notes, row_keys={"segments": "segment"}))


# -- promote -----------------------------------------------------------------------------------


def _inputs_sha256(run: RunContext, ingested: dict[str, Any]) -> str:
    """What determines a model: data, config, window and run options that change results."""
    payload = {
        "landing_sha256": ingested["landing_sha256"],
        "config_sha256": run.config.config_hash(),
        "window": run.describe()["window"],
        "overrides": run.options.data_overrides(run.config),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _model_card(
    run: RunContext,
    version: str,
    ingested: dict[str, Any],
    features: dict[str, Any],
    trained: dict[str, Any],
    evaluated: dict[str, Any],
    gates: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "pipeline": run.config.name,
        "version": version,
        "run": run.describe(),
        "data": {
            "window": run.describe()["window"],
            "landing_sha256": ingested["landing_sha256"],
            "rows": {"raw": ingested["rows"], **features["rows"]},
            "files": ingested["files"],
        },
        "code": model_card.code_version(),
        "config_sha256": run.config.config_hash(),
        "model": {"estimator": trained["estimator"], "params": trained["params"], "seed": trained["seed"]},
        "metric": evaluated["metric"],
        "metrics": evaluated["metrics"],
        "metrics_ci": evaluated["metrics_ci"],
        "bootstrap": {**evaluated["bootstrap"], "rows": evaluated["rows"]},
        "champion_at_evaluation": evaluated["champion"],
        "gates": gates,
        "training_seconds": trained["train_seconds"],
        "libraries": model_card.library_versions(),
        "input_schema": model_card.input_schema(run.config.features),
        "label": model_card.label(run.config.dataset),
    }


def promote(
    run: RunContext,
    ingested: dict[str, Any],
    features: dict[str, Any],
    trained: dict[str, Any],
    evaluated: dict[str, Any],
    gates: list[dict[str, Any]],
) -> dict[str, Any]:
    """Register the candidate as an immutable version, apply the promotion policy, deploy the champion.

    The strategy (``deployment.strategy``) decides what passing the policy means: ``direct`` and
    ``blue_green`` move the champion alias by compare-and-swap (re-deciding if another run moved
    it first); ``canary`` first scores a running challenger, then makes the candidate the
    challenger. Finally ``deployed.json`` is made to serve whatever the champion is now. A dry
    run decides but writes nothing to the registry.
    """
    options = run.options
    deployment = run.config.deployment
    version = make_version_id(run.window.end, _inputs_sha256(run, ingested))
    scores = HoldoutScores(run, features, evaluated)
    champion = evaluated["champion"]

    if options.dry_run:
        decision = scores.decide(champion["version"] if champion else None)
        return _finish(
            run,
            "promote",
            {
                "version": version,
                "dry_run": True,
                "registered": False,
                "promoted": False,
                "would_promote": decision.promote,
                "reason": f"dry run, nothing registered: {decision.reason}",
                "significance": decision.significance.to_dict() if decision.significance else None,
                "champion": champion["version"] if champion else None,
            },
        )

    registry = run.registry
    candidate_value = evaluated["value"]
    metrics_json = {
        "metric": evaluated["metric"],
        "value": candidate_value,
        "metrics": evaluated["metrics"],
        "metrics_ci": evaluated["metrics_ci"],
    }
    card = _model_card(run, version, ingested, features, trained, evaluated, gates)
    files = {
        "model.skops": run.store.get_bytes(_ref(trained, "model")),
        "metrics.json": json.dumps(metrics_json, indent=2, sort_keys=True).encode(),
        "model_card.json": json.dumps(card, indent=2, sort_keys=True, default=str).encode(),
        "model_card.md": model_card.render_markdown(card).encode(),
    }
    if "reference_profile" in features["artifacts"]:  # absent only in runs started before profiles were kept
        # What check_drift compares later windows with while this version is champion.
        files[PROFILE_FILE] = run.store.get_bytes(_ref(features, "reference_profile"))
    record, created = registry.register(
        version,
        files,
        {
            "inputs_sha256": _inputs_sha256(run, ingested),
            "metric": evaluated["metric"],
            "value": candidate_value,
            "run_id": run.run_id,
        },
    )
    audit = {"run_id": run.run_id, "triggered_by": run.triggered_by}
    # Registered by this run (this attempt or an earlier one): its one event, keyed by the version.
    ours = registry.record_registered(record, reason=f"{evaluated['metric']}={candidate_value:.4f}", **audit)

    canary = None
    if deployment.strategy == "canary":
        canary = advance_canary(run, scores)
        outcome = enter_canary(run, version, scores)
    else:
        outcome = promote_to_champion(run, version, scores)
    decision = outcome.decision
    significance = outcome.significance
    already_champion = outcome.compared_with == version
    if ours and not (outcome.promoted or outcome.challenger or outcome.overridden or already_champion):
        details = {"compared_with": outcome.compared_with, "significance": significance}
        at = (outcome.recorded or {}).get("recorded_at")
        registry.record_rejected(version, reason=decision.reason, details=details, at=at, **audit)
    deployed = publish(registry, deployment, audit=audit, get_connection=run.get_connection)
    final = registry.get_alias(CHAMPION)
    return _finish(
        run,
        "promote",
        {
            "version": version,
            "dry_run": False,
            "registered": created,
            "promoted": outcome.promoted,
            "challenger": outcome.challenger,
            "overridden": outcome.overridden,
            "reason": decision.reason,
            "compared_with": outcome.compared_with,
            "significance": significance,
            "champion": final.version if final else None,
            "strategy": deployment.strategy,
            "canary": canary,
            "deployed": {"version": deployed.version, "slot": deployed.slot} if deployed else None,
        },
    )
