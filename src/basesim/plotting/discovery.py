"""Plots of scenario discovery: the PRIM box over the design points."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from basesim.exceptions import BasesimError
from basesim.plotting.common import (
    NEUTRAL,
    frame_of,
    new_axes,
    parameter_label,
    require,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


__all__ = ["plot_prim_box"]


def _discovery_points(
    discovery: Any, data: Any, x: str, y: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The points of ``data`` on ``x`` and ``y``, and each point's outcome value in [0, 1]."""
    import pandas as pd

    outcome = str(getattr(discovery, "outcome", "hit"))
    points = getattr(data, "points", None)
    names = getattr(data, "parameter_names", None)
    if points is not None and names is not None and hasattr(data, "probability"):  # a sweep
        ok = np.asarray(data.ok)
        for name in (x, y):
            if name not in names:
                raise BasesimError(f"{name!r} is not a swept parameter ({', '.join(names)})")
        values = np.asarray(data.probability(outcome))[ok]
        pts = np.asarray(points)[ok]
        return pts[:, names.index(x)], pts[:, names.index(y)], values
    frame = data if isinstance(data, pd.DataFrame) else frame_of(data, "data")
    require(frame, [x, y], "plot_prim_box")
    if outcome in frame.columns:
        values = frame[outcome].to_numpy(dtype=float)
    else:
        table, _, label = outcome.partition("=") if "=" in outcome else ("joint", "", outcome)
        column = "outcome" if table == "joint" else f"{table}_category"
        require(frame, [column], "plot_prim_box")
        values = (frame[column].astype(str) == label.strip()).to_numpy(dtype=float)
    return frame[x].to_numpy(dtype=float), frame[y].to_numpy(dtype=float), values


def plot_prim_box(
    discovery: Any, *, x: str, y: str, data: Any = None, ax: Axes | None = None
) -> Axes:
    """Scenario discovery: the PRIM box on two parameters, over the data it was found in.

    Draws the range of the data (dashed) and the chosen box (solid), on
    ``x`` and ``y``.
    With ``data``, the points are drawn too: cases of interest in colour and
    the others in grey, or (for a sweep, whose outcome is a probability)
    coloured by the probability.  The box may also restrict parameters not
    shown; its coverage and density, in the legend, count them all.

    Parameters
    ----------
    discovery
        A :class:`~basesim.DiscoveryResult` (see
        :func:`basesim.discover`), or any object with ``parameters``,
        ``data_range``, ``trajectory.limits`` (steps, parameters, 2), ``step``,
        ``outcome``, ``coverage`` and ``density`` attributes.
    x, y
        The parameters (field paths) on the horizontal and vertical axes.
    data
        The data the discovery was run on: a
        :class:`~basesim.SimulationResult` that kept runs, a
        :class:`~basesim.SweepResult` or a DataFrame.
    ax
        Axes to draw on; a new figure if ``None``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    parameters = list(getattr(discovery, "parameters", ()))
    for arg, name in (("x", x), ("y", y)):
        if name not in parameters:
            raise BasesimError(
                f"{arg} must be one of the parameters peeled over, {', '.join(parameters)} "
                f"(got {name!r})"
            )
    i, j = parameters.index(x), parameters.index(y)
    limits = np.asarray(discovery.trajectory.limits, dtype=float)
    data_range = np.asarray(discovery.data_range, dtype=float)
    step = int(discovery.step)
    scenario = getattr(data, "scenario", None)
    ax = new_axes(ax, (7.0, 5.5))
    mapped: Any = None
    if data is not None:
        px, py, values = _discovery_points(discovery, data, x, y)
        binary = bool(np.isin(values, (0.0, 1.0)).all())
        if binary:
            hit = values == 1.0
            ax.scatter(
                px[~hit],
                py[~hit],
                s=8,
                color=NEUTRAL,
                alpha=0.4,
                linewidths=0,
                label="other outcome",
            )
            ax.scatter(
                px[hit],
                py[hit],
                s=10,
                color="#D55E00",
                alpha=0.7,
                linewidths=0,
                label=str(discovery.outcome),
            )
        else:
            mapped = ax.scatter(
                px, py, c=values, cmap="viridis", vmin=0.0, vmax=1.0, s=25, edgecolors="none"
            )
    ax.add_patch(
        Rectangle(
            (data_range[i, 0], data_range[j, 0]),
            data_range[i, 1] - data_range[i, 0],
            data_range[j, 1] - data_range[j, 0],
            fill=False,
            edgecolor=NEUTRAL,
            linestyle="--",
            linewidth=1,
            label="range of the data",
        )
    )
    (x0, x1), (y0, y1) = limits[step, i], limits[step, j]
    ax.add_patch(
        Rectangle(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            fill=False,
            edgecolor="black",
            linewidth=2.5,
            label=(
                f"chosen box (step {step}): density {discovery.density:.0%}, "
                f"coverage {discovery.coverage:.0%}"
            ),
        )
    )
    if mapped is not None:
        colorbar = ax.figure.colorbar(mapped, ax=ax, format=PercentFormatter(1.0, decimals=0))
        colorbar.set_label(f"probability of {discovery.outcome}")
    pad_x = 0.03 * (data_range[i, 1] - data_range[i, 0] or 1.0)
    pad_y = 0.03 * (data_range[j, 1] - data_range[j, 0] or 1.0)
    ax.set_xlim(data_range[i, 0] - pad_x, data_range[i, 1] + pad_x)
    ax.set_ylim(data_range[j, 0] - pad_y, data_range[j, 1] + pad_y)
    ax.set_xlabel(parameter_label(scenario, x))
    ax.set_ylabel(parameter_label(scenario, y))
    restricted = [p for p in getattr(discovery, "restricted", ()) if p not in (x, y)]
    others = f"\nthe box also restricts {', '.join(restricted)}" if restricted else ""
    ax.set_title(f"Where {discovery.outcome} is likely (PRIM){others}", fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.16), frameon=False, fontsize=8, ncols=2)
    return ax
