"""The Asset ``model/<name>``: an event each time a variant's champion changes.

``promote`` (when this run moved the champion) and ``rollback_champion`` emit it, so a downstream
DAG (batch scoring, a cache warm-up) can be scheduled on model changes: ``schedule=[model_asset(config)]``
or ``Asset(name="model/<name>", uri="model/<name>")`` in another project. The tasks' outlet is an
``AssetAlias`` and the event is added only when the champion moved: a run whose candidate lost,
a dry run or a refused rollback emits nothing (a plain outlet would emit on every success).
The event's extra names the new champion, the one it replaced, why and which run.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, AssetAlias

from include.retrain.config import PipelineConfig


def model_asset(config: PipelineConfig) -> Asset:
    """``model/<name>``, scheme-less like the landing Asset (the registry's S3 prefix is in its extra)."""
    identity = f"model/{config.name}"
    registry = "/".join(part for part in (config.storage.prefix, config.name, "registry") if part)
    return Asset(name=identity, uri=identity, extra={"s3_uri": f"s3://{config.storage.bucket}/{registry}/"})


def model_alias(config: PipelineConfig) -> AssetAlias:
    """The outlet of the tasks that may move the champion; resolves to :func:`model_asset` when they do."""
    return AssetAlias(name=f"model-change/{config.name}")


def announce_promotion(
    config: PipelineConfig, context: dict[str, Any], *, champion_before: str | None, manifest: dict[str, Any]
) -> bool:
    """The ``model/<name>`` event of a ``promote`` task whose run moved the champion (never a dry run's).

    ``champion_before`` is the champion ``evaluate`` scored against; the champion can also move
    without this candidate winning (a canary's challenger graduating), which is announced as ``changed``.
    """
    if manifest.get("dry_run"):
        return False
    change = "promoted" if manifest.get("promoted") else "changed"
    after = manifest.get("champion")
    return announce_champion_change(config, context, before=champion_before, after=after, change=change)


def announce_champion_change(
    config: PipelineConfig, context: dict[str, Any], *, before: str | None, after: str | None, change: str
) -> bool:
    """Add a ``model/<name>`` event if the champion went from ``before`` to another version ``after``.

    ``change`` says how (``promoted``, ``rolled back``). A retry whose first attempt moved the
    champion and then failed still announces: the failed attempt emitted nothing.
    """
    if after is None or after == before:
        return False
    dag_run = context["dag_run"]
    extra = {"pipeline": config.name, "champion": after, "replaced": before, "change": change, "run_id": dag_run.run_id}
    context["outlet_events"][model_alias(config)].add(model_asset(config), extra=extra)
    return True
