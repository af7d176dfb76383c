"""Mount the web pages on the app: static files (the style sheet, plotly.js) and each page group."""

from __future__ import annotations

from functools import lru_cache

import plotly.offline
from fastapi import FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from devolve.interfaces.web import pages, pages_accounts, pages_board, pages_books, pages_deal, pages_forecast


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    return plotly.offline.get_plotlyjs().encode("utf-8")


def install(app: FastAPI) -> None:
    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> Response:
        return Response(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    for module in (pages_deal, pages_forecast, pages_books, pages_board, pages_accounts):
        app.include_router(module.router())
