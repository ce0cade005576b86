"""``make bench``: run the benchmarks, print a table, write benchmarks/results.json."""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks import bench_parse
from benchmarks.common import RESULTS, write_results

BENCHMARKS = {"parse": bench_parse.run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run, of {sorted(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {sorted(BENCHMARKS)}")
    results = {}
    for name in args.names or BENCHMARKS:
        started = time.perf_counter()
        print(f"running {name} ...", flush=True)
        results.update(BENCHMARKS[name]())
        print(f"  done in {time.perf_counter() - started:.0f}s", flush=True)
    write_results(results)
    parse = results.get("parse")
    if parse:
        print()
        print("| benchmark | measured | target |")
        print("| --- | --- | --- |")
        print(
            f"| parse_ratio (CPU, {parse['dags']} DAGs vs {parse['dags']} trivial files, median of {parse['repeats']}) "
            f"| {results['parse_ratio']:.3f} (wall {parse['wall_ratio']:.3f}) | <= {parse['target']} |"
        )
        print(
            f"| DagBag fill only (diagnostic) | {parse['bundle_dagbag_seconds'] * 1000:.0f} ms vs "
            f"{parse['trivial_dagbag_seconds'] * 1000:.0f} ms ({parse['dagbag_only_ratio']:.2f}x) | - |"
        )
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
