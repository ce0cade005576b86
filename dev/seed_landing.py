"""Create the shipped variants' buckets and write synthetic landing data that ends today (UTC).

What ``make airflow`` seeds its loopback S3 with (and the acceptance suite its shared stack), and
for environments without it: under Astro (``astro dev bash``, then
``python -m dev.seed_landing --endpoint-url http://s3:5000``) or against
MinIO. Credentials come from the usual AWS environment variables or ``--access-key``.

The partitions are ``ds=<today - N + 1>`` .. ``ds=<today>``. A run trains on the ``window.days``
partitions before its data interval end (``start <= ds < end``): a manual trigger with every
default ends today (``ds`` up to yesterday), the scheduled run created by unpausing a daily cron
ends at today's (or, before the cron time, yesterday's) tick, and the next scheduled run ends
tomorrow and reads today's partition. ``window.days + SPARE_DAYS`` days cover all of them, and
a window moved up to ``SPARE_DAYS - 1`` days back.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dev.synthetic import generator_for
from dev.synthetic.landing import write_days
from include.retrain.config import PipelineConfig, discover_pipelines

#: Days seeded beyond the longest window: one for the scheduled run before today's cron time,
#: one or two for a manual run whose window ends a day or two back.
SPARE_DAYS = 3
ROWS_PER_DAY = 600


@dataclass(frozen=True)
class Seeded:
    """What was written for one dataset."""

    pipelines: tuple[str, ...]
    landing_uri: str
    first_day: date
    last_day: date
    rows_per_day: int

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def __str__(self) -> str:
        return (
            f"{', '.join(self.pipelines)}: ds={self.first_day} .. ds={self.last_day} "
            f"({self.days} days x {self.rows_per_day} rows) -> {self.landing_uri}"
        )


def utc_today() -> date:
    return datetime.now(UTC).date()


def seeded_configs() -> list[PipelineConfig]:
    """The discovered valid variants (each has a generator: hand-written, or derived from its schema)."""
    return [source.config for source in discover_pipelines() if source.config is not None]


def days_needed(configs: Iterable[PipelineConfig]) -> int:
    return max((config.window.days for config in configs), default=0) + SPARE_DAYS


def seed(
    client: Any,
    *,
    last_day: date | None = None,
    days: int | None = None,
    rows_per_day: int = ROWS_PER_DAY,
    configs: list[PipelineConfig] | None = None,
) -> list[Seeded]:
    """Create the variants' buckets and write ``days`` daily partitions per dataset, the last on ``last_day``.

    ``last_day`` defaults to today (UTC), ``days`` to the longest window plus SPARE_DAYS. A
    dataset shared by several variants is written once.
    """
    configs = seeded_configs() if configs is None else configs
    last_day = last_day or utc_today()
    days = days or days_needed(configs)
    first_day = last_day - timedelta(days=days - 1)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    by_location: dict[str, list[PipelineConfig]] = {}
    for config in configs:
        for bucket in {config.dataset.bucket, config.storage.bucket} - existing:
            client.create_bucket(Bucket=bucket)
            existing.add(bucket)
        by_location.setdefault(config.dataset.landing_uri, []).append(config)
    seeded = []
    for landing_uri, sharing in by_location.items():
        dataset = sharing[0].dataset
        generator = generator_for(sharing[0])
        write_days(client, dataset, generator, first_day=first_day, days=days, rows_per_day=rows_per_day)
        names = tuple(config.name for config in sharing)
        seeded.append(Seeded(names, landing_uri, first_day, last_day, rows_per_day))
    return seeded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--access-key", default=None)
    parser.add_argument("--secret-key", default=None)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--last-day", type=date.fromisoformat, default=None, help="the newest partition (default: today, UTC)"
    )
    parser.add_argument("--days", type=int, default=None, help="how many days (default: longest window + 3)")
    parser.add_argument("--rows-per-day", type=int, default=ROWS_PER_DAY)
    args = parser.parse_args(argv)

    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint_url,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        region_name=args.region,
    )
    for seeded in seed(client, last_day=args.last_day, days=args.days, rows_per_day=args.rows_per_day):
        print(seeded)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
