"""``score``: the task body of ``score_<name>``: new landing partitions scored with the deployed model.

In order, so that nothing is written unless everything can be: choose the partitions, read them
without the label, load the deployed model (and a canary's challenger) with sha256 and allowlist
checks, validate every partition with the raw gate's checks minus the label, then write each
partition's predictions, serving drift and manifest.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from include.retrain.layout import PREDICTIONS_PART
from include.retrain.scoring.outputs import (
    drift_document,
    publish_input_gate,
    read_manifest,
    read_partition,
    scored_by,
    write_partition,
)
from include.retrain.scoring.run import ScoringManifest, ScoringRun
from include.retrain.scoring.serving import ServingModel, deployed_model, shadow_model
from include.retrain.stages.features import to_model_input
from include.retrain.stages.scoring import (
    choose_partitions,
    input_expectations,
    label_columns,
    landing_partitions,
    model_outputs,
    partition_table,
    predictions_frame,
    serving_drift,
)
from include.retrain.storage import ArtifactStore


def score(run: ScoringRun) -> ScoringManifest:
    """Score the run's unscored landing partitions; an empty manifest when there are none."""
    config = run.config
    assert config.scoring is not None
    dataset = config.dataset
    landing = ArtifactStore(run.client, dataset.bucket)
    by_day = landing_partitions(
        landing.list_objects(dataset.landing_prefix), dataset, run.end, config.scoring.lookback_days
    )
    chosen, done = choose_partitions(by_day, scored_by(run, by_day), run.run_key, config.scoring.max_partitions_per_run)
    if not chosen:
        why = f"nothing to score: no unscored partition in the {config.scoring.lookback_days} days before "
        return _manifest(run, chosen=[], summaries={}, text=why + f"{run.end.isoformat()} in {dataset.landing_uri}")
    frames = {day: read_partition(run, landing, by_day[day]) for day in chosen if day not in done}
    deployed: ServingModel | None = None
    shadow: ServingModel | None = None
    if frames:  # a re-run whose partitions are all written loads no model
        deployed = deployed_model(run.registry)
        shadow = shadow_model(run.registry, config, deployed.version)
        _validate(run, frames)
        for day, frame in frames.items():
            _score_partition(run, day, frame, deployed, shadow)
    summaries = {day: read_manifest(run, day) for day in chosen}
    newest = summaries[chosen[-1]]
    version = deployed.version if deployed else newest.get("model_version")
    challenger = (shadow.version if shadow else None) if deployed else newest.get("challenger_version")
    rows = sum(int(s.get("rows", 0)) for s in summaries.values())
    text = f"scored {len(frames)} partition(s) with {version}, {rows} rows in the run's {len(chosen)} partition(s)"
    if done:
        text += f"; already scored by this run: {[d.isoformat() for d in done]}"
    if challenger is not None:
        text += f"; challenger {challenger} shadow-scored"
    return _manifest(
        run, chosen=chosen, summaries=summaries, text=text, version=version, challenger=challenger, done=done
    )


def _validate(run: ScoringRun, frames: dict[date, Any]) -> None:
    """The input gate over every partition at once, each its own table: a failure names its partition."""
    from include.retrain.gates.publish import run_gate
    from include.retrain.layout import SCORING_GATE

    tables = {partition_table(day): frame for day, frame in frames.items()}
    specs = [spec for day in frames for spec in input_expectations(run.config, day)]
    unread = ", ".join(sorted(label_columns(run.config.dataset)))
    notes = [f"not read, so not checked: {unread} (the label; scoring input has none)"]
    publish_input_gate(run, run_gate(SCORING_GATE, tables, specs, notes))


def _score_partition(
    run: ScoringRun, day: date, frame: Any, deployed: ServingModel, shadow: ServingModel | None
) -> None:
    config = run.config
    model_input = to_model_input(frame, config.features)
    task, positive = config.model.task, config.dataset.positive_class
    outputs = model_outputs(deployed.model, model_input, task, positive)
    challenger = None
    if shadow is not None:
        challenger = (shadow.version, model_outputs(shadow.model, model_input, task, positive))
    ids = frame[config.dataset.id_column]
    predictions = predictions_frame(ids, outputs, deployed.version, run.run_key, challenger)
    drift = drift_document(
        config, run, day, deployed.version, len(frame), serving_drift(config, deployed.profile, frame)
    )
    versions = {"model_version": deployed.version, "challenger_version": shadow.version if shadow else None}
    write_partition(run, day, predictions, drift, versions)


def _manifest(
    run: ScoringRun,
    *,
    chosen: list[date],
    summaries: dict[date, dict[str, Any]],
    text: str,
    version: str | None = None,
    challenger: str | None = None,
    done: list[date] | None = None,
) -> ScoringManifest:
    """The XCom manifest of the run, from the partitions' own manifests (what is really in the store)."""

    def part_uri(summary: dict[str, Any]) -> str:
        return str(summary.get("files", {}).get(PREDICTIONS_PART, {}).get("uri", ""))

    return ScoringManifest(
        run=run.describe(),
        model_version=version,
        challenger_version=challenger,
        partitions=[day.isoformat() for day in chosen],
        already_scored=[day.isoformat() for day in done or []],
        rows={day.isoformat(): int(s.get("rows", 0)) for day, s in summaries.items()},
        predictions={day.isoformat(): part_uri(s) for day, s in summaries.items()},
        max_psi={day.isoformat(): s.get("max_psi") for day, s in summaries.items()},
        summary=text,
    )
