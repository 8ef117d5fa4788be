"""How outcome columns, speed and memory grow with the number of issues.

For 4 actors and K = 1, 2, 4, 8, 12, 16 issues of two categories each
(:func:`basesim.testing.many_issues_scenario`), prints a Markdown table of the
number of outcome columns, runs per second of :func:`basesim.simulate` (best
of two calls, without memory tracing) and the peak memory traced by
:mod:`tracemalloc` while simulating 20,000 runs.  Above
:data:`basesim.outcomes.MAX_JOINT_CELLS` combinations (K >= 8) the joint table
is not enumerated, so the columns and the memory grow linearly with K.

    python benchmarks/bench_issues_memory.py
"""

from __future__ import annotations

import time
import tracemalloc

import basesim
from basesim.outcomes import OutcomeTable
from basesim.testing import many_issues_scenario

N_RUNS = 20_000


def measure(n_issues: int, n_actors: int = 4) -> tuple[int, float, float]:
    """Outcome columns, runs per second and tracemalloc peak (MiB) for ``n_issues``."""
    scenario = many_issues_scenario(n_issues=n_issues, n_actors=n_actors)
    basesim.simulate(scenario, n_runs=100, rng=0)  # compile, or load the compiled code
    best = 0.0
    for i in range(2):
        start = time.perf_counter()
        basesim.simulate(scenario, n_runs=N_RUNS, rng=i + 1)
        best = max(best, N_RUNS / (time.perf_counter() - start))
    tracemalloc.start()
    try:
        basesim.simulate(scenario, n_runs=N_RUNS, rng=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return OutcomeTable.of(scenario).n_columns, best, peak / 2**20


def main() -> None:
    print(f"4 actors, {N_RUNS:,} runs")
    print()
    print("| issues | outcome columns | runs/s | peak memory (MiB) |")
    print("|---|---|---|---|")
    for k in (1, 2, 4, 8, 12, 16):
        columns, rate, peak = measure(k)
        print(f"| {k} | {columns:,} | {rate:,.0f} | {peak:.1f} |", flush=True)


if __name__ == "__main__":
    main()
