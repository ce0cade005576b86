"""One line per task for people: counts, metrics and the decision, as the grid view, the demo and
the notifications show them.

Every manifest a task returns carries its line as ``summary``; the full details stay next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def gate_headline(*, success: bool, evaluated: int, successful: int, warnings: int) -> str:
    """``passed: 34/34 expectations met, 0 warnings`` (or ``FAILED: ...``)."""
    verdict = "passed" if success else "FAILED"
    return f"{verdict}: {successful}/{evaluated} expectations met, {warnings} warnings"


def summary_parts(stage: str, manifest: Mapping[str, Any]) -> list[str]:
    """What a stage did, in short parts (joined by ``; `` for the grid, by line breaks in the demo)."""
    if stage == "ingest":
        line = f"{manifest['partitions']} partitions, {manifest['rows']} rows"
        if manifest.get("target_nulls_dropped"):
            line += f" ({manifest['target_nulls_dropped']} rows without a label dropped)"
        return [line]
    if stage == "features":
        return [f"train {manifest['rows']['train']} rows, holdout {manifest['rows']['holdout']} rows"]
    if stage == "train":
        return [f"{manifest['estimator'].rsplit('.', 1)[-1]} fitted in {manifest['train_seconds']:.1f}s"]
    if stage == "evaluate":
        champion = manifest["champion"]
        versus = "no champion yet"
        if champion and champion["value"] is not None:
            versus = f"champion {champion['version']} scores {champion['value']:.4f} on the same rows"
        return [f"holdout {manifest['metric']} {manifest['value']:.4f} ({versus})"]
    if stage == "promote":
        moved = "champion MOVED" if manifest["promoted"] else "champion unchanged"
        return [
            f"version {manifest['version']} (newly registered: {manifest['registered']}); {moved}",
            f"why: {manifest['reason']}",
            f"champion now: {manifest['champion']}",
        ]
    raise ValueError(f"no summary for stage {stage!r}")


def stage_summary(stage: str, manifest: Mapping[str, Any]) -> str:
    """The stage's one line for the grid view."""
    return "; ".join(summary_parts(stage, manifest))
