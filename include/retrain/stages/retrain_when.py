"""Retrain when needed (issue 19 item 5, the decision only): has the deployed model decayed, or its inputs drifted?

Pure functions on the live series (``tasks.live.read_live_series``) and the scored days' largest
PSI (``predictions/ds=<date>/manifest.json``'s ``max_psi``). Only the days of the version that
serves now count: a new version starts with a clean slate, so a retrain it answered does not fire
again on the old version's bad days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal


def _worse(value: float, bar: float, direction: Literal["maximize", "minimize"]) -> bool:
    return value < bar if direction == "maximize" else value > bar


def live_metric_decayed(
    series: Iterable[Mapping[str, Any]],
    version: str,
    bar: float,
    for_days: int,
    direction: Literal["maximize", "minimize"],
) -> str | None:
    """Why to retrain, when the ``for_days`` newest live days of ``version`` are all worse than ``bar``; else None.

    Worse is below ``bar`` for a maximized metric and above it for a minimized one. A day whose
    value is undefined (null) breaks the run of bad days.
    """
    days = sorted((r for r in series if r.get("model_version") == version), key=lambda r: str(r["partition"]))
    newest = days[-for_days:]
    if len(newest) < for_days:
        return None
    if not all(r.get("value") is not None and _worse(float(r["value"]), bar, direction) for r in newest):
        return None
    values = ", ".join(f"{r['partition']}: {float(r['value']):.4f}" for r in newest)
    word = "below" if direction == "maximize" else "above"
    return f"live {newest[0].get('metric')} of {version} {word} {bar} for {for_days} day(s) ({values})"


def serving_drifted(max_psi: Mapping[str, Mapping[str, Any]], version: str, bar: float, for_days: int) -> str | None:
    """Why to retrain, when the ``for_days`` newest days ``version`` scored all had a feature's PSI above ``bar``.

    ``max_psi`` maps each scored day (ISO date) to its predictions manifest (``model_version``,
    ``max_psi``). A day without a PSI (no reference profile) breaks the run.
    """
    days = sorted(day for day, manifest in max_psi.items() if manifest.get("model_version") == version)
    newest = days[-for_days:]
    if len(newest) < for_days:
        return None
    found = [max_psi[day].get("max_psi") for day in newest]
    psi = [float(value) for value in found if value is not None]
    if len(psi) < len(found) or not all(value > bar for value in psi):
        return None
    values = ", ".join(f"{day}: {value:.3f}" for day, value in zip(newest, psi, strict=True))
    return f"serving PSI of {version}'s inputs above {bar} for {for_days} day(s) ({values})"
