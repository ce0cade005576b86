"""``make airflow``: run the bundle on a local Airflow with a loopback S3 and demo data until Ctrl-C.

Every start is a fresh one: what a previous start left (a killed ``make airflow`` may leave
``airflow standalone`` behind) is stopped, its state removed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from dev.airflow_api import ADMIN
from dev.local_airflow import PID_FILE, PROJECT_ROOT, LocalAirflow
from dev.local_s3 import LocalS3, free_port
from dev.processes import ProcessId, alive, stop_tree

#: ``make airflow``'s state: Airflow's home (SQLite database, logs, the generated password).
LOCAL_HOME = PROJECT_ROOT / ".local" / "airflow"
#: The UI port ``make airflow`` prefers (Airflow's usual one); any free port when it is taken.
PREFERRED_PORT = 8080


def port_if_free(port: int) -> int | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return None
    return port


def reset_home(home: Path, grace: float = 10) -> list[str]:
    """Empty ``home`` for a fresh start; first stop what a previous start left running from it.

    A previous ``make airflow`` that is still running is not touched: RuntimeError. One that was
    killed (SIGKILL, a closed terminal) may have left ``airflow standalone`` behind, recorded in
    the home's pid file: that tree is stopped. Returns what was done, for the user.
    """
    notes = []
    record = home / PID_FILE
    if record.exists():
        pids = json.loads(record.read_text())
        owner, standalone = (ProcessId(*pids[key]) for key in ("owner", "standalone"))
        if alive(owner) and owner.pid != os.getpid():
            raise RuntimeError(
                f"another `make airflow` (pid {owner.pid}) runs from {home}; stop it first (Ctrl-C in its terminal)"
            )
        if alive(standalone):
            killed = stop_tree(standalone.pid, group=standalone.pid, grace=grace)
            notes.append(f"stopped airflow standalone (pid {standalone.pid}) left running by a previous start")
            if killed:
                notes.append(f"  {len(killed)} of its processes ignored SIGTERM and were killed")
    if home.exists():
        shutil.rmtree(home)
        notes.append(f"previous state in {home} removed (every start is a fresh one)")
    home.mkdir(parents=True)
    return notes


def banner(airflow: LocalAirflow, seeded: list[Any]) -> str:
    """What ``make airflow`` prints once the UI answers: where, the login, what to click first."""
    landing = "\n".join(f"    {item}" for item in seeded)
    return f"""
Airflow is up, with this bundle's DAGs and a loopback S3 holding synthetic landing data up to today:
{landing}

  UI        {airflow.base_url}
  Login     username: {ADMIN}   password: {airflow.password}
  S3        {airflow.s3.endpoint_url} (loopback, in memory)

What to click first:
  1. Dags > retrain_churn > Trigger (top right), then Trigger in the form, leaving every field as it is.
     The run trains on the 28 daily partitions before today and registers the first champion;
     watch it in the Grid view. Browse > Model registry shows the champion and why it was chosen.
  2. The form's "Unpause retrain_churn on trigger" (ticked) unpauses the DAG: the scheduler then also
     runs the latest daily interval at once (same window: same version), and every day at 03:00 UTC.
  3. Once a later run has promoted a second champion: rollback_churn > Trigger, with only a Reason,
     puts the previous champion back.

State is reset on every start: `make airflow` begins with a new database, new data and a new password.
Ctrl-C stops everything (nothing is left running).
"""


def main() -> int:
    """``make airflow``: run the bundle on a local Airflow with a loopback S3 until Ctrl-C."""
    from dev.seed_landing import seed

    def leave(signum: int, _frame: Any) -> None:
        print(f"{signal.Signals(signum).name}: stopping Airflow and the loopback S3...", flush=True)
        sys.exit(128 + signum)  # unwinds the with-blocks below: everything is stopped

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for note in reset_home(LOCAL_HOME):
        print(note)
    print("Starting a loopback S3 and airflow standalone (about a minute)...", flush=True)
    with LocalS3() as s3:
        seeded = seed(s3.client())
        port = port_if_free(PREFERRED_PORT) or free_port()
        with LocalAirflow(s3, home=LOCAL_HOME, port=port) as airflow:
            airflow.wait_for_dags(["retrain_churn", "rollback_churn"])
            print(banner(airflow, seeded), flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("Stopping Airflow and the loopback S3...", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
