"""The baseline of ``e2e_overhead_ratio``: the bare script a data scientist would write.

Arguments: the output JSON path, the pipeline YAML and the folder of local Parquet files (the
same bytes the landing bucket holds). It reads them with pandas, keeps the same training rows as
the pipeline's hash split, and fits the same sklearn pipeline (the variant's feature transformer
and estimator, with the same native-thread budget): no S3, no gates, no registry, no Airflow.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from benchmarks.common import exit_without_teardown


def fit_bare(config_path: Path, folder: Path) -> dict[str, int]:
    """The bare script's work: read the folder's Parquet files, keep the training rows, fit the pipeline.

    Imports inside, so a caller that times this call times them too (they are part of the work).
    """
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from include.retrain.config import load_pipeline
    from include.retrain.stages.features import (
        build_feature_transformer,
        hash_holdout_mask,
        target_values,
        to_model_input,
    )
    from include.retrain.stages.train import make_estimator
    from include.retrain.threads import cpu_budget

    config = load_pipeline(config_path)
    frame = pd.concat([pd.read_parquet(path) for path in sorted(folder.glob("*.parquet"))], ignore_index=True)
    train = frame[~hash_holdout_mask(frame[config.dataset.id_column], config.split.holdout_fraction)]
    model = Pipeline(
        [("features", build_feature_transformer(config.features)), ("model", make_estimator(config.model))]
    )
    with cpu_budget(config.tasks.threads):
        model.fit(
            to_model_input(train, config.features), target_values(train, config.dataset.target, config.model.task)
        )
    return {"rows": len(frame), "train_rows": len(train)}


def main(argv: list[str]) -> int:
    output, config_path, folder = Path(argv[0]), Path(argv[1]), Path(argv[2])
    started = time.perf_counter()
    fitted = fit_bare(config_path, folder)
    output.write_text(json.dumps({**fitted, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
