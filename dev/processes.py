"""Stop a process and everything it started, escalating to SIGKILL, by PID.

``airflow standalone`` starts a scheduler, LocalExecutor workers, an API server, a DAG processor
and a triggerer. Signalling its process group is not enough: once the parent has exited on
SIGTERM, children that ignore SIGTERM (a busy LocalExecutor worker does) outlive it, reparented
to init, and a child that started its own session is not in the group at all. So the tree is
recorded from ``/proc`` before anything is signalled (an orphan no longer shows whom it came
from), signalled as a group and PID by PID, watched until every member is gone, and whatever is
left after the grace period gets SIGKILL. A PID is only signalled while its start time is the
one recorded, so a number reused by an unrelated process is never hit. Linux only (``/proc``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
PROJECT_ROOT = Path(__file__).resolve().parents[1]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessId:
    """A PID together with its start time (clock ticks after boot): unique while the process lives."""

    pid: int
    started: int


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, parent pid, process group, start time) of a live process; None if gone or a zombie."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    state = fields[0]
    if state in ("Z", "X"):
        return None
    return state, int(fields[1]), int(fields[2]), int(fields[19])


def process_id(pid: int) -> ProcessId | None:
    stat = _stat(pid)
    return None if stat is None else ProcessId(pid, stat[3])


def _table() -> dict[int, tuple[int, int, int]]:
    """pid -> (parent pid, process group, start time) of every live process."""
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            table[int(entry.name)] = stat[1:]
    return table


def process_tree(roots: Iterable[ProcessId], group: int | None = None) -> set[ProcessId]:
    """The ``roots`` still alive, their descendants, and every member of process group ``group``."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    todo = [r.pid for r in roots if r.pid in table and table[r.pid][2] == r.started]
    if group is not None:
        todo += [pid for pid, (_, pgrp, _) in table.items() if pgrp == group]
    found: set[int] = set()
    while todo:
        pid = todo.pop()
        if pid in found or pid not in table:
            continue
        found.add(pid)
        todo += children.get(pid, [])
    return {ProcessId(pid, table[pid][2]) for pid in found}


def command_line(process: ProcessId) -> str:
    """``pid: command line`` (shortened), for messages."""
    try:
        text = (PROC / str(process.pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        text = "?"
    return f"{process.pid}: {text.strip()[:80]}"


def alive(process: ProcessId) -> bool:
    stat = _stat(process.pid)
    return stat is not None and stat[3] == process.started


def _signal(processes: set[ProcessId], group: int | None, sig: signal.Signals) -> None:
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    for process in processes:
        if alive(process):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(process.pid, sig)


def stop_tree(
    root: int, *, group: int | None = None, popen: subprocess.Popen | None = None, grace: float = 20
) -> set[ProcessId]:
    """SIGTERM ``root``'s tree (and process group ``group``), SIGKILL what is left after ``grace`` seconds.

    Returns the processes that had to be killed. ``popen``, the root's handle if this process
    started it, is reaped so no zombie is left behind. Raises RuntimeError if anything survives
    SIGKILL (it cannot, unless it is stuck in the kernel).
    """
    start = process_id(root)
    known = process_tree([start] if start else [], group)
    _signal(known, group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if popen is not None:
            popen.poll()
        known |= process_tree({p for p in known if alive(p)}, group)  # children started meanwhile
        if not any(alive(p) for p in known):
            break
        time.sleep(0.1)
    survivors = {p for p in known | process_tree(known, group) if alive(p)}
    if survivors:
        log.warning(
            "SIGKILL after %.0f s for %d processes that did not exit on SIGTERM: %s",
            grace,
            len(survivors),
            "; ".join(command_line(p) for p in sorted(survivors, key=lambda p: p.pid)),
        )
        _signal(survivors, group, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in survivors) and time.monotonic() < deadline:
            if popen is not None:
                popen.poll()
            time.sleep(0.05)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
    if left := sorted(p.pid for p in survivors if alive(p)):
        raise RuntimeError(f"processes {left} survived SIGKILL")
    return survivors


def watch(owner: ProcessId, target: ProcessId, grace: float = 10, interval: float = 1.0) -> None:
    """Stop ``target``'s tree as soon as ``owner`` is gone; return when ``target`` is gone.

    The last line of defence of ``LocalAirflow``: its owner (a pytest session, ``make airflow``)
    normally stops the stack itself, but nothing runs in a process killed by SIGKILL or ended by
    ``os._exit`` (pytest-timeout's thread method), and ``airflow standalone`` runs in a session
    of its own, so it would be left running. This watchdog, in a session of its own too, is not.
    """
    while alive(target):
        if not alive(owner):
            stop_tree(target.pid, group=target.pid, grace=grace)
            return
        time.sleep(interval)


def start_watchdog(owner: ProcessId, target: ProcessId, grace: float = 10) -> subprocess.Popen:
    """Run ``watch(owner, target)`` in a separate process (see watch)."""
    command = [sys.executable, "-m", "dev.processes"]
    command += [str(n) for n in (owner.pid, owner.started, target.pid, target.started, grace)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        command, env=env, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=PROJECT_ROOT
    )


if __name__ == "__main__":
    owner_pid, owner_started, target_pid, target_started = (int(arg) for arg in sys.argv[1:5])
    watch(ProcessId(owner_pid, owner_started), ProcessId(target_pid, target_started), grace=float(sys.argv[5]))
