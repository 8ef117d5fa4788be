"""Plots of comparisons: outcome probabilities per scenario, differences, spread."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.ticker import FuncFormatter, PercentFormatter

from basesim.exceptions import BasesimError
from basesim.outcomes import UNSETTLED
from basesim.plotting.common import (
    NEUTRAL,
    category_labels,
    frame_of,
    new_axes,
    pick,
    require,
    row_labels,
    scenario_colors,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes


__all__ = ["plot_comparison", "plot_differences", "plot_spread"]


# -- comparisons -----------------------------------------------------------------------------
def _comparison_frame(comparison: Any, table: str) -> pd.DataFrame:
    frame = frame_of(comparison, "comparison")
    require(frame, ["scenario", "outcome", "probability", "ci_low", "ci_high"], "plot_comparison")
    if "table" in frame.columns:
        frame = frame[frame["table"] == table]
        if len(frame) == 0:
            raise BasesimError(f"the comparison has no rows for table {table!r}")
    return frame.reset_index(drop=True)


def _outcome_axis(comparison: Any, table: str, outcomes: Sequence[str]) -> tuple[list[str], str]:
    """Tick labels and axis label for the outcomes of ``table`` in a comparison."""
    results = getattr(comparison, "results", None)
    scenario = getattr(results[0], "scenario", None) if results else None
    if scenario is not None and table == "joint":
        return [str(o) for o in outcomes], " / ".join(i.label for i in scenario.issues)
    if scenario is not None and table in scenario.issue_names:
        issue = scenario.issue(table)
        if list(outcomes) == [*issue.categories, UNSETTLED]:
            return row_labels(issue), f"{issue.label}: settled in category, or unsettled"
        if list(outcomes) == list(issue.categories):
            return category_labels(issue), f"{issue.label}: outcome category"
    return [
        str(o) for o in outcomes
    ], "outcome" if table == "joint" else f"{table}: outcome category"


def _reference_first(comparison: Any, names: list[str]) -> list[str]:
    reference = getattr(comparison, "reference", None)
    if reference in names:
        return [reference, *[n for n in names if n != reference]]
    return names


def plot_comparison(comparison: Any, *, ax: Axes | None = None, table: str = "joint") -> Axes:
    """Outcome probabilities of several scenarios side by side, with intervals.

    Parameters
    ----------
    comparison
        A :class:`~basesim.ComparisonResult` (from :func:`basesim.compare`),
        or any object whose ``to_frame()`` (or a DataFrame) has the columns
        ``scenario``, ``outcome``, ``probability``, ``ci_low``, ``ci_high``
        and, optionally, ``table``.  The reference scenario (the first, if
        the object names none) is drawn first, in grey.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        Which table of outcomes to show (``"joint"`` or an issue's name).

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _comparison_frame(comparison, table)
    scenarios = _reference_first(comparison, list(dict.fromkeys(frame["scenario"])))
    outcomes = list(dict.fromkeys(frame["outcome"]))
    colours = scenario_colors(scenarios)
    m = len(scenarios)
    height = 0.8 / m
    ax = new_axes(ax, (8.0, 0.35 * len(outcomes) * max(m, 2) + 1.6))
    index = {o: i for i, o in enumerate(outcomes)}
    for s, name in enumerate(scenarios):
        sub = frame[frame["scenario"] == name]
        y = np.array([index[o] for o in sub["outcome"]]) - 0.4 + height * (s + 0.5)
        p = sub["probability"].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.maximum(p - sub["ci_low"].to_numpy(dtype=float), 0),
                np.maximum(sub["ci_high"].to_numpy(dtype=float) - p, 0),
            ]
        )
        ax.barh(
            y,
            p,
            height=height,
            xerr=err,
            color=colours[name],
            label=str(name),
            error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        )
    labels, axis_label = _outcome_axis(comparison, table, outcomes)
    ax.set_yticks(range(len(outcomes)), labels)
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, min(1.05, float(frame["ci_high"].max()) + 0.05))
    level = getattr(comparison, "confidence_level", None)
    interval = f"{level:.0%} Wilson interval" if level else "confidence interval"
    runs = getattr(comparison, "n_runs", None)
    per = f", {runs:,} runs per scenario" if runs else ""
    ax.set_xlabel(f"probability (bars: {interval}{per})")
    ax.set_ylabel(axis_label)
    ax.set_title("Outcome probabilities by scenario")
    ax.legend(title="scenario", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def _differences_frame(comparison: Any, table: str) -> pd.DataFrame:
    differences = getattr(comparison, "differences", None)
    frame = frame_of(
        differences() if callable(differences) else comparison, "comparison.differences()"
    )
    require(frame, ["scenario", "outcome", "difference", "ci_low", "ci_high"], "plot_differences")
    if "table" in frame.columns:
        frame = frame[frame["table"] == table]
        if len(frame) == 0:
            raise BasesimError(f"the comparison has no differences for table {table!r}")
    return frame.reset_index(drop=True)


def plot_differences(comparison: Any, *, ax: Axes | None = None, table: str = "joint") -> Axes:
    """Paired differences from the baseline as a forest plot.

    Each variant's change in each outcome's probability, against the
    baseline on the same random numbers, as a point with its confidence
    interval; a vertical line marks no change.

    Parameters
    ----------
    comparison
        A :class:`~basesim.ComparisonResult` (from :func:`basesim.compare`):
        its ``differences()`` (or the object itself, if it has no such
        method) must give, via ``to_frame()`` or as a DataFrame, the columns
        ``scenario`` (the variant), ``outcome``, ``difference``, ``ci_low``,
        ``ci_high`` and, optionally, ``table`` and ``reference``.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        Which table of outcomes to show (``"joint"`` or an issue's name).

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _differences_frame(comparison, table)
    variants = list(dict.fromkeys(frame["scenario"]))
    outcomes = list(dict.fromkeys(frame["outcome"]))
    reference = (
        pick(frame, ["reference", "baseline"], "plot_differences")
        if ("reference" in frame.columns or "baseline" in frame.columns)
        else None
    )
    baseline = str(frame[reference].iloc[0]) if reference is not None else "the reference"
    colours = scenario_colors([baseline, *variants])
    m = len(variants)
    ax = new_axes(ax, (8.0, 0.4 * len(outcomes) * max(m, 1.5) + 1.6))
    index = {o: i for i, o in enumerate(outcomes)}
    step = 0.7 / m
    for s, name in enumerate(variants):
        sub = frame[frame["scenario"] == name]
        y = np.array([index[o] for o in sub["outcome"]]) - 0.35 + step * (s + 0.5)
        d = sub["difference"].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.maximum(d - sub["ci_low"].to_numpy(dtype=float), 0),
                np.maximum(sub["ci_high"].to_numpy(dtype=float) - d, 0),
            ]
        )
        ax.errorbar(d, y, xerr=err, fmt="o", color=colours[name], capsize=3, label=str(name))
    ax.axvline(0, color="black", linewidth=1)
    labels, axis_label = _outcome_axis(comparison, table, outcomes)
    ax.set_yticks(range(len(outcomes)), labels)
    ax.set_ylim(len(outcomes) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:+.0f}" if v else "0"))
    level = getattr(comparison, "confidence_level", None)
    interval = f"{level:.0%} confidence interval" if level else "confidence interval"
    ax.set_xlabel(
        f"change in probability from {baseline}\n(percentage points; bars: paired {interval})"
    )
    ax.set_ylabel(axis_label)
    ax.set_title(f"Paired differences from {baseline}")
    ax.legend(title="variant", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_spread(comparison: Any, *, ax: Axes | None = None) -> Axes:
    """Each issue's outcome probabilities under every scenario or model, and their range.

    One row per issue and outcome (its categories, then ``unsettled``): a
    grey bar spans the lowest to the highest probability over the compared
    scenarios (or models, for :func:`basesim.compare_models`), and a point
    per scenario marks its own.  A long bar is an outcome on which they
    disagree.

    Parameters
    ----------
    comparison
        A :class:`~basesim.ComparisonResult`; its ``probabilities()`` give the
        points, its ``spread()`` the bars.
    ax
        Axes to draw on; a new figure if ``None``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = comparison.probabilities()
    frame = frame[frame["table"] != "joint"].reset_index(drop=True)
    spread = comparison.spread()
    names = list(comparison.names)
    colours = scenario_colors(names)
    rows = list(zip(spread["table"], spread["outcome"], strict=True))
    index = {row: i for i, row in enumerate(rows)}
    ax = new_axes(ax, (8.0, 0.32 * len(rows) + 1.6))
    ax.hlines(
        range(len(rows)), spread["low"], spread["high"], color=NEUTRAL, linewidth=6, alpha=0.5
    )
    m = len(names)
    # Colours repeat past the palette's length: a marker shape per scenario too.
    markers = "osD^vP*Xhp<>"
    for s, name in enumerate(names):
        sub = frame[frame["scenario"] == name]
        y = np.array([index[row] for row in zip(sub["table"], sub["outcome"], strict=True)])
        offset = 0.0 if m == 1 else -0.3 + 0.6 * s / (m - 1)
        ax.plot(
            sub["probability"].to_numpy(dtype=float),
            y + offset,
            markers[s % len(markers)],
            color=colours[name],
            label=str(name),
            markersize=5,
        )
    scenario = comparison.results[0].scenario
    labels = []
    for table, outcome in rows:
        issue = scenario.issue(table)
        labels.append(f"{issue.label}: {outcome}")
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(-0.02, 1.02)
    runs = getattr(comparison, "n_runs", None)
    per = f", {runs:,} runs each" if runs else ""
    ax.set_xlabel(f"probability (grey: range over the compared{per})")
    ax.set_title("How far apart the compared scenarios or models put each outcome")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
