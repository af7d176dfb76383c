"""Users, passwords, sessions, API tokens and the sign-in rate limit, on a fresh database."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from devolve.accounts import passwords
from devolve.accounts.roles import PERMISSIONS, Permission, Role, allows, parse_role
from devolve.accounts.store import (AccountStore, RateLimits, SessionPolicy, SignInRefused, TooManyAttempts,
                                    check_username)
from devolve.domain.errors import InputError
from devolve.ledger.database import current_revision, head_revision, make_engine, migrate

PASSWORD = "a long test password 1"


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    engine = make_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    migrate(engine)
    yield AccountStore(engine, clock=clock, limits=RateLimits(window_s=600, per_pair=3, per_address=5, per_username=8),
                       sessions=SessionPolicy(idle_s=100, absolute_s=250, touch_every_s=10))
    engine.dispose()


def test_migration_adds_the_tables_beside_the_books(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(engine)
    with engine.connect() as c:
        tables = set(inspect(c).get_table_names())
        assert {"users", "web_sessions", "api_tokens", "login_failures", "entries", "chain_head"} <= tables
        assert current_revision(c) == head_revision()
    migrate(engine)   # idempotent
    engine.dispose()


def test_users_are_added_once_with_a_checked_name(store):
    user = store.add_user("Alice", PASSWORD, role=Role.ANALYST, organisation="la-bolton", display_name="Alice A")
    assert user.username == "alice" and user.role is Role.ANALYST and user.active
    with pytest.raises(InputError, match="already a user"):
        store.add_user("alice", PASSWORD, role=Role.AUDITOR, organisation="la-bolton")
    for bad in ("a", "-x", "has space", "x" * 65, "é"):
        with pytest.raises(InputError):
            check_username(bad)
    assert [u.username for u in store.list_users()] == ["alice"]
    assert store.count_users(Role.ANALYST) == 1 and store.count_users(Role.AUDITOR) == 0


@pytest.mark.parametrize("password", ["short", "a" * 20, "x" * 1025])
def test_weak_passwords_are_refused(password):
    with pytest.raises(InputError):
        passwords.hash_password(password)


def test_passwords_are_argon2id_and_checked(store):
    hashed = passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert passwords.verify_password(hashed, PASSWORD)
    assert not passwords.verify_password(hashed, PASSWORD + "!")
    assert not passwords.verify_password(None, PASSWORD)
    assert not passwords.verify_password("not a hash", PASSWORD)


def test_authenticate_and_rate_limit(store, clock):
    store.add_user("bob", PASSWORD, role=Role.ANALYST, organisation="la-bury")
    assert store.authenticate("BOB", PASSWORD, "10.0.0.1").username == "bob"
    for _ in range(3):
        with pytest.raises(SignInRefused):
            store.authenticate("bob", "wrong password here", "10.0.0.1")
    with pytest.raises(TooManyAttempts) as blocked:
        store.authenticate("bob", PASSWORD, "10.0.0.1")          # even the right password, while blocked
    assert 0 < blocked.value.retry_after <= 600
    assert store.authenticate("bob", PASSWORD, "10.0.0.2").username == "bob"   # another address is not blocked
    clock.now += 601
    assert store.authenticate("bob", PASSWORD, "10.0.0.1").username == "bob"   # the window has passed


def test_one_address_guessing_many_names_is_blocked(store):
    for i in range(5):
        with pytest.raises(SignInRefused):
            store.authenticate(f"guess{i}", "wrong password here", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        store.authenticate("guess-next", "wrong password here", "10.9.9.9")


def test_success_clears_the_failures_of_that_address(store):
    store.add_user("carol", PASSWORD, role=Role.ANALYST, organisation="la-bury")
    for _ in range(2):
        with pytest.raises(SignInRefused):
            store.authenticate("carol", "wrong password here", "10.0.0.3")
    store.authenticate("carol", PASSWORD, "10.0.0.3")
    for _ in range(2):
        with pytest.raises(SignInRefused):
            store.authenticate("carol", "wrong password here", "10.0.0.3")
    assert store.authenticate("carol", PASSWORD, "10.0.0.3").username == "carol"


def test_sessions_expire_when_idle_and_absolutely(store, clock):
    user = store.add_user("dan", PASSWORD, role=Role.AUDITOR, organisation="nhs-england")
    signed = store.start_session(user)
    assert store.session_user(signed.token)[0].username == "dan"
    assert store.session_user(signed.token)[1] == signed.csrf_token
    clock.now += 90
    assert store.session_user(signed.token) is not None        # touched: idle expiry slides to +100
    clock.now += 90
    assert store.session_user(signed.token) is not None
    clock.now += 90                                             # 270 s after the start: past the absolute limit
    assert store.session_user(signed.token) is None
    other = store.start_session(user)
    clock.now += 101
    assert store.session_user(other.token) is None              # idle too long
    assert store.session_user("forged") is None and store.session_user(None) is None


def test_ending_a_session_and_deactivating_a_user(store):
    user = store.add_user("erin", PASSWORD, role=Role.ANALYST, organisation="la-bury")
    first, second = store.start_session(user), store.start_session(user)
    store.end_session(first.token)
    assert store.session_user(first.token) is None and store.session_user(second.token) is not None
    store.set_active("erin", False)
    assert store.session_user(second.token) is None
    with pytest.raises(SignInRefused):
        store.authenticate("erin", PASSWORD, "10.0.0.4")
    store.set_active("erin", True)
    assert store.authenticate("erin", PASSWORD, "10.0.0.4").active


def test_changing_the_password_ends_sessions(store):
    user = store.add_user("fay", PASSWORD, role=Role.ANALYST, organisation="la-bury")
    session = store.start_session(user)
    store.set_password("fay", "a brand new password")
    assert store.session_user(session.token) is None
    assert store.authenticate("fay", "a brand new password", "10.0.0.5").username == "fay"


def test_api_tokens(store):
    store.add_user("gus", PASSWORD, role=Role.FINANCE_OFFICER, organisation="la-wigan")
    secret, token = store.create_token("gus", "nightly import")
    assert secret.startswith("dvl_") and token.prefix == secret[:12]
    assert store.token_user(secret).username == "gus"
    assert store.token_user(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert store.token_user("not-a-token") is None
    assert store.revoke_token("gus", token.id) and not store.revoke_token("gus", token.id)
    assert store.token_user(secret) is None
    assert store.list_tokens("gus")[0].revoked
    with pytest.raises(InputError):
        store.create_token("gus", "   ")
    with pytest.raises(InputError, match="no user"):
        store.create_token("nobody", "x")


def test_role_table():
    assert parse_role("Finance officer") is Role.FINANCE_OFFICER and parse_role("board-member") is Role.BOARD_MEMBER
    with pytest.raises(InputError):
        parse_role("superuser")
    assert PERMISSIONS[Role.PUBLIC] == {Permission.VIEW_PUBLISHED}
    auditor = PERMISSIONS[Role.AUDITOR]
    assert not auditor & {Permission.POST_BOOKS, Permission.RUN_SCENARIOS, Permission.MANAGE_USERS, Permission.VOTE,
                          Permission.PROPOSE, Permission.GOVERN, Permission.CLOSE_YEAR}
    assert [r for r in Role if allows(r, Permission.VOTE)] == [Role.BOARD_MEMBER]
    assert [r for r in Role if allows(r, Permission.POST_BOOKS)] == [Role.FINANCE_OFFICER]
    assert all(allows(r, Permission.VIEW_PUBLISHED) for r in Role)


def test_the_migration_creates_exactly_the_declared_tables(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from devolve.accounts import schema

    engine = make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    migrate(engine)
    ours = set(schema.metadata.tables)
    with engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), schema.metadata)
    engine.dispose()

    def table_of(item) -> str | None:
        first = item[0] if isinstance(item, list) else item      # column changes come as lists
        for part in first[1:]:
            if isinstance(part, str) and part in ours:
                return part
            table = getattr(part, "table", None)
            name = table.name if table is not None else getattr(part, "name", None)
            if isinstance(name, str):
                return name
        return None

    mine = [d for d in diff if table_of(d) in ours]
    assert mine == []
