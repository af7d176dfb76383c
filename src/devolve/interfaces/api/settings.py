"""The web app's settings, as data (what ``devolve serve`` passes in; tests build their own)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devolve.ledger.database import DEFAULT_URL


@dataclass(frozen=True)
class AppSettings:
    db_url: str = DEFAULT_URL
    #: the partnership's deal when the database holds no books yet (else the books' deal is served)
    deal: str | Path | None = None
    data_dir: str | Path | None = None
    seed: int = 0
    #: cookies marked ``Secure`` (sent over HTTPS only); ``devolve serve`` turns this off on loopback
    secure_cookies: bool = True
    #: threads running background jobs (forecasts), and how many may wait or run at once
    job_workers: int = 1
    max_pending_jobs: int = 8
    #: build neighbourhoods and the plan's forecast when the app starts, not on the first request
    warm: bool = False
    #: the largest upload accepted by the books' import (bytes)
    max_upload_bytes: int = 20 * 1024 * 1024
