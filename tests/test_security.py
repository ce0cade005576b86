"""Security checks on the repository and the model load path.

- No secrets in tracked files: cloud keys, private keys, tokens, or credentials other than the
  documented local-only placeholders for the loopback S3 endpoint.
- Model files are only ever loaded through the allowlisted skops loader: no pickle or joblib
  load anywhere in the product code.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Local-only placeholders, documented in the README; moto accepts any credentials.
ALLOWED_CREDENTIALS = {"loopback-access-key", "loopback-secret-key", "loopback-hook-token", "test", "x", "admin"}

SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?([A-Za-z0-9/+]{40})"),
    "private key": re.compile(r"-----BEGIN (RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"),
    "Stripe/OpenAI-style key": re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{16,}\b|\bsk-[A-Za-z0-9]{32,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "URL with credentials": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:([^@\s/'\"]{6,})@"),
}
ASSIGNED_SECRET = re.compile(
    r"""(?ix)\b(password|passwd|secret|secret_key|api_key|token|conn_password)\b\s*[=:]\s*['"]([^'"\s]{6,})['"]"""
)


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    files = [PROJECT_ROOT / line for line in listed.stdout.splitlines() if line]
    return [f for f in files if f.is_file() and f.suffix not in {".lock", ".png", ".parquet"} and f.name != "uv.lock"]


def test_the_scan_sees_the_repository() -> None:
    names = {f.name for f in tracked_files()}
    assert {"README.md", "airflow_settings.yaml", "loading.py"} <= names


# Built from parts, like the GitHub token: written out whole, the samples would trip the scan of this file.
@pytest.mark.parametrize(
    "sample", ["AKIA" + "IOSFODNN7EXAMPLE", "-----BEGIN RSA " + "PRIVATE KEY-----", "ghp_" + "a" * 36]
)
def test_the_patterns_catch_known_secret_shapes(sample: str) -> None:
    assert any(pattern.search(sample) for pattern in SECRET_PATTERNS.values())


def test_no_secrets_in_tracked_files() -> None:
    findings = []
    for path in tracked_files():
        text = path.read_text(errors="ignore")
        for name, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                if pattern.groups and match.group(pattern.groups) in ALLOWED_CREDENTIALS:
                    continue
                findings.append(f"{path.relative_to(PROJECT_ROOT)}: {name}: {match.group(0)[:40]}")
        for match in ASSIGNED_SECRET.finditer(text):
            if match.group(2) not in ALLOWED_CREDENTIALS and not match.group(2).startswith(("{", "$", "<")):
                findings.append(f"{path.relative_to(PROJECT_ROOT)}: {match.group(1)} = {match.group(2)[:20]}...")
    assert findings == []


def test_airflow_settings_credentials_are_the_documented_placeholders() -> None:
    import yaml

    settings = yaml.safe_load((PROJECT_ROOT / "airflow_settings.yaml").read_text())["airflow"]
    for connection in settings["connections"]:
        for field in ("conn_login", "conn_password"):
            assert connection.get(field) in (None, "", *ALLOWED_CREDENTIALS), (connection["conn_id"], field)


def test_models_are_loaded_only_through_the_allowlisted_loader() -> None:
    """No pickle/joblib loading in product code; skops.io.load(s) only inside modelio."""
    unsafe = re.compile(
        r"\b(pickle|cloudpickle|joblib|dill)\.(load|loads)\b|\bpd\.read_pickle\b|\bsio\.loads?\b|skops\.io\.loads?\b"
    )
    offenders = []
    for path in [
        *PROJECT_ROOT.glob("include/**/*.py"),
        *PROJECT_ROOT.glob("dags/**/*.py"),
        *PROJECT_ROOT.glob("plugins/**/*.py"),
    ]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if unsafe.search(line) and path.name != "modelio.py":
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert offenders == []
