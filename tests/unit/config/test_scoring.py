"""The ``scoring`` section: validated like every section (unknown keys refused), documented, and
outside the config hash (scoring never changes what a retrain run produces)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from include.retrain.config import DEFAULT_PIPELINES_DIR, PipelineConfig, ScoringConfig


def churn(**sections: Any) -> PipelineConfig:
    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw.update(sections)
    return PipelineConfig.model_validate(raw)


def test_the_shipped_churn_has_no_scoring_and_defaults_score_on_new_data() -> None:
    assert churn().scoring is None
    scoring = churn(scoring={}).scoring
    assert scoring == ScoringConfig()
    assert scoring.on_new_data is True
    assert scoring.cron is None
    assert (scoring.lookback_days, scoring.max_partitions_per_run, scoring.shadow) == (7, 7, True)
    assert scoring.label_delay_days is None  # no live monitoring unless asked for
    assert churn(scoring={"label_delay_days": 0}).scoring.label_delay_days == 0


def test_a_cron_alone_or_with_new_data_is_accepted() -> None:
    assert churn(scoring={"cron": "30 4 * * *", "on_new_data": False}).scoring.cron == "30 4 * * *"
    assert churn(scoring={"cron": "@hourly"}).scoring.on_new_data is True


@pytest.mark.parametrize(
    ("scoring", "message"),
    [
        ({"shedule": "@daily"}, "scoring.shedule"),
        ({"cron": "every day"}, "not a valid cron expression"),
        ({"cron": None, "on_new_data": False}, "scoring needs cron or on_new_data"),
        ({"max_partitions_per_run": 0}, "scoring.max_partitions_per_run"),
        ({"lookback_days": 400}, "scoring.lookback_days"),
        ({"shadow": "sometimes"}, "scoring.shadow"),
        ({"label_delay_days": -1}, "scoring.label_delay_days"),
    ],
)
def test_bad_scoring_settings_are_refused_by_name(scoring: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        churn(scoring=scoring)


def test_scoring_needs_an_id_column() -> None:
    raw = yaml.safe_load((DEFAULT_PIPELINES_DIR / "churn.yaml").read_text())
    raw["dataset"]["id_column"] = None
    raw["split"] = {"strategy": "random", "holdout_fraction": 0.2}
    PipelineConfig.model_validate(raw)  # fine without scoring
    raw["scoring"] = {}
    with pytest.raises(ValidationError, match=r"scoring needs dataset\.id_column"):
        PipelineConfig.model_validate(raw)


def test_scoring_is_left_out_of_the_config_hash() -> None:
    plain = churn()
    assert churn(scoring={}).config_hash() == plain.config_hash()
    assert churn(scoring={"cron": "@daily", "lookback_days": 2}).config_hash() == plain.config_hash()
    assert churn(window={"days": 27}).config_hash() != plain.config_hash()  # the hash still sees the rest


def test_every_scoring_key_is_documented() -> None:
    assert all(field.description for field in ScoringConfig.model_fields.values())
    assert PipelineConfig.model_fields["scoring"].description


def test_retrain_when_needs_a_condition_scoring_and_live_metrics_for_the_metric_condition() -> None:
    when = {"retrain_when": {"live_metric_below": 0.7, "for_days": 2}}
    config = churn(scoring={"label_delay_days": 1}, monitoring=when)
    assert config.monitoring.retrain_when.for_days == 2
    with pytest.raises(ValidationError, match="needs live_metric_below and/or serving_psi_above"):
        churn(scoring={}, monitoring={"retrain_when": {"for_days": 2}})
    with pytest.raises(ValidationError, match="retrain_when needs a scoring section"):
        churn(monitoring=when)
    with pytest.raises(ValidationError, match=r"needs scoring\.label_delay_days"):
        churn(scoring={}, monitoring=when)
    psi_only = churn(scoring={}, monitoring={"retrain_when": {"serving_psi_above": 0.3}})
    assert psi_only.monitoring.retrain_when.for_days == 3
