"""The books' pages: the published accounts and the audit check (anyone); balances and the open book
(the partnership's staff and auditors); posting, importing and closing a year (finance officers,
for their own organisation)."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from devolve.domain.errors import InputError
from devolve.interfaces.api.security import ClosesYear, Internal, PostsBooks, Published, State
from devolve.interfaces.web.pages import render
from devolve.ledger.records import CLOSE_KINDS, TRANSACTION_KINDS
from devolve.ledger.reports import BY
from devolve.ledger.store import BooksUnavailable
from devolve.services import postings

POSTING_ROWS = 4
Year = Annotated[str | None, Query(max_length=9)]


def _year_or_none(year: str | None) -> str | None:
    return year or None


def _appended(result: dict) -> list[tuple[str, str]]:
    return [("Entries in the file", f"{result['entries']:,}"), ("Added", f"{result['added']:,}"),
            ("Already in the books", f"{result['already_in_books']:,}"),
            ("Entries in the books", f"{result['head_seq']:,}"),
            ("Head hash", result["head_hash"])]


def router() -> APIRouter:
    web = APIRouter(include_in_schema=False)

    @web.get("/books", response_class=HTMLResponse)
    def books(request: Request, who: Published, state: State) -> HTMLResponse:
        try:
            published = state.books.published()
        except BooksUnavailable:
            published = None
        return render(request, "books.html", who=who, title="Books", b=published)

    @web.get("/books/verify", response_class=HTMLResponse)
    def verify(request: Request, who: Published, state: State) -> HTMLResponse:
        return render(request, "books_verify.html", who=who, title="Check the audit trail", v=state.books.verify())

    @web.get("/books/balances", response_class=HTMLResponse)
    def balances(request: Request, who: Internal, state: State, by: Annotated[str, Query(max_length=20)] = "account",
                 year: Year = None) -> HTMLResponse:
        result = state.books.balance(by if by in BY else "account", _year_or_none(year))
        return render(request, "books_balances.html", who=who, title="Balances", r=result, groupings=BY,
                      years=[y.label for y in state.deal.financial_years])

    @web.get("/books/open-book", response_class=HTMLResponse)
    def open_book(request: Request, who: Internal, state: State, year: Year = None) -> HTMLResponse:
        return render(request, "books_open_book.html", who=who, title="Open book",
                      r=state.books.open_book(_year_or_none(year)), years=[y.label for y in state.deal.financial_years])

    @web.get("/books/post", response_class=HTMLResponse)
    def post_form(request: Request, who: PostsBooks, state: State) -> HTMLResponse:
        published = state.books.published()
        closed = set(published["closed_years"])
        names = {p.id: p.name for p in state.deal.partners}
        kinds = sorted(TRANSACTION_KINDS - CLOSE_KINDS - {"reversal"})
        return render(request, "books_post.html", who=who, title="Post to the books", rows=POSTING_ROWS,
                      key=f"web-{date.today():%Y%m%d}-{secrets.token_hex(4)}", kinds=kinds,
                      today=date.today().isoformat(), organisation_name=names.get(who.organisation, who.organisation),
                      example=[("Assets:Pool:Bank", "", ""), (f"Income:Pool:Contributions:{who.organisation}", "", "")],
                      pool_manager=who.organisation == state.deal.governance.pool_manager,
                      open_years=[y.label for y in state.deal.financial_years if y.label not in closed])

    @web.post("/books/post", response_class=HTMLResponse)
    def post(request: Request, who: PostsBooks, state: State,
             key: Annotated[str, Form(max_length=200)], kind: Annotated[str, Form(max_length=30)],
             date_: Annotated[str, Form(alias="date", max_length=10)],
             description: Annotated[str, Form(max_length=2000)] = "",
             reference: Annotated[str, Form(max_length=200)] = "",
             decision: Annotated[str, Form(max_length=200)] = "",
             account: Annotated[list[str], Form()] = [],  # noqa: B006
             debit: Annotated[list[str], Form()] = [],  # noqa: B006
             credit: Annotated[list[str], Form()] = []) -> HTMLResponse:  # noqa: B006
        lines = []
        for i, name in enumerate(account[:50]):
            name = name.strip()
            d = debit[i].strip() if i < len(debit) else ""
            c = credit[i].strip() if i < len(credit) else ""
            if not name and not d and not c:
                continue
            if d and c:
                raise InputError(f"posting line {i + 1}: give a debit or a credit, not both")
            lines.append({"account": name, **({"debit": d} if d else {"credit": c} if c else {})})
        transaction = {"key": key.strip(), "kind": kind.strip(), "date": date_.strip(), "partner": who.organisation,
                       "reference": reference.strip(), "description": description.strip(), "postings": lines}
        if decision.strip():
            transaction["decision"] = decision.strip()
        result = postings.post_data(state.settings.db_url, {"transactions": [transaction]},
                                    organisation=who.organisation)
        return render(request, "books_posted.html", who=who, title="Posted", heading="Transaction posted", r=result,
                      details=_appended(result))

    @web.post("/books/import", response_class=HTMLResponse)
    def upload(request: Request, who: PostsBooks, state: State, file: Annotated[UploadFile, File()]) -> HTMLResponse:
        content = file.file.read(state.settings.max_upload_bytes + 1)
        if len(content) > state.settings.max_upload_bytes:
            raise InputError(f"the file is larger than {state.settings.max_upload_bytes:,} bytes")
        result = postings.import_upload(state.settings.db_url, file.filename or "upload.csv", content,
                                        organisation=who.organisation)
        return render(request, "books_posted.html", who=who, title="Imported", heading=f"Imported {result['file']}",
                      r=result, details=_appended(result))

    @web.post("/books/close-year", response_class=HTMLResponse)
    def close_year(request: Request, who: ClosesYear, state: State,
                   year: Annotated[str, Form(max_length=9)]) -> HTMLResponse:
        result = postings.close_year_for(state.settings.db_url, year, organisation=who.organisation)
        details = [("Year", result.get("year", year)), ("Entries in the books", f"{result['entries']:,}"),
                   ("Head hash", result["head_hash"])]
        return render(request, "books_posted.html", who=who, title="Year closed", heading=f"{year} closed", r={},
                      details=details)

    return web
