"""What the app keeps while it runs: settings, the accounts, every deal's cached results, the books'
reports and the background jobs. One per process; routes reach it as ``request.app.state.devolve``."""

from __future__ import annotations

from dataclasses import dataclass

from devolve.accounts.store import AccountStore
from devolve.domain.records import Deal
from devolve.interfaces.api.settings import AppSettings
from devolve.services.accounts import open_accounts, partnership_deal
from devolve.services.jobs import JobQueue
from devolve.services.workspace import BooksReader, DealWorkspace, Workspaces


@dataclass
class AppState:
    settings: AppSettings
    accounts: AccountStore
    deal: Deal
    workspaces: Workspaces
    books: BooksReader
    jobs: JobQueue

    @classmethod
    def open(cls, settings: AppSettings) -> AppState:
        accounts = open_accounts(settings.db_url)
        deal = partnership_deal(accounts, settings.deal, settings.data_dir)
        workspaces = Workspaces(deal, data_dir=settings.data_dir, seed=settings.seed)
        return cls(settings, accounts, deal, workspaces, BooksReader(settings.db_url),
                   JobQueue(workers=settings.job_workers, max_pending=settings.max_pending_jobs))

    @property
    def home(self) -> DealWorkspace:
        return self.workspaces.home

    def warm(self) -> None:
        """Compute what the first visitors would wait for."""
        self.home.summary()
        self.home.neighbourhoods_json()
        self.home.forecast()
        self.home.allocation_json()

    def close(self) -> None:
        self.jobs.shutdown()
        self.books.dispose()
        self.accounts.engine.dispose()
