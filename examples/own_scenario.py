"""Your own negotiation: a scenario file of your own, checked, explained and simulated.

Uses ``port_concession.toml`` beside this script (a city, a terminal operator
and a dockworkers' union bargain over control of a container terminal and the
operator's investment) to show the steps for any negotiation:

1. write the scenario file (see docs/howto-scenario.md and docs/scenario-format.md);
2. load it: every rule of the format is checked, and a mistake is reported
   with the field's path, the rule and the bad value;
3. read back every parameter with its rationale (``Scenario.explain``);
4. watch one negotiation, then simulate many and plot the probabilities;
5. change an assumption in code (``Scenario.replace``) and compare.

Run it with::

    python examples/own_scenario.py                 # 20,000 runs, figures in ./figures
    python examples/own_scenario.py --quick --out quick-figures
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window

import matplotlib.pyplot as plt

import basesim
from basesim import plotting

HERE = Path(__file__).resolve().parent
SCENARIO_FILE = HERE / "port_concession.toml"


def show_a_mistake(text: str) -> None:
    """Load a copy of the file with one salience out of range, to see the error message."""
    broken = text.replace(
        'salience = { value = 0.9, assumption = true, rationale = "Jobs depend',
        'salience = { value = 1.3, assumption = true, rationale = "Jobs depend',
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "port_concession.toml"
        path.write_text(broken, encoding="utf-8")
        try:
            basesim.load_scenario(path)
        except basesim.ScenarioError as error:
            print("A mistake is caught when the file is read:")
            print(f"  ScenarioError: {error.field_message}")


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

    # 2. Load and validate.
    scn = basesim.load_scenario(SCENARIO_FILE)
    print(f"{scn.name}: {scn.title}")
    print(f"actors: {', '.join(a.label for a in scn.actors)}")
    print(f"issues: {', '.join(i.label for i in scn.issues)}")
    print(f"{scn.horizon} monthly rounds from {scn.start}")
    print()
    show_a_mistake(SCENARIO_FILE.read_text(encoding="utf-8"))
    print()

    # 3. Every number with its rationale.
    table = scn.explain()
    print(
        table[["actor", "issue", "field", "value", "uncertainty", "evidence"]].to_string(
            index=False
        )
    )
    print()

    # 4. One negotiation, then many.
    model = basesim.NegotiationModel(scn, rng=30)
    outcome = model.run()
    rounds = model.datacollector.get_model_vars_dataframe()
    # "agreed": every issue settled.  An agreement settles the issues it covers;
    # the others stay open, at their status quo, and may be settled later.
    agreed = bool(outcome.agreed[0])
    print(f"One negotiation (rng=30): {len(rounds)} rounds, agreed: {agreed}")
    for k, issue in enumerate(scn.issues):
        if outcome.settled[0, k]:
            month = model.month_label(int(outcome.settled_round[0, k]))
            print(f"  {issue.label}: settled at {outcome.package[0, k]:.2f} in {month}")
        else:
            print(f"  {issue.label}: unsettled, status quo {outcome.package[0, k]:.2f} kept")
    columns = ["month", "proposer", "offered", "passed"]
    columns += [f"proposal_{name}" for name in scn.issue_names]
    print(rounds[columns].to_string(index=False))
    print()

    result = basesim.simulate(scn, n_runs=n_runs, rng=1, keep_runs=n_runs)
    probs = result.probabilities()
    print(f"Outcome probabilities over {result.n_runs:,} runs (95 % Wilson intervals)")
    for row in probs[probs.table != "joint"].itertuples():
        interval = f"[{row.ci_low:6.1%}, {row.ci_high:6.1%}]"
        print(f"  {row.table:<11} {row.outcome:<14} {row.probability:6.1%}  {interval}")
    print()

    # 5. What if the union had no pull on the city?
    quiet = scn.replace({"actors.union.influence.city": 0.0}, name="port-concession-quiet-union")
    other = basesim.simulate(quiet, n_runs=n_runs, rng=1, keep_runs=n_runs)
    before = result.to_frame()["control_category"]
    after = other.to_frame()["control_category"]
    # The categories of a settled control issue, then "unsettled" (never settled).
    for category in [*scn.issue("control").categories, "unsettled"]:
        change = (after == category).mean() - (before == category).mean()
        print(
            f"Without the union's pull, P(control = {category}) moves {100 * change:+.1f} points"
        )
    print()

    figures = {
        "port_probabilities.png": lambda: result.plot(),
        "port_joint.png": lambda: plotting.plot_joint(result),
        "port_negotiation_control.png": lambda: plotting.plot_negotiation(model, issue="control"),
        "port_negotiation_investment.png": lambda: plotting.plot_negotiation(
            model, issue="investment"
        ),
    }
    for name, draw in figures.items():
        ax = draw()
        ax.figure.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
