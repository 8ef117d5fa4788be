"""Speed of the compiled month against the NumPy reference and the Mesa model.

Measured in one process on the same runs of a scenario: runs per second of
the batch engine with the compiled month on one thread and on every core,
of the same engine with the NumPy reference month (``engine="numpy"``), and
of the Mesa model; their ratios; each reservation form alone; and the peak
memory of a large run.  A benchmark, not a test: the figures depend on the
machine and on what else runs on it.

    python benchmarks/bench_kernel.py                          # syria-2025
    python benchmarks/bench_kernel.py --runs 400000 --numpy-runs 20000
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import numba
import numpy as np

import basesim


def rate(scenario: basesim.Scenario, *, n_runs: int, engine: str, repeat: int) -> float:
    """Best runs per second over ``repeat`` timed calls (after a warm-up that compiles)."""
    basesim.simulate(scenario, n_runs=min(n_runs, 64), engine=engine, rng=0, keep_runs=0)
    best = 0.0
    for i in range(repeat):
        start = time.perf_counter()
        basesim.simulate(scenario, n_runs=n_runs, engine=engine, rng=i + 1, keep_runs=0)
        best = max(best, n_runs / (time.perf_counter() - start))
    return best


def threaded(scenario: basesim.Scenario, threads: int, **kwargs: int) -> float:
    """:func:`rate` of the batch engine on ``threads`` threads."""
    before = basesim.get_threads()
    basesim.set_threads(threads)
    try:
        return rate(scenario, engine="batch", **kwargs)
    finally:
        basesim.set_threads(before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="syria-2025")
    parser.add_argument("--runs", type=int, default=100_000, help="runs of the compiled engine")
    parser.add_argument("--numpy-runs", type=int, default=10_000)
    parser.add_argument("--mesa-runs", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--large", type=int, default=1_000_000, help="runs of the memory check")
    args = parser.parse_args(argv)

    scn = basesim.load_scenario(args.scenario)
    cores = basesim.get_threads()
    print(
        f"basesim {basesim.__version__}, numba {numba.__version__}, numpy {np.__version__}, "
        f"Python {sys.version.split()[0]}, {cores} cores"
    )
    print(f"scenario {scn.name}: {len(scn.actors)} actors, {len(scn.issues)} issues")
    print()
    print("| engine | runs | runs/s | ratio to the NumPy reference |")
    print("|---|---|---|---|")
    reference = rate(scn, n_runs=args.numpy_runs, engine="numpy", repeat=args.repeat)
    mesa = rate(scn, n_runs=args.mesa_runs, engine="mesa", repeat=args.repeat)
    one = threaded(scn, 1, n_runs=args.runs, repeat=args.repeat)
    every = threaded(scn, cores, n_runs=args.runs, repeat=args.repeat)
    rows = [
        ('NumPy reference (`engine="numpy"`)', args.numpy_runs, reference),
        ("Mesa model (compiled month, one run at a time)", args.mesa_runs, mesa),
        ("compiled, 1 thread", args.runs, one),
        (f"compiled, {cores} threads", args.runs, every),
    ]
    for label, n, value in rows:
        print(f"| {label} | {n:,} | {value:,.0f} | {value / reference:,.1f} |")
    print()
    print("Each reservation form alone (compiled, 1 thread and all threads):")
    print()
    print("| reservation form | 1 thread runs/s | all threads runs/s | NumPy reference runs/s |")
    print("|---|---|---|---|")
    for form in ("concession", "equilibrium"):
        variant = scn.replace({"protocol.reservation": form})
        n = args.runs if form == "concession" else max(args.runs // 10, 1000)
        numpy_n = max(args.numpy_runs // (1 if form == "concession" else 5), 500)
        f1 = threaded(variant, 1, n_runs=n, repeat=args.repeat)
        fa = threaded(variant, cores, n_runs=n, repeat=args.repeat)
        fr = rate(variant, n_runs=numpy_n, engine="numpy", repeat=1)
        print(f"| {form} | {f1:,.0f} | {fa:,.0f} | {fr:,.0f} |")
    print()
    tracemalloc.start()
    start = time.perf_counter()
    res = basesim.simulate(scn, n_runs=args.large, rng=7, keep_runs=0)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"large run: {res.n_runs:,} runs in {elapsed:,.1f} s ({res.n_runs / elapsed:,.0f} runs/s); "
        f"peak traced memory {peak / 2**20:,.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
