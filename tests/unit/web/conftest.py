"""One app for the web tests: books with the demo year, a user of every role (see webapp_helpers)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from webapp_helpers import make_web_env, sign_in


@pytest.fixture(scope="session")
def web_env(tmp_path_factory):
    return make_web_env(tmp_path_factory.mktemp("web"))


@pytest.fixture
def client(web_env):
    """An anonymous browser. (Not used as a context manager: that would run the app's shutdown,
    and the app is shared by the whole session.)"""
    c = TestClient(web_env.app)
    yield c
    c.close()


@pytest.fixture
def signed_in(web_env):
    """A factory: a TestClient signed in as a user, and its CSRF token."""
    clients = []

    def make(username: str):
        c = TestClient(web_env.app)
        clients.append(c)
        return c, sign_in(c, username)

    yield make
    for c in clients:
        c.close()
