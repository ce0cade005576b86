"""The retrain decision (issue 19 item 5): N newest days of the serving version worse than the bar."""

from __future__ import annotations

from include.retrain.stages.retrain_when import live_metric_decayed, serving_drifted


def _live(version: str, values: list[float | None], first: int = 10) -> list[dict]:
    return [
        {"partition": f"2026-01-{first + n:02d}", "model_version": version, "metric": "roc_auc", "value": value}
        for n, value in enumerate(values)
    ]


def test_the_newest_days_of_the_serving_version_must_all_be_below_the_bar() -> None:
    series = _live("v1", [0.9, 0.6, 0.6, 0.6])
    reason = live_metric_decayed(series, "v1", 0.7, 3, "maximize")
    assert reason is not None
    assert "below 0.7 for 3 day(s)" in reason
    assert "2026-01-11: 0.6000" in reason
    assert live_metric_decayed(series, "v1", 0.7, 4, "maximize") is None  # 01-10 was fine
    assert live_metric_decayed(_live("v1", [0.6, 0.6, 0.9]), "v1", 0.7, 2, "maximize") is None  # recovered
    assert live_metric_decayed(_live("v1", [0.6, None, 0.6]), "v1", 0.7, 2, "maximize") is None


def test_only_the_serving_version_counts_and_too_few_days_never_fire() -> None:
    series = _live("v1", [0.5, 0.5, 0.5]) + _live("v2", [0.5], first=13)
    assert live_metric_decayed(series, "v2", 0.7, 2, "maximize") is None
    assert live_metric_decayed(series, "v1", 0.7, 3, "maximize") is not None


def test_a_minimized_metric_fires_above_the_bar() -> None:
    series = [{**r, "metric": "rmse"} for r in _live("v1", [2.0, 2.5])]
    assert live_metric_decayed(series, "v1", 1.5, 2, "minimize") is not None
    assert live_metric_decayed(series, "v1", 3.0, 2, "minimize") is None


def test_serving_drift_fires_when_the_newest_days_all_drifted() -> None:
    manifests = {
        "2026-01-10": {"model_version": "v1", "max_psi": 0.05},
        "2026-01-11": {"model_version": "v1", "max_psi": 0.4},
        "2026-01-12": {"model_version": "v1", "max_psi": 0.3},
    }
    reason = serving_drifted(manifests, "v1", 0.25, 2)
    assert reason is not None
    assert "above 0.25 for 2 day(s)" in reason
    assert serving_drifted(manifests, "v1", 0.25, 3) is None
    assert serving_drifted(manifests, "v2", 0.25, 1) is None
    assert serving_drifted({**manifests, "2026-01-13": {"model_version": "v1", "max_psi": None}}, "v1", 0.25, 2) is None
