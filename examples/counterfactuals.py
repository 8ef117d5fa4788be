"""What if? The report scenario against changed assumptions, on the same random numbers.

Compares the bundled ``syria-2025`` scenario with three variants:

- ``syria-2025-turkey-acquiesces`` (bundled): Turkey stops pressing Damascus on the bases;
- ``syria-2025-west-conditional`` (bundled): Western governments join and tie
  sanctions relief to a Russian drawdown;
- ``russia-holds-out`` (made here with ``Scenario.replace``): Moscow concedes
  slowly instead of quickly.

``basesim.compare`` simulates every scenario on the same random numbers: run
``i`` of each draws the same values for the parameters they share, the same
proposers and the same perception errors.  The differences between scenarios
are then measured run by run, and where a change moves few runs their
intervals are much narrower than those of independent simulations (the script
prints both).

The basing table has a row per category, for runs whose agreements settled
basing in it, and a row ``unsettled`` for runs that never settled basing: the
Russian presence was left at its status quo, eroding month by month, when the
horizon came.

Run it with::

    python examples/counterfactuals.py                 # 20,000 runs each, figures in ./figures
    python examples/counterfactuals.py --quick --out quick-figures
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window

import matplotlib.pyplot as plt

import basesim
from basesim import plotting


def variants(baseline: basesim.Scenario) -> dict[str, basesim.Scenario]:
    """The baseline first, then the variants, by name."""
    holds_out = baseline.replace(
        # A concession exponent below 1 is a Boulware curve: Moscow holds its
        # demands until late.  The baseline's 1.5 (range 0.6 to 3) is a Conceder.
        {
            "actors.russia.concession": basesim.Distribution(
                kind="triangular", low=0.3, high=1.0, mode=0.5
            )
        },
        name="russia-holds-out",
        title="syria-2025 with a Russia that concedes slowly",
    )
    scenarios = [
        baseline,
        basesim.load_scenario("syria-2025-turkey-acquiesces"),
        basesim.load_scenario("syria-2025-west-conditional"),
        holds_out,
    ]
    return {s.name: s for s in scenarios}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few runs only (for a smoke test)")
    parser.add_argument(
        "--out", default="figures", help="folder for the figures (default: figures)"
    )
    args = parser.parse_args(argv)
    n_runs = 2_000 if args.quick else 20_000
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    scenarios = variants(basesim.load_scenario("syria-2025"))
    # All scenarios on the same random numbers; differences from the first (the reference).
    comparison = basesim.compare(scenarios, n_runs=n_runs, rng=1)

    table = "basing"
    probs = comparison.probabilities()
    probs = probs[probs.table == table]
    print(
        f"Basing outcome by scenario, {n_runs:,} runs each (95 % Wilson intervals; "
        "unsettled: no agreement on basing by the horizon)"
    )
    for name, rows in probs.groupby("scenario", sort=False):
        cells = "  ".join(f"{r.outcome} {r.probability:6.1%}" for r in rows.itertuples())
        print(f"  {name:<30} {cells}")
    print()

    differences = comparison.differences()
    differences = differences[differences.table == table]
    print(
        f"Change from {comparison.reference}, paired run by run (95 % intervals, percentage points)"
    )
    for row in differences.itertuples():
        unpaired = 1.96 * row.se_independent  # half-width had the runs not been paired
        print(
            f"  {row.scenario:<30} {row.outcome:<18} {100 * row.difference:+6.1f}"
            f"  [{100 * row.ci_low:+6.1f}, {100 * row.ci_high:+6.1f}]"
            f"  (unpaired: ±{100 * unpaired:.1f})"
        )
    print()

    for name, draw in {
        "comparison_basing.png": lambda: plotting.plot_comparison(comparison, table=table),
        "differences_basing.png": lambda: plotting.plot_differences(comparison, table=table),
    }.items():
        ax = draw()
        ax.figure.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
