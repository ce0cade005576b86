"""A window's landing files read from S3, one at a time, each with its sha256, columns under their schema names.

What ``ingest`` (and scoring and live monitoring) call between choosing the window's files
(``stages.ingest.select_window_files``) and assembling them into one frame
(``stages.ingest.assemble_window``).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from include.retrain.config import DatasetConfig
from include.retrain.errors import DataFailure
from include.retrain.stages.ingest import LandingFile
from include.retrain.stages.landing_file import read_landing_file
from include.retrain.storage import ArtifactStore, sha256_file


def read_landing_files(
    client: Any, landing: ArtifactStore, dataset: DatasetConfig, files: Sequence[LandingFile]
) -> tuple[list[tuple[date, pd.DataFrame]], list[dict[str, Any]]]:
    """Each file's frame with its partition day, and the sources (``uri``, ``sha256``, ``rows``) read.

    Each file is downloaded to a temporary folder, read and deleted before the next one.
    """
    sources = []
    frames = []
    with tempfile.TemporaryDirectory(prefix="retrain-ingest-") as tmp:
        for number, landing_file in enumerate(files):
            path = Path(tmp) / f"{number}.{dataset.format}"
            client.download_file(dataset.bucket, landing_file.key, str(path))
            uri = landing.uri(landing_file.key)
            frame = to_column_names(
                read_landing_file(path, dataset.format, source=uri, csv=dataset.csv), dataset, source=uri
            )
            sources.append({"uri": uri, "sha256": sha256_file(path), "rows": len(frame)})
            frames.append((landing_file.partition, frame))
            path.unlink()
    return frames, sources


def to_column_names(frame: pd.DataFrame, dataset: DatasetConfig, source: str) -> pd.DataFrame:
    """The file's columns under their names in ``dataset.columns`` (headers renamed by ``landing_name``).

    A file holding both a column's landing header and its name would give two columns one name:
    that is a data failure naming both, not a silent pick of one.
    """
    renames = {header: name for header, name in dataset.landing_renames.items() if header in frame.columns}
    if not renames:
        return frame
    clashes = sorted(name for name in renames.values() if name in frame.columns and name not in renames)
    if clashes:
        pairs = ", ".join(f"{name!r} and its landing_name {dataset.columns[name].landing_name!r}" for name in clashes)
        raise DataFailure(f"landing file {source} has both {pairs}: drop one of them from the file")
    return frame.rename(columns=renames)


def sources_sha256(sources: Sequence[dict[str, Any]]) -> str:
    """One sha256 over every landing file read (the model card's and the version id's ``landing_sha256``)."""
    return hashlib.sha256(json.dumps(list(sources), sort_keys=True).encode()).hexdigest()
