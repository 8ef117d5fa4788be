"""Speed and memory of the two engines on syria-2025.

Prints runs per second for the Mesa model and the batch engine, measured in the
same process on the same runs, their ratio, and the peak memory of a large
batch-engine run.  A benchmark, not a test: the figures depend on the machine.

    python benchmarks/bench_engines.py                    # defaults
    python benchmarks/bench_engines.py --large 10000000   # the 10-million-run memory check
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import numpy as np

import basesim


def rate(scenario: basesim.Scenario, *, n_runs: int, engine: str, repeat: int) -> float:
    """Best runs-per-second over ``repeat`` timed calls (after one warm-up)."""
    basesim.simulate(scenario, n_runs=min(n_runs, 200), engine=engine, rng=0, keep_runs=0)
    best = 0.0
    for i in range(repeat):
        start = time.perf_counter()
        basesim.simulate(scenario, n_runs=n_runs, engine=engine, rng=i + 1, keep_runs=0)
        best = max(best, n_runs / (time.perf_counter() - start))
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="syria-2025")
    parser.add_argument("--mesa-runs", type=int, default=500)
    parser.add_argument("--batch-runs", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--large", type=int, default=1_000_000, help="runs for the peak-memory check"
    )
    args = parser.parse_args(argv)

    scn = basesim.load_scenario(args.scenario)
    print(
        f"basesim {basesim.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]}"
    )
    print(
        f"scenario {scn.name}: {len(scn.actors)} actors, {len(scn.issues)} issues, horizon {scn.horizon}"
    )

    mesa_rate = rate(scn, n_runs=args.mesa_runs, engine="mesa", repeat=args.repeat)
    batch_rate = rate(scn, n_runs=args.batch_runs, engine="batch", repeat=args.repeat)
    print(
        f"mesa engine : {mesa_rate:12,.0f} runs/s  ({args.mesa_runs:,} runs, best of {args.repeat})"
    )
    print(
        f"batch engine: {batch_rate:12,.0f} runs/s  ({args.batch_runs:,} runs, best of {args.repeat})"
    )
    print(f"ratio batch/mesa: {batch_rate / mesa_rate:,.0f}x")

    tracemalloc.start()
    start = time.perf_counter()
    res = basesim.simulate(scn, n_runs=args.large, rng=7, keep_runs=0)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"large run: {res.n_runs:,} runs in {elapsed:,.1f} s ({res.n_runs / elapsed:,.0f} runs/s); "
        f"peak traced memory {peak / 2**20:,.0f} MiB; process peak RSS {rss:,.0f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
