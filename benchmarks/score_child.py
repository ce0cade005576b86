"""The scoring task body of ``score_<name>`` in a fresh interpreter, as an Airflow worker runs it.

Arguments: the output JSON path, then a spec JSON path with ``config`` (a pipeline config with a
``scoring`` section, as JSON), ``endpoint`` and ``end`` (the data interval end, YYYY-MM-DD). Runs
what ``dags.retrain_factory.runner.run_scoring`` runs inside the task: ``tasks.score.score`` under
the variant's native-thread budget, without Airflow around it. Writes the manifest, the seconds
spent importing, the body's wall and CPU seconds and, per phase of the body, its wall seconds
(:class:`PhaseClock`). Ends without interpreter teardown, as Airflow's task processes do.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any

from benchmarks.common import exit_without_teardown

#: Phase of the scoring body -> the names ``include.retrain.tasks.score`` calls for it.
PHASES: dict[str, tuple[str, ...]] = {
    "read landing (S3, drop label, coerce)": ("read_partition",),
    "load model (sha256, allowlist)": ("deployed_model", "shadow_model"),
    "input gate (GX, report, data docs)": ("_validate",),
    "predict (model input, predict_proba)": ("to_model_input", "model_outputs"),
    "serving drift (PSI)": ("serving_drift",),
    "write predictions, drift, manifest": ("predictions_frame", "drift_document", "write_partition"),
}


class PhaseClock:
    """Wall seconds per phase, by wrapping the functions a module calls (for measuring only).

    :meth:`install` replaces each named attribute of ``module`` with a timing wrapper that calls
    the original unchanged; what the functions do and return is not touched.
    """

    def __init__(self, phases: dict[str, Iterable[str]]) -> None:
        self.phases = {phase: tuple(names) for phase, names in phases.items()}
        self.seconds: dict[str, float] = dict.fromkeys(self.phases, 0.0)

    def wrap(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - started

        return timed

    def install(self, module: Any) -> None:
        for phase, names in self.phases.items():
            for name in names:
                setattr(module, name, self.wrap(phase, getattr(module, name)))


def main(argv: list[str]) -> int:
    output, spec_path = Path(argv[0]), Path(argv[1])
    spec = json.loads(spec_path.read_text())
    started = time.perf_counter()
    import boto3  # noqa: F401  (imported here so its cost counts as import time, as before)

    from dev.local_s3 import loopback_client
    from include.retrain.config import PipelineConfig
    from include.retrain.scoring.run import ScoringRun
    from include.retrain.tasks import score as score_module
    from include.retrain.threads import cpu_budget

    import_seconds = time.perf_counter() - started
    clock = PhaseClock(PHASES)
    clock.install(score_module)
    client = loopback_client(spec["endpoint"])
    config = PipelineConfig.model_validate(spec["config"])
    run = ScoringRun.create(
        config,
        data_interval_end=date.fromisoformat(spec["end"]),
        run_id=f"bench__{spec['end']}",
        triggered_by="bench",
        client=client,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    with cpu_budget(config.tasks.threads):
        manifest = score_module.score(run).to_xcom()
    result = {
        "import_seconds": import_seconds,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "phase_seconds": clock.seconds,
        "manifest": manifest,
    }
    output.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
