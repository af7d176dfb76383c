"""``/api/v1/books…``: the pooled fund's books in the app's database.

Published: the accounts' summary (five-year position, head hash) and the audit check. The
partnership's staff and auditors: balances by any grouping, the open book of providers' costs.
A finance officer posts, imports (all or nothing, for their own organisation) and — for the pool
manager — closes a year.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from devolve.domain.errors import InputError
from devolve.interfaces.api.models import ERRORS, AppendedOut, CloseYear, Entries, VerifyOut
from devolve.interfaces.api.responses import cached_json
from devolve.interfaces.api.security import ClosesYear, Internal, PostsBooks, Published, State
from devolve.ledger.reports import BY
from devolve.services import postings

By = Enum("By", {b: b for b in BY}, type=str)
YearQuery = Annotated[str | None, Query(max_length=9, description="A financial year, e.g. 2016/17 (default: all)")]


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1/books", tags=["books"], responses=ERRORS)

    @api.get("", summary="The published accounts: size, head hash, closed years, the five-year position")
    async def published(request: Request, who: Published, state: State) -> Response:
        head = state.books.head() if state.books.local else await run_in_threadpool(state.books.head)
        return await cached_json(request, ("books", state.settings.db_url, head), state.books.published)

    @api.get("/verify", response_model=VerifyOut, summary="Recompute the hash chain and the kept balances")
    def verify(who: Published, state: State) -> dict[str, Any]:
        return state.books.verify()

    @api.get("/balances", summary="The trial balance, grouped, with budget against actual")
    def balances(who: Internal, state: State, by: By = By("account"), year: YearQuery = None) -> dict[str, Any]:
        return state.books.balance(by.value, year)

    @api.get("/open-book", summary="Providers' open-book costs against the prices the pool paid")
    def open_book(who: Internal, state: State, year: YearQuery = None) -> dict[str, Any]:
        return state.books.open_book(year)

    @api.post("/entries", status_code=201, response_model=AppendedOut,
              summary="Post transactions and cost returns for your organisation (all or nothing)")
    def post(entries: Entries, who: PostsBooks, state: State) -> dict[str, Any]:
        if not entries.transactions and not entries.cost_returns:
            raise InputError("give at least one transaction or cost return")
        return postings.post_data(state.settings.db_url, entries.model_dump(), organisation=who.organisation)

    @api.post("/imports", status_code=201, response_model=AppendedOut,
              summary="Import a CSV, Excel, JSON or YAML file of entries for your organisation (all or nothing)")
    def upload(file: Annotated[UploadFile, File(description="CSV, .xlsx, .json or .yaml")], who: PostsBooks,
               state: State) -> dict[str, Any]:
        content = file.file.read(state.settings.max_upload_bytes + 1)
        if len(content) > state.settings.max_upload_bytes:
            raise InputError(f"the file is larger than {state.settings.max_upload_bytes:,} bytes")
        return postings.import_upload(state.settings.db_url, file.filename or "upload.csv", content,
                                      organisation=who.organisation)

    @api.post("/close-year", summary="Apply the risk share and carry-forward to a year and close it "
                                     "(the pool manager's finance officer)")
    def close_year(body: CloseYear, who: ClosesYear, state: State) -> dict[str, Any]:
        result = postings.close_year_for(state.settings.db_url, body.year, organisation=who.organisation)
        result.pop("db", None)
        return result

    return api


__all__ = ["router"]
