"""Regenerate the figures of the documentation (``docs/figures/*.png``).

Every figure comes from a fixed seed, so running the script again gives the
same pictures (up to Matplotlib version)::

    python docs/make_figures.py            # all figures, about two minutes
    python docs/make_figures.py joint      # only figures whose name contains "joint"
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

import basesim
from basesim import plotting
from basesim.experiments import replay_stances

FIGURES = Path(__file__).resolve().parent / "figures"
N_RUNS = 20_000  # the tutorial's simulation
SEED = 1


def _cache(function: Callable[[], Any]) -> Callable[[], Any]:
    value: list[Any] = []

    def get() -> Any:
        if not value:
            value.append(function())
        return value[0]

    return get


@_cache
def scenario() -> basesim.Scenario:
    return basesim.load_scenario("syria-2025")


@_cache
def result() -> basesim.SimulationResult:
    return basesim.simulate(scenario(), n_runs=N_RUNS, rng=SEED, keep_runs=N_RUNS)


@_cache
def model() -> basesim.NegotiationModel:
    # Run 0 of simulate(..., rng=14): the issues are settled in different months.
    one = basesim.NegotiationModel(scenario(), rng=14)
    one.run()
    return one


@_cache
def comparison() -> basesim.ComparisonResult:
    base = scenario()
    return basesim.compare(
        {
            "syria-2025": base,
            "turkey-acquiesces": basesim.load_scenario("syria-2025-turkey-acquiesces"),
            "hedging": basesim.load_scenario("syria-2025-hedging"),
            "west-conditional": basesim.load_scenario("syria-2025-west-conditional"),
        },
        n_runs=N_RUNS,
        rng=SEED,
    )


#: Every built-in model, in the order of the models page.
MODELS = (
    "bargaining",
    "compromise",
    "compromise-median",
    "nash",
    "nash-salience",
    "bdm",
    "bdm-reading2",
    "smp",
    "exchange",
    "ensemble",
)


@_cache
def models_comparison() -> basesim.ComparisonResult:
    return basesim.compare_models(scenario(), models=list(MODELS), n_runs=N_RUNS, rng=SEED)


SWEEP = {"actors.syria.basing.position": (0.0, 0.6), "actors.russia.concession": (0.6, 3.0)}


@_cache
def swept() -> basesim.SweepResult:
    return basesim.sweep(scenario(), SWEEP, design="grid", n_points=7, n_runs=2_000, rng=SEED)


def figures() -> dict[str, Callable[[], Any]]:
    """File name -> function drawing the figure (returns its Axes)."""
    x, y = SWEEP
    return {
        "probabilities.png": lambda: result().plot(),
        "probabilities_basing.png": lambda: plotting.plot_probabilities(result(), table="basing"),
        "joint.png": lambda: plotting.plot_joint(result()),
        "agreement_rounds.png": lambda: plotting.plot_agreement_rounds(result()),
        "settlement_months.png": lambda: plotting.plot_settlement_months(result()),
        "negotiation_basing.png": lambda: plotting.plot_negotiation(model(), issue="basing"),
        "stance_bands_basing.png": lambda: plotting.plot_stance_bands(
            replay_stances(scenario(), issue="basing", n_runs=200, rng=SEED)
        ),
        "comparison_basing.png": lambda: plotting.plot_comparison(comparison(), table="basing"),
        "differences_basing.png": lambda: plotting.plot_differences(comparison(), table="basing"),
        "models_spread.png": lambda: models_comparison().plot_spread(),
        "sweep_surface.png": lambda: plotting.plot_sweep_surface(
            swept(), x=x, y=y, outcome="basing=reduced presence"
        ),
        "sensitivity.png": lambda: plotting.plot_sensitivity(
            basesim.sensitivity(
                scenario(),
                {
                    "actors.syria.basing.position": (0.0, 0.6),
                    "actors.syria.basing.salience": (0.25, 0.8),
                    "actors.russia.concession": (0.6, 3.0),
                    "actors.turkey.influence.syria": (0.05, 0.3),
                },
                outcome="basing=withdrawal",
                n=64,
                n_runs=256,
                rng=SEED,
            )
        ),
        "prim_box.png": lambda: plotting.plot_prim_box(
            basesim.discover(
                result(), outcome="basing=reduced presence", parameters=list(SWEEP), threshold=0.6
            ),
            x=x,
            y=y,
            data=result(),
        ),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", help="only the figures whose file name contains one of these"
    )
    args = parser.parse_args(argv)
    FIGURES.mkdir(exist_ok=True)
    for name, draw in figures().items():
        if args.names and not any(part in name for part in args.names):
            continue
        ax = draw()
        ax.figure.savefig(FIGURES / name, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        print(f"wrote {FIGURES / name}")


if __name__ == "__main__":
    main()
