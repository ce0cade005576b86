"""Features: the model input of a split window (see ``stages.split``), and the feature transformer.

The transformer is an sklearn ``ColumnTransformer`` fitted on the training rows only; it
becomes the first step of the model pipeline, so the registered model takes raw columns.

Model input contract: numeric features as float64 (missing = NaN), categorical features as
object strings (missing = NaN), the date columns of ``features.date_parts`` as datetime64
(missing = NaT). :func:`to_model_input` converts pandas' nullable dtypes to that contract;
serving code calls it too (sklearn cannot handle ``pd.NA``). Date parts are computed inside the
model (:class:`~include.retrain.stages.dates.DateParts`), so serving passes dates, never parts.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from include.retrain.config import FeaturesConfig
from include.retrain.errors import DataFailure
from include.retrain.stages.dates import DateParts, date_values

#: Rows transformed at a time when a matrix is streamed to Parquet: pyarrow's default row group
#: size, so the file has the layout of a single write while memory holds one chunk of the matrix.
CHUNK_ROWS = 1024 * 1024

#: The transformer's branch for the categorical features (see :func:`fit_transformer`).
CATEGORICAL_BRANCH = "cat"

_TRANSFORMS = {
    "log1p": lambda: FunctionTransformer(np.log1p, feature_names_out="one-to-one"),
    "sqrt": lambda: FunctionTransformer(np.sqrt, feature_names_out="one-to-one"),
    "standardize": StandardScaler,
}


def to_model_input(frame: pd.DataFrame, features: FeaturesConfig, rows: np.ndarray | None = None) -> pd.DataFrame:
    """The feature columns in the model input contract (float64 / object strings with NaN).

    With ``rows`` (positions), only those rows in that order, on a fresh index: the frame
    ``to_model_input(frame.take(rows).reset_index(drop=True))`` gives, built a column at a time,
    so the chosen rows of all the columns are never copied together.
    """
    index = frame.index if rows is None else pd.RangeIndex(len(rows))
    out = {}
    for column in (*features.numeric, *features.passthrough):
        values = frame[column] if rows is None else frame[column].take(rows)
        # Copied when whole: a float64 column would otherwise convert to a view of the caller's frame.
        out[column] = values.to_numpy(dtype="float64", na_value=np.nan, copy=rows is None)
    for column in features.categorical:
        values = frame[column] if rows is None else frame[column].take(rows)
        # An explicit object Series: pandas 3 would otherwise infer its own "str" dtype.
        out[column] = pd.Series(category_strings(values), index=index, dtype=object, copy=False)
    for column in features.date_parts:
        values = frame[column] if rows is None else frame[column].take(rows)
        out[column] = date_values(values)
    # copy=False: each column keeps its own array instead of being stacked into a copy per dtype.
    return pd.DataFrame(out, index=index, copy=False)


def category_strings(series: pd.Series) -> np.ndarray:
    """``series`` as an object array of strings (``str(value)``), NaN for missing values.

    Each distinct value becomes one string object that every row holding it points to: 8 bytes
    per row instead of a new string per row (about 60 bytes), and sklearn's encoders compare
    identical objects fast. Memory and time grow with rows, not with rows times string length.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = np.append(np.asarray(pd.Index(uniques).astype("str"), dtype=object), np.nan)
    return labels[codes]  # code -1 (missing) picks the trailing NaN


def target_values(frame: pd.DataFrame, target: str, task: str) -> np.ndarray:
    """The target as a numpy array: float64 for regression, the class labels otherwise."""
    series = frame[target]
    if series.isna().any():
        raise DataFailure(f"target column {target!r} has {int(series.isna().sum())} missing values")
    if task == "regression":
        return series.to_numpy(dtype="float64")
    if str(series.dtype) in ("boolean", "bool"):
        return series.to_numpy(dtype="int64")
    return series.to_numpy()


def build_feature_transformer(features: FeaturesConfig) -> ColumnTransformer:
    """A ColumnTransformer: impute + transform numerics, impute + one-hot categoricals, date parts + impute."""
    branches = []
    for column in features.numeric:
        steps = [SimpleImputer(strategy="median")]
        if column in features.transforms:
            steps.append(_TRANSFORMS[features.transforms[column]]())
        branches.append((f"num_{column}", make_pipeline(*steps), [column]))
    if features.categorical:
        categorical = make_pipeline(
            SimpleImputer(strategy="constant", fill_value="__missing__"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32),
        )
        branches.append((CATEGORICAL_BRANCH, categorical, list(features.categorical)))
    if features.passthrough:
        branches.append(("pass", "passthrough", list(features.passthrough)))
    for column, parts in features.date_parts.items():
        # A missing date's parts are imputed like a missing numeric: every estimator takes the matrix.
        branches.append((f"date_{column}", make_pipeline(DateParts(parts), SimpleImputer(strategy="median")), [column]))
    transformer = ColumnTransformer(branches, remainder="drop", verbose_feature_names_out=False)
    return transformer.set_output(transform="pandas")


def fit_features(transformer: ColumnTransformer, train_input: pd.DataFrame) -> pd.DataFrame:
    """Fit ``transformer`` on the training rows and return their feature matrix."""
    return transformer.fit_transform(train_input)


def transform_features(transformer: ColumnTransformer | Pipeline, frame: pd.DataFrame) -> pd.DataFrame:
    """Apply a fitted transformer; the matrix keeps the transformer's feature names."""
    return transformer.transform(frame)


def fit_transformer(transformer: ColumnTransformer, train_input: pd.DataFrame) -> ColumnTransformer:
    """Fit ``transformer`` on the training rows without building their matrix (see :func:`transform_in_chunks`).

    ``ColumnTransformer.fit`` transforms every training row in every branch and stacks the
    results, only to drop them (at 8M rows, 1.8 GiB on top of the input). Instead each branch
    is fitted on its own columns, and the ColumnTransformer is then fitted on one row around the
    fitted branches, frozen: what it learns itself (input columns, each branch's output columns)
    depends on names and output widths, not on the rows. The fitted branches then replace the
    frozen ones, so the result is the transformer ``transformer.fit(train_input)`` would be.
    """
    templates = transformer.transformers
    fitted = {}
    for name, branch, columns in templates:
        if isinstance(branch, str):  # "passthrough" and "drop" learn nothing from rows
            continue
        rows = train_input[columns]
        if name == CATEGORICAL_BRANCH:
            # Constant imputation and one-hot encoding without frequency limits learn which
            # values occur, not how often: the distinct rows fit them the same, without turning
            # every row's strings into pandas' str dtype and back (1.2 GiB at 8M rows).
            rows = rows.drop_duplicates()
        fitted[name] = clone(branch).fit(rows)
    frozen = [
        (name, FrozenEstimator(fitted[name]) if name in fitted else branch, cols) for name, branch, cols in templates
    ]
    transformer.set_params(transformers=frozen)
    try:
        transformer.fit(train_input.iloc[:1])
    finally:
        transformer.set_params(transformers=templates)
    transformer.transformers_ = [
        (name, fitted.get(name, branch), cols) for name, branch, cols in transformer.transformers_
    ]
    return transformer


def check_category_counts(transformer: ColumnTransformer, limit: int) -> None:
    """Refuse a fitted transformer whose one-hot branch learned more than ``limit`` values for a column.

    Called before any matrix is built: the matrix has a column per value, and a categorical
    feature with a value per row (an id, free text) would otherwise fail on memory, as an
    infrastructure fault that retries cannot fix.
    """
    fitted = dict((name, (branch, columns)) for name, branch, columns in transformer.transformers_)
    if CATEGORICAL_BRANCH not in fitted:
        return
    branch, columns = fitted[CATEGORICAL_BRANCH]
    counts = dict(zip(columns, (len(values) for values in branch[-1].categories_), strict=True))
    too_many = {column: count for column, count in counts.items() if count > limit}
    if too_many:
        listed = ", ".join(f"{column!r} has {count:,}" for column, count in too_many.items())
        raise DataFailure(
            f"features.categorical: {listed} distinct values in the training rows, above features.max_categories "
            f"({limit:,}); one-hot encoding makes a column per value. Leave such a column (an id, free text) out of "
            "the features, group its values upstream, or raise features.max_categories"
        )


def transform_in_chunks(
    transformer: ColumnTransformer | Pipeline, frame: pd.DataFrame, rows: int = CHUNK_ROWS
) -> Iterator[pd.DataFrame]:
    """The fitted transformer's matrix of ``frame``, ``rows`` rows at a time.

    Every transform here works row by row once fitted (imputation with fitted statistics,
    one-hot with fitted categories, element-wise functions), so the chunks together equal
    :func:`transform_features` of the whole frame: the full matrix never has to be in memory.
    """
    for start in range(0, len(frame), rows):
        yield transformer.transform(frame.iloc[start : start + rows])
