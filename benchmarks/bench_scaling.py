"""How the batch engine's cost grows with runs, actors, issues and horizon.

Prints a Markdown table of runs per second (best of a few calls) for synthetic
scenarios that vary one size at a time around a reference of 4 actors, 2
issues and 24 months, each issue decided by unanimity of two actors (issue
k by actors k and k + 1), with concession curves and perception noise as in
syria-2025; and syria-2025 itself.

    python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import time

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


def runs_per_second(scenario: Scenario, n_runs: int, repeat: int = 2) -> tuple[float, float]:
    """Best runs per second, and the mean number of months a run lasts."""
    basesim.simulate(scenario, n_runs=min(n_runs, 1_000), rng=0, keep_runs=0)
    best = 0.0
    for i in range(repeat):
        start = time.perf_counter()
        res = basesim.simulate(scenario, n_runs=n_runs, rng=i + 1, keep_runs=n_runs)
        best = max(best, n_runs / (time.perf_counter() - start))
    runs = res.runs
    assert runs is not None
    months = np.where(runs.agreed, runs.round, scenario.horizon)
    return best, float(months.mean())


def main() -> None:
    print("| varied | actors | issues | horizon | runs | runs/s | mean months played |")
    print("|---|---|---|---|---|---|---|")
    reference = {"n_actors": 4, "n_issues": 2, "horizon": 24}
    cases = [("runs", reference, n) for n in (10_000, 50_000)]
    cases += [("actors", {**reference, "n_actors": a}, 20_000) for a in (2, 3, 6, 8)]
    cases += [("issues", {**reference, "n_issues": k}, 20_000) for k in (1, 3)]
    cases += [("horizon", {**reference, "horizon": h}, 20_000) for h in (6, 12, 48)]
    syria = basesim.load_scenario("syria-2025")
    for varied, sizes, n_runs in cases:
        rate, months = runs_per_second(synthetic_scenario(**sizes), n_runs)
        print(
            f"| {varied} | {sizes['n_actors']} | {sizes['n_issues']} | {sizes['horizon']} | "
            f"{n_runs:,} | {rate:,.0f} | {months:.1f} |"
        )
    rate, months = runs_per_second(syria, 50_000)
    print(f"| syria-2025 | 4 | 2 | 24 | 50,000 | {rate:,.0f} | {months:.1f} |")


if __name__ == "__main__":
    main()
