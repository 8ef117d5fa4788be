"""Plots of scenarios, single negotiations and simulation results (Matplotlib).

Every function draws on the Axes passed as ``ax`` (a new figure if ``None``)
and returns that Axes, so plots compose into figures of your own.  Each actor
has one colour in every plot (:func:`actor_colors`); axes that show an issue's
0–1 scale carry the issue's anchors in words; probabilities are shown in
percent with their confidence intervals.

The numbers behind each picture come from the object plotted: a
:class:`~basesim.SimulationResult`'s :meth:`~basesim.SimulationResult.probabilities`
and :meth:`~basesim.SimulationResult.agreement_rounds`, a
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
>>> [round(bar.get_width(), 3) for bar in ax.patches][:3] == (
...     res.probabilities().query("table == 'basing'").probability.round(3).tolist())
True
>>> import matplotlib.pyplot as plt
>>> plt.close("all")
"""

from __future__ import annotations

import calendar
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
from basesim.results import NO_AGREEMENT, wilson_interval

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
    "issue_tick_labels",
    "month_label",
    "parameter_label",
    "plot_agreement_rounds",
    "plot_comparison",
    "plot_differences",
    "plot_joint",
    "plot_negotiation",
    "plot_prim_box",
    "plot_probabilities",
    "plot_sensitivity",
    "plot_stance_bands",
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
_NEUTRAL = "#9A9A9A"


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


def _outcome_labels(scenario: Scenario, table: str, outcomes: Sequence[str]) -> list[str]:
    if table == "joint":
        return list(outcomes)
    return _category_labels(scenario.issue(table))


def _table_axis_label(scenario: Scenario, table: str) -> str:
    if table == "joint":
        return " / ".join(i.label for i in scenario.issues)
    return "outcome category (range on the 0–1 scale)"


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
    is written beside each bar.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    table
        ``"joint"`` (every combination of issue categories, plus no agreement)
        or an issue's name (that issue's categories).
    confidence_level
        Of the intervals.

    Returns
    -------
    matplotlib.axes.Axes
    """
    rows = _table_rows(result, table, confidence_level)
    scenario = result.scenario
    n = len(rows)
    ax = _new_axes(ax, (7.5, 0.45 * n + 1.6))
    p = rows["probability"].to_numpy(dtype=float)
    low = np.maximum(p - rows["ci_low"].to_numpy(dtype=float), 0.0)
    high = np.maximum(rows["ci_high"].to_numpy(dtype=float) - p, 0.0)
    y = np.arange(n)
    colours = [_NEUTRAL if o == NO_AGREEMENT else _BAR for o in rows["outcome"]]
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
    ax.set_xlabel(
        f"probability (bars: {confidence_level:.0%} Wilson interval, {result.n_runs:,} runs)"
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
    """The joint outcome of two issues as an annotated heat table.

    Each cell is the probability that the negotiation agrees on a package in
    that pair of categories (other issues, if any, summed over), written in
    the cell with its Wilson interval; the probability of no agreement by the
    horizon is stated in the title, so that the cells and it sum to 1.

    Parameters
    ----------
    result
        A simulation result.
    ax
        Axes to draw on; a new figure if ``None``.
    rows, columns
        The issues on the vertical and horizontal axes (by default the first
        and second issue; a one-issue scenario gets a single row).
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
    shape = tuple(len(i.categories) for i in scenario.issues)
    counts = np.asarray(result.tally.joint[:-1], dtype=np.int64).reshape(shape)
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
    ax = _new_axes(ax, (7.5, 5.0))
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
    ax.set_yticks(range(prob.shape[0]), _category_labels(row_issue, sep="\n"))
    ax.set_ylabel(f"{row_issue.label} (agreed package)")
    if col_name is None:
        ax.set_xticks([0], ["agreed"])
        ax.set_xlabel("")
    else:
        col_issue = scenario.issue(col_name)
        ax.set_xticks(range(prob.shape[1]), _category_labels(col_issue, sep="\n"))
        ax.set_xlabel(f"{col_issue.label} (agreed package)")
    colorbar = ax.figure.colorbar(image, ax=ax, format=PercentFormatter(1.0, decimals=0))
    colorbar.set_label("probability")
    p_none, lo_none, hi_none = result.agreement_probability(confidence_level)
    p_none, lo_none, hi_none = 1 - p_none, 1 - hi_none, 1 - lo_none
    end = (
        month_label(scenario, scenario.horizon) if scenario.start else f"round {scenario.horizon}"
    )
    ax.set_title(
        f"{_scenario_title(scenario)}: agreed package, {n:,} runs\n"
        f"no agreement by {end}: {p_none:.1%} [{lo_none:.1%}, {hi_none:.1%}]"
        f" (cells: probability [{confidence_level:.0%} interval])",
        fontsize=10,
    )
    return ax


def plot_agreement_rounds(
    result: SimulationResult, *, ax: Axes | None = None, confidence_level: float = 0.95
) -> Axes:
    """When the negotiation ends: the probability of agreement in each month.

    Bars give the probability of agreeing in each round (one round is one
    month, labelled with its calendar month) with Wilson intervals, a grey bar
    after the horizon the probability of no agreement, and a step line the
    cumulative probability of agreement by each month.

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
        label="agreement in this month",
    )
    none_x = horizon + 1.5
    ax.bar(
        [none_x],
        [p[0]],
        yerr=[[max(p[0] - low[0], 0)], [max(high[0] - p[0], 0)]],
        color=_NEUTRAL,
        error_kw={"ecolor": "black", "capsize": 2, "elinewidth": 0.8},
        label="no agreement by the horizon",
    )
    cumulative = np.cumsum(p[1:])
    ax.step(
        rounds,
        cumulative,
        where="mid",
        color="black",
        linewidth=1.2,
        label="agreed by this month (cumulative)",
    )
    _round_ticks(ax, scenario, horizon)
    ticks = list(ax.get_xticks())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    ax.set_xticks([*ticks, none_x], [*labels, "no\nagreement"])
    ax.set_xlim(0.3, none_x + 0.8)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(f"probability ({confidence_level:.0%} Wilson intervals)")
    ax.set_title(f"{_scenario_title(scenario)}: time to agreement, {n:,} runs")
    ax.legend(loc="center right", frameon=False)
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


def plot_negotiation(model: NegotiationModel, *, issue: str, ax: Axes | None = None) -> Axes:
    """One run's negotiation on one issue: stances per actor, proposals, the end.

    Each actor's line is its stance on ``issue`` round by round, as recorded
    by the model's DataCollector (round 0 is its starting stance).  Each
    round's proposal is marked in the proposer's colour: a filled diamond if
    offered and agreed, a hollow diamond if offered and rejected, a cross
    below the scale if the proposer found nothing worth offering.  A star and
    a dotted line mark the agreement; without one, a grey line at the horizon
    marks the breakdown and where the issue ends.

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
    ax = _new_axes(ax, (9.0, 4.8))
    column = f"stance_{issue}"
    steps = list(dict.fromkeys(agents_frame.index.get_level_values(0)))
    step_round = dict(zip(steps, rounds_frame["round"].to_numpy(dtype=int), strict=True))
    for agent in model.actor_agents:
        mine = agents_frame[agents_frame["actor"] == agent.actor_name]
        r = [step_round[s] for s in mine.index.get_level_values(0)]
        x = [0, *r]
        y = [float(agent.initial_stance[k]), *mine[column].to_numpy(dtype=float)]
        ax.plot(
            x,
            y,
            color=colours[agent.actor_name],
            linewidth=2,
            marker="o",
            markersize=3,
            label=agent.label,
        )

    last = int(rounds_frame["round"].iloc[-1])
    for row in rounds_frame.itertuples(index=False):
        t = int(row.round)
        proposer = row.proposer
        colour = colours.get(proposer, "black") if proposer is not None else "black"
        if not bool(row.offered):
            ax.plot(
                [t],
                [-0.06],
                marker="x",
                color=colour,
                markersize=8,
                linestyle="none",
                clip_on=False,
            )
            continue
        value = float(getattr(row, f"proposal_{issue}"))
        face = colour if bool(row.agreed) else "white"
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
    if not model.running:
        value = float(model.package[k])
        category = str(issue_spec.categorize([value])[0])
        if model.agreed:
            t_end: float = model.agreement_round
            ax.axvline(t_end, color="black", linestyle=":", linewidth=1)
            note = f"agreed: {value:.2f}\n({category})"
            end = (
                f"agreement in {month_label(scenario, model.agreement_round)} "
                f"(round {model.agreement_round})"
            )
        else:
            ax.axvline(last, color=_NEUTRAL, linestyle="--", linewidth=1.5)
            t_end = last + 0.35  # the breakdown package holds after the last round
            ax.plot([t_end], [value], marker="s", markersize=8, color=_NEUTRAL, linestyle="none")
            note = f"breakdown: {value:.2f}\n({category})"
            end = f"no agreement by the horizon ({month_label(scenario, last)}): breakdown"
        ax.annotate(
            note,
            xy=(t_end, value),
            xytext=(-14, 14 if value < 0.75 else -30),
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
    else:
        end = f"still negotiating after {month_label(scenario, last)}"

    _set_issue_axis(ax, issue_spec, axis="y")
    ax.set_ylim(-0.1, 1.05)
    _round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.4, max(last, 1) + 0.6)
    ax.set_title(
        f"{_scenario_title(scenario)}: one negotiation, {issue_spec.label}\n{end}", fontsize=10
    )
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles += [
        Line2D(
            [],
            [],
            marker="D",
            linestyle="none",
            markerfacecolor="grey",
            markeredgecolor="grey",
            label="proposal, agreed",
        ),
        Line2D(
            [],
            [],
            marker="D",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="grey",
            markeredgewidth=2,
            label="proposal, rejected",
        ),
        Line2D([], [], marker="x", linestyle="none", color="grey", label="no offer this round"),
    ]
    if model.agreed:
        handles.append(Line2D([], [], linestyle=":", color="black", label="agreement"))
    elif not model.running:
        handles.append(
            Line2D([], [], linestyle="--", color=_NEUTRAL, marker="s", label="breakdown")
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


def stance_paths(
    scenario: Scenario, *, issue: str, n_runs: int, rng: RNGLike = None
) -> dict[str, NDArray[np.float64]]:
    """Stances on ``issue`` in runs ``0 .. n_runs - 1`` of the Mesa model, round by round.

    The runs are those of ``basesim.simulate(scenario, n_runs=..., rng=rng)``.

    Returns
    -------
    dict
        Actor name -> array ``(n_runs, horizon + 1)``: column 0 the starting
        stance, column t the stance in round t, NaN after the run ended.
    """
    from basesim._random import as_seed_sequence
    from basesim.engine.compiled import compile_scenario, draw_inputs
    from basesim.model import NegotiationModel

    k = _issue_index(scenario, issue)
    if isinstance(n_runs, bool) or not isinstance(n_runs, int | np.integer) or n_runs < 1:
        raise BasesimError(f"n_runs must be a whole number >= 1 (got {n_runs!r})")
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, as_seed_sequence(rng), 0, int(n_runs))
    horizon = scenario.horizon
    paths = {name: np.full((int(n_runs), horizon + 1), np.nan) for name in scenario.actor_names}
    for i in range(int(n_runs)):
        model = NegotiationModel(scenario, inputs=inputs.take(slice(i, i + 1)), compiled=compiled)
        for agent in model.actor_agents:
            paths[agent.actor_name][i, 0] = agent.initial_stance[k]
        model.run()
        frame = model.datacollector.get_agent_vars_dataframe()
        rounds = model.datacollector.get_model_vars_dataframe()["round"].to_numpy(dtype=int)
        steps = list(dict.fromkeys(frame.index.get_level_values(0)))
        step_round = dict(zip(steps, rounds, strict=True))
        for step, actor, stance in zip(
            frame.index.get_level_values(0), frame["actor"], frame[f"stance_{issue}"], strict=True
        ):
            paths[actor][i, step_round[step]] = stance
    return paths


def plot_stance_bands(
    scenario: Scenario,
    *,
    issue: str,
    n_runs: int = 50,
    min_runs: int = 5,
    ax: Axes | None = None,
    rng: RNGLike = None,
) -> Axes:
    """Stances on one issue over many runs of the Mesa model: median and 10–90 % band.

    Runs ``0 .. n_runs - 1`` of ``basesim.simulate(scenario, n_runs=...,
    rng=rng)`` are replayed with :class:`~basesim.NegotiationModel`.  In each
    round, each actor's line is the median stance over the runs still
    negotiating, and its band spans their 10th to 90th percentiles; a run
    leaves the count when it ends.  Rounds with fewer than ``min_runs`` runs
    left are not drawn.  The top axis gives the number of runs still
    negotiating.

    Parameters
    ----------
    scenario
        The negotiation.
    issue
        Name of the issue to show.
    n_runs
        How many runs to replay (each is a full Mesa model: keep it small).
    min_runs
        Fewest runs still negotiating for a round to be drawn.
    ax
        Axes to draw on; a new figure if ``None``.
    rng
        Seed (SPEC 7), as for :func:`basesim.simulate`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    paths = stance_paths(scenario, issue=issue, n_runs=n_runs, rng=rng)
    first = next(iter(paths.values()))
    alive = np.sum(~np.isnan(first), axis=0)
    need = min(int(min_runs), int(n_runs))
    drawn = np.flatnonzero(alive >= need)
    last = int(drawn.max())
    x = np.arange(last + 1)
    colours = actor_colors(scenario)
    ax = _new_axes(ax, (9.0, 4.8))
    for actor in scenario.actors:
        values = paths[actor.name][:, : last + 1]
        low, median, high = np.nanpercentile(values, [10, 50, 90], axis=0)
        colour = colours[actor.name]
        ax.fill_between(x, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(x, median, color=colour, linewidth=2, label=actor.label)
    _set_issue_axis(ax, scenario.issue(issue), axis="y")
    ax.set_ylim(-0.03, 1.03)
    _round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.3, last + 0.3)
    top = ax.secondary_xaxis("top")
    ticks = [int(t) for t in ax.get_xticks()]
    top.set_xticks(ticks, [str(int(alive[t])) for t in ticks])
    top.set_xlabel(f"runs still negotiating (of {int(n_runs)})", fontsize=9)
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles.append(Patch(color=_NEUTRAL, alpha=0.4, label="10–90 % of runs"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        title="median stance",
        title_fontsize=9,
    )
    ax.set_title(
        f"{_scenario_title(scenario)}: stances on {scenario.issue(issue).label}, "
        f"{int(n_runs)} runs",
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
    table, name = _split_outcome(outcome, table)
    sub = frame[frame["outcome"] == name]
    if table is not None and "table" in sub.columns:
        sub = sub[sub["table"] == table]
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
    scenario = getattr(sweep, "scenario", None)
    ax.set_xlabel(parameter_label(scenario, x))
    ax.set_ylabel(parameter_label(scenario, y))
    where = f"{scenario.name}: " if scenario is not None else ""
    runs = getattr(sweep, "n_runs", None)
    per = f"\n{runs:,} runs per design point" if runs else ""
    ax.set_title(f"{where}probability of {label}{per}", fontsize=10)
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

    Parameters
    ----------
    sensitivity
        A :class:`~basesim.SensitivityResult`, or
        any object whose ``to_frame()`` (or a DataFrame) has the columns
        ``parameter``, ``index`` (``"first_order"`` / ``"total_order"``; or
        ``order`` with ``"first"`` / ``"total"`` or ``"S1"`` / ``"ST"``),
        ``estimate``, ``ci_low``, ``ci_high`` and, optionally, ``outcome``.
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
    for order, (label, colour, shift) in styles.items():
        sub = frame[frame["order"] == order]
        if len(sub) == 0:
            continue
        y = np.array([index[p] for p in sub["parameter"]]) + shift
        e = sub["estimate"].to_numpy(dtype=float)
        err = np.vstack(
            [
                np.maximum(e - sub["ci_low"].to_numpy(dtype=float), 0),
                np.maximum(sub["ci_high"].to_numpy(dtype=float) - e, 0),
            ]
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
    scenario = getattr(sensitivity, "scenario", None)
    ax.set_yticks(range(len(parameters)), [parameter_label(scenario, str(p)) for p in parameters])
    ax.invert_yaxis()
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
