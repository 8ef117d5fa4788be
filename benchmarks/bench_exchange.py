"""The exchange model: its cost as actors and issues grow, and syria-2025 under it.

Prints (1) seconds per run of :func:`basesim.protocols.exchange.run_exchanges`
on random positions, saliences and capabilities of a few sizes, with the
exchanges and rounds a run takes; (2) the outcome probabilities and the mean
outcomes of syria-2025 under the default model, the exchange model (and two
of its readings) and the weighted mean (the exchange model with no exchange
realised), on common random numbers: the table of ``docs/models/exchange.md``.

    python benchmarks/bench_exchange.py [N_RUNS]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

import basesim
from basesim.protocols import register, unregister
from basesim.protocols.exchange import Exchange, ExchangeOptions, run_exchanges


def cost(sizes: list[tuple[int, int, int]]) -> pd.DataFrame:
    """Seconds per run and exchanges per run, for (runs, actors, issues)."""
    rows = []
    gen = np.random.default_rng(0)
    for n, n_act, n_iss in sizes:
        x, s = gen.random((n, n_act, n_iss)), gen.random((n, n_act, n_iss))
        c = gen.random((n, n_act)) + 0.1
        start = time.perf_counter()
        res = run_exchanges(x, s, c, np.zeros((n, n_iss)), ExchangeOptions())
        seconds = time.perf_counter() - start
        rows.append(
            {
                "actors": n_act,
                "issues": n_iss,
                "runs": n,
                "s per run": seconds / n,
                "exchanges per run": res.exchanges.mean(),
                "rounds per run": res.rounds.mean(),
            }
        )
    return pd.DataFrame(rows)


VARIANTS = {
    "exchange-adopt": ExchangeOptions(adoption=1.0),
    "exchange-one-round": ExchangeOptions(max_rounds=1),
    "weighted-mean": ExchangeOptions(tolerance=0.999),  # no exchange passes the bar
}


def syria(n_runs: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Probabilities and mean outcomes of syria-2025 under each model."""
    scn = basesim.load_scenario("syria-2025")
    for name, options in VARIANTS.items():
        register(name, lambda options=options, name=name: Exchange(options, name=name))
    probs, means = {}, {}
    try:
        for model in ("bargaining", "exchange", *VARIANTS):
            res = basesim.simulate(
                scn.replace({"protocol.model": model}), n_runs=n_runs, rng=1, keep_runs=n_runs
            )
            p = res.probabilities()
            probs[model] = p[p.table != "joint"].set_index(["table", "outcome"])["probability"]
            package = res.runs.package
            means[model] = {
                **{f"{k} mean": package[:, i].mean() for i, k in enumerate(scn.issue_names)},
                **{
                    f"{k} q10": np.quantile(package[:, i], 0.1)
                    for i, k in enumerate(scn.issue_names)
                },
                **{
                    f"{k} q90": np.quantile(package[:, i], 0.9)
                    for i, k in enumerate(scn.issue_names)
                },
            }
    finally:
        for name in VARIANTS:
            unregister(name)
    return pd.DataFrame(probs), pd.DataFrame(means).T


def main() -> None:
    n_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(cost([(200, 4, 2), (50, 12, 3), (50, 12, 6), (20, 29, 6)]).to_string(index=False))
    print()
    probs, means = syria(n_runs)
    print(probs.round(3).to_string())
    print()
    print(means.round(3).to_string())


if __name__ == "__main__":
    main()
