"""benchmarks.bench_scoring and score_child: the helpers behind scoring_ratio (no timing asserted)."""

from __future__ import annotations

import types
from datetime import date

import pytest

from benchmarks import bench_scoring, run
from benchmarks.score_child import PHASES, PhaseClock
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.tasks import score as score_module


def test_the_scoring_variant_scores_exactly_the_day_before_its_interval_end() -> None:
    base = load_pipeline(pipelines_dir() / "churn.yaml")
    config = bench_scoring.scoring_config(base)
    assert config.scoring is not None
    assert config.scoring.lookback_days == 1
    assert config.scoring.max_partitions_per_run == 1
    assert config.dataset.landing_prefix != base.dataset.landing_prefix  # its own landing prefix
    assert config.features == base.features  # the bare script reads the features of churn.yaml
    assert config.model == base.model


def test_the_predictions_prefix_is_the_days_folder() -> None:
    config = bench_scoring.scoring_config(load_pipeline(pipelines_dir() / "churn.yaml"))
    prefix = bench_scoring.predictions_prefix(config, date(2026, 2, 1))
    assert prefix.endswith(f"{config.name}/predictions/ds=2026-02-01/")


def test_the_phase_clock_times_calls_without_changing_them() -> None:
    module = types.SimpleNamespace(add=lambda a, b: a + b, fail=lambda: 1 / 0, untouched=len)
    clock = PhaseClock({"sum": ("add",), "broken": ("fail",)})
    clock.install(module)

    assert module.add(2, b=3) == 5
    assert module.add(1, 1) == 2
    with pytest.raises(ZeroDivisionError):
        module.fail()
    assert module.untouched is len
    assert set(clock.seconds) == {"sum", "broken"}
    assert all(seconds >= 0 for seconds in clock.seconds.values())


def test_every_phase_names_a_function_the_scoring_body_calls() -> None:
    for names in PHASES.values():
        for name in names:
            assert callable(getattr(score_module, name)), name


def test_the_ratio_is_of_the_medians_and_the_row_marks_the_target() -> None:
    phases = dict.fromkeys(PHASES, 0.5)
    bundle = [
        {"cpu": cpu, "wall": cpu + 1, "server_cpu": 0.5, "import_seconds": 2, "body_seconds": 4, "body_cpu_seconds": 3}
        | {"phases": phases}
        for cpu in (9.0, 12.0, 30.0)
    ]
    bare = [{"cpu": cpu, "wall": cpu + 1} for cpu in (8.0, 6.0, 7.0)]

    fresh_bundle = [dict(sample, cpu=sample["cpu"] + 2) for sample in bundle]
    fresh_bare = [dict(sample, cpu=sample["cpu"] + 1) for sample in bare]

    found = bench_scoring.summarize(bundle, bare, 1_000_000, fresh=(fresh_bundle, fresh_bare))

    assert found["scoring_ratio"] == round(12.0 / 7.0, 3)  # the as-deployed runs are the headline
    assert found["scoring"]["wall_ratio"] == round(13.0 / 8.0, 3)
    assert found["scoring"]["phase_order"] == list(PHASES)
    assert found["scoring"]["fresh_interpreter"]["ratio"] == round(14.0 / 8.0, 3)
    ((key, measured, target, met),) = run.headline_rows(found)
    assert (key, target, met) == ("scoring_ratio", "<= 1.5", "NO")
    assert "at 1e6 rows" in measured
    assert "fresh interpreters 1.750" in measured
