"""``ingest``: the window's landing partitions into ``ingest/raw.parquet``."""

from __future__ import annotations

from include.retrain.context import RunContext
from include.retrain.frames import write_frame
from include.retrain.landing import read_landing_files, sources_sha256
from include.retrain.layout import RAW, SOURCES
from include.retrain.manifests import IngestManifest
from include.retrain.stages.ingest import (
    assemble_window,
    coerce_to_schema,
    empty_window_failure,
    malformed_folders,
    sample_rows,
    select_window_files,
)
from include.retrain.stages.labels import derive_label, drop_unlabelled
from include.retrain.storage import ArtifactStore
from include.retrain.tasks.record import record


def ingest(run: RunContext) -> IngestManifest:
    """Read the window's landing partitions, coerce them to the schema, write ``raw.parquet``.

    A window without data files is a data failure here, with one message naming the window, the
    landing prefix and the partitions that do exist: an empty frame would only make every raw
    expectation fail for the same reason. Folders that are no ``ds=YYYY-MM-DD`` day are skipped
    and listed in the manifest (``skipped_folders``), for the raw gate's report to show. A
    ``model_params`` override the estimator refuses fails here, before any data is read (only a
    run with overrides imports scikit-learn here).
    """
    dataset = run.config.dataset
    if run.options.model_params:
        from include.retrain.stages.train import check_model_params

        check_model_params(run.config.model, run.options.model_params)
    landing = ArtifactStore(run.client, dataset.bucket)
    listing = list(landing.list_objects(dataset.landing_prefix))
    files = select_window_files(listing, dataset, run.window)
    if not files:
        raise empty_window_failure(listing, dataset, run.window)
    skipped = [landing.uri(dataset.landing_prefix + folder) for folder in malformed_folders(listing, dataset)]
    frames, sources = read_landing_files(run.client, landing, dataset, files)
    raw = derive_label(coerce_to_schema(assemble_window(frames, dataset.partition_column), dataset.columns), dataset)
    dropped = None
    if dataset.target_nulls == "drop":
        raw, dropped = drop_unlabelled(raw, dataset.target)
    raw = sample_rows(raw, run.options.sample_fraction, run.config.model.seed)
    ref = write_frame(run.store, run.key(RAW), raw)
    run.store.put_json(run.key(SOURCES), sources)
    manifest = IngestManifest(
        run=run.describe(),
        files=len(files),
        partitions=len({f.partition for f in files}),
        rows=len(raw),
        target_nulls_dropped=dropped,
        landing_sha256=sources_sha256(sources),
        skipped_folders=skipped,
        artifacts={"raw": ref},
    )
    return record(run, manifest)
