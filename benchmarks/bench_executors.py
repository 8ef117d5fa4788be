"""Executors: one thread, every thread, a process pool and Dask, on the same runs.

Simulates the same runs of a scenario (same ``rng``) in this process on one
thread and on every thread, on a ``ProcessPoolExecutor`` and on a Dask
``LocalCluster`` of ``--workers`` single-threaded workers, after a warm-up
that loads the compiled month in every worker.  Prints runs per second, the
ratio to one thread, Dask's ratio to the pool, what one default task sends
back, and checks that every way gives the same tally to the bit.  A
benchmark, not a test: the figures depend on the machine and its load.

    python benchmarks/bench_executors.py                    # 200,000 runs
    python benchmarks/bench_executors.py --runs 1000000     # the issue's size
    python benchmarks/bench_executors.py --no-dask
"""

from __future__ import annotations

import argparse
import multiprocessing
import pickle
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor

import numpy as np

import basesim
from basesim.engine.compiled import batch_size_for, compile_scenario
from basesim.experiments.tasks import DEFAULT_BATCH, batch_tasks, run_task, run_task_tally


def timed(run: Callable[[], basesim.SimulationResult]) -> tuple[float, basesim.SimulationResult]:
    start = time.perf_counter()
    res = run()
    return time.perf_counter() - start, res


def on(
    scn: basesim.Scenario, n_runs: int, executor: Executor | None
) -> tuple[float, basesim.SimulationResult]:
    """Seconds for ``n_runs`` runs on ``executor`` (after a warm-up on it), and the result."""
    basesim.simulate(scn, n_runs=4096, rng=0, keep_runs=0, executor=executor, batch_size=1024)
    return timed(
        lambda: basesim.simulate(scn, n_runs=n_runs, rng=1, keep_runs=0, executor=executor)
    )


def threads(scn: basesim.Scenario, n_runs: int, n: int) -> tuple[float, basesim.SimulationResult]:
    before = basesim.get_threads()
    basesim.set_threads(n)
    try:
        return on(scn, n_runs, None)
    finally:
        basesim.set_threads(before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="syria-2025")
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=basesim.get_threads())
    parser.add_argument("--no-dask", action="store_true", help="leave Dask out")
    args = parser.parse_args(argv)

    scn = basesim.load_scenario(args.scenario)
    print(
        f"basesim {basesim.__version__}, Python {sys.version.split()[0]}, {args.workers} workers"
    )
    print(f"scenario {scn.name}: {args.runs:,} runs, same rng everywhere")
    size = batch_size_for(compile_scenario(scn), DEFAULT_BATCH["batch"])
    (task,) = batch_tasks(
        scn.to_toml(), np.random.SeedSequence(1), engine="batch", start=0, stop=size, size=size,
        keep=0,
    )  # fmt: skip
    records = len(pickle.dumps(run_task(task)))
    tallied = len(pickle.dumps(run_task_tally(task)))
    print(
        f"a task of {size:,} runs sends back {tallied / 2**10:,.0f} KiB "
        f"(its runs' records would be {records / 2**20:,.1f} MiB)"
    )
    print()

    rows: list[tuple[str, float, basesim.SimulationResult]] = []
    rows.append(("in this process, 1 thread", *threads(scn, args.runs, 1)))
    rows.append(
        (f"in this process, {args.workers} threads", *threads(scn, args.runs, args.workers))
    )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        rows.append((f"process pool, {args.workers} workers", *on(scn, args.runs, pool)))
    if not args.no_dask:
        from dask.distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):  # fmt: skip
            rows.append(
                (
                    f"Dask LocalCluster, {args.workers} workers of 1 thread",
                    *on(scn, args.runs, client.get_executor()),
                )
            )

    one = rows[0][1]
    print("| where | seconds | runs/s | ratio to 1 thread |")
    print("|---|---|---|---|")
    for label, seconds, _ in rows:
        print(f"| {label} | {seconds:,.1f} | {args.runs / seconds:,.0f} | {one / seconds:,.2f} |")
    if len(rows) == 4:
        print(f"\nDask / process pool: {rows[2][1] / rows[3][1]:,.2f}")
    first = rows[0][2].tally.arrays()
    same = all(
        all(np.array_equal(res.tally.arrays()[name], value) for name, value in first.items())
        for _, _, res in rows[1:]
    )
    print(f"same tally to the bit everywhere: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
