"""Use cases of the web app's accounts: open them beside the books, add users of the partnership's
organisations (checked against the deal), sign in and out, API tokens.

The partnership is the deal whose books are in the database (or the one named, when there are no
books yet); a user's organisation must be one of its partners, and a board member's seat one of
its board's members.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select

from devolve.accounts.roles import Role, parse_role
from devolve.accounts.store import AccountStore
from devolve.domain.errors import InputError
from devolve.domain.records import Deal
from devolve.ledger import schema as books_tables
from devolve.ledger.database import check_reachable, describe_url, make_engine, migrate
from devolve.packs.loader import load_deal

DEFAULT_DEAL = "greater-manchester-2016"


def open_accounts(db_url: str) -> AccountStore:
    """The accounts in the database at ``db_url``, its schema brought up to date first (the books'
    tables come with it, empty until ``devolve ledger init``)."""
    engine = make_engine(db_url)
    check_reachable(engine, db_url)
    migrate(engine)
    return AccountStore(engine)


def books_deal_id(store: AccountStore) -> str | None:
    """The deal whose books are in the same database, or ``None`` before ``devolve ledger init``."""
    with store.engine.connect() as c:
        if not inspect(c).has_table("books"):
            return None
        row = c.execute(select(books_tables.books.c.deal_id).where(books_tables.books.c.id == 1)).first()
    return None if row is None else row.deal_id


def partnership_deal(store: AccountStore, deal_ref: str | Path | None = None,
                     data_dir: str | Path | None = None) -> Deal:
    """The deal the app serves: the books' deal; else ``deal_ref``; else Greater Manchester.
    Refuses a ``deal_ref`` that disagrees with the books."""
    kept = books_deal_id(store)
    if kept is not None and deal_ref is not None:
        deal = load_deal(deal_ref, data_dir=data_dir)
        if deal.id != kept:
            raise InputError(f"the books in this database are kept for {kept}, not {deal.id}")
        return deal
    return load_deal(kept or deal_ref or DEFAULT_DEAL, data_dir=data_dir)


def organisations(deal: Deal) -> list[dict[str, str]]:
    return [{"id": p.id, "name": p.name, "type": p.type.value} for p in deal.partners]


def check_membership(deal: Deal, role: Role, organisation: str, seat: str | None) -> str | None:
    """The seat to record: a board member's seat (their organisation's by default); none otherwise."""
    partners = {p.id for p in deal.partners}
    if organisation not in partners:
        raise InputError(f"organisation '{organisation}' is not a partner of {deal.id} "
                         f"(e.g. {', '.join(sorted(partners)[:3])})")
    members = set(deal.governance.members)
    if role is Role.BOARD_MEMBER:
        chosen = seat or organisation
        if chosen not in members:
            raise InputError(f"'{chosen}' has no seat on the {deal.governance.board}: give --seat, one of its members")
        return chosen
    if seat:
        raise InputError("only board members have a seat")
    return None


def add_user(store: AccountStore, deal: Deal, username: str, password: str, *, role: str | Role, organisation: str,
             seat: str | None = None, display_name: str | None = None) -> dict[str, Any]:
    """A new user of ``deal``'s partnership (password policy, organisation and seat checked)."""
    chosen = role if isinstance(role, Role) else parse_role(role)
    seat = check_membership(deal, chosen, str(organisation or "").strip(), (seat or "").strip() or None)
    user = store.add_user(username, password, role=chosen, organisation=str(organisation).strip(), seat=seat,
                          display_name=display_name)
    return {**user.to_json(), "deal": deal.id}


def add_user_at(db_url: str, username: str, password: str, *, role: str, organisation: str, seat: str | None = None,
                display_name: str | None = None, deal_ref: str | Path | None = None,
                data_dir: str | Path | None = None) -> dict[str, Any]:
    """:func:`add_user` on the database at ``db_url`` (what ``devolve users add`` calls)."""
    store = open_accounts(db_url)
    try:
        deal = partnership_deal(store, deal_ref, data_dir)
        return {**add_user(store, deal, username, password, role=role, organisation=organisation, seat=seat,
                           display_name=display_name), "db": describe_url(db_url)}
    finally:
        store.engine.dispose()


def list_users_at(db_url: str) -> list[dict[str, Any]]:
    store = open_accounts(db_url)
    try:
        return [u.to_json() for u in store.list_users()]
    finally:
        store.engine.dispose()


def create_token_at(db_url: str, username: str, name: str) -> dict[str, Any]:
    """A new API token for ``username`` (the secret is in the result, and nowhere else)."""
    store = open_accounts(db_url)
    try:
        secret, token = store.create_token(username, name)
        return {"username": username, "token": secret, **token.to_json()}
    finally:
        store.engine.dispose()


__all__ = ["DEFAULT_DEAL", "add_user", "add_user_at", "books_deal_id", "check_membership", "create_token_at",
           "list_users_at", "open_accounts", "organisations", "partnership_deal"]
