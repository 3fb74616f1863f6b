"""A bounded load of real refreshes and logins from many clients, for the fault tests.

Each client holds one session: it refreshes with a fresh DPoP proof, and when a request
fails (no answer, 502, 503) it retries with the same refresh token, as a careful client
does. Every answer is recorded with its latency, so a test can say what the clients saw
during a fault and check afterwards that no session was lost or rotated twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from sessile.client import DPoPKey
from sessile.sessions.refresh_tokens import parse_token
from sessile.store.database import Database

__all__ = ["Answer", "Load", "Sessions", "login"]

REFRESH = "/v1/session/refresh"
FINALIZE = "/v1/session/login/finalize"
#: No request of the load may take longer than this: the tests assert well under it.
REQUEST_TIMEOUT = 30.0


@dataclass
class Answer:
    what: str  # "refresh" or "login"
    status: int  # 0: no HTTP answer (connection refused or cut, timeout)
    code: str
    seconds: float
    retry_after: str | None = None
    message: str = ""
    at: float = field(default_factory=time.monotonic)


@dataclass
class Session:
    key: DPoPKey
    token: str
    nonce: str | None = None

    @property
    def id(self) -> str:
        parsed = parse_token(self.token)
        assert parsed is not None
        return parsed.session_id

    @property
    def generation(self) -> int:
        parsed = parse_token(self.token)
        assert parsed is not None
        return parsed.generation


async def _post(
    http: httpx.AsyncClient, base: str, path: str, key: DPoPKey, nonce: str | None,
    headers: dict[str, str], json: object = None,
) -> tuple[httpx.Response | None, float, str | None]:  # fmt: skip
    """One DPoP request; a ``use_dpop_nonce`` answer is retried once with the nonce."""
    for _ in range(2):
        proof = key.proof("POST", base + path, nonce=nonce)
        started = time.monotonic()
        try:
            response = await http.post(base + path, headers={"DPoP": proof, **headers}, json=json)
        except httpx.HTTPError:
            return None, time.monotonic() - started, nonce
        nonce = response.headers.get("DPoP-Nonce", nonce)
        if response.status_code in (400, 401) and _code(response) == "use_dpop_nonce":
            continue
        return response, time.monotonic() - started, nonce
    return response, time.monotonic() - started, nonce


def _code(response: httpx.Response, field: str = "code") -> str:
    try:
        return str(response.json().get(field, ""))
    except ValueError:
        return ""


def _answer(what: str, response: httpx.Response | None, seconds: float) -> Answer:
    if response is None:
        return Answer(what, 0, "no_answer", seconds)
    return Answer(
        what,
        response.status_code,
        _code(response),
        seconds,
        response.headers.get("Retry-After"),
        _code(response, "message"),
    )


async def login(
    http: httpx.AsyncClient, base: str, challenge: str
) -> tuple[Answer, Session | None]:
    """Finalize a login with a challenge token; the session when it succeeded."""
    key = DPoPKey.generate()
    response, seconds, nonce = await _post(
        http, base, FINALIZE, key, None, {"X-Refresh-Token-Mode": "header"},
        {"challenge_token": challenge},
    )  # fmt: skip
    answer = _answer("login", response, seconds)
    if response is None or response.status_code != 200:
        return answer, None
    return answer, Session(key, response.headers["X-Refresh-Token"], nonce)


async def refresh(
    http: httpx.AsyncClient, base: str, session: Session
) -> tuple[Answer, str | None]:
    """Refresh once; on success the session takes the new token, returned too."""
    response, seconds, session.nonce = await _post(
        http, base, REFRESH, session.key, session.nonce, {"X-Refresh-Token": session.token}
    )
    answer = _answer("refresh", response, seconds)
    if response is not None and response.status_code == 200:
        session.token = response.headers["X-Refresh-Token"]
        return answer, session.token
    return answer, None


class Sessions:
    """Challenges made in the database, logged in through ``base`` before a fault."""

    def __init__(self, base: str, database_url: str) -> None:
        self.base = base
        self.database_url = database_url

    async def challenges(self, count: int) -> list[str]:
        from sessile.clock import SystemClock
        from sessile.sessions import ChallengeTokens

        db = Database.from_url(self.database_url)
        try:
            clock = SystemClock()
            tokens = ChallengeTokens(db.challenges, clock, ttl=600)
            out = []
            for _ in range(count):
                user = await db.users.create(now=clock.now())
                out.append(await tokens.issue(user_id=user.id, auth_method="password"))
            return out
        finally:
            await db.close()

    async def log_in(self, http: httpx.AsyncClient, count: int) -> list[Session]:
        sessions = []
        for challenge in await self.challenges(count):
            answer, session = await login(http, self.base, challenge)
            assert session is not None, answer
            sessions.append(session)
        return sessions

    async def stored(self, ids: Iterable[str]) -> dict[str, tuple[int, float | None]]:
        """Each session's generation and ``revoked_at``, as the database holds them."""
        import sqlalchemy as sa

        from sessile.store.schema import sessions as table

        db = Database.from_url(self.database_url)
        try:
            async with db.engine.connect() as conn:
                rows = await conn.execute(
                    sa.select(table.c.id, table.c.generation, table.c.revoked_at).where(
                        table.c.id.in_(list(ids))
                    )
                )
                return {row.id: (row.generation, row.revoked_at) for row in rows}
        finally:
            await db.close()


@dataclass
class Load:
    """Refresh loops (one per session) and a login loop, until :meth:`stop`."""

    base: str
    sessions: list[Session]
    challenges: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    #: Session ids whose refresh answered 401: a lost session.
    lost: set[str] = field(default_factory=set)
    pause: float = 0.02

    def __post_init__(self) -> None:
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._http = httpx.AsyncClient(
            timeout=REQUEST_TIMEOUT, limits=httpx.Limits(max_connections=200)
        )

    async def __aenter__(self) -> Load:
        self._tasks = [asyncio.create_task(self._refreshing(s)) for s in self.sessions]
        if self.challenges:
            self._tasks.append(asyncio.create_task(self._logging_in()))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._http.aclose()

    async def run_for(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def _refreshing(self, session: Session) -> None:
        while not self._stop.is_set():
            answer, _ = await refresh(self._http, self.base, session)
            self.answers.append(answer)
            if answer.status == 401:
                self.lost.add(session.id)
                return
            await asyncio.sleep(self.pause if answer.status == 200 else 0.1)

    async def _logging_in(self) -> None:
        for challenge in self.challenges:
            if self._stop.is_set():
                return
            answer, _ = await login(self._http, self.base, challenge)
            self.answers.append(answer)
            await asyncio.sleep(0.1)

    def of(self, what: str) -> list[Answer]:
        return [a for a in self.answers if a.what == what]

    def failures(self) -> list[Answer]:
        return [a for a in self.answers if a.status != 200]

    async def settle(self, deadline: float = 60.0) -> None:
        """Refresh every session until it succeeds (the fault is over): none may be lost."""
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT) as http:
            for session in self.sessions:
                give_up = time.monotonic() + deadline
                while True:
                    answer, token = await refresh(http, self.base, session)
                    if token is not None:
                        break
                    assert answer.status != 401, f"session {session.id} was lost"
                    assert time.monotonic() < give_up, f"no recovery: {answer}"
                    await asyncio.sleep(0.5)
