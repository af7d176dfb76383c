"""Adding users of a partnership: organisations and seats are checked against the deal."""

from __future__ import annotations

import pytest

from devolve.accounts.roles import Role
from devolve.domain.errors import InputError
from devolve.services import accounts

PASSWORD = "a long test password 1"


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    store = accounts.open_accounts(f"sqlite:///{tmp_path_factory.mktemp('svc') / 'a.db'}")
    deal = accounts.partnership_deal(store)
    yield store, deal
    store.engine.dispose()


def test_without_books_the_partnership_is_greater_manchester(opened):
    store, deal = opened
    assert accounts.books_deal_id(store) is None
    assert deal.id == accounts.DEFAULT_DEAL


def test_organisation_must_be_a_partner(opened):
    store, deal = opened
    with pytest.raises(InputError, match="not a partner"):
        accounts.add_user(store, deal, "x1", PASSWORD, role="analyst", organisation="acme-ltd")


def test_board_members_sit_for_a_member_of_the_board(opened):
    store, deal = opened
    member = accounts.add_user(store, deal, "board1", PASSWORD, role="board_member", organisation="la-salford")
    assert member["seat"] == "la-salford"
    other_seat = accounts.add_user(store, deal, "board2", PASSWORD, role=Role.BOARD_MEMBER,
                                   organisation="la-salford", seat="gm-vcse")
    assert other_seat["seat"] == "gm-vcse"
    with pytest.raises(InputError, match="no seat"):
        accounts.add_user(store, deal, "board3", PASSWORD, role="board_member", organisation="la-salford",
                          seat="acme-ltd")
    with pytest.raises(InputError, match="only board members"):
        accounts.add_user(store, deal, "ana", PASSWORD, role="analyst", organisation="la-salford", seat="la-salford")


def test_organisations_are_the_partners(opened):
    _, deal = opened
    listed = accounts.organisations(deal)
    assert {o["id"] for o in listed} == {p.id for p in deal.partners}
