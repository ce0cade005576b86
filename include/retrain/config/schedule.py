"""When the scheduler runs a variant (``schedule``)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from include.retrain.config.base import (
    _Strict,
)

CRON_PRESETS = frozenset({"@once", "@continuous", "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly"})


class ScheduleConfig(_Strict):
    """When the scheduler runs the variant."""

    cron: str | None = Field("0 3 * * *", description="Cron expression or preset; null = no time schedule.")
    on_new_data: bool = Field(
        False, description="Also run when watch_landing sees a new ds partition (an Airflow Asset event)."
    )
    start_date: date = Field(date(2026, 1, 1), description="First data interval the scheduler considers.")
    catchup: bool = Field(False, description="Create runs for missed intervals since start_date.")
    timezone: str = Field("UTC", description="IANA timezone of the cron schedule.")

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None or value in CRON_PRESETS:
            return value
        from croniter import croniter  # light; Airflow itself depends on it

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as UTC or Europe/Berlin)") from exc
        return value
