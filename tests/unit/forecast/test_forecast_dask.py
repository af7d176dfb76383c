"""The forecast on Dask: the same numbers on this process, one worker or two; bad addresses fail clearly."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from distributed import LocalCluster

from devolve.domain.errors import InputError
from devolve.packs.loader import load_deal
from devolve.services import forecast as service

RUNS = 120   # chunks of 32, 32, 32 and 24


@pytest.fixture(scope="module")
def deal(tmp_path_factory):
    return load_deal("greater-manchester-2016", data_dir=tmp_path_factory.mktemp("no-data"))


@pytest.fixture(scope="module")
def local(deal):
    return service.run_forecast(deal, scenario="plan", runs=RUNS, seed=3)


def _cluster(workers: int) -> LocalCluster:
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=False, dashboard_address=None,
                        silence_logs=logging.ERROR)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_dask_cluster_gives_the_same_numbers_as_this_process(deal, local, workers):
    with _cluster(workers) as cluster:
        seen = []
        result = service.run_forecast(deal, scenario="plan", runs=RUNS, seed=3, scheduler=cluster.scheduler_address,
                                      progress=lambda done, total: seen.append((done, total)))
    assert result.runs.equals(local.runs)
    assert result.decomposition.equals(local.decomposition)
    assert result.forecast.schemes.equals(local.forecast.schemes)
    assert seen[-1] == (RUNS, RUNS) and result.execution == "dask scheduler"


@pytest.mark.slow
def test_a_local_cluster_of_worker_processes_gives_the_same_numbers(deal, local):
    """Worker processes receive the model by pickling: the path `--workers N` takes."""
    result = service.run_forecast(deal, scenario="plan", runs=RUNS, seed=3, workers=2)
    assert result.runs.equals(local.runs)
    np.testing.assert_array_equal(result.runs["gap_gbp"].to_numpy(), local.runs["gap_gbp"].to_numpy())
    assert result.to_json()["execution"] == "local dask cluster"


@pytest.mark.parametrize("runs", [1, 31, 120, 1000, 4321])
def test_the_chunks_cover_every_run_once_in_order_shrinking_towards_the_end(runs):
    parts = service.chunks(runs)
    assert np.array_equal(np.concatenate(parts), np.arange(runs))
    sizes = [p.size for p in parts]
    assert max(sizes) <= service.CHUNK_RUNS
    assert all(a >= b for a, b in zip(sizes[:-1], sizes[1:]))             # big first, small last
    assert all(s >= service.MIN_CHUNK_RUNS for s in sizes[:-1])
    assert [p.size for p in service.chunks(runs)] == sizes                  # the runs alone decide


def test_an_unreachable_scheduler_is_a_clear_error(deal, monkeypatch):
    monkeypatch.setattr(service, "SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(InputError, match="cannot start or reach the Dask scheduler"):
        service.run_forecast(deal, runs=2, scheduler="tcp://127.0.0.1:9")


def test_workers_and_a_scheduler_together_are_refused(deal):
    with pytest.raises(InputError, match="not both"):
        service.run_forecast(deal, runs=2, workers=2, scheduler="tcp://127.0.0.1:9")
