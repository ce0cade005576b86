"""A real headless Chromium for the UI tests: Debian's package, driven by Playwright.

Playwright's own browser download is not used (it needs network access we do not assume);
Playwright drives the system Chromium through ``executable_path``. The package is installed on
first use when missing (``apt-get``, through ``sudo -n`` unless running as root), by one process
at a time: two test sessions (or xdist workers) may reach it at once, and dpkg's lock would fail
the second. The flags keep a headless browser from calling home: no background networking,
updates, sync or QUIC.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: Held while one test process installs Chromium; another waits for it, then finds it installed.
INSTALL_LOCK = Path(tempfile.gettempdir()) / "retrain-tests-chromium-install.lock"
#: How long apt-get waits for dpkg's lock held by a process outside the tests (e.g. unattended upgrades).
DPKG_LOCK_TIMEOUT_SECONDS = 600
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _apt_get(*args: str) -> subprocess.CompletedProcess:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait_for_dpkg = ["-o", f"DPkg::Lock::Timeout={DPKG_LOCK_TIMEOUT_SECONDS}"]
    return subprocess.run(
        [*sudo, "apt-get", *wait_for_dpkg, *args], env=env, capture_output=True, text=True, timeout=1500
    )


def system_chromium() -> Path:
    """Debian's Chromium, installed with apt-get if it is not there yet (package lists refreshed if stale)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available to install chromium")
    with INSTALL_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if CHROMIUM.exists():  # another test process installed it while this one waited
            return CHROMIUM
        return _install_chromium()


def _install_chromium() -> Path:
    """apt-get install chromium, refreshing the package lists once if the first try fails."""
    installed = _apt_get("install", "-y", "--no-install-recommends", "chromium")
    if installed.returncode != 0:
        _apt_get("update")
        installed = _apt_get("install", "-y", "--no-install-recommends", "chromium")
    if installed.returncode != 0 or not CHROMIUM.exists():
        raise RuntimeError(f"could not install chromium with apt-get:\n{installed.stdout[-2000:]}{installed.stderr}")
    return CHROMIUM


def launch(playwright: Any, profile: Path) -> Any:
    """A browser context in a fresh profile folder of the system Chromium (headless)."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile),
        executable_path=str(system_chromium()),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1400, "height": 1000},
    )


def sign_in(page: Any, base_url: str, username: str, password: str) -> None:
    """Airflow's SimpleAuthManager login form, filled in and submitted as a person does."""
    page.goto(f"{base_url}/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
