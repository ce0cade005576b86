"""Compare-and-swap: the one retry loop behind every alias and pointer change.

A registry alias or ``deployed.json`` changes only by a conditional write against the ETag its
writer read (``ArtifactStore.swap_bytes``). A writer that loses gets :class:`ConcurrentUpdate`,
re-reads, and decides again against what is there now, never against what it read before.
:func:`compare_and_swap` is that loop for every writer: each attempt reads, decides and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from include.retrain.storage import ConcurrentUpdate

#: How often a writer re-reads and retries after losing a compare-and-swap.
MAX_CAS_ATTEMPTS = 5

T = TypeVar("T")


class GaveUp(ConcurrentUpdate):
    """A compare-and-swap lost every attempt; a loop around it does not retry it again."""


def compare_and_swap(attempt: Callable[[], T], *, what: str) -> T:
    """Call ``attempt`` until its write is not refused, at most :data:`MAX_CAS_ATTEMPTS` times.

    ``attempt`` reads the current state, decides against it and writes conditionally on it,
    and returns the result; it raises :class:`ConcurrentUpdate` when its write was refused
    (another writer moved the object since it was read), and the next attempt reads again.
    After the last refusal :class:`GaveUp` names ``what`` kept changing (an infra failure:
    the task is retried).
    """
    landed, result = _attempts(attempt)
    if not landed:
        raise GaveUp(f"{what} kept changing; gave up after {MAX_CAS_ATTEMPTS} attempts")
    return cast(T, result)


def compare_and_swap_if_possible(attempt: Callable[[], object]) -> None:
    """:func:`compare_and_swap` for a best-effort write: after the last refusal it stays undone, quietly."""
    _attempts(attempt)


def _attempts(attempt: Callable[[], T]) -> tuple[bool, T | None]:
    """The loop: (True, what ``attempt`` returned), or (False, None) when every attempt was refused."""
    for _ in range(MAX_CAS_ATTEMPTS):
        try:
            return True, attempt()
        except GaveUp:
            raise  # an inner loop already re-read MAX_CAS_ATTEMPTS times
        except ConcurrentUpdate:
            continue
    return False, None
