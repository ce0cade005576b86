"""The gates package keeps GX's INFO chatter out of task logs, in a fresh interpreter each time.

GX logs while it is imported, so this runs in a new interpreter where nothing has imported it yet
(the test session has), with the root logger at INFO as in an Airflow task.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, logging, sys
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append([record.name, record.levelname])
logging.basicConfig(level=logging.INFO, handlers=[Keep()])
if sys.argv[1] != "NOTSET":
    logging.getLogger("great_expectations").setLevel(sys.argv[1])
import include.retrain.gates.validation
logging.getLogger("great_expectations.data_context").warning("a GX warning")
gx = [r for r in records if r[0].startswith("great_expectations")]
print(json.dumps({"records": gx, "level": logging.getLogger("great_expectations").level}))
"""


def _import_gates(preset_level: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, preset_level],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_importing_the_gates_logs_no_gx_info_but_keeps_its_warnings() -> None:
    outcome = _import_gates("NOTSET")
    assert outcome["records"] == [["great_expectations.data_context", "WARNING"]]


def test_a_level_the_deployment_set_for_gx_is_kept() -> None:
    outcome = _import_gates("INFO")
    assert outcome["level"] == logging.INFO
    # GX's import-time registration notes show again: the deployment asked for them
    assert sum(name == "great_expectations._docs_decorators" for name, _ in outcome["records"]) > 50
