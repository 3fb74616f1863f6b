"""The processes of the local topology: PostgreSQL (a primary and a streaming replica), Redis
and nginx, each on 127.0.0.1 and a free port, each in a folder of its own.

Every process is a child of the Python process that starts it and stops with it.
PostgreSQL refuses to run as root, so when this runs as root its servers run as the
``postgres`` user (Debian's packages create it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["Nginx", "Postgres", "Redis", "free_port", "install_nginx", "postgres_bin"]

HOST = "127.0.0.1"
PG_BIN_DIRS = (
    "/usr/lib/postgresql/15/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/17/bin",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder holding initdb, postgres and pg_basebackup, if PostgreSQL is installed."""
    for folder in (os.environ.get("SESSILE_PG_BIN", ""), *PG_BIN_DIRS):
        if folder and (Path(folder) / "initdb").exists():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def install_nginx() -> str:
    """nginx's path; installs Debian's package first when it is missing (needs root)."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("nginx is not installed; run `sudo apt-get install -y nginx`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env)
    return "/usr/sbin/nginx"


def _wait_port(port: int, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection((HOST, port), 0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout:.0f} s")


def _stop(
    process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 30
) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Postgres:
    """One PostgreSQL server in a temporary folder: ``init`` a primary, or ``replicate``."""

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's server binaries (initdb, postgres) are not installed")
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix=f"sessile-{name}-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    def _run(self, *command: str) -> None:
        subprocess.run(command, check=True, capture_output=True, **self._as)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip

    def replicate(self, primary: Postgres) -> None:
        """A streaming standby of ``primary``, named after itself for synchronous_standby_names."""
        self._run(str(self.bin / "pg_basebackup"), "-h", HOST, "-p", str(primary.port),
                  "-U", "postgres", "-D", str(self.data), "-X", "stream", "-R",
                  "--no-sync")  # fmt: skip
        auto = self.data / "postgresql.auto.conf"
        with auto.open("a") as conf:
            conf.write(
                f"primary_conninfo = 'host={HOST} port={primary.port} user=postgres"
                f" application_name={self.name}'\n"
            )

    def start(self, **settings: str | int) -> None:
        options = {
            "port": self.port,
            "listen_addresses": HOST,
            "unix_socket_directories": "",
            "max_connections": 300,
            "synchronous_standby_names": "",
            **settings,
        }
        command = [str(self.bin / "postgres"), "-D", str(self.data)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, **self._as
            )
        self._settings = settings
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()[-2000:]}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)], check=False
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} was not ready within {timeout:.0f} s")

    def restart(self) -> None:
        self.stop()
        self.start(**self._settings)

    def stop(self) -> None:
        """A fast shutdown: clients are disconnected, committed work is kept."""
        _stop(self.process, signal.SIGINT)

    def kill(self) -> None:
        """The server dies at once, as when its machine fails."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def promote(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "promote", "-w", "-D", str(self.data))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@{HOST}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin / "psql"), "-h", HOST, "-p", str(self.port), "-U", "postgres",
             "-d", database, "-Atc", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout.strip()

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class Redis:
    """redis-server without persistence (a cache and counters: DESIGN §8)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        command = [binary, "--port", str(self.port), "--bind", HOST, "--save", "",
                   "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_port(self.port, self.process, "redis-server")

    def stop(self) -> None:
        _stop(self.process)


NGINX_CONF = """\
{user}worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream sessile {{
{servers}
        keepalive 64;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://sessile;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A node that refuses the connection is skipped; a request already sent to a
            # node that dies is not replayed (a POST may have taken effect): the client
            # gets 502 and retries, and the refresh grace answers it the same.
            proxy_next_upstream error timeout;
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


class Nginx:
    """nginx in front of the nodes, with a config file of its own (not the system's)."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, upstreams: list[int]) -> None:
        binary = install_nginx()
        self.root.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server {HOST}:{port} max_fails=1 fail_timeout=2s;" for port in upstreams
        )
        conf = self.root / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                user="user root root;\n" if os.geteuid() == 0 else "",
                root=self.root, servers=servers, host=HOST, port=self.port,
            )
        )  # fmt: skip
        command = [binary, "-p", str(self.root), "-c", str(conf), "-g", "daemon off;"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_port(self.port, self.process, "nginx")

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)
