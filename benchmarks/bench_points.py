"""Cost per run of sweeps and sensitivity analyses against plain simulation.

Measured in one process on ``syria-2025`` (or ``--scenario``): runs per
second of :func:`basesim.simulate`, of :func:`basesim.sweep` with many small
points, middling ones and a few large ones, and of
:func:`basesim.sensitivity` (a small Saltelli sample: ``n * (d + 2)`` points
over two parameters), with their default batch sizes; each figure's ratio to
``simulate`` in the same setting;
serially in this process (the compiled month on every core) and on a process
pool of ``--workers`` workers (one thread each).  Then the peak memory traced
in this process by each, serially.  A benchmark, not a test: the figures
depend on the machine and on what else runs on it.

    python benchmarks/bench_points.py                    # syria-2025, 2 workers
    python benchmarks/bench_points.py --runs 64000 --points 64 --big-points 16 --sens-n 8
    python benchmarks/bench_points.py --workers 4 --batch-size 4096
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

import numba
import numpy as np

import basesim

#: The two parameters varied by the sweeps and the sensitivity analysis.
PARAMETERS = {
    "actors.syria.basing.position": (0.0, 0.6),
    "actors.russia.concession": (0.6, 3.0),
}


def workloads(args: argparse.Namespace, scn: basesim.Scenario) -> list[tuple[str, int, Callable]]:
    """``(label, runs, call)`` of each measured computation; ``call(executor, seed)``."""
    d = len(PARAMETERS)
    sens_points = args.sens_n * (d + 2)

    def simulate(executor: Executor | None, seed: int) -> Any:
        return basesim.simulate(
            scn, n_runs=args.runs, keep_runs=0, executor=executor, progress=False, rng=seed
        )

    def sweep(points: int, runs: int) -> Callable:
        def call(executor: Executor | None, seed: int) -> Any:
            return basesim.sweep(
                scn,
                PARAMETERS,
                n_points=points,
                n_runs=runs,
                batch_size=args.batch_size,
                executor=executor,
                progress=False,
                rng=seed,
            )

        return call

    def sensitivity(executor: Executor | None, seed: int) -> Any:
        return basesim.sensitivity(
            scn,
            PARAMETERS,
            outcome="basing=withdrawal",
            n=args.sens_n,
            n_runs=args.sens_runs,
            n_resamples=99,
            batch_size=args.batch_size,
            executor=executor,
            progress=False,
            rng=seed,
        )

    return [
        ("simulate", args.runs, simulate),
        (
            f"sweep, {args.small_points} points x {args.small_point_runs:,} runs",
            args.small_points * args.small_point_runs,
            sweep(args.small_points, args.small_point_runs),
        ),
        (
            f"sweep, {args.points} points x {args.point_runs:,} runs",
            args.points * args.point_runs,
            sweep(args.points, args.point_runs),
        ),
        (
            f"sweep, {args.big_points} points x {args.big_point_runs:,} runs",
            args.big_points * args.big_point_runs,
            sweep(args.big_points, args.big_point_runs),
        ),
        (
            f"sensitivity, n = {args.sens_n} ({sens_points} points) x {args.sens_runs:,} runs",
            sens_points * args.sens_runs,
            sensitivity,
        ),
    ]


def warm_up(scn: basesim.Scenario, executor: Executor | None, workers: int) -> None:
    """Compile (or load) the month and the variants' code here or in every worker."""
    tasks = max(1, workers) * 4
    basesim.simulate(
        scn, n_runs=tasks * 64, batch_size=64, keep_runs=0, executor=executor, progress=False
    )
    basesim.sweep(
        scn,
        PARAMETERS,
        n_points=tasks,
        n_runs=64,
        batch_size=64,
        executor=executor,
        progress=False,
    )


def measure(
    calls: list[tuple[str, int, Callable]], executor: Executor | None, repeat: int
) -> list[float]:
    """Best runs per second of each call over ``repeat`` rounds (the calls interleaved)."""
    best = [0.0] * len(calls)
    for r in range(repeat):
        for i, (_, runs, call) in enumerate(calls):
            start = time.perf_counter()
            call(executor, r + 1)
            best[i] = max(best[i], runs / (time.perf_counter() - start))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="syria-2025")
    parser.add_argument("--runs", type=int, default=32_000, help="runs of simulate")
    parser.add_argument("--small-points", type=int, default=320, help="points of a sweep")
    parser.add_argument("--small-point-runs", type=int, default=100, help="its runs per point")
    parser.add_argument("--points", type=int, default=32, help="points of a second sweep")
    parser.add_argument("--point-runs", type=int, default=1_000, help="its runs per point")
    parser.add_argument("--big-points", type=int, default=8, help="points of a third sweep")
    parser.add_argument("--big-point-runs", type=int, default=4_000, help="its runs per point")
    parser.add_argument("--sens-n", type=int, default=4, help="sensitivity base sample size")
    parser.add_argument("--sens-runs", type=int, default=2_000, help="its runs per point")
    parser.add_argument("--workers", type=int, default=2, help="process pool workers (0: none)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="of sweep and sensitivity (default: theirs)"
    )
    args = parser.parse_args(argv)

    scn = basesim.load_scenario(args.scenario)
    cores = basesim.get_threads()
    print(
        f"basesim {basesim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {cores} threads"
    )
    print(f"scenario {scn.name}: {len(scn.actors)} actors, {len(scn.issues)} issues")
    print()
    calls = workloads(args, scn)
    warm_up(scn, None, 1)
    serial = measure(calls, None, args.repeat)
    pooled: list[float] | None = None
    if args.workers > 0:
        # "spawn": fresh interpreters, as on macOS and Windows.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
            warm_up(scn, pool, args.workers)
            pooled = measure(calls, pool, args.repeat)

    head = f"| computation | runs | in this process, {cores} threads: runs/s | ratio |"
    rule = "|---|---|---|---|"
    if pooled is not None:
        head += f" process pool, {args.workers} workers: runs/s | ratio |"
        rule += "---|---|"
    print(head)
    print(rule)
    for i, (label, runs, _) in enumerate(calls):
        row = f"| {label} | {runs:,} | {serial[i]:,.0f} | {serial[i] / serial[0]:.2f} |"
        if pooled is not None:
            row += f" {pooled[i]:,.0f} | {pooled[i] / pooled[0]:.2f} |"
        print(row)
    print()
    print("Peak traced memory in this process (serial, one call each):")
    print()
    print("| computation | peak traced MiB |")
    print("|---|---|")
    for label, _, call in calls:
        tracemalloc.start()
        call(None, 1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"| {label} | {peak / 2**20:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
