"""Create the shipped variants' buckets and write demo landing data to any S3 endpoint.

For environments without ``make demo``: under Astro (``astro dev bash``, then
``python -m include.retrain.devtools.seed_landing --endpoint-url http://s3:5000``) or against
MinIO. Credentials come from the usual AWS environment variables or ``--access-key``.
"""

from __future__ import annotations

import argparse
from datetime import date

from include.retrain.config import discover_pipelines
from include.retrain.synthetic import GENERATORS
from include.retrain.synthetic.landing import write_days


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--access-key", default=None)
    parser.add_argument("--secret-key", default=None)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--first-day", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--days", type=int, default=32)
    parser.add_argument("--rows-per-day", type=int, default=600)
    args = parser.parse_args(argv)

    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint_url,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        region_name=args.region,
    )
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for source in discover_pipelines():
        if source.config is None or source.config.dataset.name not in GENERATORS:
            continue
        config = source.config
        for bucket in {config.dataset.bucket, config.storage.bucket} - existing:
            client.create_bucket(Bucket=bucket)
            existing.add(bucket)
        generator = GENERATORS[config.dataset.name]
        write_days(
            client,
            config.dataset,
            generator,
            first_day=args.first_day,
            days=args.days,
            rows_per_day=args.rows_per_day,
        )
        print(f"{config.name}: {args.days} days x {args.rows_per_day} rows -> {config.dataset.landing_uri}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
