"""Compare two fitted scikit-learn objects attribute by attribute: the same state, not just the same outputs.

skops files cannot be compared byte for byte (they name arrays by object id and carry zip
timestamps), so the memory-lean fitting paths are checked against the plain ones here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator


def assert_same_fitted(actual: Any, expected: Any, path: str = "fitted") -> None:
    """Every attribute of ``actual`` equals ``expected``'s, recursively (arrays: dtype, shape, values)."""
    assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(actual, np.random.Generator):
        assert_same_fitted(actual.bit_generator.state, expected.bit_generator.state, f"{path}.state")
    elif isinstance(actual, BaseEstimator) or (hasattr(actual, "__dict__") and not callable(actual)):
        mine, theirs = vars(actual), vars(expected)
        assert mine.keys() == theirs.keys(), f"{path}: attributes differ: {sorted(mine.keys() ^ theirs.keys())}"
        for name in mine:
            assert_same_fitted(mine[name], theirs[name], f"{path}.{name}")
    elif isinstance(actual, np.ndarray):
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), f"{path}: dtype or shape differ"
        assert np.array_equal(actual, expected, equal_nan=actual.dtype.kind in "fc"), f"{path}: values differ"
    elif isinstance(actual, list | tuple):
        assert len(actual) == len(expected), f"{path}: lengths differ"
        for number, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            assert_same_fitted(mine, theirs, f"{path}[{number}]")
    elif isinstance(actual, dict):
        assert actual.keys() == expected.keys(), f"{path}: keys differ"
        for key in actual:
            assert_same_fitted(actual[key], expected[key], f"{path}[{key!r}]")
    elif isinstance(actual, float) and np.isnan(actual):
        assert np.isnan(expected), f"{path}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
