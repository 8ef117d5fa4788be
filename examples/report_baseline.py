"""The report scenario from start to finish: evidence, simulation, probabilities, plots.

Loads the bundled ``syria-2025`` scenario, prints what each parameter rests on,
simulates 20,000 negotiations (seed 1), prints the outcome probabilities with
their 95 % confidence intervals, and saves the plots.

Run it with::

    python examples/report_baseline.py                 # 20,000 runs, figures in ./figures
    python examples/report_baseline.py --quick --out quick-figures
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window

import matplotlib.pyplot as plt
import pandas as pd

import basesim
from basesim import plotting
from basesim.experiments import replay_stances


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
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 70)

    scn = basesim.load_scenario("syria-2025")
    print(f"{scn.name}: {scn.title}")
    sizes = f"{len(scn.actors)} actors, {len(scn.issues)} issues"
    print(f"{sizes}, {scn.horizon} monthly rounds from {scn.start}")
    print()

    # Every number with its evidence: S<n> is sentence n of the source report.
    table = scn.explain()
    print("Parameters and their evidence")
    print(
        table[
            ["actor", "issue", "field", "value", "uncertainty", "evidence", "confidence"]
        ].to_string(index=False)
    )
    print()
    assumptions = table[table.assumption]
    print(f"{len(assumptions)} of {len(table)} parameters are assumptions, not report evidence.")
    key = table.set_index("path").loc["actors.syria.basing.position"]
    print(f"Why the Syrian government's basing position is {key.value:g} ({key.uncertainty}):")
    print(textwrap.fill(key.rationale, width=100, initial_indent="  ", subsequent_indent="  "))
    print()

    result = basesim.simulate(scn, n_runs=n_runs, rng=1)
    probs = result.probabilities()
    print(f"Outcome probabilities over {result.n_runs:,} simulated negotiations (95 % intervals)")
    for name, rows in probs.groupby("table", sort=False):
        print(f"  {name}")
        for row in rows.itertuples():
            interval = f"[{row.ci_low:6.1%}, {row.ci_high:6.1%}]"
            print(f"    {row.outcome:<36} {row.probability:6.1%}  {interval}")
    # An agreement settles the issues it covers; the others stay at their status
    # quo.  "Agreement" below means every issue settled by the horizon.
    p, low, high = result.agreement_probability()
    rounds = result.agreement_rounds()
    agreed = rounds[rounds["round"] > 0]
    median_round = int(
        agreed["round"][agreed["count"].cumsum() >= agreed["count"].sum() / 2].iloc[0]
    )
    print(f"  agreement by the horizon: {p:.1%} [{low:.1%}, {high:.1%}] (every issue settled)")
    print(
        f"  half of the agreements come by {result.month_of(median_round)} (round {median_round})"
    )
    months = result.settlement_months()
    for issue in scn.issues:
        rows = months[months["table"] == issue.name]
        unsettled = rows.iloc[0]  # round 0: never settled
        print(
            f"  {issue.label}: unsettled at the horizon in {unsettled.probability:.1%} "
            f"[{unsettled.ci_low:.1%}, {unsettled.ci_high:.1%}] of the runs"
        )
    print()
    print("Final value of each issue: over all runs, the runs that settled it, the others")
    print(result.package_summary().to_string(index=False))
    print()

    figures = {
        "probabilities.png": lambda: result.plot(),
        "basing.png": lambda: plotting.plot_probabilities(result, table="basing"),
        "joint.png": lambda: plotting.plot_joint(result),
        "agreement_rounds.png": lambda: plotting.plot_agreement_rounds(result),
        "settlement_months.png": lambda: plotting.plot_settlement_months(result),
    }
    # One negotiation: run 0 of simulate(..., rng=14).
    model = basesim.NegotiationModel(scn, rng=14)
    model.run()
    figures["negotiation_basing.png"] = lambda: plotting.plot_negotiation(model, issue="basing")
    figures["stance_bands_basing.png"] = lambda: plotting.plot_stance_bands(
        replay_stances(scn, issue="basing", n_runs=10 if args.quick else 100, rng=1)
    )
    for name, draw in figures.items():
        ax = draw()
        ax.figure.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
