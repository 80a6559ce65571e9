"""Every open page's session, by a random id, with a cap on how many and an idle expiry.

Each page (each tab) creates its own session and sends its id with every request; there
is no cookie, so two tabs of one browser never share a model. The id is 128 random bits
(``secrets``): knowing one session's id tells nothing about another's. A session nobody
has used for ``idle_seconds`` is dropped, and at most ``max_sessions`` live at once, so
memory stays bounded however many pages are opened: a new session takes the place of the
least recently used one that is not answering a request (only when every session is busy
is a new one refused). A reloaded page sends the id it had, and gets that very session
back while it lives (``resume``), so reloads do not use up sessions.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

from playground.session import Session
from playground.settings import BadParameter, Settings

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")


class UnknownSession(LookupError):
    """No live session has this id (it expired, or the server restarted)."""


class TooManySessions(RuntimeError):
    """Every slot is taken by a session that is still in use."""


class SessionStore:
    """The live sessions, safe to use from every request thread at once."""

    def __init__(self, max_sessions: int = 16, idle_seconds: float = 900.0) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, s in self._sessions.items()
                    if now - s.last_used > self.idle_seconds]:
            del self._sessions[key]

    def create(self, settings: Settings) -> tuple[str, Session]:
        """A new session with ``settings``, and its id. When ``max_sessions`` are open, the
        least recently used idle one is closed to make room (its page is told 404 and
        starts a new one); TooManySessions only if every one is answering a request."""
        session = Session(settings)  # outside the lock: building the data takes a moment
        key = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            while len(self._sessions) >= self.max_sessions:
                idle = [(s.last_used, k) for k, s in self._sessions.items()
                        if not s.lock.locked()]
                if not idle:
                    raise TooManySessions(f"{self.max_sessions} sessions are all answering "
                                          "requests; try again in a moment")
                del self._sessions[min(idle)[1]]
            self._sessions[key] = session
        return key, session

    def resume(self, key: object, settings: Settings | None) -> tuple[str, Session, bool]:
        """The session ``key`` of a reloaded page, if it still lives, else a new one:
        (id, session, whether it was resumed). ``settings`` other than the session's start
        it over with them; None keeps it as it is."""
        try:
            session = self.get(key)
        except UnknownSession:
            key, session = self.create(settings or Settings())
            return key, session, False
        if settings is not None and settings != session.settings:
            session.configure(settings)
        return str(key), session, True

    def build_steps(self) -> None:
        """Build the compiled steps of the sessions' new models (``Session.prepare``):
        called by the transports once an answer has been sent, so that no answer waits
        for a build. A build that fails is left to the first training request, which
        reports it as that request's error."""
        with self._lock:
            waiting = [s for s in self._sessions.values() if s.unbuilt is not None]
        for session in waiting:
            try:
                session.build_step()
            except Exception:  # noqa: BLE001, S110 - the training request will raise it
                pass

    def get(self, key: object) -> Session:
        """The session with id ``key``, marked as just used."""
        if not isinstance(key, str) or not SESSION_ID.fullmatch(key):
            raise BadParameter("session", "expected the id the server gave this page")
        with self._lock:
            self._expire()
            session = self._sessions.get(key)
            if session is None:
                raise UnknownSession("no such session: it expired or the server restarted")
            session.last_used = time.monotonic()
            return session
