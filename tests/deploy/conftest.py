from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy.local.cluster import Cluster
from deploy.local.services import postgres_bin

from tests import services

#: Short, so that the faults' bounds are short: a statement, a connection attempt or a wait
#: for a pooled connection gives up after this many seconds, and the request answers 503.
DATABASE_TIMEOUT = 3


def require_topology() -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        services.missing("nginx", "install it with `apt-get install -y nginx` (.ci/run does)")
    if postgres_bin() is None:
        services.missing("PostgreSQL's server binaries", "initdb and postgres are not installed")
    if shutil.which("redis-server") is None:
        services.missing("redis-server", "it is not installed")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """nginx, 3 nodes of 2 workers, a PostgreSQL primary with a synchronous replica and
    Redis, all of the test's own: stopping them harms no other test."""
    require_topology()
    with Cluster(env={"SESSILE_DATABASE_TIMEOUT": str(DATABASE_TIMEOUT)}) as running:
        yield running
