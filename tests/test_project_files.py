"""The project files a newcomer and the Astro CLI rely on are present and consistent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _locked_versions() -> dict[str, str]:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    return {package["name"]: package["version"] for package in lock["package"]}


def test_requirements_txt_pins_match_the_lock() -> None:
    locked = _locked_versions()
    pins = {}
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    assert pins, "requirements.txt pins nothing"
    for name, version in pins.items():
        assert locked.get(name) == version, f"{name}=={version} in requirements.txt, {locked.get(name)} in uv.lock"


def test_dockerfile_builds_from_astro_runtime_3_3() -> None:
    first = next(line for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM"))
    assert re.fullmatch(r"FROM astrocrpublic\.azurecr\.io/runtime:3\.3-\d+", first)


def test_airflow_settings_define_the_connection_and_training_pool() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())["airflow"]
    connection = next(c for c in settings["connections"] if c["conn_id"] == "aws_default")
    assert connection["conn_type"] == "aws"
    assert connection["conn_extra"]["endpoint_url"].startswith("http")
    assert any(pool["pool_name"] == "training" for pool in settings["pools"])


def test_readme_quickstart_is_exactly_make_demo_and_make_test() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(?:\$ )?(make \w+)\s*$", quickstart, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]


def test_ci_runs_make_test() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.MULTILINE)


def test_astro_project_layout_is_complete() -> None:
    for path in (
        "dags",
        "include",
        "plugins",
        "tests",
        "requirements.txt",
        "packages.txt",
        "Dockerfile",
        "airflow_settings.yaml",
        "dags/.airflowignore",
        ".gitignore",
        ".dockerignore",
        "README.md",
        "Makefile",
    ):
        assert (PROJECT_ROOT / path).exists(), path


def test_readme_config_reference_is_current() -> None:
    from include.retrain.devtools.config_reference import reference_markdown

    assert reference_markdown() in (PROJECT_ROOT / "README.md").read_text(), "run `make docs`"


def test_a_test_session_leaves_no_airflow_home_behind(tmp_path: Path) -> None:
    """conftest's throwaway Airflow home is removed when the session ends, not left in the temp dir."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_ci_runs_make_test"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    assert not list(tmp_path.glob("retrain-tests-airflow-*"))
