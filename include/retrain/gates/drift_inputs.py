"""What ``check_drift`` compares: the champion's reference profile and this window's drift tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.retrain.gates.drift import drift_table, label_drift_table, label_shares_note
from include.retrain.layout import PROFILE_FILE
from include.retrain.registry import CHAMPION, ModelRegistry

if TYPE_CHECKING:
    from include.retrain.config import PipelineConfig


def champion_profile(registry: ModelRegistry) -> tuple[str | None, dict[str, Any] | None, str]:
    """The champion version and its reference profile, or why there is nothing to compare with."""
    champion = registry.get_alias(CHAMPION)
    if champion is None or champion.version is None:
        return None, None, "no champion yet (first run): nothing to compare with, drift not checked"
    digest = champion.manifest_sha256  # what the alias recorded: a rewritten manifest is refused
    record = registry.get_version(champion.version, manifest_sha256=digest)
    if record is None or PROFILE_FILE not in record.files:
        return champion.version, None, f"champion {champion.version} has no {PROFILE_FILE}: drift not checked"
    profile = registry.read_file(champion.version, PROFILE_FILE, manifest_sha256=digest)
    return champion.version, json.loads(profile), ""


def drift_tables(
    config: PipelineConfig, profile: Mapping[str, Any], frame: pd.DataFrame, columns: list[str]
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The ``drift`` table (and ``label`` when the label is compared) of the window against the profile,
    with notes on what was not compared and on the label's shares."""
    target = config.dataset.target
    table, skipped = drift_table(profile, frame, columns)
    notes = [f"{column}: not compared, {why}" for column, why in skipped.items()]
    tables = {"drift": table}
    if config.expectations.drift.label is not None:
        label_table, why = label_drift_table(profile, frame[target])
        if label_table is None:
            notes.append(f"label {target}: not compared, {why}")
        else:
            tables["label"] = label_table
            if shares := label_shares_note(profile, frame[target]):
                notes.append(shares)
    return tables, notes
