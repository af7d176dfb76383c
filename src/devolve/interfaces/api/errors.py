"""Errors as answers: JSON for ``/api/…`` (``{"detail": …}``), a page for the web app.

Typed errors map to statuses: bad input 400, not signed in 401 (pages: a redirect to sign in),
not allowed 403, unknown deal/job/books 404, not finished 409, rule-breaking entries 422, rate
limits 429. Anything else is a bug: logged, answered 500 without details.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from devolve.accounts.store import SignInRefused, TooManyAttempts
from devolve.domain.errors import DevolveError, InputError, PackError
from devolve.interfaces.api.security import BadToken, Forbidden, NotSignedIn
from devolve.ledger.parsing import ImportRejected, problems_as_dicts
from devolve.ledger.store import BooksUnavailable, RejectedEntries
from devolve.services.jobs import JobsBusy
from devolve.services.postings import OutsideOrganisation
from devolve.services.workspace import UnknownDeal

log = logging.getLogger("devolve.web")


class NotFound(InputError):
    """No such job, user or token."""


class NotReady(InputError):
    """A job has not finished (409)."""


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _status(exc: Exception) -> int:
    if isinstance(exc, (Forbidden, OutsideOrganisation)):
        return 403
    if isinstance(exc, (UnknownDeal, NotFound, BooksUnavailable)):
        return 404
    if isinstance(exc, NotReady):
        return 409
    if isinstance(exc, (ImportRejected, RejectedEntries)):
        return 422
    if isinstance(exc, (TooManyAttempts, JobsBusy)):
        return 429
    if isinstance(exc, SignInRefused):
        return 401
    return 400


def _problems(exc: Exception) -> list[dict] | None:
    if isinstance(exc, ImportRejected):
        return problems_as_dicts(exc.problems)
    if isinstance(exc, RejectedEntries):
        return [{"file": e.key, "line": None, "field": e.rule, "expected": "an entry the books' rules accept",
                 "found": e.message} for e in exc.errors]
    return None


def answer(request: Request, status: int, message: str, *, problems: list[dict] | None = None,
           headers: dict[str, str] | None = None) -> Response:
    if is_api(request):
        body = {"detail": message}
        if problems is not None:
            body["problems"] = problems
        return JSONResponse(body, status_code=status, headers=headers)
    from devolve.interfaces.web.pages import error_page
    return error_page(request, status, message, problems=problems, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "sign in, or send an API token as 'Authorization: Bearer <token>'"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(BadToken)
    async def bad_token(request: Request, exc: BadToken) -> Response:
        return JSONResponse({"detail": "the API token is not valid (unknown, revoked, or its user deactivated)"},
                            status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return answer(request, 403, str(exc))

    @app.exception_handler(DevolveError)
    async def devolve_error(request: Request, exc: DevolveError) -> Response:
        if isinstance(exc, PackError):
            log.error("a deal pack failed to load: %s", exc)
            return answer(request, 500, "a deal pack could not be loaded; the server log says why")
        status = _status(exc)
        headers = None
        if isinstance(exc, TooManyAttempts):
            headers = {"Retry-After": str(exc.retry_after)}
        elif isinstance(exc, JobsBusy):
            headers = {"Retry-After": "30"}
        message = str(exc).splitlines()[0] if isinstance(exc, (ImportRejected, RejectedEntries)) else str(exc)
        return answer(request, status, message, problems=_problems(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else first.get("msg", "invalid request")
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=422)
        return answer(request, 400, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "there is no page here", 405: "this address does not accept that method"}.get(
            exc.status_code, str(exc.detail))
        return answer(request, exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return answer(request, 500, "something went wrong on the server; it has been logged")
