"""Run a benchmark child as a deployed task runs: forked from a process that preloaded the libraries.

``python -m benchmarks.forked <output.json> <module> args...`` imports ``include.retrain.preload``
(the libraries the shipped deployment's forkserver imports once: the Dockerfile's
``AIRFLOW__SCHEDULER__MP_FORKSERVER_PRELOAD``, docs/operations/deployment-tuning.md), then forks.
The fork calls ``<module>.main([<its own output path>, *args])`` and ends with ``os._exit``, as
``python -m <module>`` would end. This process waits for it with ``wait4`` and writes the fork's
output plus ``forked_cpu`` (the fork's own CPU seconds, the libraries' import not included) and
``forked_wall``: what one task costs once its worker holds the libraries.

Both sides of a comparison run this way (the bare script too), so neither pays for importing
what the other imported before the fork.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import exit_without_teardown

PRELOAD = "include.retrain.preload"


def main(argv: list[str]) -> int:
    output, module, args = Path(argv[0]), argv[1], argv[2:]
    importlib.import_module(PRELOAD)
    with tempfile.TemporaryDirectory(prefix="retrain-bench-fork-") as tmp:
        child_output = Path(tmp) / "output.json"
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the fork: run the child module's main, end without teardown
            code = 1
            try:
                code = importlib.import_module(module).main([str(child_output), *args])
            finally:
                exit_without_teardown(code)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0 or not child_output.exists():
            print(f"forked {module} {args} exited {code}", file=sys.stderr)
            return 1
        result = json.loads(child_output.read_text())
    result.update(forked_cpu=usage.ru_utime + usage.ru_stime, forked_wall=wall)
    output.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    exit_without_teardown(main(sys.argv[1:]))
