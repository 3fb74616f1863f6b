"""Refresh cost with no sockets: sessile's ASGI app and the floor's refresh, called directly.

    .venv/bin/python bench/inprocess.py [--refreshes 20000] [--sessions 100]

sessile (SQLite, in a fresh temporary folder) logs ``--sessions`` sessions in, then
each refresh is one call of the ASGI app with a request a client would send: a
bodiless ``POST /v1/session/refresh`` with its DPoP proof, signed ahead, and the
refresh token in ``X-Refresh-Token``. ``bench/floor.py``'s refresh (one proof
verify, one SQLite write, one ES256 sign) gets the same number of proofs. It prints
the process's CPU per refresh for each and their ratio.

Beside ``bench/refresh.py --anchor``, which reads a served process's CPU, this
shows what the server and the sockets add: the difference between the two figures.
And it moves less with the machine's load, so it tells a small change apart sooner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import floor  # noqa: E402
import refresh  # noqa: E402

from sessile.client import DPoPKey  # noqa: E402

BASE = "http://127.0.0.1:9"
PATH = "/v1/session/refresh"


def _scope(token: str, proof: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": PATH, "raw_path": PATH.encode(), "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 9), "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"127.0.0.1:9"), (b"x-refresh-token", token.encode()),
            (b"dpop", proof.encode()), (b"content-length", b"0"),
        ],
        "state": {},
    }  # fmt: skip


async def sessile_refresh(refreshes: int, sessions: int, measured: int | None = None) -> float:
    """sessile's CPU seconds per refresh, every refresh a success. ``measured`` runs only
    that many of the rounds set up (``bench/instructions.py``)."""
    from sessile.client import AsyncSessionClient
    from sessile.http.app import create_app_from_env

    app = create_app_from_env()
    rounds = refreshes // sessions
    ran = rounds if measured is None else measured
    async with app.router.lifespan_context(app):
        challenges = await refresh._challenges(
            os.environ["SESSILE_DATABASE_URL"], sessions, sessions
        )
        clients: list[tuple[list[str], list[str]]] = []  # [token], proofs
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
            for challenge in challenges:
                client = AsyncSessionClient(BASE, http=http)
                tokens = await client.finalize(challenge)
                assert tokens.refresh_token is not None
                proofs = refresh._sign(
                    client.key.to_pem_bytes(), BASE + PATH, client.nonce, rounds, spaced=True
                )
                clients.append(([tokens.refresh_token], proofs))
        answer: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["token"] = dict(message["headers"]).get(b"x-refresh-token", b"").decode()

        started = time.process_time()
        for turn in range(ran):
            for token, proofs in clients:
                await app(_scope(token[0], proofs[turn]), receive, send)
                if answer["status"] != 200:
                    raise RuntimeError(f"a refresh answered {answer['status']}")
                token[0] = answer["token"]
        return (time.process_time() - started) / (ran * sessions)


def floor_refresh(refreshes: int) -> float:
    """The floor's CPU seconds per refresh."""
    key = DPoPKey.generate()
    proofs = [p.encode() for p in refresh._sign(key.to_pem_bytes(), BASE + PATH, None, refreshes)]
    started = time.process_time()
    for proof in proofs:
        floor._refresh(proof)
    return (time.process_time() - started) / refreshes


@contextlib.contextmanager
def sessile_on_sqlite() -> Iterator[None]:
    """sessile's settings in the environment, on a migrated SQLite file that lasts as
    long as the block."""
    with tempfile.TemporaryDirectory() as folder:
        os.environ.update({
            "SESSILE_DATA_DIR": folder,
            "SESSILE_PUBLIC_URL": BASE,
            "SESSILE_SECRET_KEY": refresh.SECRET,
            "SESSILE_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/sessile.db",
            "SESSILE_LOG_LEVEL": "warning",
        })  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "sessile", "db", "upgrade"], check=True, capture_output=True
        )
        yield


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--refreshes", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=100)
    args = parser.parse_args()
    with sessile_on_sqlite():
        sessile = asyncio.run(sessile_refresh(args.refreshes, args.sessions))
    floor_cost = floor_refresh(args.refreshes)
    print(f"sessile  CPU per refresh {sessile * 1e6:7.1f} µs (in-process, SQLite)")
    print(f"floor    CPU per refresh {floor_cost * 1e6:7.1f} µs")
    print(f"sessile / floor {sessile / floor_cost:.2f}")


if __name__ == "__main__":
    main()
