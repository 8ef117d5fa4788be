"""Plots of parameter sweeps: a probability over one or two swept parameters."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from basesim.exceptions import BasesimError
from basesim.outcomes import NO_AGREEMENT
from basesim.plotting.common import (
    BAR,
    frame_of,
    new_axes,
    parameter_label,
    require,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


__all__ = ["plot_sweep_line", "plot_sweep_surface"]


# -- sweeps, sensitivity, scenario discovery ----------------------------------------------------
def _split_outcome(outcome: str, table: str | None) -> tuple[str | None, str]:
    """``"basing=retention"`` -> ``("basing", "retention")``; ``"no agreement"`` -> joint."""
    text = outcome.strip()
    if text == NO_AGREEMENT:
        return "joint", text
    if table is None and "=" in text:
        head, _, tail = text.partition("=")
        return head.strip(), tail.strip()
    return table, text


def _sweep_rows(
    sweep: Any, frame: pd.DataFrame, outcome: str, table: str | None
) -> tuple[pd.DataFrame, str | None, str]:
    """The rows of a sweep's tidy frame for ``outcome``: ``(rows, table, bare name)``."""
    scenario = getattr(sweep, "scenario", None)
    if scenario is not None and table is None:
        # The scenario's own spelling of the name ("joint=unsettled / unsettled"
        # is "no agreement"); unknown names are reported below.
        from basesim.exceptions import SimulationError
        from basesim.outcomes import OutcomeTable

        outcomes = OutcomeTable.of(scenario)
        with contextlib.suppress(SimulationError):
            outcome = outcomes.names[outcomes.index(outcome)]
    table, name = _split_outcome(outcome, table)
    sub = frame[frame["outcome"] == name]
    if table is not None and "table" in sub.columns:
        sub = sub[sub["table"] == table]
    if len(frame) == 0:
        raise BasesimError(
            f"nothing to plot for outcome {outcome!r}: no point of the sweep succeeded "
            "(see the result's failures)"
        )
    if len(sub) == 0:
        if "table" in frame.columns:
            known = dict.fromkeys(
                o if o == NO_AGREEMENT else f"{t}={o}"
                for t, o in zip(frame["table"], frame["outcome"], strict=True)
            )
        else:
            known = dict.fromkeys(map(str, frame["outcome"]))
        raise BasesimError(f"outcome must be one of {', '.join(known)} (got {outcome!r})")
    if "table" in sub.columns and sub["table"].nunique() > 1:
        tables = ", ".join(f"{t}={name}" for t in sub["table"].unique())
        raise BasesimError(f"outcome {outcome!r} is ambiguous: name it as one of {tables}")
    return sub, table, name


def plot_sweep_surface(
    sweep: Any, *, x: str, y: str, outcome: str, ax: Axes | None = None, table: str | None = None
) -> Axes:
    """The probability of one outcome over two swept parameters.

    A grid design is drawn as a heat map with the probability written in
    each cell (when there are at most 64); a scattered design (Latin
    hypercube, Sobol') as points coloured by the probability.  Points that
    differ only in other swept parameters are averaged.

    Parameters
    ----------
    sweep
        A :class:`~basesim.SweepResult`, or any object whose
        ``to_frame()`` (or a DataFrame) is tidy: one row per design point and
        outcome, with a column per swept parameter (named by its field path),
        ``outcome``, ``probability`` and, optionally, ``table``.
    x, y
        The parameters (field paths) on the horizontal and vertical axes.
    outcome
        The outcome whose probability is shown, named as in
        :meth:`SweepResult.probability <basesim.SweepResult.probability>`
        (``"basing=retention"``, ``"joint=withdrawal / substantial"``,
        ``"no agreement"``) or by its bare name with ``table``.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        The table a bare ``outcome`` name belongs to, if it is ambiguous.

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = frame_of(sweep, "sweep")
    require(frame, [x, y, "outcome", "probability"], "plot_sweep_surface")
    sub, table, name = _sweep_rows(sweep, frame, outcome, table)
    scenario = getattr(sweep, "scenario", None)
    grid = sub.pivot_table(index=y, columns=x, values="probability", aggfunc="mean")
    xs = grid.columns.to_numpy(dtype=float)
    ys = grid.index.to_numpy(dtype=float)
    values = grid.to_numpy(dtype=float)
    ax = new_axes(ax, (6.5, 5.0))
    label = name if table in (None, "joint") else f"{name} ({table})"
    if np.isfinite(values).all():
        mapped: Any = ax.pcolormesh(
            _edges(xs), _edges(ys), values, cmap="viridis", vmin=0.0, vmax=1.0, shading="flat"
        )
        if len(xs) * len(ys) <= 64:
            for i, yv in enumerate(ys):
                for j, xv in enumerate(xs):
                    colour = "white" if values[i, j] < 0.6 else "black"
                    ax.text(
                        xv,
                        yv,
                        f"{values[i, j]:.0%}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color=colour,
                    )
    else:
        points = sub.groupby([x, y], as_index=False)["probability"].mean()
        mapped = ax.scatter(
            points[x],
            points[y],
            c=points["probability"],
            cmap="viridis",
            vmin=0.0,
            vmax=1.0,
            s=30,
            edgecolors="none",
        )
    colorbar = ax.figure.colorbar(mapped, ax=ax, format=PercentFormatter(1.0, decimals=0))
    colorbar.set_label(f"probability of {label}")
    ax.set_xlabel(parameter_label(scenario, x))
    ax.set_ylabel(parameter_label(scenario, y))
    where = f"{scenario.name}: " if scenario is not None else ""
    runs = getattr(sweep, "n_runs", None)
    per = f"\n{runs:,} runs per design point" if runs else ""
    ax.set_title(f"{where}probability of {label}{per}", fontsize=10)
    return ax


def plot_sweep_line(
    sweep: Any,
    *,
    x: str,
    outcome: str,
    ax: Axes | None = None,
    table: str | None = None,
    confidence_level: float = 0.95,
) -> Axes:
    """The probability of one outcome against one swept parameter, with its interval band.

    For a sweep over one parameter: a line through each design point's
    estimated probability, in order of ``x``, with dots at the points, and a
    band joining each point's Wilson interval (over the point's runs).  The
    points share their random numbers (common random numbers), so the line
    is smoother than independent samples would make it; the band is the
    uncertainty of each point on its own.

    Parameters
    ----------
    sweep
        A :class:`~basesim.SweepResult`, or any object whose ``to_frame()``
        (or a DataFrame) is tidy: one row per design point and outcome, with
        a column ``x``, ``outcome``, ``probability``, ``ci_low``, ``ci_high``
        and, optionally, ``table``.  No two points may share a value of
        ``x`` (a sweep over several parameters: use
        :func:`plot_sweep_surface`).
    x
        The swept parameter (field path) on the horizontal axis.
    outcome
        The outcome whose probability is shown, named as for
        :func:`plot_sweep_surface`.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        The table a bare ``outcome`` name belongs to, if it is ambiguous.
    confidence_level
        Of the band, for a :class:`~basesim.SweepResult` (a frame brings its
        own ``ci_low`` and ``ci_high``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import pandas as pd

    # A sweep result (not a frame): it has the probability of each outcome at each point.
    is_result = not isinstance(sweep, pd.DataFrame) and callable(
        getattr(sweep, "probability", None)
    )
    frame = sweep.to_frame(confidence_level) if is_result else frame_of(sweep, "sweep")
    require(frame, [x, "outcome", "probability", "ci_low", "ci_high"], "plot_sweep_line")
    sub, table, name = _sweep_rows(sweep, frame, outcome, table)
    if sub[x].duplicated().any():
        raise BasesimError(
            f"x = {x!r} takes the same value at several design points (other parameters were "
            "swept too); plot_sweep_line needs a sweep over x alone: use plot_sweep_surface"
        )
    sub = sub.sort_values(x, kind="stable")
    xs = sub[x].to_numpy(dtype=float)
    scenario = getattr(sweep, "scenario", None)
    label = name if table in (None, "joint") else f"{name} ({table})"
    ax = new_axes(ax, (7.0, 4.2))
    ax.fill_between(
        xs,
        sub["ci_low"].to_numpy(dtype=float),
        sub["ci_high"].to_numpy(dtype=float),
        color=BAR,
        alpha=0.25,
        linewidth=0,
        label="Wilson interval of each point",
    )
    ax.plot(
        xs,
        sub["probability"].to_numpy(dtype=float),
        color=BAR,
        linewidth=1.8,
        marker="o",
        markersize=3.5,
        label=f"probability of {label}",
    )
    ax.set_ylim(0.0, 1.0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(parameter_label(scenario, x))
    ax.set_ylabel(f"probability of {label}")
    band = f"{confidence_level:.0%} Wilson interval" if is_result else "confidence interval"
    runs = getattr(sweep, "n_runs", None)
    per = f", {runs:,} runs per design point" if runs else ""
    where = f"{scenario.name}: " if scenario is not None else ""
    ax.set_title(f"{where}probability of {label}\n(band: {band}{per})", fontsize=10)
    ax.legend(loc="best", frameon=True, framealpha=0.9, fontsize=9)
    ax.grid(alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def _edges(centres: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cell edges around sorted cell centres (midpoints; half a step beyond the ends)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])
