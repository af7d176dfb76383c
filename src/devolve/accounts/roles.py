"""Roles and what each may do: one table, read by the web app, the API and the tests.

=================  ===========================================================================
role               may
=================  ===========================================================================
public             read the published pages: the deal, neighbourhoods, fair shares, the
                   published forecasts, indicators, the published accounts, the audit check
                   and the board's decision log (anyone who is not signed in is ``public``)
analyst            read everything that is not about users; run forecast scenarios
finance_officer    as analyst; post transactions and cost returns *for their own
                   organisation* (the entry's partner or provider); close a year when their
                   organisation manages the pool
board_member       as analyst; propose; vote *for their own seat* on the board
administrator      as analyst; add and deactivate users; close votes and record decisions
auditor            read everything, users included; change nothing (no scenario runs either)
=================  ===========================================================================

Every signed-in user may manage their own API tokens (a token acts with its owner's role).
"""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    PUBLIC = "public"
    ANALYST = "analyst"
    FINANCE_OFFICER = "finance_officer"
    BOARD_MEMBER = "board_member"
    ADMINISTRATOR = "administrator"
    AUDITOR = "auditor"

    @property
    def title(self) -> str:
        return ROLE_TITLES[self]


ROLE_TITLES = {Role.PUBLIC: "Public", Role.ANALYST: "Analyst", Role.FINANCE_OFFICER: "Finance officer",
               Role.BOARD_MEMBER: "Board member", Role.ADMINISTRATOR: "Administrator", Role.AUDITOR: "Auditor"}


class Permission(str, Enum):
    VIEW_PUBLISHED = "view_published"      # published pages and endpoints
    VIEW_INTERNAL = "view_internal"        # unpublished books (trial balance, open book, journal), job lists
    VIEW_USERS = "view_users"              # the list of users and their roles
    RUN_SCENARIOS = "run_scenarios"        # forecast scenarios as background jobs
    POST_BOOKS = "post_books"              # post / import entries for the user's own organisation
    CLOSE_YEAR = "close_year"              # year-end close (also needs the pool manager's organisation)
    MANAGE_USERS = "manage_users"          # add, deactivate users
    PROPOSE = "propose"                    # table a proposal to the board
    VOTE = "vote"                          # vote, for the user's own seat
    GOVERN = "govern"                      # close a vote, enact a decision (the board's secretariat)
    OWN_TOKENS = "own_tokens"              # create and revoke one's own API tokens


_READ = {Permission.VIEW_PUBLISHED, Permission.VIEW_INTERNAL, Permission.OWN_TOKENS}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.PUBLIC: frozenset({Permission.VIEW_PUBLISHED}),
    Role.ANALYST: frozenset(_READ | {Permission.RUN_SCENARIOS}),
    Role.FINANCE_OFFICER: frozenset(_READ | {Permission.RUN_SCENARIOS, Permission.POST_BOOKS, Permission.CLOSE_YEAR}),
    Role.BOARD_MEMBER: frozenset(_READ | {Permission.RUN_SCENARIOS, Permission.PROPOSE, Permission.VOTE}),
    Role.ADMINISTRATOR: frozenset(_READ | {Permission.RUN_SCENARIOS, Permission.VIEW_USERS, Permission.MANAGE_USERS,
                                           Permission.GOVERN}),
    Role.AUDITOR: frozenset(_READ | {Permission.VIEW_USERS}),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def parse_role(text: str) -> Role:
    """A role from its name (``finance_officer``, ``finance-officer`` or ``Finance officer``)."""
    from devolve.domain.errors import InputError

    key = str(text).strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Role(key)
    except ValueError:
        raise InputError(f"unknown role '{text}': choose one of {', '.join(r.value for r in Role)}") from None
