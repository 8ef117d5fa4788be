"""What Bueno de Mesquita's expected-utility model (``bdm``) costs per run.

Prints a Markdown table of runs per second (best of a few calls) of
``basesim.simulate`` under each reading, for one-issue scenarios of 10, 20
and 30 actors whose positions and saliences are uncertain (so every run is a
distinct game: identical runs would be played once), ten rounds each.

    python benchmarks/bench_bdm.py [n_runs]
"""

from __future__ import annotations

import sys
import time

import numpy as np

import basesim
from basesim.actors import Actor, Stance
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.scenario import ProtocolSettings, Scenario


def one_issue_scenario(n_actors: int, model: str, seed: int = 0) -> Scenario:
    """One issue, ``n_actors`` actors with uncertain positions and saliences."""
    gen = np.random.default_rng(seed)

    def uncertain(centre: float) -> Parameter:
        lo, hi = max(0.0, centre - 0.2), min(1.0, centre + 0.2)
        return Parameter(value=centre, distribution=Distribution(kind="uniform", low=lo, high=hi))

    issue = Issue(
        name="policy",
        label="Policy",
        status_quo=Parameter(value=0.5),
        categories=("low", "high"),
        cuts=(0.5,),
        rule="majority",
    )
    actors = tuple(
        Actor(
            name=f"actor{i}",
            label=f"Actor {i}",
            capability=Parameter(value=float(gen.uniform(0.2, 1.0))),
            stances={
                "policy": Stance(
                    position=uncertain(float(gen.uniform(0.0, 1.0))),
                    salience=uncertain(float(gen.uniform(0.3, 0.9))),
                )
            },
        )
        for i in range(n_actors)
    )
    return Scenario(
        name="bdm-bench",
        title="bdm benchmark",
        issues=(issue,),
        actors=actors,
        horizon=1,
        protocol=ProtocolSettings(model=model),
    )


def runs_per_second(scenario: Scenario, n_runs: int, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        basesim.simulate(scenario, n_runs=n_runs, rng=1)
        best = min(best, time.perf_counter() - start)
    return n_runs / best


def main() -> None:
    n_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print(f"| actors | model | runs/s ({n_runs} runs, 10 rounds) |")
    print("|---:|---|---:|")
    for n_actors in (10, 20, 30):
        for model in ("bdm", "bdm-reading2"):
            rate = runs_per_second(one_issue_scenario(n_actors, model), n_runs)
            print(f"| {n_actors} | {model} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
