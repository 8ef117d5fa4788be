"""Runs per second of each registered model on a scenario, with the batch engine.

Simulates the scenario under every registered model (or ``--models``) once on
a few runs (imports, caches), then on ``--n-runs`` runs, and prints the time
and the runs per second of each.

    python benchmarks/bench_models.py [SCENARIO] [--n-runs 20000] [--models a,b] [--rng 1]
"""

from __future__ import annotations

import argparse
import time

import basesim
from basesim.protocols import names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="syria-2025", help="name or .toml path")
    parser.add_argument("--n-runs", type=int, default=20_000, help="runs per model")
    parser.add_argument("--models", default=None, help="comma-separated models (default: all)")
    parser.add_argument("--rng", type=int, default=1, help="seed")
    args = parser.parse_args()
    scn = basesim.load_scenario(args.scenario)
    models = names() if args.models is None else tuple(args.models.split(","))
    print(f"{scn.name}: {len(scn.actors)} actors, {len(scn.issues)} issues, {args.n_runs} runs")
    for model in models:
        basesim.simulate(scn, n_runs=100, rng=args.rng, model=model, keep_runs=0)
        start = time.perf_counter()
        basesim.simulate(scn, n_runs=args.n_runs, rng=args.rng, model=model, keep_runs=0)
        took = time.perf_counter() - start
        print(f"  {model:<20} {took:8.2f} s  {args.n_runs / took:10,.0f} runs/s")


if __name__ == "__main__":
    main()
