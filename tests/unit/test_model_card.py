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


PLAIN = {"samples": 1000, "confidence": 0.95, "seed": 7, "rows": 4000}


def test_the_card_compares_with_the_champion_on_the_same_holdout_rows() -> None:
    """What the promotion decision compared, in the card: not the champion's own (other) holdout."""
    champion = {"version": "v20251231-aaaaaaaaaa", "value": 0.8, "metrics": {"roc_auc": 0.8}}
    text = render_markdown({**card(PLAIN), "metric": "roc_auc", "champion_at_evaluation": champion})

    section = text.split("## Champion on the same holdout rows")[1].split("\n## ")[0]
    assert "v20251231-aaaaaaaaaa, the champion when this model was evaluated, scored on the same 4000" in section
    assert "| metric | this model | champion v20251231-aaaaaaaaaa | difference |" in section
    assert "| **roc_auc** (policy metric) | 0.8100 | 0.8000 | +0.0100 |" in section


def test_a_card_without_a_champion_or_one_that_could_not_be_scored_says_so() -> None:
    first = render_markdown({**card(PLAIN), "champion_at_evaluation": None})
    unscored = {"version": "v20251231-aaaaaaaaaa", "value": None, "metrics": None, "error": "no column 'plan'"}
    other = render_markdown({**card(PLAIN), "champion_at_evaluation": unscored})

    assert "No champion when this model was evaluated: nothing to compare with." in first
    assert "v20251231-aaaaaaaaaa could not be scored on these rows: no column 'plan'" in other


def test_the_card_says_how_a_derived_label_is_made_and_which_date_parts_the_model_derives(tmp_path) -> None:
    from include.retrain.config import load_pipeline
    from include.retrain.model_card import input_schema, label
    from tests.e2e.flights_variant import write_flights_yaml

    config = load_pipeline(write_flights_yaml(tmp_path))
    bootstrap = {"samples": 1000, "confidence": 0.95, "seed": 7, "rows": 4000}
    written = {**card(bootstrap), "label": label(config.dataset), "input_schema": input_schema(config.features)}

    assert written["label"] == {
        "column": "late",
        "derived": {"from": "arr_delay", "greater_than": 15.0, "definition": "late = arr_delay > 15"},
    }
    assert written["input_schema"]["date_parts"] == {
        "flight_date": ["month", "dayofweek", "is_weekend"],
        "scheduled_departure": ["hour"],
    }
    text = render_markdown(written)
    assert (
        "- **Label**: `late`, derived at ingest: `late = arr_delay > 15` (missing where `arr_delay` is missing)" in text
    )
    assert "'date_parts': {'flight_date': ['month', 'dayofweek', 'is_weekend']" in text
    assert "**Label**" not in render_markdown(card(bootstrap))  # cards written before labels were recorded
