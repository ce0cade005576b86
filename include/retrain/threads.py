"""A task's CPU budget: how many native threads (OpenMP, BLAS) its libraries may start.

scikit-learn's HistGradientBoosting (OpenMP) and numpy/scipy (OpenBLAS) start one thread per core
by default. On a shared worker that runs several tasks at once, or a small machine where other
processes hold the cores, those threads outnumber the cores they get; OpenMP threads then
busy-wait at every barrier for a thread that is not running. Measured on a busy 2-core machine:
fitting the churn model on 8,000 rows took 9-21 s with two OpenMP threads and 0.5 s with one.
So each task runs with at most ``tasks.threads`` native threads (default 1): size it to the cores
the task really gets (the ``training`` pool may grant its tasks more).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cpu_budget(threads: int | None) -> Iterator[None]:
    """Limit every native thread pool to ``threads`` threads inside the block; None leaves the defaults."""
    if threads is None:
        yield
        return
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency; light, but only tasks need it

    with threadpool_limits(limits=threads):
        yield
