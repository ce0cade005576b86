"""The project files a newcomer and the Astro CLI rely on are present and consistent."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

PROJECT_ROOT = Path(__file__).resolve().parents[1]


#: Astro Runtime tag -> the Apache Airflow version it ships. Source: Astronomer's runtime catalog
#: (https://updates.astronomer.io/astronomer-runtime, ``runtimeVersionsV3.<tag>.metadata.airflowVersion``),
#: as quoted in public projects on 2026-09/10 ("Runtime 3.3-7 ships Airflow 3.3.1, not 3.3.2"); the Astro
#: CLI reads the same catalog. Add a row when the Dockerfile moves to a newer runtime.
ASTRO_RUNTIME_AIRFLOW = {
    "3.3-2": "3.3.0",
    "3.3-7": "3.3.1",
    "3.3-8": "3.3.2",
}
#: The lock's project entry (``source = { virtual = "." }``): its runtime dependencies, not the dev group.
PROJECT = "airflow-retrain-bundle"


def _lock() -> dict[str, Any]:
    return tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())


def _locked_versions() -> dict[str, str]:
    return {package["name"]: package["version"] for package in _lock()["package"]}


def _runtime_closure(lock: dict[str, Any]) -> set[tuple[str, str]]:
    """(name, version) of every package the project's runtime dependencies resolve to in the lock.

    Follows each dependency (and the extras it asks for) through the lock's graph; markers are kept
    as uv export keeps them (a Windows-only package is listed with its marker), so none is dropped.
    """
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(package["name"], []).append(package)
    (project,) = packages[PROJECT]
    found: set[tuple[str, str]] = set()
    visited: set[tuple[str, str, tuple[str, ...]]] = set()
    wanted = list(project["dependencies"])
    while wanted:
        dependency = wanted.pop()
        candidates = [
            package
            for package in packages[dependency["name"]]
            if dependency.get("version", package["version"]) == package["version"]
        ]
        assert candidates, dependency
        for package in candidates:
            extras = tuple(dependency.get("extra", ()))
            if (package["name"], package["version"], extras) in visited:
                continue
            visited.add((package["name"], package["version"], extras))
            found.add((package["name"], package["version"]))
            wanted += package.get("dependencies", [])
            for extra in extras:
                wanted += package.get("optional-dependencies", {}).get(extra, [])
    return found


def _requirements() -> list[Requirement]:
    lines = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_txt_is_the_locked_runtime_set() -> None:
    """Every runtime package the lock resolves, each pinned ==, and nothing else: pip has nothing left to choose.

    A pin on top-level packages only let ``pip install -r requirements.txt`` resolve 20 indirect
    packages to versions other than the lock's. Fix a failure with ``make requirements``.
    """
    requirements = _requirements()
    pins: set[tuple[str, str]] = set()
    for requirement in requirements:
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1, f"{requirement} is not pinned to one version"
        assert specifiers[0].operator == "==", f"{requirement} is not an exact pin"
        assert not requirement.extras, f"{requirement}: extras would pull in packages that are not pinned"
        pins.add((canonicalize_name(requirement.name), specifiers[0].version))
    locked = {(canonicalize_name(name), version) for name, version in _runtime_closure(_lock())}
    assert pins - locked == set(), "in requirements.txt but not the lock's runtime set: run `make requirements`"
    assert locked - pins == set(), "in the lock's runtime set but not requirements.txt: run `make requirements`"
    names = {name for name, _ in pins}
    assert {"apache-airflow", "apache-airflow-providers-amazon", "great-expectations", "scikit-learn"} <= names
    assert not names & {"pytest", "moto", "ruff", "playwright"}, "dev tools do not belong in the image"


def test_dockerfile_runtime_ships_the_locked_airflow_on_the_locked_python() -> None:
    lines = (PROJECT_ROOT / "Dockerfile").read_text().splitlines()
    (base,) = [line for line in lines if line.startswith("FROM ")]
    match = re.fullmatch(
        r"FROM astrocrpublic\.azurecr\.io/runtime:(?P<runtime>\d+\.\d+-\d+)-python-(?P<python>\d+\.\d+)", base
    )
    assert match, f"{base!r}: expected astrocrpublic.azurecr.io/runtime:<runtime>-python-<major.minor>"
    runtime, python = match["runtime"], match["python"]
    assert runtime in ASTRO_RUNTIME_AIRFLOW, f"runtime {runtime} is not in ASTRO_RUNTIME_AIRFLOW: add it and its source"
    locked_airflow = _locked_versions()["apache-airflow"]
    assert ASTRO_RUNTIME_AIRFLOW[runtime] == locked_airflow, (
        f"runtime {runtime} ships Airflow {ASTRO_RUNTIME_AIRFLOW[runtime]}, uv.lock pins {locked_airflow}"
    )
    allowed = SpecifierSet(_lock()["requires-python"])
    minors = [f"3.{minor}" for minor in range(8, 20) if f"3.{minor}.0" in allowed]
    assert minors == [python], f"the image's Python {python} is not the lock's only Python ({minors})"


def test_airflow_settings_define_the_connection_and_training_pool() -> None:
    settings = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())["airflow"]
    connection = next(c for c in settings["connections"] if c["conn_id"] == "aws_default")
    assert connection["conn_type"] == "aws"
    assert connection["conn_extra"]["endpoint_url"].startswith("http")
    assert any(pool["pool_name"] == "training" for pool in settings["pools"])


def test_readme_quickstart_is_make_demo_make_test_then_make_airflow() -> None:
    """A newcomer's first three commands, in the order the Makefile and CI support them."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(?:\$ )?(make \w+)\s*$", quickstart, flags=re.MULTILINE)
    assert commands == ["make demo", "make test", "make airflow"]


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
        ".astro/config.yaml",  # without it `astro dev start` says this is not an Astro project
        ".astro/test_dag_integrity_default.py",
        ".astro/dag_integrity_exceptions.txt",
        "docker-compose.override.yml",
        "README.md",
        "Makefile",
    ):
        assert (PROJECT_ROOT / path).exists(), path


def test_astro_project_config_names_the_project() -> None:
    config = yaml.safe_load((PROJECT_ROOT / ".astro" / "config.yaml").read_text())
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", config["project"]["name"])


def test_astro_parse_test_passes_on_the_shipped_dags(tmp_path: Path) -> None:
    """What `astro dev parse` runs in the image, run here with no project pytest options (the image has none)."""
    parse_test = PROJECT_ROOT / ".astro" / "test_dag_integrity_default.py"
    no_project_options = ["-c", os.devnull, "--rootdir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *no_project_options, str(parse_test)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_dockerignore_keeps_local_state_out_and_the_bundle_in() -> None:
    ignored = {line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()}
    ignored -= {""}
    assert {".git", ".env", ".venv", ".tools", ".local", "airflow_settings.yaml", "pyproject.toml", "dev"} <= ignored
    kept = {"dags", "include", "plugins", "requirements.txt", "packages.txt", ".astro", "Dockerfile"}
    assert not kept & ignored


def test_compose_override_runs_the_locked_moto() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.override.yml").read_text())
    image = compose["services"]["s3"]["image"]
    assert image == f"motoserver/moto:{_locked_versions()['moto']}", image


def _section(path: Path, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    text = path.read_text().split(f"{heading}\n", 1)[1]
    return re.split(rf"^#{{1,{len(level)}}} ", text, maxsplit=1, flags=re.MULTILINE)[0]


def _astro_seed_blocks() -> list[str]:
    """The Astro instructions' code blocks: the README's quickstart and the site's Astro page."""
    readme = _section(PROJECT_ROOT / "README.md", "## Quickstart")
    page = (PROJECT_ROOT / "docs" / "operations" / "astro.md").read_text()
    return [block for text in (readme, page) for block in text.split("```")[1::2] if "astro dev" in block]


def test_astro_seed_commands_are_ones_the_cli_and_the_module_take() -> None:
    """The seed runs on the host: dev/ is not in the image (.dockerignore), so not in `astro dev bash` either."""
    blocks = _astro_seed_blocks()
    assert len(blocks) == 2, "the README's quickstart and docs/operations/astro.md each show the Astro steps"
    module = (PROJECT_ROOT / "dev" / "seed_landing.py").read_text()
    for block in blocks:
        assert "astro dev bash" not in block
        assert re.search(r"^astro dev start\b", block, flags=re.MULTILINE)
        command = block.split(".venv/bin/python -m dev.seed_landing", 1)[1]
        flags = re.findall(r"(--[a-z][a-z-]*)", command)
        assert "--endpoint-url" in flags
        for flag in flags:
            assert f'add_argument("{flag}"' in module, flag


def test_astro_page_names_the_dockerfile_runtime_and_where_its_version_comes_from() -> None:
    page = (PROJECT_ROOT / "docs" / "operations" / "astro.md").read_text()
    base = next(line for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("FROM "))
    assert base.removeprefix("FROM ").split(":", 1)[1] in page
    assert "updates.astronomer.io/astronomer-runtime" in page
    assert "make requirements" in page


def test_readme_is_short_and_its_links_into_the_site_resolve() -> None:
    """The README is the way in (what it is, quickstart, layout, links); the rest is the docs site."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", readme)
    assert len(links) >= 10
    for path, anchor in links:
        page = PROJECT_ROOT / path
        assert page.is_file(), path
        if anchor:
            headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
            assert anchor in {_slug(heading) for heading in headings}, f"{path}#{anchor}"


def _slug(heading: str) -> str:
    """The anchor MkDocs (and GitHub) give a heading: lower case, punctuation dropped, spaces to dashes."""
    words = re.sub(r"[^\w\- ]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"\s+", "-", words)


def test_every_docs_page_is_in_the_site_nav() -> None:
    """mkdocs.yml's nav lists every page (strict mode also fails on one left out) and nothing else."""
    config = yaml.load((PROJECT_ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)

    def pages(nav: Any) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        items = nav.values() if isinstance(nav, dict) else nav
        return [page for item in items for page in pages(item)]

    docs = PROJECT_ROOT / "docs"
    assert sorted(pages(config["nav"])) == sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    assert config["strict"] == "true"
    assert config["theme"]["font"] == "false", "Material would fetch Google Fonts: the site must work offline"


def test_a_test_session_leaves_no_airflow_home_behind(tmp_path: Path) -> None:
    """conftest's throwaway Airflow home is removed when the session ends, not left in the temp dir.

    One xdist worker (``-n 1``): the controller and a worker each make a home, as in a real run,
    without paying for the default four workers' start-up and preload.
    """
    test = f"{__file__}::test_ci_runs_make_test"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "1", test],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
    assert not list(tmp_path.glob("retrain-tests-airflow-*"))
