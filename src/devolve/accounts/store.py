"""The accounts' repository: users, sessions, API tokens and the sign-in rate limit, in SQL.

Secrets (session cookies, API tokens) are random 256-bit values shown once; only their SHA-256 is
stored, so a copy of the database does not let anyone sign in. Writes take the database's write
lock at their start (SQLite ``BEGIN IMMEDIATE``), like the books'.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from devolve.accounts import passwords
from devolve.accounts import schema as t
from devolve.accounts.roles import Role
from devolve.domain.errors import DevolveError, InputError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "dvl_"


class SignInRefused(DevolveError):
    """The user name or password is wrong, or the user is deactivated (one message for all three)."""

    def __init__(self) -> None:
        super().__init__("the user name or password is not right")


class TooManyAttempts(DevolveError):
    """Too many failed sign-ins from this address or for this user name in the window."""

    def __init__(self, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        super().__init__(f"too many failed sign-ins: try again in {self.retry_after} seconds")


@dataclass(frozen=True)
class RateLimits:
    """Failed sign-ins allowed in ``window_s``: per user name and address, per address, per user name."""

    window_s: float = 15 * 60
    per_pair: int = 5
    per_address: int = 20
    per_username: int = 50


@dataclass(frozen=True)
class SessionPolicy:
    idle_s: float = 2 * 3600
    absolute_s: float = 12 * 3600
    touch_every_s: float = 60


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    organisation: str
    role: Role
    seat: str | None
    active: bool
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {"username": self.username, "display_name": self.display_name, "organisation": self.organisation,
                "role": self.role.value, "seat": self.seat, "active": self.active,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at))}


@dataclass(frozen=True)
class SignedIn:
    """A session just started: the cookie's secret (shown once), its CSRF token and expiry."""

    token: str
    csrf_token: str
    expires_at: float
    user: User


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    prefix: str
    created_at: float
    last_used_at: float | None
    revoked: bool

    def to_json(self) -> dict[str, Any]:
        def stamp(value: float | None) -> str | None:
            return None if value is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
        return {"id": self.id, "name": self.name, "prefix": self.prefix, "created_at": stamp(self.created_at),
                "last_used_at": stamp(self.last_used_at), "revoked": self.revoked}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two secrets (``None`` never matches)."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check_username(username: str) -> str:
    name = str(username).strip().lower()
    if not USERNAME.match(name):
        raise InputError(f"user name '{username}' must be 2-64 characters: lower-case letters, digits, '.', '_' "
                         "or '-', starting with a letter or digit")
    return name


def _user(row) -> User:
    return User(int(row.id), row.username, row.display_name, row.organisation, Role(row.role), row.seat,
                bool(row.active), float(row.created_at))


class AccountStore:
    """Users, sessions and tokens in one database (the books')."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time, limits: RateLimits | None = None,
                 sessions: SessionPolicy | None = None):
        self.engine = engine
        self.clock = clock
        self.limits = limits or RateLimits()
        self.sessions = sessions or SessionPolicy()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            connection.execution_options(books_write=True)   # SQLite: BEGIN IMMEDIATE (see ledger.database)
            with connection.begin():
                yield connection

    # ---- users ---------------------------------------------------------------------------------
    def add_user(self, username: str, password: str, *, role: Role, organisation: str, seat: str | None = None,
                 display_name: str | None = None) -> User:
        name = check_username(username)
        hashed = passwords.hash_password(password)
        now = self.clock()
        try:
            with self._write() as c:
                c.execute(t.users.insert().values(username=name, display_name=(display_name or name).strip()[:200],
                                                  organisation=organisation, role=Role(role).value, seat=seat,
                                                  password_hash=hashed, active=True, created_at=now,
                                                  password_changed_at=now))
        except IntegrityError:
            raise InputError(f"there is already a user called '{name}'") from None
        return self.get_user(name)

    def get_user(self, username: str) -> User | None:
        with self.engine.connect() as c:
            row = c.execute(select(t.users).where(t.users.c.username == str(username).strip().lower())).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self.engine.connect() as c:
            return [_user(r) for r in c.execute(select(t.users).order_by(t.users.c.username))]

    def count_users(self, role: Role | None = None) -> int:
        query = select(func.count()).select_from(t.users)
        if role is not None:
            query = query.where(t.users.c.role == role.value, t.users.c.active.is_(True))
        with self.engine.connect() as c:
            return int(c.execute(query).scalar_one())

    def set_active(self, username: str, active: bool) -> User:
        user = self._existing(username)
        with self._write() as c:
            c.execute(update(t.users).where(t.users.c.id == user.id).values(active=bool(active)))
            if not active:
                c.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == user.id))
        return self.get_user(user.username)

    def set_password(self, username: str, password: str) -> User:
        user = self._existing(username)
        hashed = passwords.hash_password(password)
        with self._write() as c:
            c.execute(update(t.users).where(t.users.c.id == user.id).values(password_hash=hashed,
                                                                           password_changed_at=self.clock()))
            c.execute(delete(t.web_sessions).where(t.web_sessions.c.user_id == user.id))
        return user

    def _existing(self, username: str) -> User:
        user = self.get_user(username)
        if user is None:
            raise InputError(f"there is no user called '{username}'")
        return user

    # ---- signing in ----------------------------------------------------------------------------
    def _blocked_for(self, c: Connection, username: str, address: str, now: float) -> float:
        """Seconds until this sign-in may be tried again (0: it may now): the failures in the window
        for this user name and address, for this address, and for this user name, against their caps."""
        f = t.login_failures.c
        recent = f.at >= now - self.limits.window_s
        limits = self.limits
        waits = []
        for where, cap in (((f.username == username, f.address == address), limits.per_pair),
                           ((f.address == address,), limits.per_address),
                           ((f.username == username,), limits.per_username)):
            count, first = c.execute(select(func.count(), func.min(f.at)).where(recent, *where)).first()
            if count >= cap:
                waits.append(first + limits.window_s - now)
        return max(waits, default=0.0)

    def authenticate(self, username: str, password: str, address: str) -> User:
        """The user, when the password is right, the user active and the rate limit not reached.

        Raises :class:`TooManyAttempts` (before checking the password) or :class:`SignInRefused`."""
        name = str(username or "").strip().lower()[:64]
        address = str(address or "unknown")[:64]
        now = self.clock()
        since = now - self.limits.window_s
        with self.engine.connect() as c:
            wait = self._blocked_for(c, name, address, now)
            row = c.execute(select(t.users).where(t.users.c.username == name)).first()
        if wait > 0:
            raise TooManyAttempts(wait)
        ok = passwords.verify_password(row.password_hash if row is not None else None, password or "")
        if not ok or not row.active:
            with self._write() as c:
                c.execute(delete(t.login_failures).where(t.login_failures.c.at < since))
                c.execute(t.login_failures.insert().values(username=name, address=address, at=now))
            raise SignInRefused()
        with self._write() as c:
            c.execute(delete(t.login_failures).where(t.login_failures.c.username == name,
                                                     t.login_failures.c.address == address))
            if passwords.needs_rehash(row.password_hash):
                c.execute(update(t.users).where(t.users.c.id == row.id).values(
                    password_hash=passwords.hash_password(password)))
        return _user(row)

    # ---- sessions ------------------------------------------------------------------------------
    def start_session(self, user: User) -> SignedIn:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.clock()
        expires = min(now + self.sessions.idle_s, now + self.sessions.absolute_s)
        with self._write() as c:
            c.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < now))
            c.execute(t.web_sessions.insert().values(id_hash=digest(token), user_id=user.id, csrf_token=csrf,
                                                     created_at=now, last_seen_at=now, expires_at=expires))
        return SignedIn(token, csrf, expires, user)

    def session_user(self, token: str | None) -> tuple[User, str] | None:
        """The active user of a session cookie and the session's CSRF token; ``None`` when the
        session is unknown, expired or its user deactivated. Slides the idle expiry forward."""
        if not token or len(token) > 200:
            return None
        key = digest(token)
        s = t.web_sessions.c
        with self.engine.connect() as c:
            row = c.execute(select(t.users, s.csrf_token, s.created_at.label("session_created"), s.last_seen_at,
                                   s.expires_at).join(t.web_sessions, s.user_id == t.users.c.id)
                            .where(s.id_hash == key)).first()
        now = self.clock()
        if row is None:
            return None
        if row.expires_at < now or not row.active:
            self.end_session(token)
            return None
        if now - row.last_seen_at >= self.sessions.touch_every_s:
            expires = min(now + self.sessions.idle_s, row.session_created + self.sessions.absolute_s)
            with self._write() as c:
                c.execute(update(t.web_sessions).where(s.id_hash == key).values(last_seen_at=now, expires_at=expires))
        return _user(row), row.csrf_token

    def end_session(self, token: str | None) -> None:
        if token:
            with self._write() as c:
                c.execute(delete(t.web_sessions).where(t.web_sessions.c.id_hash == digest(token)))

    # ---- API tokens ----------------------------------------------------------------------------
    def create_token(self, username: str, name: str) -> tuple[str, ApiToken]:
        """A new API token for the user: the secret (shown once) and its record."""
        user = self._existing(username)
        label = str(name or "").strip()
        if not label or len(label) > 200:
            raise InputError("give the token a name of 1-200 characters (what the script is)")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.clock()
        with self._write() as c:
            result = c.execute(t.api_tokens.insert().values(user_id=user.id, name=label, token_hash=digest(secret),
                                                            prefix=secret[:12], created_at=now))
            token_id = int(result.inserted_primary_key[0])
        return secret, ApiToken(token_id, label, secret[:12], now, None, False)

    def token_user(self, secret: str | None) -> User | None:
        if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        a = t.api_tokens.c
        with self.engine.connect() as c:
            row = c.execute(select(t.users, a.id.label("token_id"), a.last_used_at)
                            .join(t.api_tokens, a.user_id == t.users.c.id)
                            .where(a.token_hash == digest(secret), a.revoked_at.is_(None))).first()
        if row is None or not row.active:
            return None
        now = self.clock()
        if row.last_used_at is None or now - row.last_used_at >= self.sessions.touch_every_s:
            with self._write() as c:
                c.execute(update(t.api_tokens).where(a.id == row.token_id).values(last_used_at=now))
        return _user(row)

    def list_tokens(self, username: str) -> list[ApiToken]:
        user = self._existing(username)
        a = t.api_tokens.c
        with self.engine.connect() as c:
            rows = c.execute(select(t.api_tokens).where(a.user_id == user.id).order_by(a.id)).all()
        return [ApiToken(int(r.id), r.name, r.prefix, float(r.created_at), r.last_used_at, r.revoked_at is not None)
                for r in rows]

    def revoke_token(self, username: str, token_id: int) -> bool:
        """Revoke one of the user's tokens; ``False`` when the user has no such (unrevoked) token."""
        user = self._existing(username)
        a = t.api_tokens.c
        with self._write() as c:
            result = c.execute(update(t.api_tokens).where(and_(a.id == int(token_id), a.user_id == user.id,
                                                               a.revoked_at.is_(None)))
                               .values(revoked_at=self.clock()))
        return result.rowcount > 0
