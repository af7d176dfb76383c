"""The API's request and response shapes (they make the OpenAPI document, and Schemathesis checks
responses against it). Large results (a forecast, the indicators) are plain JSON objects whose
fields are documented in docs/web.md and the CLI's ``--json`` contracts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from devolve.accounts.roles import Role
from devolve.services.workspace import MAX_RUNS


class Problem(BaseModel):
    file: str
    line: int | None = None
    field: str
    expected: str
    found: str


class ErrorOut(BaseModel):
    detail: str
    problems: list[Problem] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (400, "Bad input: the message says what to change"),
        (401, "Not signed in, or the API token is not valid"),
        (403, "The role, organisation or seat may not do this (or the CSRF token is missing)"),
        (404, "No such deal, job, user or books"),
        (409, "Not ready yet, or in conflict with what is there"),
        (422, "The request does not match the schema, or entries broke the books' rules"),
        (429, "Too many failed sign-ins, or too many jobs waiting"),
    )
}


class DealOut(BaseModel):
    id: str
    name: str
    start: str
    years: int


class ProgressOut(BaseModel):
    done: int
    total: int
    fraction: float


class JobLinks(BaseModel):
    self: str
    result: str
    page: str


class JobOut(BaseModel):
    id: str
    kind: str
    params: dict[str, Any]
    owner: str | None
    status: Literal["queued", "running", "done", "failed"]
    progress: ProgressOut
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    error: str | None
    links: JobLinks


class ForecastRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenarios: list[str] = Field(default_factory=lambda: ["plan"], max_length=8,
                                 description="Scenarios of the deal's pack, combined in order; [] is the baseline")
    runs: int = Field(500, ge=1, le=MAX_RUNS, description="Monte Carlo runs (run 0 is the central run)")
    seed: int = Field(0, ge=0, le=2**32 - 1)


class MeOut(BaseModel):
    username: str | None
    display_name: str | None
    role: Role
    organisation: str | None
    seat: str | None
    via: Literal["anonymous", "session", "token"]
    permissions: list[str]


class UserOut(BaseModel):
    username: str
    display_name: str
    organisation: str
    role: Role
    seat: str | None
    active: bool
    created_at: str


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    organisation: str = Field(min_length=1, max_length=200)
    seat: str | None = Field(None, max_length=200)
    display_name: str | None = Field(None, max_length=200)


class UserActive(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: str | None
    last_used_at: str | None
    revoked: bool


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret: shown once, send it as 'Authorization: Bearer <token>'")


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class OrganisationOut(BaseModel):
    id: str
    name: str
    type: str


class Entries(BaseModel):
    """Transactions and cost returns, as ``devolve ledger post`` reads them from JSON."""

    model_config = ConfigDict(extra="forbid")
    transactions: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)
    cost_returns: list[dict[str, Any]] = Field(default_factory=list, max_length=5000)


class CloseYear(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: str = Field(min_length=4, max_length=9, description="A financial year of the deal, e.g. 2016/17")


class AppendedOut(BaseModel):
    file: str
    entries: int
    postings: int
    added: int
    already_in_books: int
    head_seq: int
    head_hash: str


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    head_hash: str | None
    first_bad_entry: int | None
    problem: str | None
    balances_ok: bool
