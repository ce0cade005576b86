"""Compare two fitted scikit-learn objects attribute by attribute: the same state, not just the same outputs.

skops files cannot be compared byte for byte (they name arrays by object id and carry zip
timestamps), so the memory-lean fitting paths are checked against the plain ones here.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

#: Compared with ``==``: values, and functions or classes (the same object when equal).
_PLAIN = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    np.generic,
    np.dtype,
    type,
    np.ufunc,
    types.FunctionType,
    types.BuiltinFunctionType,
)


def assert_same_fitted(actual: Any, expected: Any, path: str = "fitted") -> None:
    """Every attribute of ``actual`` equals ``expected``'s, recursively (arrays: dtype, shape, values)."""
    assert type(actual) is type(expected), f"{path}: {type(actual).__name__} != {type(expected).__name__}"
    if isinstance(actual, float) and np.isnan(actual):
        assert np.isnan(expected), f"{path}: {actual!r} != {expected!r}"
    elif isinstance(actual, _PLAIN):
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
    elif isinstance(actual, np.ndarray):
        assert (actual.dtype, actual.shape) == (expected.dtype, expected.shape), f"{path}: dtype or shape differ"
        assert np.array_equal(actual, expected, equal_nan=actual.dtype.kind in "fc"), f"{path}: values differ"
    elif isinstance(actual, np.random.Generator):
        assert_same_fitted(actual.bit_generator.state, expected.bit_generator.state, f"{path}.state")
    elif isinstance(actual, list | tuple):
        assert len(actual) == len(expected), f"{path}: lengths differ"
        for number, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            assert_same_fitted(mine, theirs, f"{path}[{number}]")
    elif isinstance(actual, dict):
        assert actual.keys() == expected.keys(), f"{path}: keys differ"
        for key in actual:
            assert_same_fitted(actual[key], expected[key], f"{path}[{key!r}]")
    elif hasattr(actual, "__dict__"):
        assert_same_fitted(vars(actual), vars(expected), path)
    else:  # an extension type: compare what it pickles (constructor arguments and state)
        assert_same_fitted(actual.__reduce_ex__(2)[1:], expected.__reduce_ex__(2)[1:], f"{path}.<state>")
