"""The baseline of ``scoring_ratio``: the bare scoring script a data scientist would write.

Arguments: the output JSON path, the pipeline YAML, the local Parquet file (the same bytes the
landing partition holds) and the model file (the same skops bytes the registry holds). It reads
the rows with pandas, loads the model with skops and calls ``model.predict_proba`` on the
variant's feature columns, with the same native-thread budget: no S3, no gate, no checksums, no
drift, nothing written, no Airflow.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import exit_without_teardown


def score_bare(config_path: Path, parquet: Path, model_file: Path) -> dict[str, Any]:
    """Read the Parquet file, load the model, ``predict_proba`` every row; the rows and the mean score.

    Imports inside, so a caller that times this call times them too (they are part of the work).
    ``to_model_input`` is the model's input contract (the feature columns as the model was fitted
    on them), as the bare training script uses it.
    """
    import pandas as pd
    import skops.io as sio

    from include.retrain.config import load_pipeline
    from include.retrain.stages.features import to_model_input
    from include.retrain.threads import cpu_budget

    config = load_pipeline(config_path)
    frame = pd.read_parquet(parquet)
    model = sio.load(model_file, trusted=sio.get_untrusted_types(file=model_file))
    with cpu_budget(config.tasks.threads):
        probabilities = model.predict_proba(to_model_input(frame, config.features))
    return {"rows": len(frame), "mean_proba_1": float(probabilities[:, 1].mean())}


def main(argv: list[str]) -> int:
    output, config_path, parquet, model_file = Path(argv[0]), Path(argv[1]), Path(argv[2]), Path(argv[3])
    started = time.perf_counter()
    scored = score_bare(config_path, parquet, model_file)
    output.write_text(json.dumps({**scored, "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
