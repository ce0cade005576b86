"""A real skops model file that asks for a type outside the allowlist, for refusal tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import skops.io as sio
from sklearn.base import BaseEstimator


class Unlisted(BaseEstimator):
    """A harmless custom estimator: skops writes it, but the allowlist does not trust it."""

    def fit(self, x: Any, y: Any = None) -> Unlisted:
        self.mean_ = np.asarray(x, dtype="float64").mean(axis=0)
        return self


def untrusted_model_bytes() -> bytes:
    return sio.dumps(Unlisted().fit(np.ones((3, 2))))
