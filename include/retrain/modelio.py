"""Model files: written with skops, loaded only when every type in them is trusted.

skops already refuses arbitrary code (no pickle). On top of its defaults, a model file may
only ask for the extra types listed in :data:`TRUSTED_EXTRA_TYPES`: what the allowlisted
estimators need. A file that asks for anything else is refused with the types named. There
is no pickle or joblib anywhere on the load path.
"""

from __future__ import annotations

import warnings
from functools import cache
from types import ModuleType
from typing import Any

from include.retrain.errors import UntrustedModelError

#: Types beyond skops' defaults that the allowlisted estimators serialize (measured per
#: estimator; tests/unit/test_modelio.py fails if one is missing).
TRUSTED_EXTRA_TYPES: frozenset[str] = frozenset(
    {
        "include.retrain.stages.dates.DateParts",  # features.date_parts: pure pandas, no state but names
        "numpy.dtype",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.tree._tree.Tree",
    }
)


@cache
def _skops() -> ModuleType:
    """``skops.io``, imported on first use: only the tasks that read or write models pay for it.

    Importing skops imports every scikit-learn estimator module to list its trusted types, and
    probes every loaded module for ufunc names: about 1.7 s, which ingest and the gates never need.
    The probe trips Airflow's deprecated-attribute shims into logging hundreds of warnings per
    task, hence the filter.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import skops.io

    return skops.io


def dump_model(model: Any) -> bytes:
    """Serialize a fitted model to skops bytes."""
    return _skops().dumps(model)


def untrusted_types(data: bytes) -> list[str]:
    """Types the file asks for that neither skops nor our allowlist trusts."""
    return sorted(set(_skops().get_untrusted_types(data=data)) - TRUSTED_EXTRA_TYPES)


def load_model(data: bytes, *, source: str = "model file") -> Any:
    """Load skops bytes, refusing any type outside the allowlist (the types are named).

    One pass: skops audits the file against its defaults plus :data:`TRUSTED_EXTRA_TYPES` while
    it loads, and refuses before constructing anything untrusted. (Asking ``get_untrusted_types``
    first walked the whole file twice, a third of a load.) Only a refusal lists the types again,
    to name them.
    """
    sio = _skops()
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=sorted(TRUSTED_EXTRA_TYPES))
    except UntrustedTypesFoundException:
        refused = untrusted_types(data)
        raise UntrustedModelError(f"{source} asks for untrusted types {refused}; refusing to load it") from None
    except Exception as exc:  # a file skops cannot read is not a model we will load
        raise UntrustedModelError(f"{source} is not a readable skops model file: {exc}") from exc
