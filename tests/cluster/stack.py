"""A production-shaped Airflow on one machine: PostgreSQL, Redis, CeleryExecutor with two workers.

Every component is a separate process started here and stopped with its whole tree
(``processes.stop_tree``: SIGTERM, then SIGKILL), also when a test fails:

- PostgreSQL (Debian's package, installed with apt-get when missing) in a temp data folder, on
  loopback on a free port: the metadata DB and Celery's result backend
  (``db+postgresql+psycopg2://``: a bare ``db+postgresql://`` makes SQLAlchemy 2.1 load psycopg 3).
- Redis (Debian's ``redis-server``) on loopback on a free port, no persistence: the Celery broker.
- The loopback S3 (``LocalS3``): landing data, artifacts, registry, and the task logs (remote logging).
- api-server, scheduler, dag-processor, triggerer, and two ``airflow celery worker`` processes,
  each worker with its own empty working folder, TMPDIR and AIRFLOW_HOME (as on two machines),
  its own node name (``[core] hostname_callable``: task instances record it as ``hostname``) and
  Celery hostname. All share the fernet key, ``[api_auth] jwt_secret`` and ``[api] secret_key``;
  workers reach Airflow only through ``[core] execution_api_server_url``.

A short task heartbeat timeout (``HEARTBEAT_TIMEOUT``) makes a lost worker's task fail, and be
retried elsewhere, within seconds instead of the default 300.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dev.local_airflow import ADMIN, AirflowApi, wait_until
from dev.local_s3 import LocalS3, free_port
from dev.processes import process_id, process_tree, start_watchdog, stop_tree

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Seconds without a heartbeat after which the scheduler fails a running task (default 300).
HEARTBEAT_TIMEOUT = 20
#: Longer than the longest task may run (train_timeout_minutes of the shipped variants: 240).
VISIBILITY_TIMEOUT = 6 * 3600
#: Where the task logs go (remote logging, through the artifact store's connection).
LOG_BUCKET = "retrain-artifacts"
LOG_PREFIX = "airflow-task-logs"
WORKERS = ("worker-a", "worker-b")


def _apt_get(*args: str) -> subprocess.CompletedProcess:
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    # RUNLEVEL=1: the package's init script does not start a system-wide server of its own.
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"}
    return subprocess.run([*sudo, "apt-get", *args], env=env, capture_output=True, text=True, timeout=900)


def ensure_package(package: str, binary: str) -> None:
    """Install a Debian package when ``binary`` is missing (package lists refreshed first if needed)."""
    if _find(binary):
        return
    if shutil.which("apt-get") is None:
        raise RuntimeError(f"{binary} is missing and apt-get is not available to install {package}")
    installed = _apt_get("install", "-y", "-qq", "--no-install-recommends", package)
    if installed.returncode != 0:
        _apt_get("update", "-qq")
        installed = _apt_get("install", "-y", "-qq", "--no-install-recommends", package)
    if installed.returncode != 0 or not _find(binary):
        raise RuntimeError(f"could not install {package} with apt-get:\n{installed.stdout[-2000:]}{installed.stderr}")


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{binary}"), reverse=True):
        return str(candidate)
    return None


@dataclass
class Service:
    """One started process (and whatever it starts), its log, and how to stop it."""

    name: str
    popen: subprocess.Popen
    log: Path
    watchdog: subprocess.Popen | None = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = 20) -> None:
        stop_tree(self.popen.pid, group=self.popen.pid, popen=self.popen, grace=grace)
        if self.watchdog is not None:
            stop_tree(self.watchdog.pid, popen=self.watchdog, grace=5)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _start(name: str, command: list[str], *, log: Path, env: dict[str, str] | None = None, **kwargs: Any) -> Service:
    with open(log, "wb") as out:
        popen = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, **kwargs,
        )  # fmt: skip
    owner, started = process_id(os.getpid()), process_id(popen.pid)
    # Stops the service if this test process dies without stopping it (SIGKILL, os._exit).
    watchdog = start_watchdog(owner, started, grace=10) if owner and started else None
    return Service(name, popen, log, watchdog)


@dataclass
class ClusterStack:
    """PostgreSQL + Redis + the loopback S3 + Airflow with CeleryExecutor and two workers."""

    s3: LocalS3
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="retrain-cluster-")))
    services: dict[str, Service] = field(default_factory=dict)
    api: AirflowApi | None = None

    def __post_init__(self) -> None:
        self.pg_port, self.redis_port, self.api_port = free_port(), free_port(), free_port()
        self.password = secrets.token_urlsafe(16)
        self.secrets = {
            "AIRFLOW__CORE__FERNET_KEY": _fernet_key(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        }

    # -- PostgreSQL and Redis --------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/airflow"

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def start_postgres(self) -> None:
        ensure_package("postgresql", "initdb")
        data, sockets = self.root / "pgdata", self.root / "pgsock"
        sockets.mkdir()
        as_user: dict[str, Any] = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            postgres = pwd.getpwnam("postgres")
            for path in (self.root, sockets):
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
            as_user = {"user": postgres.pw_uid, "group": postgres.pw_gid, "extra_groups": []}
        subprocess.run(
            [_find("initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, cwd=self.root, **as_user,
        )  # fmt: skip
        self.services["postgres"] = _start(
            "postgres",
            [_find("postgres"), "-D", str(data), "-p", str(self.pg_port), "-k", str(sockets),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
            log=self.root / "postgres.log", cwd=self.root, **as_user,
        )  # fmt: skip
        wait_until(self._postgres_ready, 60, "PostgreSQL to accept connections", interval=0.3)
        subprocess.run(
            [_find("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "airflow", "airflow"],
            check=True,
            capture_output=True,
        )

    def _postgres_ready(self) -> bool:
        self._check_alive("postgres")
        probe = subprocess.run(
            [_find("pg_isready") or "pg_isready", "-h", "127.0.0.1", "-p", str(self.pg_port)], capture_output=True
        )
        return probe.returncode == 0

    def start_redis(self) -> None:
        ensure_package("redis-server", "redis-server")
        folder = self.root / "redis"
        folder.mkdir()
        self.services["redis"] = _start(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            log=self.root / "redis.log", cwd=folder,
        )  # fmt: skip
        wait_until(self._redis_ready, 30, "Redis to answer PING", interval=0.2)

    def _redis_ready(self) -> bool:
        self._check_alive("redis")
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")

    # -- Airflow ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def environment(self, home: Path, **extra: str) -> dict[str, str]:
        """What every Airflow component gets; only AIRFLOW_HOME and the node's own settings differ."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW__"))}
        env.pop("RETRAIN_PIPELINES_DIR", None)
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "8",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.root / "passwords.json"),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
                "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{self.database_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API__EXPOSE_STACKTRACE": "True",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                # Only the runs a test triggers: unpausing a DAG must not add its latest cron interval.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__LOGGING__REMOTE_LOGGING": "True",
                "AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER": f"s3://{LOG_BUCKET}/{LOG_PREFIX}",
                "AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID": "aws_default",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "GX_ANALYTICS_ENABLED": "false",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                "PYTHONPATH": str(PROJECT_ROOT),
                **self.secrets,
            }
        )
        env.update(extra)
        return env

    def _airflow(self, *args: str, env: dict[str, str]) -> None:
        done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")

    def start_airflow(self) -> None:
        (self.root / "passwords.json").write_text(json.dumps({ADMIN: self.password}))
        home = self.root / "airflow-home"
        home.mkdir()
        env = self.environment(home)
        self._airflow("db", "migrate", env=env)
        settings = subprocess.run(
            [sys.executable, "-m", "include.retrain.apply_airflow_settings",
             str(PROJECT_ROOT / "airflow_settings.yaml"),
             "--extra", f"aws_default.endpoint_url={self.s3.endpoint_url}"],
            env=env, capture_output=True, text=True, cwd=PROJECT_ROOT,
        )  # fmt: skip
        if settings.returncode != 0:
            raise RuntimeError(f"apply_airflow_settings failed:\n{settings.stdout}{settings.stderr}")
        for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
            self.services[component] = _start(
                component, [sys.executable, "-m", "airflow", component], env=env, cwd=home,
                log=self.root / f"{component}.log",
            )  # fmt: skip
        for name in WORKERS:
            self.start_worker(name)
        self.api = AirflowApi(self.base_url, ADMIN, self.password)
        wait_until(self._healthy, 180, "the API server and scheduler to be healthy")
        wait_until(self._workers_ready, 120, "both Celery workers to be ready")

    def start_worker(self, name: str) -> Service:
        """A worker as on its own machine: empty cwd, TMPDIR and AIRFLOW_HOME, its own node name."""
        node = self.root / name
        for sub in ("work", "tmp", "home"):
            (node / sub).mkdir(parents=True, exist_ok=True)
        env = self.environment(
            node / "home",
            TMPDIR=str(node / "tmp"),
            RETRAIN_NODE_NAME=name,
            AIRFLOW__CORE__HOSTNAME_CALLABLE="tests.cluster.node.node_name",
        )
        service = _start(
            name,
            [sys.executable, "-m", "airflow", "celery", "worker",
             "--celery-hostname", f"{name}@%h", "--concurrency", "2"],
            env=env, cwd=node / "work", log=self.root / f"{name}.log",
        )  # fmt: skip
        self.services[name] = service
        return service

    def restart_worker(self, name: str, timeout: float = 120) -> None:
        """Start a worker again after it was killed, and wait until Celery says it is ready."""
        service = self.start_worker(name)
        wait_until(lambda: "ready." in service.log.read_text(errors="replace"), timeout, f"{name} to be ready")

    def _check_alive(self, *names: str) -> None:
        for name in names or tuple(self.services):
            service = self.services.get(name)
            if service is not None and not service.alive() and not name.startswith("worker-"):
                raise RuntimeError(f"{name} exited:\n{service.tail()}")

    def _healthy(self) -> bool:
        self._check_alive()
        health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
        return all(health.get(part, {}).get("status") == "healthy" for part in ("scheduler", "metadatabase"))

    def _workers_ready(self) -> bool:
        self._check_alive()
        return all("ready." in self.services[name].log.read_text(errors="replace") for name in WORKERS)

    def wait_for_dags(self, dag_ids: list[str], timeout: float = 180) -> None:
        def parsed() -> bool:
            dags = self.api.get("/api/v2/dags", params={"limit": 200})["dags"]
            return set(dag_ids) <= {dag["dag_id"] for dag in dags}

        wait_until(parsed, timeout, f"DAGs {dag_ids} to be parsed")

    def kill_worker(self, name: str) -> int:
        """SIGKILL a worker's whole process tree at once, as a lost node; returns how many processes."""
        service = self.services[name]
        root = process_id(service.popen.pid)
        tree = process_tree([root] if root else [], group=service.popen.pid)
        for process in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        service.popen.wait(timeout=10)
        if service.watchdog is not None:
            stop_tree(service.watchdog.pid, popen=service.watchdog, grace=5)
            service.watchdog = None
        return len(tree)

    # -- the whole stack -------------------------------------------------------------------------

    def start(self) -> ClusterStack:
        try:
            self.start_postgres()
            self.start_redis()
            self.start_airflow()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every service, Airflow first and PostgreSQL last; SIGKILL what ignores SIGTERM."""
        if self.api is not None:
            self.api.close()
        order = [*WORKERS, "scheduler", "triggerer", "dag-processor", "api-server", "redis", "postgres"]
        for name in sorted(self.services, key=lambda n: order.index(n) if n in order else -1):
            self.services.pop(name).stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        """The last lines of every component's log, for a failing test's message."""
        return "\n".join(f"--- {name}\n{service.tail(25)}" for name, service in self.services.items())


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.5) -> Any:
    """Poll ``condition`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
