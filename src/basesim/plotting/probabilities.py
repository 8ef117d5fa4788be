"""Plots of a simulation's outcome probabilities and settlement months."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import PercentFormatter

from basesim.exceptions import BasesimError
from basesim.outcomes import (
    MAX_JOINT_CELLS,
    NO_AGREEMENT,
    SOME_SETTLED,
    UNSETTLED,
    wilson_interval,
)
from basesim.plotting.common import (
    BAR,
    NEUTRAL,
    PARTIAL,
    month_label,
    new_axes,
    round_ticks,
    row_labels,
    scenario_title,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim.results import SimulationResult
    from basesim.scenario import Scenario


__all__ = ["plot_agreement_rounds", "plot_joint", "plot_probabilities", "plot_settlement_months"]


# -- outcome probabilities --------------------------------------------------------------
def _table_rows(result: SimulationResult, table: str, confidence_level: float) -> pd.DataFrame:
    probs = result.probabilities(confidence_level)
    tables = list(dict.fromkeys(probs["table"]))
    if table not in tables:
        raise BasesimError(f"table must be one of {', '.join(tables)} (got {table!r})")
    return probs[probs["table"] == table].reset_index(drop=True)


def _joint_labels(scenario: Scenario) -> list[str]:
    """The joint table's cells with each issue's range, one issue a line; ``"no agreement"`` last.

    A joint table that is not enumerated keeps its own three labels.

    ``"withdrawal (below 0.25) /\nsubstantial (0.75 and above)"``: the cut-offs
    as the rows of an issue's own table show them.
    """
    from basesim.outcomes import OutcomeTable

    table = OutcomeTable.of(scenario)
    if not table.enumerated:
        return list(table.joint_labels)
    rows = [row_labels(issue) for issue in scenario.issues]
    shape = tuple(len(r) for r in rows)
    labels = [
        " /\n".join(r[i] for r, i in zip(rows, np.unravel_index(c, shape), strict=True))
        for c in range(int(np.prod(shape)))
    ]
    labels[-1] = NO_AGREEMENT
    return labels


def _outcome_labels(scenario: Scenario, table: str, outcomes: Sequence[str]) -> list[str]:
    if table == "joint":
        every = dict(zip(_joint_outcomes(scenario), _joint_labels(scenario), strict=True))
        return [every.get(o, o) for o in outcomes]
    return row_labels(scenario.issue(table))


def _joint_outcomes(scenario: Scenario) -> tuple[str, ...]:
    from basesim.outcomes import OutcomeTable

    return OutcomeTable.of(scenario).joint_labels


def _table_axis_label(scenario: Scenario, table: str) -> str:
    if table == "joint":
        return " / ".join(i.label for i in scenario.issues)
    return "how the issue ends"


def _bar_colour(outcome: str) -> str:
    """Grey for runs that settled nothing, pale for joint outcomes settling some issues only."""
    if outcome in (NO_AGREEMENT, UNSETTLED):
        return NEUTRAL
    if outcome == SOME_SETTLED or UNSETTLED in (part.strip() for part in outcome.split("/")):
        return PARTIAL
    return BAR


def plot_probabilities(
    result: SimulationResult,
    *,
    ax: Axes | None = None,
    table: str = "joint",
    confidence_level: float = 0.95,
) -> Axes:
    """Outcome probabilities as bars with Wilson confidence intervals.

    One horizontal bar per outcome of ``table``, in the table's order (the
    first at the top), its length the probability and its error bar the
    Wilson interval of :meth:`SimulationResult.probabilities`; the percentage
    is written beside each bar.  Rows of runs that settled nothing
    (``"unsettled"`` in an issue's table, ``"no agreement"`` in the joint
    table) are grey; joint outcomes that leave some issues unsettled, pale.
    Every outcome is labelled with the range of the 0–1 scale each issue's
    category covers (its cut-offs).  The joint table shows only the
    outcomes some run reached, and ``"no agreement"`` always; the x-axis
    label says how many empty ones were left out.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        ``"joint"`` (every combination of each issue's categories and
        ``"unsettled"``, the last being no agreement) or an issue's name
        (that issue's categories, then ``"unsettled"``).
    confidence_level
        Of the intervals.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = _table_rows(result, table, confidence_level)
    scenario = result.scenario
    empty = 0
    if table == "joint":
        keep = (rows["count"] > 0).to_numpy() | (rows["outcome"] == NO_AGREEMENT).to_numpy()
        empty = int((~keep).sum())
        rows = rows[keep].reset_index(drop=True)
    n = len(rows)
    lines = len(scenario.issues) if table == "joint" else 1
    ax = new_axes(ax, (7.5, (0.3 + 0.17 * lines) * n + 1.6))
    p = rows["probability"].to_numpy(dtype=float)
    low = np.maximum(p - rows["ci_low"].to_numpy(dtype=float), 0.0)
    high = np.maximum(rows["ci_high"].to_numpy(dtype=float) - p, 0.0)
    y = np.arange(n)
    colours = [_bar_colour(o) for o in rows["outcome"]]
    ax.barh(
        y,
        p,
        xerr=np.vstack([low, high]),
        color=colours,
        error_kw={"ecolor": "black", "capsize": 3, "elinewidth": 1},
        label="probability",
    )
    for yi, pi, hi in zip(y, p, high, strict=True):
        ax.text(float(pi + hi + 0.01), float(yi), f"{pi:.1%}", va="center", ha="left", fontsize=9)
    ax.set_yticks(y, _outcome_labels(scenario, table, list(rows["outcome"])))
    ax.invert_yaxis()
    top = float(np.max(p + high)) if n else 1.0
    ax.set_xlim(0, min(1.0, top + 0.12) if top < 0.88 else 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    left_out = (
        f"\n{empty} joint {'outcome' if empty == 1 else 'outcomes'} no run reached not shown"
        if empty
        else ""
    )
    ax.set_xlabel(
        f"probability (bars: {confidence_level:.0%} Wilson interval, {result.n_runs:,} runs)"
        + left_out
    )
    ax.set_ylabel(_table_axis_label(scenario, table))
    what = "joint outcome" if table == "joint" else scenario.issue(table).label
    ax.set_title(f"{scenario_title(scenario)}: {what}")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_joint(
    result: SimulationResult,
    *,
    ax: Axes | None = None,
    rows: str | None = None,
    columns: str | None = None,
    confidence_level: float = 0.95,
) -> Axes:
    """How two issues end together, as an annotated heat table.

    Each cell is the probability that the runs end with the row issue in
    that row and the column issue in that column (other issues, if any,
    summed over), written in the cell with its Wilson interval.  Rows and
    columns are each issue's categories, for runs that settled it, then
    ``"unsettled"`` (the status quo kept), so the cells sum to 1; with two
    issues, the corner cell where both are unsettled is no agreement.  The
    probability of no agreement (no issue settled) is stated in the title.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    rows, columns
        The issues on the vertical and horizontal axes (by default the first
        and second issue; a one-issue scenario gets a single column).
    confidence_level
        Of the intervals in the cells.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    BasesimError
        If the joint table is not enumerated (more than
        :data:`~basesim.outcomes.MAX_JOINT_CELLS` combinations of the
        issues' rows), or ``rows`` or ``columns`` is not an issue.
    """
    scenario = result.scenario
    names = list(scenario.issue_names)
    row_name = rows if rows is not None else names[0]
    col_name = columns if columns is not None else (names[1] if len(names) > 1 else None)
    for arg, value in (("rows", row_name), ("columns", col_name)):
        if value is not None and value not in names:
            raise BasesimError(
                f"{arg} must be one of the issues {', '.join(names)} (got {value!r})"
            )
    if col_name == row_name:
        raise BasesimError(f"rows and columns must be different issues (got {row_name!r} twice)")
    outcomes = result.tally.table
    if not outcomes.enumerated:
        raise BasesimError(
            f"plot_joint needs the joint table, which must have at most MAX_JOINT_CELLS = "
            f"{MAX_JOINT_CELLS} cells (the scenario's issues have {math.prod(outcomes.shape)} "
            "combinations): plot each issue's table with plot_probabilities(result, table=ISSUE)"
        )
    shape = outcomes.shape
    counts = np.asarray(result.tally.joint, dtype=np.int64).reshape(shape)
    r_axis = names.index(row_name)
    keep = [r_axis] if col_name is None else [r_axis, names.index(col_name)]
    table = counts.sum(axis=tuple(k for k in range(len(shape)) if k not in keep))
    if col_name is None:
        table = table[:, None]
    elif keep[0] > keep[1]:
        table = table.T
    n = result.n_runs
    prob = table / n
    low, high = wilson_interval(table, n, confidence_level)

    row_issue = scenario.issue(row_name)
    ax = new_axes(ax, (8.0, 5.5))
    image = ax.imshow(
        prob,
        origin="lower",
        cmap="Blues",
        vmin=0.0,
        vmax=max(float(prob.max()), 1e-12),
        aspect="auto",
    )
    threshold = 0.55 * float(prob.max())
    for i in range(prob.shape[0]):
        for j in range(prob.shape[1]):
            colour = "white" if prob[i, j] > threshold else "black"
            ax.text(
                j,
                i,
                f"{prob[i, j]:.1%}\n[{low[i, j]:.1%}, {high[i, j]:.1%}]",
                ha="center",
                va="center",
                color=colour,
                fontsize=9,
            )
    # A rule sets the unsettled row (and column) apart from the categories.
    ax.axhline(prob.shape[0] - 1.5, color=NEUTRAL, linewidth=1.5)
    ax.set_yticks(range(prob.shape[0]), row_labels(row_issue, sep="\n"))
    ax.set_ylabel(f"{row_issue.label} (settled in, or unsettled)")
    if col_name is None:
        ax.set_xticks([0], ["all runs"])
        ax.set_xlabel("")
    else:
        col_issue = scenario.issue(col_name)
        ax.axvline(prob.shape[1] - 1.5, color=NEUTRAL, linewidth=1.5)
        ax.set_xticks(range(prob.shape[1]), row_labels(col_issue, sep="\n"))
        ax.set_xlabel(f"{col_issue.label} (settled in, or unsettled)")
    colorbar = ax.figure.colorbar(image, ax=ax, format=PercentFormatter(1.0, decimals=0))
    colorbar.set_label("probability")
    none = int(result.tally.joint[-1])
    lo_none, hi_none = wilson_interval(none, n, confidence_level)
    end = (
        month_label(scenario, scenario.horizon) if scenario.start else f"round {scenario.horizon}"
    )
    ax.set_title(
        f"{scenario_title(scenario)}: how the issues end, {n:,} runs\n"
        f"no agreement (no issue settled) by {end}: {none / n:.1%} "
        f"[{float(lo_none):.1%}, {float(hi_none):.1%}]\n"
        f"cells: probability [{confidence_level:.0%} interval]",
        fontsize=10,
    )
    return ax


def plot_agreement_rounds(
    result: SimulationResult, *, ax: Axes | None = None, confidence_level: float = 0.95
) -> Axes:
    """When the negotiation is over: the probability that every issue is settled in each month.

    Bars give the probability that the last open issue is settled in each
    round (one round is one month, labelled with its calendar month) with
    Wilson intervals, a grey bar after the horizon the probability that some
    issue is still unsettled then, and a step line the cumulative probability
    that every issue is settled by each month.  Issue by issue, see
    :func:`plot_settlement_months`.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    confidence_level
        Of the intervals.

    Returns
    -------
    matplotlib.axes.Axes
    """
    scenario = result.scenario
    frame = result.agreement_rounds()
    counts = frame["count"].to_numpy(dtype=np.int64)
    n = result.n_runs
    horizon = len(counts) - 1
    p = counts / n
    low, high = wilson_interval(counts, n, confidence_level)
    ax = new_axes(ax, (9.0, 4.2))
    rounds = np.arange(1, horizon + 1)
    err = np.vstack([np.maximum(p[1:] - low[1:], 0), np.maximum(high[1:] - p[1:], 0)])
    ax.bar(
        rounds,
        p[1:],
        yerr=err,
        color=BAR,
        error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        label="last issue settled in this month",
    )
    none_x = horizon + 1.5
    ax.bar(
        [none_x],
        [p[0]],
        yerr=[[max(p[0] - low[0], 0)], [max(high[0] - p[0], 0)]],
        color=NEUTRAL,
        error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        label="some issue unsettled at the horizon",
    )
    cumulative = np.cumsum(p[1:])
    ax.step(
        rounds,
        cumulative,
        where="mid",
        color="black",
        linewidth=1.2,
        label="every issue settled by this month (cumulative)",
    )
    round_ticks(ax, scenario, horizon)
    ticks = list(ax.get_xticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    ax.set_xticks([*ticks, none_x], [*labels, "not all\nsettled"])
    ax.set_xlim(0.3, none_x + 0.8)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(f"probability ({confidence_level:.0%} Wilson intervals)")
    ax.set_title(f"{scenario_title(scenario)}: time to full settlement, {n:,} runs")
    ax.legend(loc="center right", frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


def plot_settlement_months(
    result: SimulationResult, *, ax: Axes | None = None, confidence_level: float = 0.95
) -> Axes:
    """When each issue is settled: the probability that it is settled by each month.

    One step line per issue, the cumulative probability that the issue has
    been settled by each round (one round is one month), with a band of
    Wilson intervals (of each cumulative count); the legend gives each
    issue's probability of staying unsettled to the horizon.  A dashed black
    line is the probability that every issue is settled by each month.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    confidence_level
        Of the intervals.

    Returns
    -------
    matplotlib.axes.Axes
    """
    scenario = result.scenario
    frame = result.settlement_months(confidence_level)
    n = result.n_runs
    horizon = scenario.horizon
    rounds = np.arange(1, horizon + 1)
    ax = new_axes(ax, (9.0, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", [BAR])
    for k, issue in enumerate(scenario.issues):
        sub = frame[frame["table"] == issue.name]
        counts = sub["count"].to_numpy(dtype=np.int64)
        settled_by = np.cumsum(counts[1:])
        low, high = wilson_interval(settled_by, n, confidence_level)
        colour = colours[k % len(colours)]
        ax.fill_between(rounds, low, high, step="mid", color=colour, alpha=0.2, linewidth=0)
        ax.step(
            rounds,
            settled_by / n,
            where="mid",
            color=colour,
            linewidth=1.8,
            label=f"{issue.label} (unsettled at the horizon: {counts[0] / n:.1%})",
        )
    every = np.cumsum(result.tally.rounds[1:]) / n
    ax.step(
        rounds,
        every,
        where="mid",
        color="black",
        linestyle="--",
        linewidth=1.2,
        label="every issue settled",
    )
    round_ticks(ax, scenario, horizon)
    ax.set_xlim(0.3, horizon + 0.7)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(f"settled by this month\n(bands: {confidence_level:.0%} Wilson intervals)")
    ax.set_title(f"{scenario_title(scenario)}: when each issue is settled, {n:,} runs")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax
