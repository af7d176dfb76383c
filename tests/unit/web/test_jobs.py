"""The background job queue on its own: progress, results, failures, limits."""

from __future__ import annotations

import threading
import time

import pytest

from devolve.domain.errors import InputError
from devolve.services.jobs import DONE, FAILED, JobQueue, JobsBusy


def wait(job, seconds: float = 10.0):
    deadline = time.time() + seconds
    while not job.finished and time.time() < deadline:
        time.sleep(0.01)
    return job


def test_a_job_reports_progress_and_its_result():
    queue = JobQueue()

    def work(progress):
        for done in (10, 20, 30):
            progress(done, 30)
        return "answer"

    job = wait(queue.submit("demo", work, params={"n": 30}, owner="ana", total=30))
    assert job.status == DONE and job.result == "answer" and job.fraction == 1.0
    assert job.to_json()["progress"] == {"done": 30, "total": 30, "fraction": 1.0}
    assert queue.get(job.id) is job and queue.list() == [job]
    queue.shutdown()


def test_failures_are_recorded_not_raised():
    queue = JobQueue()

    def bad_input(progress):
        raise InputError("runs must be positive")

    def bug(progress):
        raise ZeroDivisionError

    refused = wait(queue.submit("demo", bad_input, params={}))
    crashed = wait(queue.submit("demo", bug, params={}))
    assert refused.status == FAILED and refused.error == "runs must be positive"
    assert crashed.status == FAILED and "internal error (ZeroDivisionError)" in crashed.error
    queue.shutdown()


def test_too_many_pending_jobs_are_refused():
    queue = JobQueue(max_pending=2)
    gate = threading.Event()
    first = queue.submit("slow", lambda p: gate.wait(10), params={})
    queue.submit("slow", lambda p: gate.wait(10), params={})
    with pytest.raises(JobsBusy):
        queue.submit("slow", lambda p: None, params={})
    gate.set()
    wait(first)
    queue.shutdown()


def test_only_the_newest_results_are_kept():
    queue = JobQueue(keep=5, keep_results=2)
    jobs = [wait(queue.submit("demo", lambda p, i=i: i, params={"i": i})) for i in range(7)]
    kept = [j for j in queue.list() if j.result is not None]
    assert len(queue.list()) <= 5
    assert len(kept) <= 2 and jobs[-1].result == 6
    assert all(j.result_dropped for j in queue.list() if j.result is None)
    queue.shutdown()
