"""``make airflow`` on a fresh clone, on a second start, and the landing data it seeds.

The seeding runs against the session's real loopback S3; the windows come from the bundle's own
``resolve_window``, for the runs a newcomer gets: a trigger with every default (no logical date:
the data interval ends now), the scheduled run that unpausing creates (the latest cron tick), and
the next scheduled run (the tick after).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dev import local_airflow
from dev.local_airflow import ADMIN, PID_FILE, LocalAirflow
from dev.local_s3 import LocalS3
from dev.make_airflow import banner, reset_home
from dev.processes import alive, process_id
from dev.seed_landing import seed, seeded_configs, utc_today
from include.retrain.config import PipelineConfig
from include.retrain.runs import RunOptions, resolve_window
from tests.dev.test_process_stop import start_standalone_stand_in


class _StopBeforeAirflow(Exception):
    pass


def test_a_fresh_clone_gets_its_airflow_home_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``.local/airflow`` does not exist on a fresh clone; start() once died writing passwords.json into it."""
    home = tmp_path / "clone" / ".local" / "airflow"
    airflow = LocalAirflow(None, home=home)  # type: ignore[arg-type]

    def no_airflow(*args: object, **kwargs: object) -> None:
        raise _StopBeforeAirflow  # the first command would be `airflow db migrate`

    monkeypatch.setattr(local_airflow.subprocess, "run", no_airflow)
    with pytest.raises(_StopBeforeAirflow):
        airflow.start()

    assert json.loads((home / "passwords.json").read_text()) == {ADMIN: airflow.password}


def _cron_ticks(config: PipelineConfig, now: datetime) -> tuple[datetime, datetime]:
    """The latest daily tick at or before ``now`` and the one after it (the shipped crons are daily)."""
    minute, hour = (int(field) for field in config.schedule.cron.split()[:2])
    tick = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if tick > now:
        tick -= timedelta(days=1)
    return tick, tick + timedelta(days=1)


def test_the_seeded_data_ends_today_and_covers_every_run_a_newcomer_gets(s3: LocalS3) -> None:
    client = s3.client()
    seeded = seed(client)
    now = datetime.now(UTC)

    assert {item.last_day for item in seeded} == {utc_today()}
    for config in seeded_configs():
        listing = client.list_objects_v2(Bucket=config.dataset.bucket, Prefix=config.dataset.landing_prefix)
        days = {datetime.strptime(item["Key"].split("ds=")[1][:10], "%Y-%m-%d").date() for item in listing["Contents"]}
        ends = {"a trigger with every default": now}
        if config.schedule.cron:
            ends["the run unpausing creates"], ends["the next scheduled run"] = _cron_ticks(config, now)
        for run, end in ends.items():
            window = resolve_window(config, RunOptions(), end)
            wanted = {window.start + timedelta(days=offset) for offset in range(window.days)}
            assert wanted <= days, f"{config.name}, {run}: window {window} misses {sorted(wanted - days)}"


def test_a_second_start_stops_what_a_killed_first_start_left_and_resets(tmp_path: Path) -> None:
    home = tmp_path / ".local" / "airflow"
    home.mkdir(parents=True)
    (home / "airflow.db").write_text("the first start's database")
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    owner_id = process_id(owner.pid)
    owner.kill()  # the first `make airflow`, killed with SIGKILL: its standalone lives on
    owner.wait()
    standalone, tree = start_standalone_stand_in(tmp_path)
    record = {"owner": [owner_id.pid, owner_id.started], "standalone": [tree[0].pid, tree[0].started]}
    (home / PID_FILE).write_text(json.dumps(record))
    try:
        notes = reset_home(home, grace=1)

        assert [p.pid for p in tree if alive(p)] == []
        assert list(home.iterdir()) == []
        assert any("left running by a previous start" in note for note in notes)
    finally:
        for process in tree:
            if alive(process):
                os.kill(process.pid, signal.SIGKILL)
        standalone.wait(timeout=10)


def test_a_second_start_leaves_a_running_first_one_alone(tmp_path: Path) -> None:
    home = tmp_path / ".local" / "airflow"
    home.mkdir(parents=True)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        me = process_id(running.pid)
        (home / PID_FILE).write_text(json.dumps({"owner": [me.pid, me.started], "standalone": [me.pid, me.started]}))

        with pytest.raises(RuntimeError, match=f"another `make airflow` \\(pid {running.pid}\\)"):
            reset_home(home, grace=1)
        assert (home / PID_FILE).exists()
        assert alive(me)
    finally:
        running.kill()
        running.wait()


def test_the_banner_says_where_how_to_log_in_and_what_to_click(tmp_path: Path) -> None:
    s3 = LocalS3(port=9)
    airflow = LocalAirflow(s3, home=tmp_path, port=8080)

    text = banner(airflow, ["churn: ds=... .. ds=today"])

    assert "http://127.0.0.1:8080" in text
    assert f"username: {ADMIN}" in text
    assert f"password: {airflow.password}" in text
    assert "retrain_churn > Trigger" in text
    assert "reset on every start" in text
