"""How the compiled engine's cost and memory grow with actors and issues.

Prints Markdown tables of runs per second, microseconds per run-month (a run
lasts as many months as it takes to settle every issue, which changes with
the size, so the cost of a month is the steadier measure) and peak traced
memory, for synthetic scenarios that vary one size at a time around a
reference of 4 actors, 2 issues and 24 months (each issue decided by
unanimity of two actors, issue k by actors k and k + 1; concession curves and
perception noise as in syria-2025), and the exponent of a least-squares fit
of log cost per run-month on log size.

    python benchmarks/bench_scaling.py                  # actors 2-128, issues 1-16
    python benchmarks/bench_scaling.py --quick          # a smaller grid
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import basesim
from basesim.actors import Actor, Stance
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.scenario import Scenario


def synthetic_scenario(*, n_actors: int, n_issues: int, horizon: int, seed: int = 0) -> Scenario:
    """A scenario of the given size with uncertain positions and saliences."""
    gen = np.random.default_rng(seed)
    issues = tuple(
        Issue(
            name=f"issue{k}",
            label=f"Issue {k}",
            anchors=("low", "middle", "high"),
            status_quo=Parameter(value=0.0),
            categories=("low", "middle", "high"),
            cuts=(0.25, 0.75),
            rule="unanimity",
            voters=(f"actor{k % n_actors}", f"actor{(k + 1) % n_actors}"),
        )
        for k in range(n_issues)
    )

    def uncertain(centre: float, width: float = 0.2) -> Parameter:
        lo, hi = max(0.0, centre - width), min(1.0, centre + width)
        return Parameter(value=centre, distribution=Distribution(kind="uniform", low=lo, high=hi))

    actors = []
    for i in range(n_actors):
        stances = {
            issue.name: Stance(
                position=uncertain(float(gen.uniform(0.1, 0.9))),
                salience=uncertain(float(gen.uniform(0.3, 0.8))),
            )
            for issue in issues
        }
        actors.append(
            Actor(
                name=f"actor{i}",
                label=f"Actor {i}",
                capability=Parameter(value=1.0),
                stances=stances,
                concession=Parameter(value=float(gen.uniform(0.5, 2.0))),
                noise=Parameter(value=0.05),
                influence={"actor0": Parameter(value=0.1)} if i == 1 else {},
            )
        )
    return Scenario(name="synthetic", issues=issues, actors=tuple(actors), horizon=horizon)


def measure(scenario: Scenario, n_runs: int) -> tuple[float, float, float]:
    """Runs per second, mean months played and peak traced MiB of ``n_runs`` runs."""
    basesim.simulate(scenario, n_runs=min(n_runs, 200), rng=0, keep_runs=0)  # compile, warm up
    tracemalloc.start()
    start = time.perf_counter()
    res = basesim.simulate(scenario, n_runs=n_runs, rng=1, keep_runs=n_runs)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    runs = res.runs
    assert runs is not None
    months = np.where(runs.agreed, runs.round, scenario.horizon)
    return n_runs / elapsed, float(months.mean()), peak / 2**20


def exponent(sizes: list[int], costs: list[float]) -> float:
    """The slope of a least-squares line through ``(log size, log cost)``."""
    slope, _ = np.polyfit(np.log(sizes), np.log(costs), 1)
    return float(slope)


def table(varied: str, grid: list[tuple[int, int, int]]) -> None:
    print(
        f"| {varied} (varied) | actors | issues | runs | runs/s | months played | µs per run-month |"
    )
    print("|---|---|---|---|---|---|---|")
    sizes, costs, peaks = [], [], []
    for n_actors, n_issues, n_runs in grid:
        scn = synthetic_scenario(n_actors=n_actors, n_issues=n_issues, horizon=24)
        rate, months, peak = measure(scn, n_runs)
        per_month = 1e6 / rate / months
        size = n_actors if varied == "actors" else n_issues
        sizes.append(size)
        costs.append(per_month)
        peaks.append(peak)
        print(
            f"| {size} | {n_actors} | {n_issues} | {n_runs:,} | {rate:,.0f} | {months:.1f} | "
            f"{per_month:,.2f} |"
        )
    print()
    print(f"Peak traced memory (MiB) by {varied}: " + ", ".join(f"{p:,.0f}" for p in peaks))
    print(
        f"Fitted exponent of the cost per run-month in the number of {varied}: "
        f"{exponent(sizes, costs):.2f} (all sizes), "
        f"{exponent(sizes[len(sizes) // 2 :], costs[len(costs) // 2 :]):.2f} (larger half)"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    args = parser.parse_args(argv)
    actors = (2, 4, 8, 16) if args.quick else (2, 4, 8, 16, 32, 64, 128)
    issues = (1, 2, 4, 8) if args.quick else (1, 2, 4, 8, 12, 16)
    table("actors", [(a, 2, max(1_000, 40_000 // a)) for a in actors])
    table("issues", [(4, k, max(1_000, 20_000 // k)) for k in issues])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
