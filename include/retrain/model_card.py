"""Model cards: what a registered version is, what made it, and how good it is."""

from __future__ import annotations

import math
import os
from importlib import metadata
from typing import TYPE_CHECKING, Any

from include.retrain import __version__
from include.retrain.config import DatasetConfig, FeaturesConfig

if TYPE_CHECKING:
    from include.retrain.context import RunContext
    from include.retrain.manifests import (
        EvaluateManifest,
        FeaturesManifest,
        GateSummary,
        IngestManifest,
        TrainManifest,
    )

LIBRARIES = ("scikit-learn", "pandas", "numpy", "pyarrow", "skops", "great-expectations", "apache-airflow")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def code_version() -> dict[str, str | None]:
    """The bundle version, and the git commit when the deployment sets RETRAIN_GIT_COMMIT."""
    return {"bundle_version": __version__, "git_commit": os.environ.get("RETRAIN_GIT_COMMIT") or None}


def input_schema(features: FeaturesConfig) -> dict[str, Any]:
    """What the model takes (``stages.features.to_model_input``): the columns by kind, date parts per date column."""
    schema: dict[str, Any] = {
        "numeric": [*features.numeric, *features.passthrough],
        "categorical": list(features.categorical),
        "note": "numeric as float64 (NaN = missing), categorical as strings; see stages.features.to_model_input",
    }
    if features.date_parts:
        schema["date_parts"] = {column: list(parts) for column, parts in features.date_parts.items()}
        schema["note"] = (
            "numeric as float64 (NaN = missing), categorical as strings, date_parts columns as datetime64 (NaT = "
            "missing; the model derives the parts <column>_<part> itself); see stages.features.to_model_input"
        )
    return schema


def label(dataset: DatasetConfig) -> dict[str, Any]:
    """The label the model predicts: a landing column, or how ``dataset.label`` derives it."""
    if dataset.label is None:
        return {"column": dataset.target, "derived": None}
    rule = dataset.label
    operand = list(rule.operand) if isinstance(rule.operand, tuple) else rule.operand
    return {
        "column": dataset.target,
        "derived": {"from": rule.column, rule.rule: operand, "definition": rule.describe(dataset.target)},
    }


def build_card(
    run: RunContext,
    version: str,
    ingested: IngestManifest,
    features: FeaturesManifest,
    trained: TrainManifest,
    evaluated: EvaluateManifest,
    gates: list[GateSummary],
) -> dict[str, Any]:
    """The card registered with ``version`` (``model_card.json``), from the run's manifests."""
    return {
        "pipeline": run.config.name,
        "version": version,
        "run": run.describe(),
        "data": {
            "window": run.describe()["window"],
            "landing_sha256": ingested.landing_sha256,
            "rows": {"raw": ingested.rows, **features.rows},
            "files": ingested.files,
        },
        "code": code_version(),
        "config_sha256": run.config.config_hash(),
        "model": {"estimator": trained.estimator, "params": trained.params, "seed": trained.seed},
        "metric": evaluated.metric,
        "metrics": evaluated.metrics,
        "metrics_ci": evaluated.metrics_ci,
        "bootstrap": {**evaluated.bootstrap, "rows": evaluated.rows},
        "champion_at_evaluation": evaluated.champion,
        "gates": [gate.to_xcom() for gate in gates],
        "training_seconds": trained.train_seconds,
        "libraries": library_versions(),
        "input_schema": input_schema(run.config.features),
        "label": label(run.config.dataset),
    }


def render_markdown(card: dict[str, Any]) -> str:
    """A Markdown model card for people (the JSON card is the source of truth)."""
    model = card["model"]
    data = card["data"]
    bootstrap = card["bootstrap"]
    lines = [
        f"# {card['pipeline']} model {card['version']}",
        "",
        f"- **Estimator**: `{model['estimator']}` (seed {model['seed']})",
        f"- **Parameters**: `{model['params']}`",
        *_label_lines(card),
        f"- **Training window**: {data['window']['start']} to {data['window']['end']} (exclusive)",
        f"- **Rows**: {data['rows']}",
        f"- **Landing data sha256**: `{data['landing_sha256']}`",
        f"- **Config sha256**: `{card['config_sha256']}`",
        f"- **Code**: {card['code']}",
        f"- **Trained by run**: `{card['run']['run_id']}` ({card['run']['triggered_by']})",
        f"- **Training time**: {card['training_seconds']:.1f} s",
        "",
        "## Holdout metrics",
        "",
        _bootstrap_text(bootstrap),
        "",
        f"| metric | value | {bootstrap['confidence']:.0%} interval |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| {name} | {_number(value)} | {_interval(card['metrics_ci'].get(name))} |"
        for name, value in card["metrics"].items()
    ]
    if "champion_at_evaluation" in card:  # absent only in cards written before it was recorded
        lines += ["", "## Champion on the same holdout rows", "", *_champion_lines(card)]
    lines += ["", "## Gates", ""]
    lines += [
        f"- `{gate['gate']}`: {'passed' if gate['success'] else 'FAILED'}"
        + (f" ({len(gate['warnings'])} warnings)" if gate.get("warnings") else "")
        for gate in card["gates"]
    ]
    lines += ["", "## Model input", "", f"{card['input_schema']}", "", "## Libraries", "", f"{card['libraries']}", ""]
    return "\n".join(lines)


def _label_lines(card: dict[str, Any]) -> list[str]:
    """The label line (cards written before labels were recorded have none)."""
    found = card.get("label")
    if not found:
        return []
    derived = found.get("derived")
    if derived:
        return [
            f"- **Label**: `{found['column']}`, derived at ingest: `{derived['definition']}` (missing where "
            f"`{derived['from']}` is missing)"
        ]
    return [f"- **Label**: `{found['column']}`"]


def _champion_lines(card: dict[str, Any]) -> list[str]:
    """This model next to the champion of its evaluation, both on this holdout: what promotion compared.

    The card is written before the promotion decision; whether this model became champion (and the
    paired bootstrap interval, when the test ran) is in the registry's ``promoted``/``rejected`` event.
    """
    champion = card["champion_at_evaluation"]
    if not champion:
        return ["No champion when this model was evaluated: nothing to compare with."]
    version = champion["version"]
    if not champion.get("metrics"):
        return [f"{version} could not be scored on these rows: {champion.get('error') or 'no metrics'}"]
    theirs = champion["metrics"]
    lines = [
        f"{version}, the champion when this model was evaluated, scored on the same {card['bootstrap']['rows']} "
        "holdout rows (the rows the promotion decision compares; the registry's events say what it decided).",
        "",
        f"| metric | this model | champion {version} | difference |",
        "| --- | --- | --- | --- |",
    ]
    for name, value in card["metrics"].items():
        label = f"**{name}** (policy metric)" if name == card.get("metric") else name
        other = theirs.get(name)
        both = value is not None and other is not None and not (math.isnan(value) or math.isnan(other))
        difference = f"{value - other:+.4f}" if both else "n/a"
        lines.append(f"| {label} | {_number(value)} | {_number(other)} | {difference} |")
    return lines


def _bootstrap_text(bootstrap: dict[str, Any]) -> str:
    """How the intervals were computed (cards written before the little bootstrap have no ``method``)."""
    if bootstrap.get("method") != "bag_of_little_bootstraps":
        return (
            f"Bootstrap intervals: {bootstrap['samples']} resamples of the {bootstrap['rows']} holdout rows "
            f"(seed {bootstrap['seed']})."
        )
    return (
        f"Bootstrap intervals: {bootstrap['samples']} resamples as a bag of little bootstraps (seed "
        f"{bootstrap['seed']}): {bootstrap['subsets']} disjoint random subsets of {bootstrap['subset_rows']} of "
        f"the {bootstrap['rows']} holdout rows, each resample {bootstrap['rows']} draws from one subset; an "
        "interval is the holdout value plus the subsets' mean percentiles around their own values."
    )


def _number(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.4f}"


def _interval(ci: dict[str, float] | None) -> str:
    if not ci or any(ci[k] is None or math.isnan(ci[k]) for k in ("ci_low", "ci_high")):
        return "n/a"
    return f"{ci['ci_low']:.4f} to {ci['ci_high']:.4f}"
