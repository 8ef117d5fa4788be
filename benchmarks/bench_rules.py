"""What decision rules cost with many actors: one issue, 29 actors, EU-style rules.

An EU-sized case: 27 member states voting (Council weights are not needed for
cost: each state gets one vote, or a population-like weight for the double
majority), the Commission proposing and the Parliament voting, one issue, 12
months, concession curves and perception noise.  Prints runs per second for
unanimity, a qualified majority (55 % of states holding 65 % of the weight)
and a simple majority, 10,000 runs each, and peak memory.

    python benchmarks/bench_rules.py [--runs 10000] [--actors 29] [--issues 1]
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


def council_scenario(*, rule: str, n_actors: int, n_issues: int = 1, seed: int = 0) -> Scenario:
    """A Commission (proposer, not voting) and ``n_actors - 1`` voters on ``n_issues`` issues."""
    gen = np.random.default_rng(seed)
    voters = [f"state{i:02d}" for i in range(n_actors - 1)]
    weights = gen.lognormal(0.0, 1.0, size=len(voters))

    def uncertain(centre: float, width: float = 0.15) -> Parameter:
        lo, hi = max(0.0, centre - width), min(1.0, centre + width)
        return Parameter(value=centre, distribution=Distribution(kind="uniform", low=lo, high=hi))

    issues = tuple(
        Issue(
            name=f"issue{k}",
            label=f"Issue {k}",
            anchors=("low", "middle", "high"),
            status_quo=Parameter(value=0.0),
            categories=("low", "middle", "high"),
            cuts=(0.25, 0.75),
            rule=rule,
            voters=tuple(voters),
            threshold=0.65 if rule == "qualified" else None,
            min_voter_share=0.55 if rule == "qualified" else None,
        )
        for k in range(n_issues)
    )

    def actor(name: str, position: float, votes: float, proposer: bool) -> Actor:
        return Actor(
            name=name,
            label=name,
            capability=Parameter(value=1.0),
            votes=votes,
            proposer=proposer,
            noise=Parameter(value=0.05),
            stances={
                issue.name: Stance(
                    position=uncertain(position), salience=uncertain(float(gen.uniform(0.3, 0.8)))
                )
                for issue in issues
            },
        )

    actors = [actor("commission", 0.9, 1.0, True)]
    actors += [
        actor(name, float(gen.uniform(0.0, 1.0)), float(w), False)
        for name, w in zip(voters, weights, strict=True)
    ]
    return Scenario(name=f"council-{rule}", issues=issues, actors=tuple(actors), horizon=12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--actors", type=int, default=29)
    parser.add_argument("--issues", type=int, default=1)
    args = parser.parse_args()
    print("| rule | actors | issues | runs | seconds | runs/s | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for rule in ("unanimity", "qualified", "majority"):
        scn = council_scenario(rule=rule, n_actors=args.actors, n_issues=args.issues)
        basesim.simulate(scn, n_runs=min(args.runs, 1_024), rng=0)  # warm-up
        tracemalloc.start()
        start = time.perf_counter()
        res = basesim.simulate(scn, n_runs=args.runs, rng=1)
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        settled = res.probabilities()
        _ = settled
        print(
            f"| {rule} | {args.actors} | {args.issues} | {args.runs} | {seconds:.2f} "
            f"| {args.runs / seconds:,.0f} | {peak:.0f} |"
        )


if __name__ == "__main__":
    main()
