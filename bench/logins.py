"""What a login costs, in refreshes: server CPU per request of each login route and of the
management lookups, beside a refresh measured on the same server in the same run.

    .venv/bin/python bench/logins.py [--postgres URL] [--redis URL] [--src OTHER/src]
        [--seconds 8] [--profile FOLDER]

(``bench/refresh.py --routes`` runs the same.)

One ``sessile serve --workers 1`` process; each phase drives it with ``bench/refresh.py``'s
load generator and reads its CPU from ``/proc``. The phases:

- ``refresh``: the yardstick.
- ``otp start``: ``POST /login/otp`` to a new address each time, the delivery of its code
  included (the CPU until the outbox has every code counts).
- ``otp check``: ``POST /login/otp/check`` with the code, which makes the user and the
  session; ``otp login`` is the two together. Each check, as each finalize, comes from a
  browser build no request before it came from (its own User-Agent).
- ``refused start (rate limit)``: starts to an address over its limit, answered 429.
- ``refused start (sign-up off)``: starts to unknown addresses on a server with
  ``SESSILE_OTP_SIGNUP=false`` (a second server, with its own refresh yardstick).
- ``password login``: ``POST /login/email/password``, its argon2 check included; the
  CPU of the server's event-loop thread alone is read too, which is all of the login but
  the argon2 check that runs on the executor's threads (the check alone is timed here).
- ``refused login (locked out)``: password logins, with the right password, to an
  address locked by failed ones (answered 429 before any hash).
- ``finalize``: ``POST /login/finalize`` of a password login's challenge token.
- ``session list``: ``GET /me/list`` with an access token, a user with a few sessions.
- ``lookup``, ``batch lookup``, ``user sessions``, ``revoke all``: the management calls
  a backend makes per request, with an API key.

It prints each phase's CPU per request and its ratio to the refresh. ``--src`` serves
another source tree, to measure before and after; ``--profile`` samples each phase with
py-spy and prints the functions with the largest share of its samples.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

# refresh.py puts the source tree it serves (``--src``) first on the path: import it first,
# so that set-up here uses that tree's sessile too (its schema may differ).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from refresh import (
    TICKS,
    Server,
    Slot,
    _sign,
    _stat,
    _ticks,
    load,
    sessile_env,
    sessile_sessions,
    start_sessile,
)

from sessile.client import DPoPKey, SessionClient

#: Every start of a run comes from 127.0.0.1: the per-address limit is lifted, except
#: where the phase measures a refusal.
OPEN = {
    "SESSILE_OTP_RATE_PER_IP": "100000000/minute",
    "SESSILE_OTP_RESEND_COOLDOWN": "0",
    "SESSILE_PASSWORD_RATE_PER_IP": "100000000/minute",
    "SESSILE_PASSWORD_RATE_PER_IDENTIFIER": "100000000/minute",
}
PASSWORD = "a long bench passphrase 1"


def _raw(method: str, path: str, body: Any = None, **headers: str) -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: {{host}}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    for name, value in headers.items():
        head += f"{name.replace('_', '-')}: {value}\r\n"
    return f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data


_BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.{build}.{patch} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/{major_safari}.{patch} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS {major_ios}_{patch} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/{major_ios}.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel {pixel}) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.{build}.{patch} Mobile Safari/537.36",
)
_browsers_made = 0


def _browser() -> str:
    """A User-Agent no request of the run sent before: a login comes from the browser of
    whoever logs in, and a morning's logins come from thousands of browser builds, so the
    device is parsed, not found in ua-parser's cache of strings it has seen."""
    global _browsers_made
    _browsers_made += 1
    n = _browsers_made
    return _BROWSERS[n % len(_BROWSERS)].format(
        major=110 + n % 20, build=4000 + n // 20, patch=n % 200, major_safari=15 + n % 4,
        major_ios=15 + n % 4, pixel=6 + n % 4,
    )  # fmt: skip


def _outbox(workdir: Path) -> list[dict[str, Any]]:
    path = workdir / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for_codes(workdir: Path, count: int, timeout: float = 120.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = _outbox(workdir)
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise RuntimeError(f"only {len(_outbox(workdir))} of {count} codes were delivered")


#: Where ``--profile`` writes each phase's py-spy profile (None: no profiles).
PROFILES: Path | None = None


@contextlib.contextmanager
def profiled(server: Server, name: str) -> Iterator[None]:
    """With ``--profile``, sample the server with py-spy while the block runs, into
    ``<name>.txt``: collapsed stacks, one line per stack with its sample count (a flame
    graph tool draws them; :func:`hot_frames` sums them)."""
    if PROFILES is None:
        yield
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    slug = name.replace(" ", "-")
    recorder = subprocess.Popen(
        [spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--rate", "250",
         "--gil", "--nonblocking", "--format", "raw", "--output", str(PROFILES / f"{slug}.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)


#: The frames under which every sample of a thread runs: the server's start-up, the event
#: loop, a thread's start.
_STARTUP = re.compile(
    r"\((<frozen runpy>|click/|uvicorn/(main|server|_compat)\.py|asyncio/(runners|base_events|"
    r"events)\.py|threading\.py|sessile/cli/|sessile/__main__\.py)|^process \d+"
)


def hot_frames(path: Path, top: int = 30) -> list[tuple[str, float]]:
    """The functions of a collapsed-stack profile with the largest share of its samples,
    each counted once per stack (time in it and in what it calls), but for the frames
    every thread runs under."""
    totals: dict[str, int] = {}
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples += int(count)
        # "function (path/file.py:line)": the function, wherever in it the sample was.
        for frame in {re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")}:
            totals[frame] = totals.get(frame, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: -item[1])
    shares = [(frame, n / samples) for frame, n in ranked if not _STARTUP.search(frame)]
    return shares[:top] if samples else []


def _phase(server: Server, slots: list[Slot], seconds: float) -> dict[str, Any]:
    load(server, [Slot(s.kind, raw=s.raw[:2], ok=s.ok) for s in slots[:8]], 1, 1)
    return load(server, slots, seconds, 1)


def _loop_thread_seconds(server: Server) -> float:
    """CPU so far of the serving process's main thread, which runs its event loop: all of
    a request but what it hands to the executor's threads (argon2)."""
    pid = server.process.pid
    fields = _stat(f"{pid}/task/{pid}")
    assert fields is not None, "the server is gone"
    return sum(_ticks(fields)) / TICKS


def _api_key(env: dict[str, str]) -> str:
    created = subprocess.run(
        [sys.executable, "-m", "sessile", "apikeys", "create", "--name", "bench", "--all-scopes"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if created.returncode != 0:  # a tree whose keys may do everything by default
        created = subprocess.run(
            [sys.executable, "-m", "sessile", "apikeys", "create", "--name", "bench"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
    return created.stdout.strip().split()[-1]


def _refresh(server: Server, env: dict[str, str], seconds: float) -> dict[str, Any]:
    # The load generator rotates tokens in its own process: each run gets fresh sessions.
    load(server, sessile_sessions(server, env, 100, 40), 1, 1)
    return load(
        server, sessile_sessions(server, env, 100, int(3000 * seconds / 100) + 2), seconds, 1
    )


def _starts(base: str, count: int) -> list[Slot]:
    return [
        Slot(
            "raw",
            raw=[
                _raw(
                    "POST",
                    "/v1/session/login/otp",
                    {
                        "identifier": {
                            "type": "email_address",
                            "value": f"start-{secrets.token_hex(6)}@example.com",
                        }
                    },
                )
                for _ in range(count)
            ],
            ok=frozenset({"200", "204"}),
        )
        for _ in range(16)
    ]


def run_otp(args: argparse.Namespace, workdir: Path, results: dict[str, dict[str, Any]]) -> None:
    server = start_sessile(args, workdir, 1, extra=OPEN)
    env = sessile_env(args, workdir, server.base, OPEN)
    try:
        results["refresh"] = _refresh(server, env, args.seconds)
        # Starts, the delivery of every code included.
        sent_before = len(_outbox(workdir))
        before = server.cpu_seconds()
        with profiled(server, "otp start"):
            started = _phase(server, _starts(server.base, 400), args.seconds)
            _wait_for_codes(workdir, sent_before + started["ok"] + 8 * 2)
        started["cpu_ms"] = (server.cpu_seconds() - before) / started["ok"] * 1000
        results["otp start"] = started
        # Checks: starts made ahead, their codes read from the outbox.
        count = int(40 * args.seconds)
        nonce = httpx.post(server.base + "/v1/session/refresh").headers["dpop-nonce"]
        pending: list[tuple[str, str]] = []
        with httpx.Client(timeout=30) as http:
            for _ in range(count):
                email = f"check-{secrets.token_hex(6)}@example.com"
                answer = http.post(
                    server.base + "/v1/session/login/otp",
                    json={"identifier": {"type": "email_address", "value": email}},
                )
                pending.append((email, answer.headers["X-Verification-Token"]))
        wanted = {email for email, _ in pending}
        deadline = time.monotonic() + 60
        codes: dict[str, str] = {}
        while not wanted <= codes.keys() and time.monotonic() < deadline:
            codes = {m["to"]: m["code"] for m in _outbox(workdir)}
            time.sleep(0.05)
        url = server.base + "/v1/session/login/otp/check"
        raws = []
        for email, verification in pending:
            [proof] = _sign(DPoPKey.generate().to_pem_bytes(), url, nonce, 1)
            raws.append(
                _raw("POST", "/v1/session/login/otp/check", {"code": codes[email]},
                     DPoP=proof, X_Verification_Token=verification,
                     X_Refresh_Token_Mode="header", User_Agent=_browser())
            )  # fmt: skip
        slots = [Slot("raw", raw=raws[i::16]) for i in range(16)]
        with profiled(server, "otp check"):
            results["otp check"] = load(server, slots, args.seconds, 1)
        results["otp login"] = {
            **results["otp check"],
            "cpu_ms": results["otp start"]["cpu_ms"] + results["otp check"]["cpu_ms"],
        }
        # A start refused by the per-identifier limit.
        limited = "limited@example.com"
        with httpx.Client(timeout=30) as http:
            for _ in range(10):
                http.post(
                    server.base + "/v1/session/login/otp",
                    json={"identifier": {"type": "email_address", "value": limited}},
                )
        refused = [
            Slot("raw", raw=[
                _raw("POST", "/v1/session/login/otp",
                     {"identifier": {"type": "email_address", "value": limited}})
            ] * 4000, ok=frozenset({"429"}))
            for _ in range(16)
        ]  # fmt: skip
        with profiled(server, "refused start (rate limit)"):
            results["refused start (rate limit)"] = _phase(server, refused, args.seconds)
        run_password(server, env, args, results)
        run_session_list(server, env, args, results)
        run_management(server, env, args, results)
    finally:
        server.stop()


def run_password(
    server: Server, env: dict[str, str], args: argparse.Namespace, results: dict[str, Any]
) -> None:
    key = _api_key(env)
    count = 60
    emails = [f"pw-{secrets.token_hex(5)}@example.com" for _ in range(count)]
    with httpx.Client(
        base_url=server.base + "/v2/session/apps/default",
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    ) as api:
        for email in emails:
            created = api.post(
                "/users",
                json={"identifiers": [{"type": "email_address", "value": email}],
                      "password": PASSWORD},
            )  # fmt: skip
            created.raise_for_status()
    per = int(20 * args.seconds / count) + 2
    slots = [
        Slot("raw", raw=[
            _raw("POST", "/v1/session/login/email/password",
                 {"identifier": email, "password": PASSWORD})
        ] * per)
        for email in emails
    ]  # fmt: skip
    load(server, [Slot(s.kind, raw=s.raw[:2], ok=s.ok) for s in slots[:8]], 1, 1)
    with profiled(server, "password login"):
        on_loop = _loop_thread_seconds(server)
        results["password login"] = load(server, slots, args.seconds, 1)
        on_loop = _loop_thread_seconds(server) - on_loop
    results["password login"]["loop_ms"] = 1000 * on_loop / results["password login"]["ok"]
    # Finalize: challenge tokens of password logins, each redeemed once.
    tokens = []
    with httpx.Client(timeout=60) as http:
        for i in range(int(60 * args.seconds)):
            answer = http.post(
                server.base + "/v1/session/login/email/password",
                json={"identifier": emails[i % count], "password": PASSWORD},
            )
            tokens.append(answer.json()["challenge_token"])
    nonce = httpx.post(server.base + "/v1/session/refresh").headers["dpop-nonce"]
    url = server.base + "/v1/session/login/finalize"
    raws = []
    for token in tokens:
        [proof] = _sign(DPoPKey.generate().to_pem_bytes(), url, nonce, 1)
        raws.append(_raw("POST", "/v1/session/login/finalize", {"challenge_token": token},
                         DPoP=proof, X_Refresh_Token_Mode="header",
                         User_Agent=_browser()))  # fmt: skip
    with profiled(server, "finalize"):
        results["finalize"] = load(server, [Slot("raw", raw=raws[i::16]) for i in range(16)],
                                   args.seconds, 1)  # fmt: skip
    # Locked out by failed passwords: the right one is refused before it is hashed.
    locked = emails[0]
    with httpx.Client(timeout=60) as http:
        for _ in range(8):
            http.post(
                server.base + "/v1/session/login/email/password",
                json={"identifier": locked, "password": "not the password"},
            )
    refused = [
        Slot("raw", raw=[
            _raw("POST", "/v1/session/login/email/password",
                 {"identifier": locked, "password": PASSWORD})
        ] * int(300 * args.seconds / 16 + 2), ok=frozenset({"429"}))
        for _ in range(16)
    ]  # fmt: skip
    with profiled(server, "refused login (locked out)"):
        results["refused login (locked out)"] = _phase(server, refused, args.seconds)


def run_session_list(
    server: Server, env: dict[str, str], args: argparse.Namespace, results: dict[str, Any]
) -> None:
    """``GET /me/list`` as users who each have a few sessions."""
    clients = sessile_sessions(server, env, 20, 1)
    tokens = []
    with httpx.Client(timeout=30) as http:
        for slot in clients:
            response = http.post(
                server.base + "/v1/session/refresh",
                headers={"DPoP": slot.proofs[0], "X-Refresh-Token": slot.token},
            )
            tokens.append(response.json()["access_token"])
    lists = [Slot("list", token) for token in tokens]
    load(server, lists, 1, 1)
    with profiled(server, "session list"):
        results["session list"] = load(server, lists, args.seconds, 1)


def run_management(
    server: Server, env: dict[str, str], args: argparse.Namespace, results: dict[str, Any]
) -> None:
    key = _api_key(env)
    auth = {"Authorization": f"Bearer {key}"}
    base = "/v2/session/apps/default"
    users = []
    with httpx.Client(base_url=server.base + base, headers=auth, timeout=60) as api:
        for _ in range(50):
            email = f"mgmt-{secrets.token_hex(5)}@example.com"
            created = api.post(
                "/users", json={"identifiers": [{"type": "email_address", "value": email}]}
            )
            created.raise_for_status()
            body = created.json()
            users.append((body.get("id") or body["user"]["id"], email))
        # A few sessions each, for the session lists.
        for user_id, _ in users[:10]:
            for _ in range(3):
                SessionClient(server.base).finalize(_challenge(env, user_id))
        probe = api.post(f"/users/{users[0][0]}/sessions/invalidate")
        revoke_path = "/sessions/invalidate" if probe.status_code != 404 else "/sessions/revoke"
    n = int(400 * args.seconds / 16) + 2
    header = {"Authorization": f"Bearer {key}"}

    def lookup(i: int) -> bytes:
        query = f"identifier_type=email_address&identifier_value={users[i % 50][1]}"
        return _raw("GET", f"{base}/users?{query}", **header)

    def batch_lookup(i: int) -> bytes:
        emails = [users[(i + k) % 50][1] for k in range(5)]
        return _raw("POST", f"{base}/users/batch_lookup", {"emails": emails}, **header)

    def user_sessions(i: int) -> bytes:
        return _raw("GET", f"{base}/users/{users[i % 10][0]}/sessions", **header)

    def revoke_all(i: int) -> bytes:
        return _raw("POST", f"{base}/users/{users[10 + i % 40][0]}{revoke_path}", {}, **header)

    phases = {
        "lookup": lookup,
        "batch lookup": batch_lookup,
        "user sessions": user_sessions,
        "revoke all": revoke_all,
    }
    for name, build in phases.items():
        slots = [Slot("raw", raw=[build(s * n + i) for i in range(n)]) for s in range(16)]
        with profiled(server, name):
            results[name] = _phase(server, slots, args.seconds)


def run_signup_off(
    args: argparse.Namespace, workdir: Path, results: dict[str, dict[str, Any]]
) -> None:
    folder = workdir / "signup-off"
    folder.mkdir()
    closed = {**OPEN, "SESSILE_OTP_SIGNUP": "false"}
    server = start_sessile(args, folder, 1, extra=closed)
    env = sessile_env(args, folder, server.base, closed)
    try:
        results["refresh (second server)"] = _refresh(server, env, args.seconds)
        with profiled(server, "refused start (sign-up off)"):
            results["refused start (sign-up off)"] = _phase(
                server, _starts(server.base, 400), args.seconds
            )
    finally:
        server.stop()


def _challenge(env: dict[str, str], user_id: str) -> str:
    from sessile.clock import SystemClock
    from sessile.sessions import ChallengeTokens
    from sessile.store.database import Database

    async def work() -> str:
        db = Database.from_url(env["SESSILE_DATABASE_URL"])
        try:
            tokens = ChallengeTokens(db.challenges, SystemClock(), ttl=600)
            return await tokens.issue(user_id=user_id, auth_method="password")
        finally:
            await db.close()

    return asyncio.run(work())


def argon2_ms() -> float:
    """CPU of one argon2id check with sessile's parameters, in this process."""
    from sessile.login.passwords import _HASHER, _verify

    stored = _HASHER.hash(PASSWORD)
    times = []
    for _ in range(10):
        before = time.process_time()
        _verify(stored, PASSWORD)
        times.append(time.process_time() - before)
    return statistics.median(times) * 1000


def run(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every phase, on one worker (``args``: seconds, postgres, redis, src, profile)."""
    global PROFILES
    args.workers = 1
    args.processes = 1
    if args.profile is not None:
        PROFILES = Path(args.profile).resolve()
        PROFILES.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="sessile-logins-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        run_otp(args, workdir, results)
        if not args.postgres:  # a second server needs a second empty database
            run_signup_off(args, workdir, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    refresh = results["refresh"]["cpu_ms"]
    print(f"{'':30} {'req/s':>7} {'CPU/req ms':>10} {'refreshes':>9} {'errors':>6}")
    for name, r in results.items():
        yardstick = (
            results["refresh (second server)"]["cpu_ms"] if "sign-up off" in name else refresh
        )
        print(
            f"{name:30} {r['rps']:7.0f} {r['cpu_ms']:10.3f} {r['cpu_ms'] / yardstick:9.1f}"
            f" {r['errors']:6d}" + (f"  last error: {r['last_error']}" if r["errors"] else "")
        )
    argon2 = argon2_ms()
    on_loop = results["password login"]["loop_ms"]
    print(f"argon2id check alone: {argon2:.1f} ms; password login on the event loop's thread"
          f" (argon2 runs on the executor's): {on_loop:.2f} ms"
          f" ({on_loop / refresh:.1f} refreshes)")  # fmt: skip
    for profile in sorted(PROFILES.glob("*.txt")) if PROFILES else []:
        print(f"\n{profile.stem}: the functions with most of its samples")
        for frame, share in hot_frames(profile):
            print(f"  {share:6.1%}  {frame}")
    store = ("PostgreSQL" if args.postgres else "SQLite") + (" + Redis" if args.redis else "")
    print(f"store: {store}; one worker; {args.src or 'this tree'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--redis", help="a redis:// URL")
    parser.add_argument("--src", help="run the server from this source tree (its src/)")
    parser.add_argument("--profile", help="write a py-spy profile of each phase into this folder")
    args = parser.parse_args()
    report(run(args), args)


if __name__ == "__main__":
    main()
