"""include.retrain.threads: a task's native thread pools are sized to its CPU budget, then restored."""

from __future__ import annotations

import pytest
import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime, the pool that oversubscribes)
from threadpoolctl import threadpool_info

from include.retrain.threads import cpu_budget


def _pools() -> dict[str, int]:
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()}


def test_the_budget_limits_every_native_pool_inside_the_block_only() -> None:
    before = _pools()
    assert any(pool["internal_api"] == "openmp" for pool in threadpool_info())

    with cpu_budget(1):
        assert set(_pools().values()) == {1}

    assert _pools() == before


def test_none_leaves_the_libraries_defaults() -> None:
    before = _pools()
    with cpu_budget(None):
        assert _pools() == before


def test_the_limit_is_restored_when_the_task_fails() -> None:
    before = _pools()
    with pytest.raises(RuntimeError), cpu_budget(1):
        raise RuntimeError("task failed")
    assert _pools() == before
