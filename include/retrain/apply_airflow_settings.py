"""Apply ``airflow_settings.yaml`` (connections, pools, variables) to a plain Airflow.

The Astro CLI applies that file on ``astro dev start``; this does the same for any other
Airflow 3 deployment, with the Airflow CLI of the current environment::

    python -m include.retrain.apply_airflow_settings airflow_settings.yaml \\
        --extra aws_default.endpoint_url=http://127.0.0.1:5000

``--extra CONN.KEY=VALUE`` overrides one key of a connection's extra (for instance the local S3
endpoint, whose address differs between a laptop and Astro's containers). Re-running it is
safe: connections are replaced, pools and variables are set.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_CONNECTION_FIELDS = {
    "conn_type": "--conn-type",
    "conn_host": "--conn-host",
    "conn_schema": "--conn-schema",
    "conn_login": "--conn-login",
    "conn_password": "--conn-password",
    "conn_port": "--conn-port",
}


def load_settings(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The ``airflow:`` section of an Astro settings file, with empty lists filled in."""
    document = yaml.safe_load(path.read_text()) or {}
    section = document.get("airflow") or {}
    return {kind: list(section.get(kind) or []) for kind in ("connections", "pools", "variables")}


def parse_overrides(items: list[str]) -> dict[str, dict[str, str]]:
    """``["aws_default.endpoint_url=http://x"]`` -> ``{"aws_default": {"endpoint_url": "http://x"}}``."""
    overrides: dict[str, dict[str, str]] = {}
    for item in items:
        target, _, value = item.partition("=")
        conn_id, _, key = target.partition(".")
        if not (conn_id and key and _):
            raise ValueError(f"--extra must look like CONN_ID.KEY=VALUE, got {item!r}")
        overrides.setdefault(conn_id, {})[key] = value
    return overrides


def airflow_commands(
    settings: dict[str, list[dict[str, Any]]], overrides: dict[str, dict[str, str]]
) -> list[list[str]]:
    """The Airflow CLI calls that apply the settings, in order."""
    commands: list[list[str]] = []
    for connection in settings["connections"]:
        conn_id = connection["conn_id"]
        extra = {**(connection.get("conn_extra") or {}), **overrides.get(conn_id, {})}
        add = ["connections", "add", conn_id]
        for field, flag in _CONNECTION_FIELDS.items():
            if connection.get(field) not in (None, ""):
                add += [flag, str(connection[field])]
        if extra:
            add += ["--conn-extra", json.dumps(extra)]
        commands += [["connections", "delete", conn_id], add]
    for pool in settings["pools"]:
        commands.append(
            [
                "pools",
                "set",
                pool["pool_name"],
                str(pool["pool_slot"]),
                pool.get("pool_description") or pool["pool_name"],
            ]
        )
    for variable in settings["variables"]:
        commands.append(["variables", "set", variable["variable_name"], str(variable["variable_value"])])
    unknown = sorted(set(overrides) - {c["conn_id"] for c in settings["connections"]})
    if unknown:
        raise ValueError(f"--extra names connections that the settings file does not define: {unknown}")
    return commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("settings", type=Path, nargs="?", default=Path("airflow_settings.yaml"))
    parser.add_argument("--extra", action="append", default=[], metavar="CONN.KEY=VALUE")
    args = parser.parse_args(argv)
    commands = airflow_commands(load_settings(args.settings), parse_overrides(args.extra))
    for command in commands:
        # Deleting a connection that does not exist yet is expected to fail; everything else must not.
        check = command[:2] != ["connections", "delete"]
        result = subprocess.run([sys.executable, "-m", "airflow", *command], capture_output=True, text=True)
        if check and result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            return result.returncode
        if check:
            print("applied:", " ".join(command[:3]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
