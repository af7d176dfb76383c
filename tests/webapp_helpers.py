"""Shared by the web app's unit tests and its browser tests: a books database with the synthetic
demo year, a user for every role, the app, and signing in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from devolve.accounts.roles import Role
from devolve.interfaces.api.app import create_app
from devolve.interfaces.api.settings import AppSettings
from devolve.services import accounts as accounts_service
from devolve.services import governance
from devolve.services.ledger import open_books

DEAL = "greater-manchester-2016"
PASSWORD = "a long test password 1"
POOL_MANAGER = "ca-greater-manchester"

#: One user per role (the finance officer works for the pool manager, so may also close a year),
#: and a second finance officer of another organisation, to test "own organisation only".
USERS = {
    "analyst": (Role.ANALYST, POOL_MANAGER),
    "finance": (Role.FINANCE_OFFICER, POOL_MANAGER),
    "board": (Role.BOARD_MEMBER, "la-bolton"),
    "admin": (Role.ADMINISTRATOR, POOL_MANAGER),
    "auditor": (Role.AUDITOR, "nhs-england"),
    "public": (Role.PUBLIC, "gm-patients"),
    "bolton-finance": (Role.FINANCE_OFFICER, "la-bolton"),
}
ROLE_USERS = {role: name for name, (role, _) in USERS.items() if name != "bolton-finance"}


@dataclass
class WebEnv:
    db_url: str
    app: object
    tokens: dict[str, str]


def make_web_env(folder: Path, *, secure_cookies: bool = False) -> WebEnv:
    """Books with the demo year at ``folder/books.db``, every user, an API token each, and the app."""
    db_url = f"sqlite:///{folder / 'books.db'}"
    open_books(db_url, DEAL, demo=True)
    store = accounts_service.open_accounts(db_url)
    deal = accounts_service.partnership_deal(store)
    tokens = {}
    for name, (role, organisation) in USERS.items():
        accounts_service.add_user(store, deal, name, PASSWORD, role=role, organisation=organisation,
                                  display_name=f"Test {name}")
        tokens[name] = store.create_token(name, "tests")[0]
    store.engine.dispose()
    app = create_app(AppSettings(db_url=db_url, secure_cookies=secure_cookies))
    return WebEnv(db_url, app, tokens)


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return found.group(1)


def sign_in(client, username: str, password: str = PASSWORD) -> str:
    """Sign ``client`` (a TestClient) in; return the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password, "next": "/",
                                           "csrf_token": token}, follow_redirects=False)
    if response.status_code != 303:
        raise AssertionError(f"signing in as {username} failed: {response.status_code} {response.text[:300]}")
    return csrf_from(client.get("/").text)


def open_virement(db_url: str, title: str) -> str:
    """Table a small virement in Bolton for 2017/18 (open for votes); its id."""
    doc = {"kind": "virement", "title": title, "proposer": "la-bolton", "date": "2017-06-01", "year": "2017/18",
           "from": "Pool:emergency_admission:E08000001", "to": "Pool:home_care_hour:E08000001", "amount_gbp": 50_000}
    return governance.propose(db_url, doc, on=date(2017, 6, 1))["id"]
