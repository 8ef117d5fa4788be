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
of a comparison, sweep, sensitivity analysis or scenario discovery.

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

import calendar
import contextlib
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, PercentFormatter
from numpy.typing import NDArray

from basesim.exceptions import BasesimError
from basesim.outcomes import NO_AGREEMENT, UNSETTLED
from basesim.results import wilson_interval

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim._random import RNGLike
    from basesim.issues import Issue
    from basesim.model import NegotiationModel
    from basesim.results import SimulationResult
    from basesim.scenario import Scenario

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

# Okabe & Ito's colour-blind-safe palette, most distinct colours first (yellow,
# hard to see on white, comes late).  Actors get colours in scenario order.
_ACTOR_PALETTE = (
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow
)
# Scenarios in a comparison: the baseline in dark grey, variants in colours that
# are not actor colours, so the two kinds of legend are never confused.
_SCENARIO_PALETTE = ("#4D4D4D", "#7B3294", "#A6611A", "#5AB4AC", "#C2A5CF", "#8C510A", "#01665E")
_BAR = "#4C72B0"
_PARTIAL = "#A3B8D9"  # a joint outcome with some issues settled and some not
_NEUTRAL = "#9A9A9A"
_SHARE_RUN = "#555555"  # shares of runs, on a right-hand scale
_SHARE_ISSUE = "#C8C8C8"


# -- colours and labels ---------------------------------------------------------------
def actor_colors(scenario: Scenario | Sequence[str]) -> dict[str, str]:
    """One colour per actor, the same in every plot of a scenario.

    Parameters
    ----------
    scenario
        A scenario (or a sequence of actor names, in scenario order).

    Returns
    -------
    dict
        Actor name -> hex colour, in the scenario's order.  The first eight
        actors get the colour-blind-safe Okabe–Ito colours; further actors
        get colours of Matplotlib's ``tab20`` map.

    Examples
    --------
    >>> import basesim
    >>> actor_colors(basesim.load_scenario("syria-2025"))
    {'syria': '#009E73', 'russia': '#D55E00', 'turkey': '#0072B2', 'investors': '#E69F00'}
    """
    names = [
        str(n) for n in (scenario.actor_names if hasattr(scenario, "actor_names") else scenario)
    ]
    colours: dict[str, str] = {}
    extra = plt.get_cmap("tab20")
    for i, name in enumerate(names):
        if i < len(_ACTOR_PALETTE):
            colours[name] = _ACTOR_PALETTE[i]
        else:
            r, g, b, _ = extra((i - len(_ACTOR_PALETTE)) % 20)
            colours[name] = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
    return colours


def scenario_colors(names: Sequence[str]) -> dict[str, str]:
    """One colour per scenario of a comparison (the first, the baseline, in grey).

    Examples
    --------
    >>> scenario_colors(["baseline", "no-turkey"])
    {'baseline': '#4D4D4D', 'no-turkey': '#7B3294'}
    """
    return {name: _SCENARIO_PALETTE[i % len(_SCENARIO_PALETTE)] for i, name in enumerate(names)}


def _short_anchor(text: str, width: int = 22) -> str:
    """The words before a colon, wrapped (``"full withdrawal: no ..."``: ``"full withdrawal"``)."""
    head = text.split(":", 1)[0].strip()
    return textwrap.fill(head, width=width)


def issue_tick_labels(issue: Issue, *, width: int = 22) -> list[str]:
    """Tick labels for 0, 0.5 and 1 on an issue's scale: the value and its anchor in words.

    An anchor's words before a colon are used (``"full withdrawal: no Russian
    military presence ..."`` gives ``"full withdrawal"``), wrapped to ``width``
    characters.

    Examples
    --------
    >>> import basesim
    >>> issue = basesim.load_scenario("syria-2025").issue("basing")
    >>> issue_tick_labels(issue)[0]
    '0: full withdrawal'
    """
    labels = []
    for value, anchor in zip(("0", "0.5", "1"), issue.anchors, strict=True):
        short = _short_anchor(anchor, width) if anchor else ""
        labels.append(f"{value}: {short}" if short else value)
    return labels


def _set_issue_axis(ax: Axes, issue: Issue, *, axis: str = "y") -> None:
    """Put an issue's 0–1 scale with its anchors on the x or y axis of ``ax``."""
    ticks = [0.0, 0.5, 1.0]
    labels = issue_tick_labels(issue)
    if axis == "y":
        ax.set_yticks(ticks, labels)
        ax.set_yticks([0.25, 0.75], minor=True)
        ax.set_ylabel(f"{issue.label} (0–1 scale)")
    else:
        ax.set_xticks(ticks, labels)
        ax.set_xticks([0.25, 0.75], minor=True)
        ax.set_xlabel(f"{issue.label} (0–1 scale)")


def _category_labels(issue: Issue, *, sep: str = " ") -> list[str]:
    """Category names with the scale range each covers: ``"withdrawal (below 0.25)"``."""
    cuts = list(issue.cuts)
    out = []
    for i, name in enumerate(issue.categories):
        if len(cuts) == 0:
            rng = "0 to 1"
        elif i == 0:
            rng = f"below {cuts[0]:g}"
        elif i == len(cuts):
            rng = f"{cuts[-1]:g} and above"
        else:
            rng = f"{cuts[i - 1]:g} to {cuts[i]:g}"
        out.append(f"{name}{sep}({rng})")
    return out


def _row_labels(issue: Issue, *, sep: str = " ") -> list[str]:
    """The rows of an issue's outcome table: its categories with their ranges, then unsettled."""
    return [*_category_labels(issue, sep=sep), f"{UNSETTLED}{sep}(status quo kept)"]


def month_label(scenario: Scenario, round_index: int, *, sep: str = " ") -> str:
    """Calendar month of a round as ``"Feb 2025"`` (or ``"round N"`` without a start month)."""
    if scenario.start is None:
        return f"round {round_index}"
    year, month = (int(x) for x in scenario.start.split("-"))
    index = year * 12 + (month - 1) + round_index - 1
    return f"{calendar.month_abbr[index % 12 + 1]}{sep}{index // 12}"


def _round_ticks(
    ax: Axes, scenario: Scenario, last_round: int, *, start_tick: bool = False
) -> None:
    """Tick the x axis (rounds 1 .. ``last_round``) with calendar months; round 0 as "start"."""
    step = 1 if last_round <= 12 else 3 if last_round <= 36 else 6
    ticks = list(range(1, last_round + 1, step))
    if scenario.start is None:
        labels = [str(t) for t in ticks]
        ax.set_xlabel("round")
    else:
        labels = [month_label(scenario, t, sep="\n") for t in ticks]
        ax.set_xlabel("month (one round per month)")
    if start_tick:
        if step > 1:  # round 1 would crowd "start"
            ticks, labels = ticks[1:], labels[1:]
        ticks, labels = [0, *ticks], ["start", *labels]
    ax.set_xticks(ticks, labels)


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _frame_of(obj: Any, what: str) -> pd.DataFrame:
    """``obj.to_frame()``, or ``obj`` itself if it is a DataFrame."""
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        return obj
    to_frame = getattr(obj, "to_frame", None)
    if to_frame is None:
        raise BasesimError(
            f"{what} must have a to_frame() method or be a pandas DataFrame "
            f"(got {type(obj).__name__})"
        )
    frame = to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise BasesimError(
            f"{what}.to_frame() must return a pandas DataFrame (got {type(frame).__name__})"
        )
    return frame


def _require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BasesimError(
            f"{what} needs columns {', '.join(columns)} (missing {', '.join(missing)}; "
            f"got {', '.join(map(str, frame.columns))})"
        )


def _pick(frame: pd.DataFrame, candidates: Sequence[str], what: str) -> str:
    """The first of ``candidates`` that is a column of ``frame``."""
    for c in candidates:
        if c in frame.columns:
            return c
    raise BasesimError(
        f"{what} needs one of the columns {', '.join(candidates)} "
        f"(got {', '.join(map(str, frame.columns))})"
    )


def _scenario_title(scenario: Scenario) -> str:
    return scenario.name


# -- outcome probabilities --------------------------------------------------------------
def _table_rows(result: SimulationResult, table: str, confidence_level: float) -> pd.DataFrame:
    probs = result.probabilities(confidence_level)
    tables = list(dict.fromkeys(probs["table"]))
    if table not in tables:
        raise BasesimError(f"table must be one of {', '.join(tables)} (got {table!r})")
    return probs[probs["table"] == table].reset_index(drop=True)


def _joint_labels(scenario: Scenario) -> list[str]:
    """The joint table's cells with each issue's range, one issue a line; ``"no agreement"`` last.

    ``"withdrawal (below 0.25) /\nsubstantial (0.75 and above)"``: the cut-offs
    as the rows of an issue's own table show them.
    """
    rows = [_row_labels(issue) for issue in scenario.issues]
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
    return _row_labels(scenario.issue(table))


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
        return _NEUTRAL
    if UNSETTLED in (part.strip() for part in outcome.split("/")):
        return _PARTIAL
    return _BAR


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
    ax = _new_axes(ax, (7.5, (0.3 + 0.17 * lines) * n + 1.6))
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
    ax.set_title(f"{_scenario_title(scenario)}: {what}")
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
    shape = result.tally.table.shape
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
    ax = _new_axes(ax, (8.0, 5.5))
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
    ax.axhline(prob.shape[0] - 1.5, color=_NEUTRAL, linewidth=1.5)
    ax.set_yticks(range(prob.shape[0]), _row_labels(row_issue, sep="\n"))
    ax.set_ylabel(f"{row_issue.label} (settled in, or unsettled)")
    if col_name is None:
        ax.set_xticks([0], ["all runs"])
        ax.set_xlabel("")
    else:
        col_issue = scenario.issue(col_name)
        ax.axvline(prob.shape[1] - 1.5, color=_NEUTRAL, linewidth=1.5)
        ax.set_xticks(range(prob.shape[1]), _row_labels(col_issue, sep="\n"))
        ax.set_xlabel(f"{col_issue.label} (settled in, or unsettled)")
    colorbar = ax.figure.colorbar(image, ax=ax, format=PercentFormatter(1.0, decimals=0))
    colorbar.set_label("probability")
    none = int(result.tally.joint[-1])
    lo_none, hi_none = wilson_interval(none, n, confidence_level)
    end = (
        month_label(scenario, scenario.horizon) if scenario.start else f"round {scenario.horizon}"
    )
    ax.set_title(
        f"{_scenario_title(scenario)}: how the issues end, {n:,} runs\n"
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
    ax = _new_axes(ax, (9.0, 4.2))
    rounds = np.arange(1, horizon + 1)
    err = np.vstack([np.maximum(p[1:] - low[1:], 0), np.maximum(high[1:] - p[1:], 0)])
    ax.bar(
        rounds,
        p[1:],
        yerr=err,
        color=_BAR,
        error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        label="last issue settled in this month",
    )
    none_x = horizon + 1.5
    ax.bar(
        [none_x],
        [p[0]],
        yerr=[[max(p[0] - low[0], 0)], [max(high[0] - p[0], 0)]],
        color=_NEUTRAL,
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
    _round_ticks(ax, scenario, horizon)
    ticks = list(ax.get_xticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    ax.set_xticks([*ticks, none_x], [*labels, "not all\nsettled"])
    ax.set_xlim(0.3, none_x + 0.8)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(f"probability ({confidence_level:.0%} Wilson intervals)")
    ax.set_title(f"{_scenario_title(scenario)}: time to full settlement, {n:,} runs")
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
    ax = _new_axes(ax, (9.0, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", [_BAR])
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
    _round_ticks(ax, scenario, horizon)
    ax.set_xlim(0.3, horizon + 0.7)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(f"settled by this month\n(bands: {confidence_level:.0%} Wilson intervals)")
    ax.set_title(f"{_scenario_title(scenario)}: when each issue is settled, {n:,} runs")
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


# -- one negotiation, many negotiations ----------------------------------------------------
def _issue_index(scenario: Scenario, issue: str) -> int:
    names = list(scenario.issue_names)
    if issue not in names:
        raise BasesimError(f"issue must be one of {', '.join(names)} (got {issue!r})")
    return names.index(issue)


def _actor_legend_handles(scenario: Scenario, colours: Mapping[str, str]) -> list[Line2D]:
    return [
        Line2D([], [], color=colours[a.name], linewidth=2, label=a.label) for a in scenario.actors
    ]


def _settlements(scenario: Scenario, rounds_frame: pd.DataFrame) -> dict[str, int]:
    """Each issue's settlement round so far, from a model's DataCollector (0: unsettled)."""
    last = rounds_frame.iloc[-1]
    return {
        name: int(last[f"settlement_round_{name}"]) if bool(last[f"settled_{name}"]) else 0
        for name in scenario.issue_names
    }


def _when(scenario: Scenario, round_index: int) -> str:
    """``"Oct 2025 (round 9)"``, or ``"round 9"`` without a start month."""
    if scenario.start is None:
        return f"round {round_index}"
    return f"{month_label(scenario, round_index)} (round {round_index})"


def plot_negotiation(model: NegotiationModel, *, issue: str, ax: Axes | None = None) -> Axes:
    """One run's negotiation on one issue: stances, status quo, proposals, settlements.

    Everything drawn comes from the model's DataCollector.  Each actor's line
    is its stance on ``issue`` month by month (round 0 is its starting stance,
    ``model.parameters.position``).  A grey dashed line is the issue's status
    quo while it is unsettled (it drifts toward the breakdown value).  Each
    month's proposal is marked in the proposer's colour: a diamond at its
    value if the package covers ``issue`` (filled if it passed and settled
    the issue, hollow if it was refused), a plus below the scale if the
    package covered other issues only, a cross below the scale if the
    proposer offered nothing.

    Every issue's settlement month is marked: a dotted black line and a star
    where ``issue`` was settled, with the agreed value written out; a grey
    dash-dotted line, labelled, where another issue was.  If the run ended
    with ``issue`` unsettled, a grey dashed line at the last month and a
    square mark the status quo it is left at.

    Parameters
    ----------
    model
        A :class:`~basesim.NegotiationModel` that has been run (or stepped).
    issue
        Name of the issue to show.
    ax
        Axes to draw on; a new figure if ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    BasesimError
        If the model has not played a round yet, or ``issue`` is unknown.
    """
    scenario = model.spec
    k = _issue_index(scenario, issue)
    rounds_frame = model.datacollector.get_model_vars_dataframe()
    agents_frame = model.datacollector.get_agent_vars_dataframe()
    if len(rounds_frame) == 0:
        raise BasesimError(
            "the model has not played a round yet; call model.run() or model.step() first"
        )
    colours = actor_colors(scenario)
    ax = _new_axes(ax, (9.5, 4.8))
    column = f"stance_{issue}"
    rounds = rounds_frame["round"].to_numpy(dtype=int)
    steps = list(dict.fromkeys(agents_frame.index.get_level_values(0)))
    step_round = dict(zip(steps, rounds, strict=True))
    for agent in model.actor_agents:
        mine = agents_frame[agents_frame["actor"] == agent.actor_name]
        x = [0, *(step_round[s] for s in mine.index.get_level_values(0))]
        start = float(model.parameters.position[0, agent.index, k])
        y = [start, *mine[column].to_numpy(dtype=float)]
        ax.plot(
            x,
            y,
            color=colours[agent.actor_name],
            linewidth=2,
            marker="o",
            markersize=3,
            label=agent.label,
        )

    # The status quo while the issue is open (a settlement makes it the agreed value).
    open_rows = ~rounds_frame[f"settled_{issue}"].to_numpy(dtype=bool)
    ax.plot(
        [0, *rounds[open_rows]],
        [
            float(model.parameters.status_quo[0, k]),
            *rounds_frame[f"status_quo_{issue}"].to_numpy(dtype=float)[open_rows],
        ],
        color=_NEUTRAL,
        linestyle="--",
        linewidth=1.5,
        label="status quo (while unsettled)",
    )

    last = int(rounds[-1])
    for row in rounds_frame.itertuples(index=False):
        t = int(row.round)
        proposer = row.proposer
        colour = colours.get(proposer, "black") if proposer is not None else "black"
        value = float(getattr(row, f"proposal_{issue}"))
        if not bool(row.offered) or np.isnan(value):
            ax.plot(
                [t],
                [-0.06],
                marker="x" if not bool(row.offered) else "+",
                color=colour,
                markersize=8,
                markeredgewidth=1.5,
                linestyle="none",
                clip_on=False,
            )
            continue
        face = colour if bool(row.passed) else "white"
        ax.plot(
            [t],
            [value],
            marker="D",
            markersize=9,
            markerfacecolor=face,
            markeredgecolor=colour,
            markeredgewidth=2,
            linestyle="none",
        )

    issue_spec = scenario.issue(issue)
    settled = _settlements(scenario, rounds_frame)
    final = float(rounds_frame[f"status_quo_{issue}"].iloc[-1])
    note: str | None = None
    t_note: float = last
    if settled[issue]:
        t_note = settled[issue]
        ax.axvline(t_note, color="black", linestyle=":", linewidth=1)
        ax.plot([t_note], [final], marker="*", markersize=15, color="black", linestyle="none")
        category = str(issue_spec.categorize([final])[0])
        note = f"settled: {final:.2f}\n({category})"
        end = f"settled in {_when(scenario, settled[issue])}"
    elif not model.running:
        ax.axvline(last, color=_NEUTRAL, linestyle="--", linewidth=1.5)
        t_note = last + 0.35  # the status quo holds after the last month
        ax.plot([t_note], [final], marker="s", markersize=8, color=_NEUTRAL, linestyle="none")
        note = f"unsettled: status quo\n{final:.2f} kept"
        end = f"unsettled when the run ended, {_when(scenario, last)}: the status quo stays"
    else:
        end = f"still open after {_when(scenario, last)}"
    if note is not None:
        ax.annotate(
            note,
            xy=(t_note, final),
            xytext=(-14, 14 if final < 0.75 else -30),
            textcoords="offset points",
            ha="right",
            fontsize=9,
            arrowprops={"arrowstyle": "-", "color": "black", "linewidth": 0.8},
            bbox={
                "boxstyle": "round,pad=0.2",
                "facecolor": "white",
                "edgecolor": "none",
                "alpha": 0.8,
            },
        )
    others = []
    for other in scenario.issues:
        if other.name == issue:
            continue
        s = settled[other.name]
        if s:
            ax.axvline(s, color=_NEUTRAL, linestyle="-.", linewidth=1.2)
            ax.text(
                s + 0.08,
                0.98,
                f"{other.label} settled",
                transform=ax.get_xaxis_transform(),
                rotation=90,
                ha="left",
                va="top",
                fontsize=8,
                color="#555555",
            )
            others.append(f"{other.label} settled in {_when(scenario, s)}")
        else:
            others.append(f"{other.label} {'unsettled' if not model.running else 'still open'}")

    _set_issue_axis(ax, issue_spec, axis="y")
    ax.set_ylim(-0.1, 1.05)
    _round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.4, max(last, 1) + 0.6)
    title = f"{_scenario_title(scenario)}: one negotiation, {issue_spec.label}\n{end}"
    if others:
        title += "\n" + "; ".join(others)
    ax.set_title(title, fontsize=10)
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles += [
        Line2D([], [], color=_NEUTRAL, linestyle="--", linewidth=1.5, label="status quo"),
        Line2D(
            [],
            [],
            marker="D",
            linestyle="none",
            markerfacecolor="grey",
            markeredgecolor="grey",
            label="proposal, passed",
        ),
        Line2D(
            [],
            [],
            marker="D",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="grey",
            markeredgewidth=2,
            label="proposal, refused",
        ),
        Line2D(
            [],
            [],
            marker="+",
            linestyle="none",
            color="grey",
            markeredgewidth=1.5,
            label="offer on other issues",
        ),
        Line2D([], [], marker="x", linestyle="none", color="grey", label="no offer this month"),
    ]
    if settled[issue]:
        handles.append(
            Line2D([], [], linestyle=":", color="black", marker="*", label="issue settled")
        )
    elif not model.running:
        handles.append(
            Line2D([], [], linestyle="--", color=_NEUTRAL, marker="s", label="left unsettled")
        )
    if any(settled[o.name] for o in scenario.issues if o.name != issue):
        handles.append(
            Line2D([], [], linestyle="-.", color=_NEUTRAL, label="another issue settled")
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        title="marker colour: proposer",
        title_fontsize=8,
        fontsize=9,
    )
    ax.grid(axis="y", alpha=0.3)
    return ax


def _replay(
    scenario: Scenario, issue: str, n_runs: int, rng: RNGLike
) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.int64], NDArray[np.int64]]:
    """Replay runs with the Mesa model: stance paths, last round played, settlement rounds."""
    from basesim._random import as_seed_sequence
    from basesim.engine.compiled import compile_scenario, draw_inputs
    from basesim.model import NegotiationModel

    k = _issue_index(scenario, issue)
    if isinstance(n_runs, bool) or not isinstance(n_runs, int | np.integer) or n_runs < 1:
        raise BasesimError(f"n_runs must be a whole number >= 1 (got {n_runs!r})")
    n = int(n_runs)
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, as_seed_sequence(rng), 0, n)
    horizon = scenario.horizon
    paths = {name: np.full((n, horizon + 1), np.nan) for name in scenario.actor_names}
    ends = np.zeros(n, dtype=np.int64)
    settled_round = np.zeros((n, len(scenario.issues)), dtype=np.int64)
    column = f"stance_{issue}"
    for i in range(n):
        model = NegotiationModel(
            scenario, run=i, inputs=inputs.take(slice(i, i + 1)), compiled=compiled
        )
        for agent in model.actor_agents:
            paths[agent.actor_name][i, 0] = model.parameters.position[0, agent.index, k]
        outcome = model.run()
        frame = model.datacollector.get_agent_vars_dataframe()
        rounds = model.datacollector.get_model_vars_dataframe()["round"].to_numpy(dtype=int)
        steps = list(dict.fromkeys(frame.index.get_level_values(0)))
        step_round = dict(zip(steps, rounds, strict=True))
        for step, actor, stance in zip(
            frame.index.get_level_values(0), frame["actor"], frame[column], strict=True
        ):
            paths[actor][i, step_round[step]] = stance
        ends[i] = model.round_index
        settled_round[i] = outcome.settled_round[0]
    return paths, ends, settled_round


def stance_paths(
    scenario: Scenario, *, issue: str, n_runs: int, rng: RNGLike = None
) -> dict[str, NDArray[np.float64]]:
    """Stances on ``issue`` in runs ``0 .. n_runs - 1`` of the Mesa model, month by month.

    The runs are those of ``basesim.simulate(scenario, n_runs=..., rng=rng)``.
    A run ends when every issue is settled or at the horizon.

    Returns
    -------
    dict
        Actor name -> array ``(n_runs, horizon + 1)``: column 0 the starting
        stance, column t the stance in round t, NaN after the run ended.
    """
    paths, _, _ = _replay(scenario, issue, n_runs, rng)
    return paths


def _carry_forward(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's NaNs after its last value replaced by that value (column 0 is never NaN)."""
    out = values.copy()
    for t in range(1, out.shape[1]):
        gap = np.isnan(out[:, t])
        out[gap, t] = out[gap, t - 1]
    return out


def plot_stance_bands(
    scenario: Scenario,
    *,
    issue: str,
    n_runs: int = 50,
    ax: Axes | None = None,
    rng: RNGLike = None,
) -> Axes:
    """Stances on one issue over many runs of the Mesa model: median and 10–90 % band.

    Runs ``0 .. n_runs - 1`` of ``basesim.simulate(scenario, n_runs=...,
    rng=rng)`` are replayed with :class:`~basesim.NegotiationModel`.  In each
    month, each actor's line is its median stance over all the runs and its
    band spans their 10th to 90th percentiles; a run that has ended (every
    issue settled) counts with the stance it ended with, so the runs
    summarised are the same in every month.  Grey lines, on the right-hand
    scale, give the share of runs still negotiating (some issue open) and
    the share with ``issue`` still open after each month.  The months shown
    run to the last month any run played.

    Parameters
    ----------
    scenario
        The negotiation.
    issue
        Name of the issue to show.
    n_runs
        How many runs to replay (each is a full Mesa model: keep it small).
    ax
        Axes to draw on; a new figure if ``None``.
    rng
        Seed (SPEC 7), as for :func:`basesim.simulate`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    paths, ends, settled_round = _replay(scenario, issue, n_runs, rng)
    k = _issue_index(scenario, issue)
    n = int(n_runs)
    last = int(ends.max())
    x = np.arange(last + 1)
    colours = actor_colors(scenario)
    ax = _new_axes(ax, (9.5, 4.8))
    for actor in scenario.actors:
        values = _carry_forward(paths[actor.name])[:, : last + 1]
        low, median, high = np.percentile(values, [10, 50, 90], axis=0)
        colour = colours[actor.name]
        ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(x, median, color=colour, linewidth=2, label=actor.label)
    # Open after month t: never settled, or settled after t.
    issue_open = (settled_round == 0) | (settled_round > x[:, None, None])  # (T, n, K)
    negotiating = issue_open.any(axis=2).mean(axis=1)
    this_open = issue_open[:, :, k].mean(axis=1)
    label = scenario.issue(issue).label
    # The issue's share broad and pale under the run's, so both show where they coincide.
    ax.plot(
        x,
        this_open,
        color=_SHARE_ISSUE,
        linewidth=4,
        drawstyle="steps-post",
        solid_capstyle="butt",
        label="runs with this issue open",
    )
    ax.plot(
        x,
        negotiating,
        color=_SHARE_RUN,
        linewidth=1.2,
        drawstyle="steps-post",
        label="runs still negotiating",
    )
    _set_issue_axis(ax, scenario.issue(issue), axis="y")
    ax.set_ylim(-0.03, 1.03)
    share = ax.secondary_yaxis("right")
    share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share.set_ylabel("share of runs (grey lines)", color=_SHARE_RUN)
    share.tick_params(colors=_SHARE_RUN)
    _round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.3, last + 0.3)
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles += [
        Patch(color=_NEUTRAL, alpha=0.4, label="10–90 % of runs"),
        Line2D([], [], color=_SHARE_RUN, linewidth=1.2, label="share still negotiating"),
        Line2D([], [], color=_SHARE_ISSUE, linewidth=4, label="share with this issue open"),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.17, 1.0),
        frameon=False,
        title="median stance (all runs)",
        title_fontsize=9,
        fontsize=9,
    )
    ax.set_title(
        f"{_scenario_title(scenario)}: stances on {label}, {n} runs\n"
        "a run that has ended counts with its last stance",
        fontsize=10,
    )
    ax.grid(axis="y", alpha=0.3)
    return ax


# -- comparisons -----------------------------------------------------------------------------
def _comparison_frame(comparison: Any, table: str) -> pd.DataFrame:
    frame = _frame_of(comparison, "comparison")
    _require(frame, ["scenario", "outcome", "probability", "ci_low", "ci_high"], "plot_comparison")
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
            return _row_labels(issue), f"{issue.label}: settled in category, or unsettled"
        if list(outcomes) == list(issue.categories):
            return _category_labels(issue), f"{issue.label}: outcome category"
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
    ax = _new_axes(ax, (8.0, 0.35 * len(outcomes) * max(m, 2) + 1.6))
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
    frame = _frame_of(
        differences() if callable(differences) else comparison, "comparison.differences()"
    )
    _require(frame, ["scenario", "outcome", "difference", "ci_low", "ci_high"], "plot_differences")
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
        _pick(frame, ["reference", "baseline"], "plot_differences")
        if ("reference" in frame.columns or "baseline" in frame.columns)
        else None
    )
    baseline = str(frame[reference].iloc[0]) if reference is not None else "the reference"
    colours = scenario_colors([baseline, *variants])
    m = len(variants)
    ax = _new_axes(ax, (8.0, 0.4 * len(outcomes) * max(m, 1.5) + 1.6))
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
    ax = _new_axes(ax, (8.0, 0.32 * len(rows) + 1.6))
    ax.hlines(
        range(len(rows)), spread["low"], spread["high"], color=_NEUTRAL, linewidth=6, alpha=0.5
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


_FIELD_WORDS = {
    "capability": "capability",
    "anchoring": "anchoring to its starting view",
    "discount": "discount factor per month",
    "concession": "concession exponent",
    "noise": "perception noise",
    "disagreement": "value of no agreement",
    "position": "position",
    "salience": "salience",
    "status_quo": "status quo",
    "breakdown": "value after a breakdown",
}


def parameter_label(scenario: Scenario | None, path: str) -> str:
    """A parameter's field path in words, with the path below it.

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> print(parameter_label(scn, "actors.turkey.influence.syria"))
    Turkey's influence on Syrian government
    actors.turkey.influence.syria
    >>> print(parameter_label(scn, "actors.syria.basing.position"))
    Syrian government's position on Russian military basing (0–1 scale)
    actors.syria.basing.position
    """
    if scenario is None:
        return path
    parts = path.split(".")
    try:
        if parts[0] == "issues" and len(parts) == 3:
            issue = scenario.issue(parts[1])
            words = f"{issue.label}: {_FIELD_WORDS.get(parts[2], parts[2])} (0–1 scale)"
        elif parts[0] == "actors" and len(parts) == 4 and parts[2] == "influence":
            words = (
                f"{scenario.actor(parts[1]).label}'s influence on {scenario.actor(parts[3]).label}"
            )
        elif parts[0] == "actors" and len(parts) == 4:
            actor, issue = scenario.actor(parts[1]), scenario.issue(parts[2])
            field = _FIELD_WORDS.get(parts[3], parts[3])
            scale = " (0–1 scale)" if parts[3] == "position" else ""
            preposition = "on" if parts[3] == "position" else "of"
            words = f"{actor.label}'s {field} {preposition} {issue.label}{scale}"
        elif parts[0] == "actors" and len(parts) == 3:
            words = f"{scenario.actor(parts[1]).label}'s {_FIELD_WORDS.get(parts[2], parts[2])}"
        else:
            return path
    except BasesimError:
        return path
    return f"{words}\n{path}"


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
    frame = _frame_of(sweep, "sweep")
    _require(frame, [x, y, "outcome", "probability"], "plot_sweep_surface")
    sub, table, name = _sweep_rows(sweep, frame, outcome, table)
    scenario = getattr(sweep, "scenario", None)
    grid = sub.pivot_table(index=y, columns=x, values="probability", aggfunc="mean")
    xs = grid.columns.to_numpy(dtype=float)
    ys = grid.index.to_numpy(dtype=float)
    values = grid.to_numpy(dtype=float)
    ax = _new_axes(ax, (6.5, 5.0))
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
    from basesim.experiments.sweep import SweepResult

    is_result = isinstance(sweep, SweepResult)
    frame = sweep.to_frame(confidence_level) if is_result else _frame_of(sweep, "sweep")
    _require(frame, [x, "outcome", "probability", "ci_low", "ci_high"], "plot_sweep_line")
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
    ax = _new_axes(ax, (7.0, 4.2))
    ax.fill_between(
        xs,
        sub["ci_low"].to_numpy(dtype=float),
        sub["ci_high"].to_numpy(dtype=float),
        color=_BAR,
        alpha=0.25,
        linewidth=0,
        label="Wilson interval of each point",
    )
    ax.plot(
        xs,
        sub["probability"].to_numpy(dtype=float),
        color=_BAR,
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


_ORDER_NAMES = {
    "S1": "first",
    "first": "first",
    "first_order": "first",
    "ST": "total",
    "total": "total",
    "total_order": "total",
}


def _sensitivity_frame(sensitivity: Any, outcome: str | None) -> pd.DataFrame:
    frame = _frame_of(sensitivity, "sensitivity")
    order = _pick(frame, ["index", "order"], "plot_sensitivity")
    _require(frame, ["parameter", "estimate", "ci_low", "ci_high"], "plot_sensitivity")
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
    ax = _new_axes(ax, (10.0, 0.7 * len(parameters) + 2.0))
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
    ax.set_xlabel(f"Sobol' index: share of the probability's variance\n(bars: {interval})")
    ax.set_ylabel("")
    what = outcome if outcome is not None else getattr(sensitivity, "outcome", None)
    where = f"{scenario.name}: " if scenario is not None else ""
    ax.set_title(
        f"{where}which parameters drive the probability" + (f" of {what}" if what else ""),
        fontsize=10,
    )
    ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    return ax


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
    frame = data if isinstance(data, pd.DataFrame) else _frame_of(data, "data")
    _require(frame, [x, y], "plot_prim_box")
    if outcome in frame.columns:
        values = frame[outcome].to_numpy(dtype=float)
    else:
        table, _, label = outcome.partition("=") if "=" in outcome else ("joint", "", outcome)
        column = "outcome" if table == "joint" else f"{table}_category"
        _require(frame, [column], "plot_prim_box")
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
    ax = _new_axes(ax, (7.0, 5.5))
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
                color=_NEUTRAL,
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
            edgecolor=_NEUTRAL,
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


# -- backtests ----------------------------------------------------------------------------
_BASELINE_LABELS = {
    "weighted_mean": "salience-weighted mean",
    "capability_weighted_mean": "capability x salience weighted mean",
    "median_of_positions": "median of positions",
}


def backtest_errors(result: Any, *, statistic: str = "mean") -> pd.DataFrame:
    """The numbers :func:`plot_backtest` draws: one row per bar, top to bottom.

    Columns ``label``, ``model``, ``statistic``, ``mae``, ``mae_low``,
    ``mae_high``, ``baseline`` (True for the predictors computed from the
    data); each model's rows with ``statistic`` (``"mean"`` or
    ``"median"``), then the baselines.
    """
    if statistic not in ("mean", "median"):
        raise BasesimError(f"statistic must be 'mean' or 'median' (got {statistic!r})")
    frame = _frame_of(result, "result")
    _require(frame, ["model", "statistic", "mae", "mae_low", "mae_high"], "a backtest table")
    rows = frame[frame["statistic"].isin([statistic, "point"])].copy()
    rows["baseline"] = rows["statistic"] == "point"
    rows["label"] = [
        _BASELINE_LABELS.get(m, m) if base else f"{m} ({statistic})"
        for m, base in zip(rows["model"], rows["baseline"], strict=True)
    ]
    columns = ["label", "model", "statistic", "mae", "mae_low", "mae_high", "baseline"]
    return rows[columns].reset_index(drop=True)


def plot_backtest(result: Any, *, ax: Axes | None = None, statistic: str = "mean") -> Axes:
    """Mean absolute error of each model and baseline, with its bootstrap interval.

    One horizontal bar per predictor (models in blue, baselines in grey),
    with the interval from resampling proposals; a dashed line marks the
    salience-weighted mean's error, the level a model must beat.  Errors are
    in the data's units.

    Parameters
    ----------
    result
        A :class:`~basesim.BacktestResult` (or its ``to_frame()``).
    ax
        Axes to draw on (a new figure if ``None``).
    statistic
        Which point prediction of the models to show: ``"mean"`` or ``"median"``.
    """
    rows = backtest_errors(result, statistic=statistic)
    ax = _new_axes(ax, (7.0, 0.45 * len(rows) + 1.4))
    y = np.arange(len(rows))[::-1]
    mae = rows["mae"].to_numpy(float)
    low = np.clip(mae - rows["mae_low"].to_numpy(float), 0.0, None)
    high = np.clip(rows["mae_high"].to_numpy(float) - mae, 0.0, None)
    colours = [_NEUTRAL if base else _BAR for base in rows["baseline"]]
    ax.barh(y, mae, color=colours, height=0.6)
    ax.errorbar(mae, y, xerr=np.vstack([low, high]), fmt="none", ecolor="black", capsize=3, lw=1)
    reference = rows[rows["model"] == "weighted_mean"]
    if len(reference):
        ax.axvline(float(reference["mae"].iloc[0]), color="black", ls="--", lw=1)
    ax.set_yticks(y, rows["label"].tolist())
    ax.set_xlabel("mean absolute error (data units; whiskers: bootstrap interval over proposals)")
    ax.set_xlim(left=0)
    ax.set_title("Backtest: error per model")
    return ax
