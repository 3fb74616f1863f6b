"""Refresh through nginx on 1, 2 and 3 sessile nodes: throughput, p50/p99, CPU per core.

    .venv/bin/python bench/cluster.py [--nodes 1,2,3] [--workers 2] [--seconds 10]

It starts a PostgreSQL and a Redis of its own once (``deploy/local``), then for each
node count a cluster of ``--workers``-worker nodes behind nginx, and drives refreshes
through nginx with ``bench/refresh.py``'s load generator (proofs signed before the clock
starts; HTTP/1.1 on raw asyncio streams to 127.0.0.1). Each line gives requests/s, p50
and p99, the CPU the nodes used (in cores, read from /proc for their process groups) and
refreshes per second per core of node CPU. On a machine with fewer cores than
nodes times workers, throughput stops growing at the cores; the per-core figure says whether
adding nodes costs anything beyond the cores they take.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import refresh  # noqa: E402
from deploy.local.cluster import DATABASE, Cluster  # noqa: E402
from deploy.local.services import Postgres, Redis  # noqa: E402


@dataclass
class Through:
    """The nodes of a cluster, seen through nginx, as ``refresh.load`` drives a server."""

    cluster: Cluster

    @property
    def base(self) -> str:
        return self.cluster.url

    @property
    def stores(self) -> None:
        """The cluster's PostgreSQL and Redis serve every node: their CPU is not read."""
        return None

    def cpu_times(self) -> tuple[float, float]:
        user = system = 0.0
        for node in self.cluster.nodes:
            assert node.process is not None
            node_user, node_system = refresh.Server("node", node.url, node.process).cpu_times()
            user += node_user
            system += node_system
        return user, system

    def store_ticks(self) -> dict[int, int]:
        return {}


def measure(
    args: argparse.Namespace, nodes: int, database_url: str, redis_url: str
) -> dict[str, Any]:
    cluster = Cluster(nodes, args.workers, database_url, redis_url, replica=False,
                      secret_key=refresh.SECRET)  # fmt: skip
    with cluster:
        server = Through(cluster)
        env = {"SESSILE_DATABASE_URL": database_url}
        n = refresh.per_slot(args, args.seconds)
        refresh.load(server, refresh.sessile_sessions(server, env, args.sessions, n), 2,
                     args.processes)  # fmt: skip
        slots = refresh.sessile_sessions(server, env, args.sessions, n)
        return refresh.load(server, slots, args.seconds, args.processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", default="1,2,3", help="node counts, comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="workers per node")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sessions", type=int, default=200, help="load clients (sessions)")
    parser.add_argument("--processes", type=int, default=1, help="load-generator processes")
    args = parser.parse_args()
    pg = Postgres("bench")
    redis = Redis()
    results = {}
    try:
        pg.init()
        pg.start()
        pg.psql(f"CREATE DATABASE {DATABASE}")
        redis.start()
        for count in (int(n) for n in args.nodes.split(",")):
            name = f"{count} node{'s' if count > 1 else ''} x {args.workers}"
            results[name] = measure(args, count, pg.url(DATABASE), redis.url)
            r = results[name]
            print(f"{name}: {r['rps']:.0f} refreshes/s, p50 {r['p50']:.1f} ms,"
                  f" p99 {r['p99']:.1f} ms, nodes' CPU {r['server_cores']:.2f} cores,"
                  f" {r['rps'] / r['server_cores']:.0f}/s per core, errors {r['errors']}",
                  flush=True)  # fmt: skip
    finally:
        redis.stop()
        pg.remove()
    first = next(iter(results.values()))
    for name, r in results.items():
        per_core = (r["rps"] / r["server_cores"]) / (first["rps"] / first["server_cores"])
        print(f"{name}: throughput x{r['rps'] / first['rps']:.2f}, per core x{per_core:.2f},"
              " against the first")  # fmt: skip


if __name__ == "__main__":
    main()
