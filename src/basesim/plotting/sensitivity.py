"""Plots of sensitivity analyses: Sobol indices with their intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from basesim.exceptions import BasesimError
from basesim.plotting.common import (
    frame_of,
    new_axes,
    parameter_label,
    pick,
    require,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


__all__ = ["plot_sensitivity"]


_ORDER_NAMES = {
    "S1": "first",
    "first": "first",
    "first_order": "first",
    "ST": "total",
    "total": "total",
    "total_order": "total",
}


def _sensitivity_frame(sensitivity: Any, outcome: str | None) -> pd.DataFrame:
    frame = frame_of(sensitivity, "sensitivity")
    order = pick(frame, ["index", "order"], "plot_sensitivity")
    require(frame, ["parameter", "estimate", "ci_low", "ci_high"], "plot_sensitivity")
    if "outcome" in frame.columns:
        outcomes = list(dict.fromkeys(frame["outcome"]))
        if outcome is None:
            if len(outcomes) > 1:
                raise BasesimError(
                    f"outcome must be given: one of {', '.join(map(str, outcomes))}"
                )
        else:
            if outcome not in outcomes:
                raise BasesimError(
                    f"outcome must be one of {', '.join(map(str, outcomes))} (got {outcome!r})"
                )
            frame = frame[frame["outcome"] == outcome]
    frame = frame.assign(order=frame[order].map(lambda o: _ORDER_NAMES.get(str(o), str(o))))
    return frame.reset_index(drop=True)


def plot_sensitivity(
    sensitivity: Any, *, ax: Axes | None = None, outcome: str | None = None
) -> Axes:
    """First- and total-order Sobol' indices per parameter, with their intervals.

    Parameters are sorted by total-order index, the largest at the top.  A
    first-order index is the share of the outcome probability's variance a
    parameter explains alone; the total-order index adds its interactions.
    Shares lie in [0, 1], and so does the axis: an estimate or interval end
    outside it (Monte Carlo noise can push estimates slightly below 0 or above
    1) is drawn clipped to the edge, with its value written there.  A
    parameter whose change never changed the output (``output_varies``
    false) gets no bars but the words "no variation in the output".

    Parameters
    ----------
    sensitivity
        A :class:`~basesim.SensitivityResult`, or
        any object whose ``to_frame()`` (or a DataFrame) has the columns
        ``parameter``, ``index`` (``"first_order"`` / ``"total_order"``; or
        ``order`` with ``"first"`` / ``"total"`` or ``"S1"`` / ``"ST"``),
        ``estimate``, ``ci_low``, ``ci_high`` and, optionally, ``outcome`` and
        ``output_varies``.
    ax
        Axes to draw on; a new figure if ``None``.
    outcome
        Which outcome's indices to show, if the frame has several.

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _sensitivity_frame(sensitivity, outcome)
    total = frame[frame["order"] == "total"].set_index("parameter")["estimate"]
    parameters = list(dict.fromkeys(frame["parameter"]))
    parameters.sort(key=lambda p: -float(total.get(p, 0.0)))
    index = {p: i for i, p in enumerate(parameters)}
    styles = {
        "first": ("first order (alone)", "#4C72B0", -0.2),
        "total": ("total order (with interactions)", "#DD8452", 0.2),
    }
    ax = new_axes(ax, (10.0, 0.7 * len(parameters) + 2.0))
    still = set()
    if "output_varies" in frame.columns:
        still = set(frame.loc[~frame["output_varies"].astype(bool), "parameter"])
    for order, (label, colour, shift) in styles.items():
        sub = frame[frame["order"] == order]
        if len(sub) == 0:
            continue
        y = np.array([index[p] for p in sub["parameter"]]) + shift
        raw = sub["estimate"].to_numpy(dtype=float)
        raw_low = sub["ci_low"].to_numpy(dtype=float)
        raw_high = sub["ci_high"].to_numpy(dtype=float)
        # A share of variance: the axis is [0, 1], values beyond it drawn at the edge.
        e, low, high = (np.clip(v, 0.0, 1.0) for v in (raw, raw_low, raw_high))
        err = np.vstack([np.maximum(e - low, 0), np.maximum(high - e, 0)])
        for yi, value, lo, hi in zip(y, raw, raw_low, raw_high, strict=True):
            outside = [v for v in (value, lo, hi) if v < 0 or v > 1]
            if outside:
                edge = 0.0 if min(outside) < 0 else 1.0
                ax.text(
                    edge + (0.01 if edge == 0 else -0.01),
                    float(yi),
                    f"{'◂' if edge == 0 else ''}{value:.2f} [{lo:.2f}, {hi:.2f}]"
                    f"{'▸' if edge == 1 else ''}",
                    ha="left" if edge == 0 else "right",
                    va="center",
                    fontsize=7,
                    color="black",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": colour, "pad": 1.5},
                    zorder=5,
                )
        ax.barh(
            y,
            e,
            height=0.4,
            xerr=err,
            color=colour,
            label=label,
            error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        )
    for p in still:
        ax.text(0.02, index[p], "no variation in the output", va="center", fontsize=9)
    scenario = getattr(sensitivity, "scenario", None)
    ax.set_yticks(range(len(parameters)), [parameter_label(scenario, str(p)) for p in parameters])
    ax.invert_yaxis()
    ax.set_xlim(0.0, 1.0)
    ax.axvline(0, color="black", linewidth=0.8)
    level = getattr(sensitivity, "confidence_level", None)
    interval = f"{level:.0%} confidence interval" if level else "confidence interval"
    # A continuous outcome (value:, month:) is analysed through its per-point mean.
    quantity = "probability" if getattr(sensitivity, "is_probability", True) else "mean"
    ax.set_xlabel(f"Sobol' index: share of the {quantity}'s variance\n(bars: {interval})")
    ax.set_ylabel("")
    what = outcome if outcome is not None else getattr(sensitivity, "outcome", None)
    where = f"{scenario.name}: " if scenario is not None else ""
    ax.set_title(
        f"{where}which parameters drive the {quantity}" + (f" of {what}" if what else ""),
        fontsize=10,
    )
    ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
