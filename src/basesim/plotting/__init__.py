"""Plots of scenarios, single negotiations and simulation results (Matplotlib).

Every function draws on the Axes passed as ``ax`` (a new figure if ``None``)
and returns that Axes, so plots compose into figures of your own.  Each actor
has one colour in every plot (:func:`actor_colors`); axes that show an issue's
0–1 scale carry the issue's anchors in words; probabilities are shown in
percent with their confidence intervals.

The numbers behind each picture come from the object plotted: a
:class:`~basesim.SimulationResult`'s :meth:`~basesim.SimulationResult.probabilities`,
:meth:`~basesim.SimulationResult.agreement_rounds` and
:meth:`~basesim.SimulationResult.settlement_months`, a
:class:`~basesim.NegotiationModel`'s DataCollector, or the tidy ``to_frame()``
of a comparison, sweep, sensitivity analysis or scenario discovery.  Plots
never simulate: many negotiations month by month are replayed first
(:func:`basesim.experiments.replay_stances`) and the replay is drawn.

The plots are written in modules by what they draw: ``probabilities``
(a simulation's outcomes and settlement months), ``negotiation`` (one run,
and replayed runs), ``comparisons``, ``sweeps``, ``sensitivity``,
``discovery`` and ``backtest``, with the colours and labels they share
in ``common``; every plot is importable from here.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import basesim
>>> from basesim import plotting
>>> res = basesim.simulate(basesim.load_scenario("syria-2025"), n_runs=1_000, rng=7)
>>> ax = plotting.plot_probabilities(res, table="basing")
>>> [round(bar.get_width(), 3) for bar in ax.patches] == (
...     res.probabilities().query("table == 'basing'").probability.round(3).tolist())
True
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

from basesim.experiments.replay import stance_paths
from basesim.plotting.backtest import (
    backtest_errors,
    plot_backtest,
)
from basesim.plotting.common import (
    actor_colors,
    issue_tick_labels,
    month_label,
    parameter_label,
    scenario_colors,
)
from basesim.plotting.comparisons import (
    plot_comparison,
    plot_differences,
    plot_spread,
)
from basesim.plotting.discovery import (
    plot_prim_box,
)
from basesim.plotting.negotiation import (
    plot_negotiation,
    plot_stance_bands,
)
from basesim.plotting.probabilities import (
    plot_agreement_rounds,
    plot_joint,
    plot_probabilities,
    plot_settlement_months,
)
from basesim.plotting.sensitivity import (
    plot_sensitivity,
)
from basesim.plotting.sweeps import (
    plot_sweep_line,
    plot_sweep_surface,
)

__all__ = [
    "actor_colors",
    "backtest_errors",
    "issue_tick_labels",
    "month_label",
    "parameter_label",
    "plot_agreement_rounds",
    "plot_backtest",
    "plot_comparison",
    "plot_differences",
    "plot_joint",
    "plot_negotiation",
    "plot_prim_box",
    "plot_probabilities",
    "plot_sensitivity",
    "plot_settlement_months",
    "plot_spread",
    "plot_stance_bands",
    "plot_sweep_line",
    "plot_sweep_surface",
    "scenario_colors",
    "stance_paths",
]
