"""Fixtures of the promotion tests."""

from __future__ import annotations

from typing import Any

import pytest

from include.retrain.registry import ModelRegistry
from tests.unit.promotion.stand_ins import stand_in_registry


@pytest.fixture
def registry(s3_client: Any) -> ModelRegistry:
    """A registry of committed stand-in versions (test modules that load models define their own)."""
    return stand_in_registry(s3_client)
