"""The floor of ``peak_rss_ratio``: the variant's estimator fitted on the training matrix, and nothing else.

Arguments: the output JSON path, the training matrix (a local copy of the ``train`` artifact
build_features wrote), the pipeline YAML, the target column, then the feature columns. Imports
numpy, pyarrow, scikit-learn and PyYAML (for the variant's model section) only: no S3 client,
config models or gates. It reads the feature columns straight into one C-ordered float64 array
(the dtype HistGradientBoosting converts any input to) and fits the estimator with its
early-stopping rows passed as a slice of that array: the least memory scikit-learn fits this
matrix in. ``train`` does the same work plus the bundle's
own (config, S3 download, the seeded split, the model file). Writes the peak RSS (``VmHWM``) and
the RSS once the libraries are imported.

``max_iter`` is capped at :data:`FLOOR_ITERATIONS`: every iteration allocates the same buffers
(the peak comes in the first few), and the trees themselves are kilobytes.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

#: Boosting iterations the floor fits (see the module docstring).
FLOOR_ITERATIONS = 5


def main(argv: list[str]) -> int:
    output, matrix_path, config_path, target, features = Path(argv[0]), Path(argv[1]), Path(argv[2]), argv[3], argv[4:]
    import numpy as np
    import pyarrow.parquet as pq
    import yaml

    from benchmarks.common import current_rss_bytes, peak_rss_bytes

    model = yaml.safe_load(config_path.read_text())["model"]
    module_name, class_name = model["estimator"].rsplit(".", 1)
    estimator_class = getattr(importlib.import_module(module_name), class_name)
    rss_after_imports = current_rss_bytes()
    with pq.ParquetFile(matrix_path) as parquet:
        matrix = np.empty((parquet.metadata.num_rows, len(features)), dtype="float64")
        for number, column in enumerate(features):
            matrix[:, number] = parquet.read(columns=[column]).column(0).to_numpy(zero_copy_only=False)
        y = parquet.read(columns=[target]).column(0).to_numpy(zero_copy_only=False)
    estimator = estimator_class(**{**model.get("params", {}), "random_state": model.get("seed", 0)})
    if "max_iter" in estimator.get_params():
        estimator.set_params(max_iter=FLOOR_ITERATIONS)
    if "X_val" in inspect.signature(estimator.fit).parameters:  # HistGradientBoosting: early stopping
        cut = len(matrix) - int(np.ceil(len(matrix) * estimator.validation_fraction))
        estimator.fit(matrix[:cut], y[:cut], X_val=matrix[cut:], y_val=y[cut:])
    else:
        estimator.fit(matrix, y)
    figures = {"rows": len(matrix), "rss_after_imports_bytes": rss_after_imports, "peak_rss_bytes": peak_rss_bytes()}
    output.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
