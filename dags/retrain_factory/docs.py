"""Markdown docs for the grid view: the DAG's from its YAML, each task's from this table.

The same table is the task table of the docs site (``task_table_markdown``, written into
docs/concepts/run.md by ``make docs``), and the trigger forms' Params are listed there from
``params_table_markdown``: one source for the grid view and the site.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from include.retrain.config import PipelineConfig

if TYPE_CHECKING:
    from airflow.sdk import Param

#: Each task's doc_md in the grid view, in the order the tasks run: what it does, and what happens
#: when it fails (a data failure at once, an infra failure retried with backoff).
TASK_DOCS = {
    "ingest": "Reads the landing partitions of the training window from S3 (CSV or Parquet), "
    "coerces them to the declared schema and writes `ingest/raw.parquet` (with `dataset.target_nulls: drop`, "
    "without the rows whose label is missing, counted as `target_nulls_dropped`). Folders under the landing "
    "prefix that are no `ds=YYYY-MM-DD` day are skipped and listed (`skipped_folders`). Refuses at once "
    "(no retry) invalid Params, unreadable landing files, a window without data and a window end before "
    "`schedule.start_date`. Retried with backoff on infra faults.",
    "validate_raw": "Great Expectations gate on the raw window: schema, types, nulls (no missing label), ranges, "
    "categories, "
    "row count, unique ids, freshness, configured checks. Fails at once (no retry) and links its reports "
    "(`gates/validate_raw.json` and `.html`).",
    "build_features": "Splits train/holdout (by default by a hash of the row id, so a held-out row stays held "
    "out in later windows), fits the feature `ColumnTransformer` on the training rows and profiles them; "
    "writes both feature matrices, the fitted transformer and the reference profile. Retried on infra faults.",
    "validate_features": "Great Expectations gate on the feature matrices: no NaN/inf, no constant features, "
    "no target leakage (a feature that alone predicts the target), split sizes, class balance, configured "
    "checks. Fails at once (no retry); JSON report and HTML data docs in `gates/`.",
    "check_drift": "Great Expectations gate comparing this window's features and label with the reference "
    "profile stored with the current champion: PSI per feature (KS optional) and of the label's class shares "
    "or bins. Drift fails the run or warns, per `expectations.drift.on_drift` (the label: `label.on_drift`); "
    "with no champion yet it passes and says so. The Param `accept_drift` (with a reason) makes its drift a "
    "warning for one run and records a `drift_accepted` registry event. Data verdicts are not retried.",
    "train": "Fits the configured estimator (fixed seed) in the `training` pool and writes transformer + "
    "estimator as one skops model. Retried on infra faults.",
    "evaluate": "Scores the candidate and the current champion (and a canary's challenger) on the same holdout "
    "rows, per segment too, with bootstrap intervals for every metric. Retried on infra faults.",
    "validate_model": "Great Expectations gate on the candidate: metric threshold, regression against the "
    "champion, prediction sanity (score spread), per-segment floors, configured checks. Fails at once "
    "(no retry).",
    "promote": "Registers the candidate (with the reference profile of its training data) as an immutable "
    "version and applies the promotion policy by compare-and-swap: `direct` and `blue_green` move the "
    "`champion` alias, `canary` scores a running challenger and makes the candidate the challenger. Then "
    "`deployed.json` is pointed at the champion and the HTTP hook, if any, is called. When the champion moved, "
    "emits an event on the Asset `model/<name>`. Retried on infra faults.",
}

ROLLBACK_TASK_DOC = (
    "Checks the target version (registered, manifest as its `registered` event recorded it, model file "
    "matches its sha256 and loads with the allowlist) and that the champion is the one it replaces, records "
    "that intent, then moves the `champion` alias to it by compare-and-swap, records a `rolled_back` event, "
    "points `deployed.json` at it (blue/green: back to the slot that still holds it) and calls the HTTP hook, "
    "if any. A refused rollback fails at once and changes nothing; infra faults are retried, and a retry "
    "finishes the recorded intent (it never picks a new target). Its summary names the champion it replaced; "
    "the change is announced on the Asset `model/<name>`."
)


def dag_doc(config: PipelineConfig) -> str:
    """The DAG's doc_md: the YAML description plus what the config sets up."""
    schedule = f"`{config.schedule.cron}`" if config.schedule.cron else "no time schedule"
    if config.schedule.on_new_data:
        schedule += f" and new data in `{config.dataset.landing_uri}` (via watch_landing)"
    policy = config.promotion
    return "\n".join(
        [
            f"# Retrain `{config.name}`",
            "",
            config.description.strip() or "_No description in the pipeline YAML._",
            "",
            "| setting | value |",
            "| --- | --- |",
            f"| schedule | {schedule} ({config.schedule.timezone}) |",
            f"| landing data | `{config.dataset.landing_uri}ds=YYYY-MM-DD/` ({config.dataset.format}) |",
            f"| training window | {config.window.days} days before the data interval end |",
            f"| model | `{config.model.estimator}` |",
            f"| metric | `{policy.metric}` ({policy.direction}), threshold {policy.threshold}, "
            f"min improvement {policy.min_improvement} |",
            f"| significance | {_bootstrap_text(config)} |",
            f"| deployment | {_deployment_text(config)} |",
            f"| artifacts | `s3://{config.storage.bucket}/{config.storage.prefix}/{config.name}/` via "
            f"connection `{config.storage.conn_id}` |",
        ]
    )


def _bootstrap_text(config: PipelineConfig) -> str:
    bootstrap = config.promotion.bootstrap
    if bootstrap is None:
        return "off (point values decide)"
    return (
        f"paired bootstrap, {bootstrap.samples} samples, {bootstrap.confidence:.0%} interval "
        "(a bag of little bootstraps from 20,000 holdout rows)"
    )


def _deployment_text(config: PipelineConfig) -> str:
    deployment = config.deployment
    text = f"`{deployment.strategy}`"
    if deployment.strategy == "canary":
        text += f", {deployment.canary_runs} winning runs in a row"
    if deployment.notify_conn_id:
        text += f", hook via connection `{deployment.notify_conn_id}`"
    return text


def rollback_doc(config: PipelineConfig) -> str:
    """The rollback DAG's doc_md."""
    registry = f"s3://{config.storage.bucket}/{config.storage.prefix}/{config.name}/registry/"
    return "\n".join(
        [
            f"# Roll back `{config.name}`",
            "",
            "Makes an earlier model version champion again and deploys it. Trigger it by hand with a "
            "**reason**; leave **to_version** empty to go back to the champion's previous version.",
            "**expected_champion** names the version you want to replace; empty means the champion when you "
            "triggered the run. If the champion is no longer that one, the rollback is refused (with an empty "
            "to_version: if the champion changed after you triggered it) and nothing changes.",
            "",
            f"- registry: `{registry}` via connection `{config.storage.conn_id}`",
            f"- deployment: {_deployment_text(config)}",
            "- the registry keeps the history: a `rolled_back` event and a `deployed` event per rollback",
            "- to undo a rollback, run this DAG again with an empty to_version (the previous version is the "
            "champion the rollback replaced)",
        ]
    )


def task_table_markdown() -> str:
    """The docs site's task table: every task of retrain_<name> with its grid-view doc, in run order."""
    rows = [f"| `{name}` | {doc} |" for name, doc in TASK_DOCS.items()]
    return "\n".join(["| task | what it does, and what happens when it fails |", "| --- | --- |", *rows])


def params_table_markdown(params: Mapping[str, Param]) -> str:
    """A trigger form's Params as a Markdown table: name, type and bounds, default, title and description."""
    rows = ["| param | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, param in params.items():
        schema = param.schema
        description = (param.description or "").replace("<", "&lt;").replace(">", "&gt;")
        meaning = f"**{schema['title']}.** {description}" if schema.get("title") else description
        rows.append(f"| `{name}` | {_param_type(schema)} | {_param_default(param.value, schema)} | {meaning} |")
    return "\n".join(rows)


def _param_type(schema: dict[str, Any]) -> str:
    types = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
    text = " or ".join(t for t in types if t != "null")
    if "format" in schema:
        text += f" ({schema['format']})"
    if "minimum" in schema and "maximum" in schema:
        text += f" {schema['minimum']} to {schema['maximum']}"
    elif "exclusiveMinimum" in schema and "maximum" in schema:
        text += f" in ({schema['exclusiveMinimum']}, {schema['maximum']}]"
    if "maxLength" in schema:
        text += f", at most {schema['maxLength']} characters"
    if "pattern" in schema:
        text += ", pattern checked"
    if schema.get("additionalProperties") is False:
        text += ", only the keys " + (", ".join(f"`{key}`" for key in schema.get("properties", {})) or "(none)")
    return text + (", or empty" if "null" in types else "")


def _param_default(value: Any, schema: dict[str, Any]) -> str:
    if schema.get("minLength", 0) >= 1 and not value:
        return "**required**"
    if value is None or value == "":
        return "empty"
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"
