"""Unit tests for ``include.retrain.model_card``: the Markdown card says how its intervals were computed."""

from __future__ import annotations

from typing import Any

from include.retrain.model_card import render_markdown


def card(bootstrap: dict[str, Any]) -> dict[str, Any]:
    """A minimal JSON model card around ``bootstrap``."""
    return {
        "pipeline": "churn",
        "version": "v20260101-0123456789",
        "model": {"estimator": "logistic_regression", "params": {}, "seed": 7},
        "data": {"window": {"start": "2025-12-01", "end": "2026-01-01"}, "rows": {"raw": 10}, "landing_sha256": "x"},
        "config_sha256": "y",
        "code": {"bundle_version": "0.1.0", "git_commit": None},
        "run": {"run_id": "manual__1", "triggered_by": "schedule"},
        "training_seconds": 1.0,
        "bootstrap": bootstrap,
        "metrics": {"roc_auc": 0.81},
        "metrics_ci": {"roc_auc": {"value": 0.81, "ci_low": 0.8, "ci_high": 0.82}},
        "gates": [],
        "input_schema": {},
        "libraries": {},
    }


def test_plain_bootstrap_card_and_cards_written_before_the_method_was_recorded() -> None:
    legacy = {"samples": 1000, "confidence": 0.95, "seed": 7, "rows": 4000}
    plain = {**legacy, "method": "bootstrap", "subsets": 1, "subset_rows": 4000}
    for bootstrap in (legacy, plain):
        text = render_markdown(card(bootstrap))
        assert "Bootstrap intervals: 1000 resamples of the 4000 holdout rows (seed 7)." in text
        assert "| metric | value | 95% interval |" in text


def test_little_bootstrap_card_names_the_subsets() -> None:
    bootstrap = {
        "method": "bag_of_little_bootstraps",
        "samples": 1000,
        "confidence": 0.9,
        "seed": 7,
        "rows": 200000,
        "subsets": 10,
        "subset_rows": 5138,
    }
    text = render_markdown(card(bootstrap))
    assert "1000 resamples as a bag of little bootstraps (seed 7)" in text
    assert "10 disjoint random subsets of 5138 of the 200000 holdout rows" in text
    assert "resamples of the 200000 holdout rows" not in text
    assert "| metric | value | 90% interval |" in text
