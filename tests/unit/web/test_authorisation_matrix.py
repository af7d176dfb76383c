"""Every role × every endpoint: who is let in and who is turned away.

The expected sets are written out here, by hand, from the roles in docs/web.md — not read from the
code — so a change to who may do what has to change this table too. A route the table does not
know fails the completeness test.

"Allowed" means the role check let the request through: the answer is neither the denial
(API: 401 anonymous, 403 signed in; pages: a redirect to sign in, or 403) nor a server error.
Requests for allowed roles are made harmless where they would change something (an unknown id, a
year outside the deal, an empty form), so the test leaves the books as they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from webapp_helpers import DEAL, ROLE_USERS, sign_in

from devolve.accounts.roles import Role

ANON = "anonymous"
EVERYONE = frozenset({ANON, *Role})
STAFF = frozenset({Role.ANALYST, Role.FINANCE_OFFICER, Role.BOARD_MEMBER, Role.ADMINISTRATOR, Role.AUDITOR})
RUNNERS = frozenset({Role.ANALYST, Role.FINANCE_OFFICER, Role.BOARD_MEMBER, Role.ADMINISTRATOR})
FINANCE = frozenset({Role.FINANCE_OFFICER})
USER_READERS = frozenset({Role.ADMINISTRATOR, Role.AUDITOR})
ADMIN = frozenset({Role.ADMINISTRATOR})
BOARD = frozenset({Role.BOARD_MEMBER})


@dataclass(frozen=True)
class Call:
    method: str
    route: str                           # the route's path as the app declares it
    allowed: frozenset
    url: str | None = None               # the concrete URL (default: the route)
    json: dict | None = None
    data: dict | None = None
    files: dict | None = None
    params: dict = field(default_factory=dict)


D = f"/api/v1/deals/{DEAL}"
BAD_CSV = {"file": ("bad.csv", "not,a,ledger\n1,2,3\n", "text/csv")}
CALLS = [
    # --- API: published
    Call("GET", "/api/v1/deals", EVERYONE),
    Call("GET", "/api/v1/organisations", EVERYONE),
    Call("GET", "/api/v1/deals/{deal_id}", EVERYONE, D),
    Call("GET", "/api/v1/deals/{deal_id}/neighbourhoods", EVERYONE, f"{D}/neighbourhoods"),
    Call("GET", "/api/v1/deals/{deal_id}/neighbourhoods.geojson", EVERYONE, f"{D}/neighbourhoods.geojson"),
    Call("GET", "/api/v1/deals/{deal_id}/allocation", EVERYONE, f"{D}/allocation"),
    Call("GET", "/api/v1/deals/{deal_id}/scenarios", EVERYONE, f"{D}/scenarios"),
    Call("GET", "/api/v1/deals/{deal_id}/forecast", EVERYONE, f"{D}/forecast"),
    Call("GET", "/api/v1/deals/{deal_id}/indicators", EVERYONE, f"{D}/indicators"),
    Call("GET", "/api/v1/books", EVERYONE),
    Call("GET", "/api/v1/books/verify", EVERYONE),
    Call("GET", "/api/v1/me", EVERYONE),
    # --- API: the partnership's staff
    Call("POST", "/api/v1/deals/{deal_id}/forecasts", RUNNERS, f"{D}/forecasts", json={"scenarios": ["no-such"]}),
    Call("GET", "/api/v1/jobs", STAFF),
    Call("GET", "/api/v1/jobs/{job_id}", STAFF, "/api/v1/jobs/unknown"),
    Call("GET", "/api/v1/jobs/{job_id}/result", STAFF, "/api/v1/jobs/unknown/result"),
    Call("GET", "/api/v1/books/balances", STAFF),
    Call("GET", "/api/v1/books/open-book", STAFF),
    Call("GET", "/api/v1/me/tokens", STAFF),
    Call("POST", "/api/v1/me/tokens", STAFF, json={"name": "matrix"}),
    Call("DELETE", "/api/v1/me/tokens/{token_id}", STAFF, "/api/v1/me/tokens/999999"),
    Call("POST", "/api/v1/books/entries", FINANCE, json={"transactions": []}),
    Call("POST", "/api/v1/books/imports", FINANCE, files=BAD_CSV),
    Call("POST", "/api/v1/books/close-year", FINANCE, json={"year": "1999/00"}),
    Call("GET", "/api/v1/users", USER_READERS),
    Call("POST", "/api/v1/users", ADMIN, json={"username": "matrix", "password": "short", "role": "analyst",
                                              "organisation": "la-bury"}),
    Call("PUT", "/api/v1/users/{username}/active", ADMIN, "/api/v1/users/nobody-at-all/active", json={"active": True}),
    # --- API: the board
    Call("GET", "/api/v1/board", EVERYONE),
    Call("GET", "/api/v1/board/decisions", EVERYONE),
    Call("GET", "/api/v1/board/verify", EVERYONE),
    Call("GET", "/api/v1/board/proposals", STAFF),
    Call("GET", "/api/v1/board/proposals/{pid}", STAFF, "/api/v1/board/proposals/P-9999"),
    Call("POST", "/api/v1/board/proposals", BOARD, json={"proposal": {}}),
    Call("POST", "/api/v1/board/proposals/{pid}/open", BOARD, "/api/v1/board/proposals/P-9999/open", json={}),
    Call("POST", "/api/v1/board/proposals/{pid}/votes", BOARD, "/api/v1/board/proposals/P-9999/votes",
         json={"choice": "yes"}),
    Call("POST", "/api/v1/board/proposals/{pid}/close", ADMIN, "/api/v1/board/proposals/P-9999/close", json={}),
    Call("POST", "/api/v1/board/proposals/{pid}/enact", ADMIN, "/api/v1/board/proposals/P-9999/enact", json={}),
    # --- pages: published
    Call("GET", "/", EVERYONE),
    Call("GET", "/neighbourhoods", EVERYONE),
    Call("GET", "/fair-shares", EVERYONE),
    Call("GET", "/fair-shares/map.png", EVERYONE),
    Call("GET", "/forecast", EVERYONE),
    Call("GET", "/indicators", EVERYONE),
    Call("GET", "/books", EVERYONE),
    Call("GET", "/books/verify", EVERYONE),
    Call("GET", "/login", EVERYONE),
    Call("POST", "/login", EVERYONE, data={"username": "nobody-at-all", "password": "x"}),
    Call("POST", "/logout", EVERYONE, data={}),
    Call("GET", "/static/plotly.min.js", EVERYONE),
    Call("GET", "/board", EVERYONE),
    Call("GET", "/board/verify", EVERYONE),
    # --- pages: staff
    Call("POST", "/forecast", RUNNERS, data={"runs": "not a number"}),
    Call("GET", "/forecast/runs/{job_id}", STAFF, "/forecast/runs/unknown"),
    Call("GET", "/books/balances", STAFF),
    Call("GET", "/books/open-book", STAFF),
    Call("GET", "/account", STAFF),
    Call("POST", "/account/tokens", STAFF, data={"name": ""}),
    Call("POST", "/account/tokens/{token_id}/revoke", STAFF, "/account/tokens/999999/revoke", data={}),
    Call("GET", "/books/post", FINANCE),
    Call("POST", "/books/post", FINANCE, data={"key": "", "kind": "", "date": ""}),
    Call("POST", "/books/import", FINANCE, files=BAD_CSV),
    Call("POST", "/books/close-year", FINANCE, data={"year": "1999/00"}),
    Call("GET", "/board/proposals/{pid}", STAFF, "/board/proposals/P-9999"),
    Call("GET", "/board/propose", BOARD),
    Call("POST", "/board/propose", BOARD, data={"kind": "nothing", "title": "matrix"}),
    Call("POST", "/board/proposals/{pid}/vote", BOARD, "/board/proposals/P-9999/vote", data={"choice": "maybe"}),
    Call("POST", "/board/proposals/{pid}/close", ADMIN, "/board/proposals/P-9999/close", data={}),
    Call("POST", "/board/proposals/{pid}/enact", ADMIN, "/board/proposals/P-9999/enact", data={}),
    Call("GET", "/admin/users", USER_READERS),
    Call("POST", "/admin/users", ADMIN, data={"username": "matrix", "password": "short", "role": "analyst",
                                              "organisation": "la-bury"}),
    Call("POST", "/admin/users/{username}/active", ADMIN, "/admin/users/nobody-at-all/active", data={"active": "true"}),
]


def api_routes(routes):
    """Every APIRoute, also inside included routers (newer FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from api_routes(inner.routes)


def _routes(app) -> set[tuple[str, str]]:
    return {(m, route.path) for route in api_routes(app.routes) for m in route.methods if m != "HEAD"}


def test_the_table_covers_every_route(web_env):
    declared = _routes(web_env.app)
    tabled = {(c.method, c.route) for c in CALLS}
    assert declared - tabled == set(), "routes without an expected allow/deny in the matrix"
    assert tabled - declared == set(), "the matrix lists routes the app does not have"


@pytest.fixture(scope="module")
def clients(web_env):
    """Per role: an API client (bearer token) and a browser (signed-in session, its CSRF token)."""
    out = {ANON: (TestClient(web_env.app), TestClient(web_env.app), None)}
    for role, name in ROLE_USERS.items():
        browser = TestClient(web_env.app)
        csrf = sign_in(browser, name)
        api = TestClient(web_env.app, headers={"Authorization": f"Bearer {web_env.tokens[name]}"})
        out[role] = (api, browser, csrf)
    anonymous_browser = out[ANON][1]
    anonymous_browser.get("/login")
    out[ANON] = (out[ANON][0], anonymous_browser, anonymous_browser.cookies.get("devolve-csrf"))
    yield out
    for api, browser, _ in out.values():
        api.close()
        browser.close()


def _call(web_env, clients, who, call: Call):
    api, browser, csrf = clients[who]
    is_api = call.route.startswith("/api/")
    url = call.url or call.route
    if call.route == "/logout" and who != ANON:          # signing out would end the shared session
        browser = TestClient(web_env.app)
        csrf = sign_in(browser, ROLE_USERS[who])
    client = api if is_api else browser
    data = None if call.data is None else {**call.data, "csrf_token": csrf or ""}
    if call.files is not None and not is_api:
        data = {"csrf_token": csrf or ""}
    return client.request(call.method, url, json=call.json, data=data, files=call.files, params=call.params,
                          follow_redirects=False)


def _denied(call: Call, who, response) -> bool:
    if call.route.startswith("/api/"):
        return response.status_code == (401 if who == ANON else 403)
    if who == ANON and response.status_code == 303:
        return response.headers["location"].startswith("/login?next=")
    return response.status_code == 403 and "may not" in response.text


@pytest.mark.parametrize("call", CALLS, ids=[f"{c.method} {c.route}" for c in CALLS])
def test_every_role_is_let_in_or_turned_away_as_expected(web_env, clients, call):
    wrong = []
    for who in (ANON, *ROLE_USERS):
        response = _call(web_env, clients, who, call)
        assert response.status_code < 500, f"{who}: {response.status_code} {response.text[:300]}"
        expected_allowed = who in call.allowed
        turned_away = response.status_code == 403 or (response.status_code == 401 and call.route != "/login") \
            or response.headers.get("location", "").startswith("/login?next=")
        ok = not turned_away if expected_allowed else _denied(call, who, response)
        if not ok:
            wrong.append(f"{getattr(who, 'value', who)}: expected {'allow' if expected_allowed else 'deny'}, "
                         f"got {response.status_code} {response.text[:120]!r}")
    assert not wrong, "; ".join(wrong)
