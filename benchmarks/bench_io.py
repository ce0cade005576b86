"""Artifact store throughput against raw boto3, on the loopback S3 endpoint.

The same file goes up and comes back down both ways: the store's ``put_file`` + ``download_file``
(sha256 computed on the way up, recorded as metadata, checked on the way down; the tuned
``TransferConfig`` the tasks use) against boto3's ``upload_file`` + ``download_file`` with its
defaults. The two alternate, ``REPEATS`` times per size; ``io_ratio`` is raw time / store time
at the largest size (store throughput as a share of raw boto3's). Wall time: this is I/O.
"""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks.common import median, scratch
from dev.local_s3 import LocalS3

SIZES_MIB = (32, 256)
REPEATS = 5
BUCKET = "bench-io"
TARGET = 0.9


def run(sizes_mib: tuple[int, ...] = SIZES_MIB, repeats: int = REPEATS) -> dict[str, Any]:
    from include.retrain.context import transfer_config
    from include.retrain.storage import ArtifactStore

    by_size: dict[str, Any] = {}
    with LocalS3() as s3, scratch("io") as work:
        s3.create_buckets([BUCKET])
        client = s3.client()
        store = ArtifactStore(client, BUCKET, "bench", transfer_config())
        for size in sizes_mib:
            source, target = work / f"{size}.bin", work / f"{size}.out"
            with open(source, "wb") as handle:
                for _ in range(size):
                    handle.write(os.urandom(2**20))
            store_times, raw_times = [], []
            for repeat in range(repeats):
                started = time.perf_counter()
                ref = store.put_file(store.key(f"store-{size}-{repeat}"), source)
                store.download_file(ref, target)
                store_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                client.upload_file(str(source), BUCKET, f"raw-{size}-{repeat}")
                client.download_file(BUCKET, f"raw-{size}-{repeat}", str(target))
                raw_times.append(time.perf_counter() - started)
                client.delete_objects(
                    Bucket=BUCKET,
                    Delete={"Objects": [{"Key": store.key(f"store-{size}-{repeat}")}, {"Key": f"raw-{size}-{repeat}"}]},
                )
            store_s, raw_s = median(store_times), median(raw_times)
            by_size[str(size)] = {
                "store_seconds": round(store_s, 3),
                "raw_seconds": round(raw_s, 3),
                "store_mib_per_s": round(2 * size / store_s, 1),
                "raw_mib_per_s": round(2 * size / raw_s, 1),
                "ratio": round(raw_s / store_s, 3),
            }
            print(f"  {size} MiB up+down: store {store_s:.2f}s, raw boto3 {raw_s:.2f}s", flush=True)
    largest = str(max(sizes_mib))
    return {
        "io_ratio": by_size[largest]["ratio"],
        "io": {"sizes_mib": by_size, "repeats": repeats, "target": TARGET},
    }
