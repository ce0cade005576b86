"""Helpers shared by the gate tests."""

from __future__ import annotations

from include.retrain.config import PipelineConfig


def schema_defaults(config: PipelineConfig) -> PipelineConfig:
    """``config`` without its shorthand checks and segment floors: the defaults every variant gets."""
    rules = config.expectations
    gates = {name: getattr(rules, name).model_copy(update={"checks": ()}) for name in ("raw", "features", "model")}
    gates["model"] = gates["model"].model_copy(update={"segments": None})
    return config.model_copy(update={"expectations": rules.model_copy(update=gates)})
