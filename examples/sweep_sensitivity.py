"""Which assumptions drive the basing outcome? A sweep, Sobol' indices and a PRIM box.

On the bundled ``syria-2025`` scenario, six assumptions are varied over their
ranges at once:

- the Syrian government's ideal basing outcome and how much basing matters to it,
- how fast Russia concedes (its concession exponent),
- how hard Turkey and the investors pull Damascus's stance toward theirs,
- how much sanctions relief matters to Damascus.

The script

1. sweeps a scrambled Sobol' design over the six (``basesim.sweep``), every
   design point simulated on the same random numbers;
2. estimates first- and total-order Sobol' indices of the probability of a
   *reduced Russian presence* (``basesim.sensitivity``);
3. looks for the region of assumptions where that outcome is likely
   (``basesim.discover``, PRIM);

and prints a table for each, and writes three figures.

Run it with::

    python examples/sweep_sensitivity.py                  # about a minute on one core
    python examples/sweep_sensitivity.py --workers 4      # the same numbers, on 4 processes
    python examples/sweep_sensitivity.py --quick --out /tmp/figs
"""

from __future__ import annotations

import argparse
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window

import matplotlib.pyplot as plt

import basesim
from basesim import plotting

OUTCOME = "basing=reduced presence"

#: The assumptions varied, with the ranges the scenario file gives them.
PARAMETERS = {
    "actors.syria.basing.position": (0.0, 0.6),
    "actors.syria.basing.salience": (0.25, 0.8),
    "actors.russia.concession": (0.6, 3.0),
    "actors.turkey.influence.syria": (0.05, 0.3),
    "actors.investors.influence.syria": (0.05, 0.3),
    "actors.syria.sanctions_relief.salience": (0.8, 1.0),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few runs only (for a smoke test)")
    parser.add_argument(
        "--out", default="figures", help="folder for the figures (default: figures)"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="worker processes (default: run serially)"
    )
    args = parser.parse_args(argv)
    n_points, n, n_runs = (32, 8, 50) if args.quick else (512, 128, 200)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scenario = basesim.load_scenario("syria-2025")
    pool = ProcessPoolExecutor(args.workers) if args.workers > 0 else None
    try:
        run(scenario, n_points=n_points, n=n, n_runs=n_runs, out=out, executor=pool)
    finally:
        if pool is not None:
            pool.shutdown()


def run(
    scenario: basesim.Scenario,
    *,
    n_points: int,
    n: int,
    n_runs: int,
    out: Path,
    executor: Executor | None,
) -> None:
    """Sweep, Sobol' indices and PRIM box; print the tables and write the figures."""
    sweep = basesim.sweep(
        scenario,
        PARAMETERS,
        design="sobol",
        n_points=n_points,
        n_runs=n_runs,
        executor=executor,
        rng=2025,
    )
    print(f"1. Sweep: {n_points:,} Sobol' design points x {n_runs:,} runs, common random numbers")
    print(f"   {len(sweep.failures)} point(s) failed")
    p = sweep.probability(OUTCOME)
    print(
        f"   P({OUTCOME}) over the design: mean {p.mean():.1%}, "
        f"min {p.min():.1%}, max {p.max():.1%}"
    )
    summary = sweep.summary()
    summary = summary[summary["table"] == "basing"]
    print(f"   {'basing outcome':<20} {'mean':>7} {'min':>7} {'max':>7}")
    for row in summary.itertuples():
        print(f"   {row.outcome:<20} {row.mean:7.1%} {row.min:7.1%} {row.max:7.1%}")
    print()

    sensitivity = basesim.sensitivity(
        scenario,
        PARAMETERS,
        outcome=OUTCOME,
        n=n,
        n_runs=n_runs,
        executor=executor,
        rng=2025,
    )
    print(
        f"2. Sobol' indices of P({OUTCOME}): n = {n}, {sensitivity.n_evaluations:,} points "
        f"x {n_runs:,} runs"
    )
    print(
        f"   variance of the probability {sensitivity.output_variance:.4f}; Monte Carlo noise "
        f"per point {sensitivity.noise_variance:.5f}"
    )
    print(f"   {'parameter':<40} {'first order [95% CI]':>24} {'total order [95% CI]':>24}")
    order = sorted(range(len(PARAMETERS)), key=lambda k: -float(sensitivity.total_order[k]))
    for k in order:
        s1, st = sensitivity.first_order[k], sensitivity.total_order[k]
        c1, ct = sensitivity.first_order_interval[k], sensitivity.total_order_interval[k]
        print(
            f"   {sensitivity.parameter_names[k]:<40} {s1:6.2f} [{c1[0]:5.2f}, {c1[1]:5.2f}]"
            f"    {st:6.2f} [{ct[0]:5.2f}, {ct[1]:5.2f}]"
        )
    print()

    found = basesim.discover(sweep, outcome=OUTCOME, threshold=0.6, min_mass=0.05)
    print(f"3. PRIM: where is P({OUTCOME}) at least 60 %, on average?")
    peeling = found.peeling()
    print(f"   {'step':>4} {'coverage':>9} {'density':>8} {'mass':>6}  peeled")
    for row in peeling.iloc[:: max(1, len(peeling) // 8)].itertuples():
        print(
            f"   {row.step:4d} {row.coverage:9.2f} {row.density:8.2f} {row.mass:6.2f}  {row.peeled}"
        )
    print(
        f"   chosen box (step {found.step}): coverage {found.coverage:.2f}, "
        f"density {found.density:.2f}, mass {found.mass:.2f}"
    )
    box = found.box()
    for row in box[box["restricted"]].itertuples():
        print(
            f"   {row.parameter:<40} [{row.low:.3f}, {row.high:.3f}]   "
            f"(swept over [{row.data_low:.3f}, {row.data_high:.3f}])"
        )
    print()

    position, concession = "actors.syria.basing.position", "actors.russia.concession"
    figures = {
        "sweep_surface.png": lambda: plotting.plot_sweep_surface(
            sweep, x=position, y=concession, outcome=OUTCOME
        ),
        "sobol_indices.png": lambda: plotting.plot_sensitivity(sensitivity),
        "prim_box.png": lambda: plotting.plot_prim_box(
            found, x=position, y=concession, data=sweep
        ),
    }
    for name, draw in figures.items():
        ax = draw()
        ax.figure.savefig(out / name, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
