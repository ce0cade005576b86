"""A real headless Chromium for the UI tests: Debian's package, driven by Playwright.

Playwright's own browser download is not used (it needs network access we do not assume);
Playwright drives the system Chromium through ``executable_path``. The package is installed on
first use when missing (``apt-get``, through ``sudo -n`` unless running as root). The flags keep
a headless browser from calling home: no background networking, updates, sync or QUIC.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
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
    return subprocess.run([*sudo, "apt-get", *args], env=env, capture_output=True, text=True, timeout=900)


def system_chromium() -> Path:
    """Debian's Chromium, installed with apt-get if it is not there yet (package lists refreshed if stale)."""
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{CHROMIUM} is missing and apt-get is not available to install chromium")
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
