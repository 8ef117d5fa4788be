"""Same rng, same answer: serially, in a process pool, on Dask.

Every array of every result is compared exactly.  The batch sizes differ
between the serial and the parallel runs; the batch sizes alone are varied in
tests/properties/test_batch_invariance.py.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import basesim

POSITION = "actors.syria.basing.position"
TURKEY = "actors.turkey.influence.syria"


def run_all(scenario, executor, *, compare_batch, sweep_batch):
    """A simulation, a comparison, a sweep (with invalid points) and a sensitivity analysis."""
    simulation = basesim.simulate(
        scenario,
        n_runs=1_500,
        keep_runs=150,
        batch_size=compare_batch,
        executor=executor,
        progress=False,
        rng=5,
    )
    comparison = basesim.compare(
        {"report": scenario, "quiet": scenario.replace({TURKEY: 0.0})},
        n_runs=1_200,
        keep_runs=150,
        batch_size=compare_batch,
        executor=executor,
        progress=False,
        rng=5,
    )
    sweep = basesim.sweep(
        scenario,
        {POSITION: (0.0, 0.6), TURKEY: (0.0, 0.9)},
        design="sobol",
        n_points=16,
        n_runs=60,
        batch_size=sweep_batch,
        executor=executor,
        progress=False,
        rng=5,
    )
    sensitivity = basesim.sensitivity(
        scenario,
        {POSITION: (0.0, 0.6), "actors.russia.concession": (0.6, 3.0)},
        outcome="basing=reduced presence",
        n=8,
        n_runs=60,
        n_resamples=99,
        batch_size=sweep_batch,
        executor=executor,
        progress=False,
        rng=5,
    )
    return simulation, comparison, sweep, sensitivity


def assert_identical(a, b):
    sim_a, cmp_a, sweep_a, sens_a = a
    sim_b, cmp_b, sweep_b, sens_b = b
    for name in ("joint", "rounds", "package_hist"):
        np.testing.assert_array_equal(getattr(sim_a.tally, name), getattr(sim_b.tally, name))
    for name in ("package", "agreed", "round", "proposer", "sampled"):
        np.testing.assert_array_equal(getattr(sim_a.runs, name), getattr(sim_b.runs, name))
    np.testing.assert_array_equal(cmp_a.paired_sum, cmp_b.paired_sum)
    np.testing.assert_array_equal(cmp_a.paired_sumsq, cmp_b.paired_sumsq)
    for x, y in zip(cmp_a.results, cmp_b.results, strict=True):
        for name, array in x.tally.arrays().items():
            np.testing.assert_array_equal(array, y.tally.arrays()[name], err_msg=name)
        for name in ("package", "agreed", "round", "proposer", "sampled"):
            np.testing.assert_array_equal(
                getattr(x.runs, name), getattr(y.runs, name), err_msg=name
            )
    np.testing.assert_array_equal(sweep_a.points, sweep_b.points)
    np.testing.assert_array_equal(sweep_a.counts, sweep_b.counts)
    assert sweep_a.failures == sweep_b.failures
    for name in ("first_order", "total_order", "first_order_interval", "total_order_interval"):
        np.testing.assert_array_equal(getattr(sens_a, name), getattr(sens_b, name), err_msg=name)


@pytest.fixture(scope="module")
def serial(scenario):
    results = run_all(scenario, None, compare_batch=None, sweep_batch=None)
    # The sweep is not trivial: some points fail, the others differ.
    assert 0 < len(results[2].failures) < 16
    return results


def test_process_pool(scenario, serial):
    # "spawn": a fresh interpreter per worker, as on macOS and Windows, and no
    # fork of a process that may already run threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        assert_identical(serial, run_all(scenario, pool, compare_batch=400, sweep_batch=120))


@pytest.mark.slow
def test_dask_local_cluster(scenario, serial):
    distributed = pytest.importorskip("dask.distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        assert_identical(serial, run_all(scenario, executor, compare_batch=400, sweep_batch=120))
