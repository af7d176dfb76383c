"""JSON answers kept as bytes: a summary that many clients ask for is serialised (and gzipped) once,
not on every request. Keys name what the body depends on (the deal, the level, the year; for the
books, their chain head), so a changed input is a new key."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Hashable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from devolve.services.workspace import Memo

GZIP_FROM_BYTES = 1024
_bodies = Memo(512)


def encode(data: Any) -> tuple[bytes, bytes | None]:
    body = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=str).encode("utf-8")
    return body, gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_FROM_BYTES else None


async def cached_json(request: Request, key: Hashable, compute: Callable[[], Any]) -> Response:
    """The body for ``key``: from memory when it is there (no thread hop: the common case under
    load), else computed and encoded on a worker thread, so the event loop never waits on it."""
    found = _bodies.peek(key)
    plain, packed = found if found is not None else await run_in_threadpool(_bodies.get, key,
                                                                            lambda: encode(compute()))
    if packed is not None and "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(plain, media_type="application/json", headers={"Vary": "Accept-Encoding"})
