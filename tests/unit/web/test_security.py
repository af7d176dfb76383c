"""Sessions, cookies, CSRF, sign-in rate limiting, headers and redirects."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from webapp_helpers import PASSWORD, csrf_from, sign_in

from devolve.accounts.roles import Role
from devolve.interfaces.api.app import create_app
from devolve.interfaces.api.settings import AppSettings
from devolve.services import accounts as accounts_service


@pytest.fixture(scope="module")
def fresh_app(tmp_path_factory):
    """An app over a database without books, served as if over HTTPS (secure cookies)."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
    store = accounts_service.open_accounts(db_url)
    deal = accounts_service.partnership_deal(store)
    for name in ("limited", "victim", "leaver"):
        accounts_service.add_user(store, deal, name, PASSWORD, role=Role.ANALYST, organisation="la-bury")
    store.engine.dispose()
    return create_app(AppSettings(db_url=db_url, secure_cookies=True))


def test_session_cookie_is_httponly_samesite_and_rotated(client, web_env):
    login = client.get("/login")
    csrf_cookie = login.headers["set-cookie"]
    assert csrf_cookie.startswith("devolve-csrf=") and "HttpOnly" in csrf_cookie and "SameSite=lax" in csrf_cookie
    csrf = csrf_from(login.text)
    response = client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": csrf,
                                           "next": "/fair-shares"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/fair-shares"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("devolve-session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    first = client.cookies.get("devolve-session")
    session_csrf = csrf_from(client.get("/").text)
    assert session_csrf != csrf, "signing in must give the session its own CSRF token"
    client.post("/login", data={"username": "analyst", "password": PASSWORD, "csrf_token": session_csrf,
                                "next": "/"}, follow_redirects=False)
    assert client.cookies.get("devolve-session") != first, "a new sign-in must start a new session"
    stale = TestClient(web_env.app, cookies={"devolve-session": first})
    assert stale.get("/api/v1/me").json()["username"] is None, "the replaced session must be ended"


def test_secure_deployment_uses_host_prefixed_secure_cookies(fresh_app):
    c = TestClient(fresh_app, base_url="https://testserver")
    page = c.get("/login")
    assert page.headers["set-cookie"].startswith("__Host-devolve-csrf=") and "Secure" in page.headers["set-cookie"]
    response = c.post("/login", data={"username": "victim", "password": PASSWORD, "csrf_token": csrf_from(page.text),
                                      "next": "/"}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-devolve-session=") and "Secure" in cookie and "Path=/" in cookie


def test_sign_out_ends_the_session(signed_in, web_env):
    c, csrf = signed_in("analyst")
    session = c.cookies.get("devolve-session")
    assert c.get("/api/v1/me").json()["username"] == "analyst"
    out = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(web_env.app, cookies={"devolve-session": session})
    assert replay.get("/api/v1/me").json()["role"] == "public"


def test_login_needs_the_csrf_token(client):
    client.get("/login")
    response = client.post("/login", data={"username": "analyst", "password": PASSWORD})
    assert response.status_code == 403


def test_api_calls_with_a_session_cookie_need_the_csrf_header(signed_in):
    c, csrf = signed_in("analyst")
    body = {"scenarios": ["plan"], "runs": 10, "seed": 0}
    assert c.post("/api/v1/deals/greater-manchester-2016/forecasts", json=body).status_code == 403
    ok = c.post("/api/v1/deals/greater-manchester-2016/forecasts", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 202


def test_wrong_password_and_unknown_user_read_the_same(client):
    csrf = csrf_from(client.get("/login").text)
    wrong = client.post("/login", data={"username": "analyst", "password": "not the password", "csrf_token": csrf})
    nobody = client.post("/login", data={"username": "nobody-here", "password": "not the password",
                                         "csrf_token": csrf})
    assert wrong.status_code == nobody.status_code == 401
    message = "The user name or password is not right"
    assert message in wrong.text and message in nobody.text


def test_sign_in_is_rate_limited(fresh_app):
    c = TestClient(fresh_app, base_url="https://testserver")
    csrf = csrf_from(c.get("/login").text)
    for _ in range(5):
        assert c.post("/login", data={"username": "limited", "password": "wrong password!", "csrf_token": csrf}
                      ).status_code == 401
    blocked = c.post("/login", data={"username": "limited", "password": PASSWORD, "csrf_token": csrf})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "too many failed sign-ins" in blocked.text.lower()
    other = c.post("/login", data={"username": "victim", "password": PASSWORD, "csrf_token": csrf},
                   follow_redirects=False)
    assert other.status_code == 303, "another user from the same address is not locked out by one user's failures"


def test_deactivated_users_lose_their_session(fresh_app):
    c = TestClient(fresh_app, base_url="https://testserver")
    sign_in(c, "leaver")
    assert c.get("/api/v1/me").json()["username"] == "leaver"
    fresh_app.state.devolve.accounts.set_active("leaver", False)
    assert c.get("/api/v1/me").json()["username"] is None
    csrf = csrf_from(c.get("/login").text)
    again = c.post("/login", data={"username": "leaver", "password": PASSWORD, "csrf_token": csrf})
    assert again.status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example",
                                    "javascript:alert(1)"])
def test_sign_in_never_redirects_off_site(client, target):
    csrf = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": csrf,
                                           "next": target}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_security_headers_on_pages_and_api(client):
    for path in ("/", "/api/v1/deals"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["cache-control"] == "no-store"


def test_the_database_keeps_no_secret_in_the_clear(web_env):
    from sqlalchemy import create_engine, text
    engine = create_engine(web_env.db_url)
    with engine.connect() as c:
        hashes = [r[0] for r in c.execute(text("SELECT password_hash FROM users"))]
        tokens = [r[0] for r in c.execute(text("SELECT token_hash FROM api_tokens"))]
    engine.dispose()
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not set(web_env.tokens.values()) & set(tokens)
