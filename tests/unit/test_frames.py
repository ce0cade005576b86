"""include.retrain.frames against the loopback S3 endpoint: Parquet artifacts written and read back.

The memory-saving paths (a matrix streamed a chunk at a time, a training matrix read as one
float64 block) must give exactly what the plain paths give.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dev.synthetic.churn import churn_day
from include.retrain.config import load_pipeline, pipelines_dir
from include.retrain.frames import (
    local_copy,
    read_frame,
    read_frame_file,
    read_matrix_file,
    write_frame,
    write_frames,
)
from include.retrain.stages.features import (
    build_feature_transformer,
    fit_features,
    fit_transformer,
    to_model_input,
    transform_in_chunks,
)
from include.retrain.stages.train import train_model
from include.retrain.storage import ArtifactStore

FAST = {"max_iter": 20}


@pytest.fixture
def store(s3_client: Any) -> ArtifactStore:
    return ArtifactStore(s3_client, "retrain-artifacts", "retraining")


@pytest.fixture(scope="module")
def churn_inputs() -> tuple[Any, pd.DataFrame, np.ndarray]:
    config = load_pipeline(pipelines_dir() / "churn.yaml")
    frame = churn_day(date(2026, 1, 5), 3000)
    return config, to_model_input(frame, config.features), frame["churned"].to_numpy(dtype="int64")


def test_a_matrix_written_in_chunks_reads_back_as_the_whole_matrix(store: ArtifactStore, churn_inputs) -> None:
    config, model_input, y = churn_inputs
    whole = fit_features(build_feature_transformer(config.features), model_input).assign(churned=y)
    transformer = fit_transformer(build_feature_transformer(config.features), model_input)
    chunks = [
        chunk.assign(churned=y[i * 700 : i * 700 + len(chunk)])
        for i, chunk in enumerate(transform_in_chunks(transformer, model_input, rows=700))
    ]

    assert [len(c) for c in chunks] == [700, 700, 700, 700, 200]
    streamed = read_frame(store, write_frames(store, store.key("streamed.parquet"), chunks))
    single = read_frame(store, write_frame(store, store.key("single.parquet"), whole))
    pd.testing.assert_frame_equal(streamed, single)
    pd.testing.assert_frame_equal(streamed, whole.reset_index(drop=True))


def test_write_frames_needs_a_chunk(store: ArtifactStore) -> None:
    with pytest.raises(ValueError, match="no rows"):
        write_frames(store, store.key("empty.parquet"), [])


def test_read_matrix_file_is_one_float64_block_with_the_same_values(store: ArtifactStore, churn_inputs) -> None:
    config, model_input, y = churn_inputs
    matrix = fit_features(build_feature_transformer(config.features), model_input)
    assert {str(t) for t in matrix.dtypes} == {"float64", "float32"}  # mixed, as build_features writes it
    ref = write_frame(store, store.key("train.parquet"), matrix.assign(churned=y))

    with local_copy(store, ref) as path:
        block, target = read_matrix_file(path, list(matrix.columns), "churned")

    assert list(block.columns) == list(matrix.columns)
    assert set(block.dtypes) == {np.dtype("float64")}
    assert np.shares_memory(block.to_numpy(), block.to_numpy())  # no copy to get the estimator's array
    np.testing.assert_array_equal(block.to_numpy(), matrix.to_numpy(dtype="float64"))
    np.testing.assert_array_equal(target, y)


def test_a_model_fitted_on_the_block_equals_one_fitted_on_the_frame(store: ArtifactStore, churn_inputs) -> None:
    config, model_input, y = churn_inputs
    matrix = fit_features(build_feature_transformer(config.features), model_input)
    ref = write_frame(store, store.key("train.parquet"), matrix.assign(churned=y))
    with local_copy(store, ref) as path:
        block, target = read_matrix_file(path, list(matrix.columns), "churned")

    from_frame = train_model(matrix, y, config.model, FAST)
    from_block = train_model(block, target, config.model, FAST)

    assert list(from_block.feature_names_in_) == list(from_frame.feature_names_in_)
    np.testing.assert_array_equal(from_block.predict_proba(matrix), from_frame.predict_proba(matrix))


def test_read_matrix_file_reads_the_given_rows_in_their_order(store: ArtifactStore, churn_inputs) -> None:
    config, model_input, y = churn_inputs
    matrix = fit_features(build_feature_transformer(config.features), model_input)
    ref = write_frame(store, store.key("train.parquet"), matrix.assign(churned=y))
    rows = np.random.default_rng(1).permutation(len(matrix))[:2000]

    with local_copy(store, ref) as path:
        block, target = read_matrix_file(path, list(matrix.columns), "churned", rows=rows)

    np.testing.assert_array_equal(block.to_numpy(), matrix.to_numpy(dtype="float64")[rows])
    np.testing.assert_array_equal(target, y[rows])
    # Row-major: a run of rows (what fit gets as training or validation rows) is contiguous, no copy.
    assert block.iloc[:1500].to_numpy().flags.c_contiguous
    assert np.shares_memory(block.iloc[1500:].to_numpy(), block.to_numpy())


def _mixed_frame(rows: int = 7) -> pd.DataFrame:
    """Every dtype an artifact holds, with the values that make Arrow's type choice depend on all rows."""
    dates = pd.to_datetime(["2026-01-01", None, "2026-01-03"] * 3).astype("datetime64[us]")
    return pd.DataFrame(
        {
            "float": np.arange(rows) * 1.5,
            "nullable_int": pd.array([1, None, 3, 4, 5, 6, 7][:rows], dtype="Int64"),
            "category": pd.Categorical(["x", "y", None, "x", "x", "y", "y"][:rows]),
            "ordered": pd.Categorical(["lo", "hi", "lo"] * 3, categories=["lo", "hi"], ordered=True)[:rows],
            "date": dates[:rows],
            "text": [None, None, None, "u", "v", None, "w"][:rows],  # missing in the whole first chunks
            "late_text": pd.Series([None] * (rows - 1) + ["z"], dtype=object),
            "flag": pd.array([True, None, False, True, True, True, None][:rows], dtype="boolean"),
        }
    )


@pytest.mark.parametrize("rows", [7, 1, 0])
def test_write_frame_in_chunks_reads_back_as_a_single_write_would(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch, tmp_path, rows: int
) -> None:
    """Chunked conversion keeps the whole frame's types, even for a column missing in the first chunks."""
    monkeypatch.setattr("include.retrain.frames.CHUNK_ROWS", 2)
    frame = _mixed_frame().iloc[:rows]
    frame.to_parquet(tmp_path / "single.parquet", index=False)

    ref = write_frame(store, store.key("chunked.parquet"), frame)

    with local_copy(store, ref) as path:
        assert pq.ParquetFile(path).metadata.num_row_groups == max(1, -(-rows // 2))
    single = pq.read_table(tmp_path / "single.parquet").to_pandas()
    pd.testing.assert_frame_equal(read_frame(store, ref), single)


@pytest.mark.parametrize("chunk_rows", [2, 1024 * 1024])
def test_read_frame_a_column_at_a_time_is_the_whole_table_read(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    """Above CHUNK_ROWS rows a column at a time, below it in one read: the same frame."""
    monkeypatch.setattr("include.retrain.frames.CHUNK_ROWS", chunk_rows)
    frame = _mixed_frame()
    ref = write_frame(store, store.key("mixed.parquet"), frame)
    with local_copy(store, ref) as path:
        whole = pq.read_table(path).to_pandas()
        some = pq.read_table(path, columns=["text", "float"]).to_pandas()
    pd.testing.assert_frame_equal(read_frame(store, ref), whole)
    pd.testing.assert_frame_equal(read_frame(store, ref, columns=["text", "float"]), some)


@pytest.mark.parametrize("index", ["text", None])
def test_read_frame_file_keeps_a_stored_index_and_an_empty_column_set(tmp_path, index: str | None) -> None:
    """Files the bundle never writes (an index stored as a column, no columns) still read as pandas reads them."""
    frame = _mixed_frame().set_index(index) if index else pd.DataFrame(index=range(3))
    frame.to_parquet(tmp_path / "file.parquet")
    pd.testing.assert_frame_equal(
        read_frame_file(tmp_path / "file.parquet"), pq.read_table(tmp_path / "file.parquet").to_pandas()
    )


def test_read_frame_names_a_column_the_file_lacks(tmp_path) -> None:
    _mixed_frame().to_parquet(tmp_path / "file.parquet", index=False)
    with pytest.raises(ValueError, match=r"file.parquet has no column \['nope'\]; its columns: \['float'"):
        read_frame_file(tmp_path / "file.parquet", ["float", "nope"])


def test_write_frame_with_column_names_that_are_not_strings_reads_back_as_a_single_write_would(
    store: ArtifactStore, tmp_path
) -> None:
    frame = pd.DataFrame({0: [1.0, 2.0], 1: ["a", None]})
    frame.to_parquet(tmp_path / "single.parquet", index=False)
    ref = write_frame(store, store.key("numbered.parquet"), frame)
    pd.testing.assert_frame_equal(read_frame(store, ref), pq.read_table(tmp_path / "single.parquet").to_pandas())
