"""Background jobs for work that takes longer than a web request should (a forecast of many runs):
submit, watch progress, fetch the result.

Jobs run on a small pool of threads inside the process and are kept in memory (the most recent
``keep`` of them); a restart forgets them. When ``max_pending`` jobs are already waiting or running,
a new one is refused with :class:`JobsBusy`, so a flood of requests cannot queue unbounded work.
Only the newest ``keep_results`` finished jobs keep their result (a forecast of 20,000 runs holds
about 50 MB); older ones keep their record, and say the result was let go.
"""

from __future__ import annotations

import secrets
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from devolve.domain.errors import DevolveError

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class JobsBusy(DevolveError):
    """Too many jobs are waiting or running; try again shortly."""


@dataclass
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    owner: str | None
    status: str = QUEUED
    done: int = 0
    total: int = 0
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    error: str | None = None
    result: Any = None
    result_dropped: bool = False

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    @property
    def fraction(self) -> float:
        if self.status == DONE:
            return 1.0
        return self.done / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        def stamp(value: float | None) -> str | None:
            return None if value is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
        return {"id": self.id, "kind": self.kind, "params": self.params, "owner": self.owner, "status": self.status,
                "progress": {"done": self.done, "total": self.total, "fraction": round(self.fraction, 4)},
                "created_at": stamp(self.created_at), "started_at": stamp(self.started_at),
                "finished_at": stamp(self.finished_at), "error": self.error}


class JobQueue:
    def __init__(self, *, workers: int = 1, max_pending: int = 8, keep: int = 200, keep_results: int = 10):
        self.max_pending = max_pending
        self.keep = keep
        self.keep_results = keep_results
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="devolve-job")

    def submit(self, kind: str, work: Callable[[Callable[[int, int], None]], Any], *, params: dict[str, Any],
               owner: str | None = None, total: int = 0) -> Job:
        """Run ``work(progress)`` in the background; ``progress(done, total)`` updates the job."""
        with self._lock:
            pending = sum(1 for j in self._jobs.values() if not j.finished)
            if pending >= self.max_pending:
                raise JobsBusy(f"{pending} jobs are already waiting or running; try again in a minute")
            job = Job(secrets.token_hex(8), kind, dict(params), owner, total=total)
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                oldest = next((k for k, j in self._jobs.items() if j.finished), None)
                if oldest is None:
                    break
                self._jobs.pop(oldest)
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable) -> None:
        job.status, job.started_at = RUNNING, time.time()

        def progress(done: int, total: int) -> None:
            job.done, job.total = int(done), int(total)

        try:
            job.result = work(progress)
            job.done = job.total = max(job.total, job.done)
            job.status = DONE
        except DevolveError as exc:
            job.error, job.status = str(exc), FAILED
        except Exception as exc:  # a bug: keep the process serving, record what happened
            job.error = f"internal error ({type(exc).__name__}); see the server log"
            job.status = FAILED
            traceback.print_exc()
        finally:
            job.finished_at = time.time()
            with self._lock:
                holding = [j for j in self._jobs.values() if j.finished and j.result is not None]
                for old in holding[:max(0, len(holding) - self.keep_results)]:
                    old.result, old.result_dropped = None, True

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(str(job_id))

    def list(self, kind: str | None = None) -> list[Job]:
        with self._lock:
            return [j for j in reversed(self._jobs.values()) if kind is None or j.kind == kind]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["DONE", "FAILED", "QUEUED", "RUNNING", "Job", "JobQueue", "JobsBusy"]
