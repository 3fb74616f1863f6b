"""A local sessile cluster: nginx on 127.0.0.1 in front of several ``sessile serve`` nodes,
on PostgreSQL (a primary with a synchronous streaming replica) and Redis.

    .venv/bin/python deploy/local/cluster.py [--nodes 3] [--workers 2] [--port 8080]
    .venv/bin/python deploy/local/cluster.py \\
        --postgres postgresql+asyncpg://postgres@127.0.0.1:5432/sessile \\
        --redis redis://127.0.0.1:6379/0

Without ``--postgres`` it starts a PostgreSQL primary of its own (``initdb`` in a
temporary folder, a free port) and a replica made with ``pg_basebackup``, in synchronous
replication; the nodes connect with a libpq multi-host URL and
``target_session_attrs=read-write``, so after the replica is promoted they find it by
themselves. With ``--postgres`` the nodes use that server instead (an existing one, such
as the machine's at 5432; the database must exist: ``createdb sessile``) and no replica is
made. Likewise ``--redis``. nginx is
installed from Debian's package when it is missing. Ctrl-C stops everything it started
and removes its folders. The fault tests (tests/deploy/) use this module with servers of
their own, so that stopping them harms nothing else.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.local.services import HOST, Nginx, Postgres, Redis, free_port

__all__ = ["Cluster", "Node"]

#: The database the nodes use on a PostgreSQL this module starts.
DATABASE = "sessile"


@dataclass
class Node:
    """One ``sessile serve --workers N`` in a process group of its own."""

    port: int
    workers: int
    data_dir: Path
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "sessile", "serve", "--host", HOST,
                   "--port", str(self.port), "--workers", str(self.workers)]  # fmt: skip
        with (self.data_dir / "server.log").open("ab") as sink:
            self.process = subprocess.Popen(
                command, env={**os.environ, **self.env, "SESSILE_DATA_DIR": str(self.data_dir)},
                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 180) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node {self.port} exited:\n{self.output()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"node {self.port} was not ready within {timeout:.0f} s")

    def output(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9`` on the whole node: the uvicorn supervisor and its workers."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Cluster:
    """Start with :meth:`start` (or ``with``); :meth:`stop` ends every process it started."""

    nodes_count: int = 3
    workers: int = 2
    postgres_url: str | None = None
    redis_url: str | None = None
    replica: bool = True
    port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sessile-cluster-")))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    def __post_init__(self) -> None:
        self.primary: Postgres | None = None
        self.standby: Postgres | None = None
        self.redis: Redis | None = None
        self.nginx = Nginx(self.root / "nginx", self.port)
        self.nodes: list[Node] = []
        self.database_url = self.postgres_url or ""

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.nginx.port}"

    def __enter__(self) -> Cluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if not self.postgres_url:
            self._start_postgres()
        if self.redis_url is None:
            self.redis = Redis()
            self.redis.start()
            self.redis_url = self.redis.url
        env = {
            "SESSILE_DATABASE_URL": self.database_url,
            "SESSILE_REDIS_URL": self.redis_url,
            "SESSILE_SECRET_KEY": self.secret_key,
            "SESSILE_PUBLIC_URL": self.url,
            "SESSILE_TRUSTED_PROXIES": f"{HOST}/32",
            "SESSILE_LOG_LEVEL": "warning",
            **self.env,
        }
        self.nodes = [
            Node(free_port(), self.workers, self.root / f"node-{i + 1}", env)
            for i in range(self.nodes_count)
        ]
        # The first node migrates the database; the others then start together.
        self.nodes[0].start()
        self.nodes[0].wait_ready()
        for node in self.nodes[1:]:
            node.start()
        for node in self.nodes[1:]:
            node.wait_ready()
        self.nginx.start([node.port for node in self.nodes])

    def _start_postgres(self) -> None:
        self.primary = Postgres("primary")
        self.primary.init()
        hosts = [self.primary]
        if self.replica:
            self.primary.start()
            self.standby = Postgres("replica")
            self.standby.replicate(self.primary)
            # Back to the primary within a second of its restart: until then commits wait.
            self.standby.start(wal_retrieve_retry_interval="1s")
            self.primary.stop()
            # A commit returns once the replica has flushed it: what a client was told
            # survives the primary's loss.
            self.primary.start(synchronous_standby_names=self.standby.name)
            hosts.append(self.standby)
        else:
            self.primary.start()
        self.primary.psql(f"CREATE DATABASE {DATABASE}")
        host_query = "&".join(f"host={HOST}:{pg.port}" for pg in hosts)
        self.database_url = (
            f"postgresql+asyncpg://postgres@/{DATABASE}?{host_query}"
            "&target_session_attrs=read-write"
        )

    def unhandled(self) -> list[str]:
        """The nodes' log lines of errors that became 500s."""
        return self.logged("unhandled error")

    def logged(self, text: str) -> list[str]:
        """The nodes' log lines that hold ``text``."""
        return [line for node in self.nodes for line in node.output().splitlines() if text in line]

    def stop(self) -> None:
        self.nginx.stop()
        for node in self.nodes:
            node.stop()
        if self.redis is not None:
            self.redis.stop()
        for pg in (self.primary, self.standby):
            if pg is not None:
                pg.stop()
                pg.remove()
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1")
    parser.add_argument(
        "--postgres", help="use this PostgreSQL (SQLAlchemy URL) instead of starting one"
    )
    parser.add_argument("--redis", help="use this Redis instead of starting one")
    parser.add_argument("--no-replica", action="store_true", help="start no replica")
    args = parser.parse_args()
    cluster = Cluster(
        args.nodes, args.workers, args.postgres, args.redis, not args.no_replica, args.port
    )
    with cluster:
        print(f"sessile at {cluster.url} (nginx), nodes:", " ".join(n.url for n in cluster.nodes))
        print(f"database: {cluster.database_url}\nredis: {cluster.redis_url}")
        print(f"secret key: {cluster.secret_key}")
        print("Ctrl-C stops it.", flush=True)
        signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        signal.sigwait(signals)


if __name__ == "__main__":
    main()
