"""The challenger alias of a canary against the real loopback S3: its progress, and its end.

The canary's course over runs (enter, win, lose, graduate) is tested through the promote task in
test_promote.py and test_promote_retries.py.
"""

from __future__ import annotations

import pytest

from include.retrain.promotion.canary import CHALLENGER, challenger_alias, end_canary, record_canary_win, start_canary
from include.retrain.registry import ModelRegistry
from include.retrain.storage import ConcurrentUpdate
from tests.unit.promotion.stand_ins import RUN, V2, V3


class TestCanaryAlias:
    """The challenger alias carries the canary's progress and is cleared, not deleted, at its end."""

    def test_start_win_and_end(self, registry: ModelRegistry) -> None:
        slot, canary = challenger_alias(registry)
        assert (slot, canary) == (None, None)

        canary = start_canary(registry, V2, expected=None, required=3, run_key="2026-01-02", audit=RUN, reason="r")
        assert (canary.version, canary.wins, canary.required) == (V2, 0, 3)
        assert canary.has_seen("2026-01-02")  # the run that started it never counts as a comparison
        comparison = {"run_key": "2026-01-03", "won": True}
        canary = record_canary_win(registry, canary, comparison, audit=RUN)
        assert (canary.wins, canary.has_seen("2026-01-03"), canary.has_seen("2026-01-04")) == (1, True, False)
        stored = registry.store.read_json(registry.key("aliases", f"{CHALLENGER}.json"))
        assert stored["details"]["comparisons"] == [comparison]
        assert canary.describe() == f"canary of {V2} (1/3 wins)"

        end_canary(registry, canary, audit=RUN, reason="lost")

        slot, gone = challenger_alias(registry)
        assert gone is None
        assert (slot.version, slot.previous_version, slot.reason) == (None, V2, "lost")
        again = start_canary(registry, V3, expected=slot, required=3, run_key="2026-01-05", audit=RUN, reason="r")
        assert again.wins == 0
        assert [e["event"] for e in registry.events()] == ["canary_started", "canary_scored", "canary_started"]

    def test_a_stale_canary_cannot_be_updated(self, registry: ModelRegistry) -> None:
        stale = start_canary(registry, V2, expected=None, required=2, run_key="k0", audit=RUN, reason="r")
        record_canary_win(registry, stale, {"run_key": "k1", "won": True}, audit=RUN)

        with pytest.raises(ConcurrentUpdate):
            record_canary_win(registry, stale, {"run_key": "k1", "won": True}, audit=RUN)
        with pytest.raises(ConcurrentUpdate):
            end_canary(registry, stale, audit=RUN, reason="stale")
        assert challenger_alias(registry)[1].wins == 1
