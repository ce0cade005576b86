"""Split: which rows of the window train the model and which are held out to judge it.

``hash`` (the default) gives each row a side by a stable hash, so a row keeps its side in every
window and the champion is never scored on rows it trained on: the hash of ``dataset.id_column``,
or, for data without ids, of the row's own values (:func:`row_hashes`). ``random`` and ``time``
are for the cases the config reference describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from include.retrain.config import SplitConfig
from include.retrain.errors import DataFailure
from include.retrain.stages.features import CHUNK_ROWS

#: What ``pd.util.hash_pandas_object`` gives a missing value when it hashes by category (its
#: default, which :func:`id_hashes` reproduces without the categorizing).
MISSING_ID_HASH = np.iinfo(np.uint64).max


@dataclass(frozen=True)
class Split:
    """Training and holdout rows of the window (raw columns, target included)."""

    train: pd.DataFrame
    holdout: pd.DataFrame


@dataclass(frozen=True)
class SplitRows:
    """Positions of the window's training and holdout rows, each side in the order the split gives it."""

    train: np.ndarray
    holdout: np.ndarray


def hash_holdout_mask(ids: pd.Series, fraction: float) -> np.ndarray:
    """True for rows whose id hashes into the holdout share: stable across runs and windows."""
    return holdout_share(id_hashes(ids), fraction)


def holdout_share(hashes: np.ndarray, fraction: float) -> np.ndarray:
    """True for the rows whose 64-bit hash falls into the holdout's ``fraction`` of all hashes."""
    return (hashes % np.uint64(1_000_000)) < np.uint64(round(fraction * 1_000_000))


def row_hashes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Each row's 64-bit hash over its values in ``columns`` (in sorted order): a row's identity without ids.

    The same values give the same hash in every window (ingest coerces each column to its declared
    dtype first), whatever the column order in the file or the YAML, so a row landed again, or read
    again by an overlapping window, keeps its side of the split. Rows with equal values share a side.
    """
    return pd.util.hash_pandas_object(frame[sorted(columns)], index=False).to_numpy()


def id_hashes(ids: pd.Series) -> np.ndarray:
    """The ids' 64-bit hashes as strings: ``pd.util.hash_pandas_object(ids.astype("str"), index=False)``.

    Hashed value by value (``categorize=False``): pandas' default first builds a hash table of the
    distinct values, which for ids (nearly all distinct) costs more than the hashing (measured at
    1M ids: 0.34 s -> 0.16 s). ``CHUNK_ROWS`` ids at a time, because each chunk becomes Python
    strings (about 1.6 GiB at 10M ids at once). Missing ids get the hash the default gives them,
    so every id keeps its side of the split.
    """
    text = ids.astype("str")
    hashed = np.empty(len(text), dtype="uint64")
    for start in range(0, len(text), CHUNK_ROWS):
        part = text.iloc[start : start + CHUNK_ROWS]
        chunk = hashed[start : start + len(part)]
        chunk[:] = pd.util.hash_array(part.to_numpy(dtype=object), categorize=False)
        chunk[part.isna().to_numpy()] = MISSING_ID_HASH
    return hashed


def split_columns(
    split: SplitConfig, *, time_column: str, id_column: str | None, row_columns: Sequence[str] = ()
) -> list[str]:
    """The columns :func:`split_rows` reads for ``split`` besides the target.

    hash: the id, or without one the ``row_columns`` that identify a row; time: the time column.
    """
    if split.strategy == "hash":
        return [id_column] if id_column is not None else list(row_columns)
    if split.strategy == "time":
        return [time_column]
    return []


def split_rows(
    frame: pd.DataFrame,
    split: SplitConfig,
    *,
    target: str,
    task: str,
    seed: int,
    time_column: str,
    id_column: str | None,
    row_columns: Sequence[str] = (),
) -> SplitRows:
    """Choose training and holdout rows by hash, at random (stratified) or by time.

    ``hash`` keeps every id on the same side in every window (see SplitConfig); without
    ``id_column``, every row with the same values in ``row_columns`` (:func:`row_hashes`).
    ``time`` holds out the latest ``holdout_fraction`` of rows by ``time_column``. Returns
    positions only, so a caller copies just the columns it needs.
    """
    if len(frame) < 2:
        raise DataFailure(f"cannot split {len(frame)} rows into train and holdout")
    if split.strategy == "hash":
        if id_column is not None:
            hashes = id_hashes(frame[id_column])
        elif row_columns:
            hashes = row_hashes(frame, row_columns)
        else:
            raise DataFailure("split.strategy hash needs dataset.id_column or columns that identify a row")
        holdout = holdout_share(hashes, split.holdout_fraction)
        if holdout.all() or not holdout.any():
            if id_column is not None:
                raise DataFailure(f"hash split of {len(frame)} rows left one side empty; too few rows")
            distinct = len(np.unique(hashes))
            raise DataFailure(
                f"hash split of {len(frame)} rows by their values ({distinct} distinct) left one side empty: "
                "equal rows share a side; set dataset.id_column, or split.strategy random or time"
            )
        return SplitRows(np.flatnonzero(~holdout), np.flatnonzero(holdout))
    if split.strategy == "time":
        # Sorting the column alone orders rows as sorting the frame by it does (stable, missing last).
        order = frame[time_column].reset_index(drop=True).sort_values(kind="stable").index.to_numpy()
        cut = round(len(order) * (1 - split.holdout_fraction))
        cut = min(max(cut, 1), len(order) - 1)
        return SplitRows(order[:cut], order[cut:])
    stratify = None
    if task == "classification" and split.stratify:
        labels = frame[target]
        if labels.value_counts().min() >= 2:
            stratify = labels
    # The split depends on the row count and the labels only, so positions split like the frame would.
    train, holdout = train_test_split(
        np.arange(len(frame)), test_size=split.holdout_fraction, random_state=seed, stratify=stratify
    )
    return SplitRows(train, holdout)


def split_holdout(
    frame: pd.DataFrame,
    split: SplitConfig,
    *,
    target: str,
    task: str,
    seed: int,
    time_column: str,
    id_column: str | None,
    row_columns: Sequence[str] = (),
) -> Split:
    """The rows :func:`split_rows` chooses, as two frames of all columns with fresh indexes."""
    rows = split_rows(
        frame,
        split,
        target=target,
        task=task,
        seed=seed,
        time_column=time_column,
        id_column=id_column,
        row_columns=row_columns,
    )
    return Split(frame.take(rows.train).reset_index(drop=True), frame.take(rows.holdout).reset_index(drop=True))
