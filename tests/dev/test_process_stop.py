"""Stopping the local Airflow leaves nothing running, even processes that ignore SIGTERM.

A stand-in for ``airflow standalone``: a parent that exits on SIGTERM, a child in its process
group that ignores SIGTERM (as a busy LocalExecutor worker did, orphaned after a ``make test``),
and a grandchild that ignores SIGTERM and left the group for a session of its own. Real
processes, real signals; only the command is not Airflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dev.local_airflow import LocalAirflow
from dev.processes import ProcessId, alive, process_id, start_watchdog, stop_tree

#: Each child says it is ready (its signal handling set up) by creating the file named in argv[1].
STUBBORN = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open(sys.argv[1], 'w').close(); "
    "time.sleep(600)"
)
ESCAPED = (
    "import os, signal, sys, time; os.setsid(); signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "open(sys.argv[1], 'w').close(); time.sleep(600)"
)
STANDALONE = """
import subprocess, sys, time
from pathlib import Path
ready = [Path({pids!r} + ".stubborn"), Path({pids!r} + ".escaped")]
stubborn = subprocess.Popen([sys.executable, "-c", {stubborn!r}, str(ready[0])])
escaped = subprocess.Popen([sys.executable, "-c", {escaped!r}, str(ready[1])])
while not all(path.exists() for path in ready):
    time.sleep(0.02)
Path({pids!r} + ".tmp").write_text(f"{{stubborn.pid}} {{escaped.pid}}")
Path({pids!r} + ".tmp").rename({pids!r})  # the test never reads half a file
time.sleep(600)
"""


def start_standalone_stand_in(tmp_path: Path) -> tuple[subprocess.Popen, list[ProcessId]]:
    pids = tmp_path / "children.pids"
    script = STANDALONE.format(stubborn=STUBBORN, escaped=ESCAPED, pids=str(pids))
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 60
    while not pids.exists() or not pids.read_text():
        assert time.monotonic() < deadline, "the stand-in did not start its children"
        time.sleep(0.05)
    children = [process_id(int(pid)) for pid in pids.read_text().split()]
    assert all(children), "a child exited early"
    return parent, [process_id(parent.pid), *children]


def test_stopping_the_local_airflow_kills_children_that_ignore_sigterm(tmp_path: Path) -> None:
    parent, tree = start_standalone_stand_in(tmp_path)
    airflow = LocalAirflow(s3=None, home=tmp_path / "home")  # type: ignore[arg-type]
    airflow._process = parent
    airflow.stop_grace = 1.0
    try:
        airflow.stop()

        assert [p.pid for p in tree if alive(p)] == []
        assert parent.returncode is not None, "the parent was not reaped"
    finally:
        for process in tree:  # on a failure, leave nothing behind either
            if alive(process):
                os.kill(process.pid, 9)
        parent.wait(timeout=10)


def test_stop_tree_reports_what_it_had_to_kill(tmp_path: Path) -> None:
    parent, (leader, stubborn, escaped) = start_standalone_stand_in(tmp_path)
    try:
        killed = stop_tree(parent.pid, group=parent.pid, popen=parent, grace=1.0)

        assert killed == {stubborn, escaped}
        assert not any(alive(p) for p in (leader, stubborn, escaped))
    finally:
        for process in (leader, stubborn, escaped):
            if alive(process):
                os.kill(process.pid, 9)


def test_a_reused_pid_is_not_signalled() -> None:
    """A recorded PID whose start time differs is someone else's process now: it counts as gone."""
    me = process_id(os.getpid())
    assert me is not None
    assert alive(me)
    assert not alive(ProcessId(me.pid, me.started + 1))


@pytest.fixture(autouse=True)
def _linux_only() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc")


def test_the_watchdog_stops_the_tree_when_its_owner_dies_without_stopping_it(tmp_path: Path) -> None:
    """What happens to a stack whose pytest or ``make airflow`` is SIGKILLed, or ends with os._exit."""
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    parent, tree = start_standalone_stand_in(tmp_path)
    watchdog = start_watchdog(process_id(owner.pid), tree[0], grace=1.0)
    try:
        time.sleep(1.5)
        assert all(alive(p) for p in tree), "the watchdog stopped the tree while its owner lived"
        owner.kill()
        owner.wait()

        deadline = time.monotonic() + 20
        while any(alive(p) for p in tree) and time.monotonic() < deadline:
            parent.poll()
            time.sleep(0.1)
        assert [p.pid for p in tree if alive(p)] == []
        assert watchdog.wait(timeout=10) == 0
    finally:
        for process in tree:
            if alive(process):
                os.kill(process.pid, 9)
        parent.wait(timeout=10)
        watchdog.kill()
        watchdog.wait()
