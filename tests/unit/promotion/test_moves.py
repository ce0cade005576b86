"""Champion moves (``include.retrain.promotion.moves``) and the one compare-and-swap loop (``promotion.cas``).

``previous`` is mirrored against a real S3 HTTP endpoint (moto server on loopback, see conftest).
The intent a promote or a rollback carries out across retries is exercised through both in
test_promote_retries.py, test_rollback.py and tests/faults.
"""

from __future__ import annotations

import pytest

from include.retrain.promotion.cas import MAX_CAS_ATTEMPTS, GaveUp, compare_and_swap, compare_and_swap_if_possible
from include.retrain.promotion.moves import mirror_previous
from include.retrain.registry import CHAMPION, AliasPointer, ModelRegistry
from include.retrain.storage import ConcurrentUpdate
from tests.unit.promotion.stand_ins import V1, V2, V3


def _set(registry: ModelRegistry, version: str, expected: AliasPointer | None, run: str) -> AliasPointer:
    return registry.set_alias(
        CHAMPION, version, expected=expected, run_id=run, triggered_by="scheduler", reason=f"{run} wins"
    )


def test_previous_mirrors_the_replaced_champion(registry: ModelRegistry) -> None:
    first = _set(registry, V1, None, "run-1")
    mirror_previous(registry, first, run_id="run-1", triggered_by="scheduler")
    assert registry.get_alias("previous") is None  # nothing was replaced

    for version, run in ((V2, "run-2"), (V3, "run-3")):
        moved = _set(registry, version, registry.get_alias(), run)
        mirror_previous(registry, moved, run_id=run, triggered_by="scheduler")

    previous = registry.get_alias("previous")
    assert (previous.version, previous.previous_version, previous.run_id) == (V2, V1, "run-3")
    assert previous.reason == f"champion before {V3}"


class Refusals:
    """An attempt whose write is refused the first ``refused`` times it runs."""

    def __init__(self, refused: int) -> None:
        self.refused = refused
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.refused:
            raise ConcurrentUpdate("s3://bucket/champion.json")
        return "landed"


def test_a_refused_write_is_read_and_decided_again() -> None:
    attempt = Refusals(MAX_CAS_ATTEMPTS - 1)
    assert compare_and_swap(attempt, what="champion alias of churn") == "landed"
    assert attempt.calls == MAX_CAS_ATTEMPTS


def test_gives_up_after_the_last_refusal_naming_what_kept_changing() -> None:
    attempt = Refusals(MAX_CAS_ATTEMPTS)
    with pytest.raises(
        ConcurrentUpdate, match=f"champion alias of churn kept changing; gave up after {MAX_CAS_ATTEMPTS}"
    ):
        compare_and_swap(attempt, what="champion alias of churn")
    assert attempt.calls == MAX_CAS_ATTEMPTS


def test_an_inner_loop_that_gave_up_is_not_retried_by_the_outer_one() -> None:
    inner = Refusals(MAX_CAS_ATTEMPTS)
    outer_calls = []

    def outer() -> str:
        outer_calls.append(1)
        return compare_and_swap(inner, what="inner")

    with pytest.raises(GaveUp, match="inner kept changing"):
        compare_and_swap(outer, what="outer")
    assert (len(outer_calls), inner.calls) == (1, MAX_CAS_ATTEMPTS)


def test_a_best_effort_write_gives_up_quietly() -> None:
    attempt = Refusals(MAX_CAS_ATTEMPTS)
    compare_and_swap_if_possible(attempt)
    assert attempt.calls == MAX_CAS_ATTEMPTS
