"""What a backtest of every registered model costs on a DEU-format file.

Reads the file (``basesim.read_deu``; actors with a position but no salience
are left out of the issue, as the DEU documentation counts actors), runs
``basesim.backtest`` with every registered model (or ``--models``), and
prints the table, the time to read the file, the time of each model alone
and the total.

    python benchmarks/bench_backtest.py PATH [--n-runs 200] [--models a,b] [--rng 1]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

import basesim
from basesim.protocols import names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a DEU-format file (tab-separated)")
    parser.add_argument("--n-runs", type=int, default=200, help="runs per case and model")
    parser.add_argument("--models", default=None, help="comma-separated models (default: all)")
    parser.add_argument("--rng", type=int, default=1, help="seed")
    args = parser.parse_args()
    models = names() if args.models is None else tuple(args.models.split(","))

    t0 = time.perf_counter()
    cases = basesim.read_deu(args.path, missing_salience="drop")
    read = time.perf_counter() - t0
    print(
        f"{len(cases)} cases of {len({c.proposal for c in cases})} proposals, read in {read:.1f} s"
    )
    print(f"models: {', '.join(models)}; {args.n_runs} runs per case and model")

    per_model = {}
    for model in models:
        t = time.perf_counter()
        basesim.backtest(cases, models=[model], n_runs=args.n_runs, n_boot=10, rng=args.rng)
        per_model[model] = time.perf_counter() - t
    t = time.perf_counter()
    result = basesim.backtest(cases, models=list(models), n_runs=args.n_runs, rng=args.rng)
    total = time.perf_counter() - t

    with pd.option_context("display.width", 200, "display.max_columns", None):
        print(result.to_frame().round(2).to_string(index=False))
    print()
    for model, seconds in per_model.items():
        print(f"{model:<16} {seconds:7.1f} s  ({seconds / len(cases) * 1000:.0f} ms per case)")
    print(f"{'all models':<16} {total:7.1f} s  (scores and bootstrap included)")


if __name__ == "__main__":
    main()
