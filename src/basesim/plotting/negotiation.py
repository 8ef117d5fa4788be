"""Plots of negotiations month by month: one run, and many replayed runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter
from numpy.typing import NDArray

from basesim.exceptions import BasesimError
from basesim.experiments.replay import StanceReplay
from basesim.plotting.common import (
    NEUTRAL,
    SHARE_ISSUE,
    SHARE_RUN,
    actor_colors,
    month_label,
    new_axes,
    round_ticks,
    scenario_title,
    set_issue_axis,
)

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim.model import NegotiationModel
    from basesim.scenario import Scenario


__all__ = ["plot_negotiation", "plot_stance_bands"]


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
    ax = new_axes(ax, (9.5, 4.8))
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
        color=NEUTRAL,
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
        ax.axvline(last, color=NEUTRAL, linestyle="--", linewidth=1.5)
        t_note = last + 0.35  # the status quo holds after the last month
        ax.plot([t_note], [final], marker="s", markersize=8, color=NEUTRAL, linestyle="none")
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
            ax.axvline(s, color=NEUTRAL, linestyle="-.", linewidth=1.2)
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

    set_issue_axis(ax, issue_spec, axis="y")
    ax.set_ylim(-0.1, 1.05)
    round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.4, max(last, 1) + 0.6)
    title = f"{scenario_title(scenario)}: one negotiation, {issue_spec.label}\n{end}"
    if others:
        title += "\n" + "; ".join(others)
    ax.set_title(title, fontsize=10)
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles += [
        Line2D([], [], color=NEUTRAL, linestyle="--", linewidth=1.5, label="status quo"),
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
            Line2D([], [], linestyle="--", color=NEUTRAL, marker="s", label="left unsettled")
        )
    if any(settled[o.name] for o in scenario.issues if o.name != issue):
        handles.append(
            Line2D([], [], linestyle="-.", color=NEUTRAL, label="another issue settled")
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


def _carry_forward(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's NaNs after its last value replaced by that value (column 0 is never NaN)."""
    out = values.copy()
    for t in range(1, out.shape[1]):
        gap = np.isnan(out[:, t])
        out[gap, t] = out[gap, t - 1]
    return out


def plot_stance_bands(replay: StanceReplay, *, ax: Axes | None = None) -> Axes:
    """Stances on one issue over many runs of the Mesa model: median and 10–90 % band.

    ``replay`` holds runs ``0 .. n_runs - 1`` of ``basesim.simulate(scenario,
    n_runs=..., rng=rng)`` replayed with :class:`~basesim.NegotiationModel`
    (:func:`basesim.experiments.replay_stances`; the plot runs nothing).  In
    each month, each actor's line is its median stance over all the runs and
    its band spans their 10th to 90th percentiles; a run that has ended
    (every issue settled) counts with the stance it ended with, so the runs
    summarised are the same in every month.  Grey lines, on the right-hand
    scale, give the share of runs still negotiating (some issue open) and
    the share with the issue still open after each month.  The months shown
    run to the last month any run played.

    Parameters
    ----------
    replay
        The replayed runs: ``basesim.experiments.replay_stances(scenario,
        issue=..., n_runs=..., rng=...)``.
    ax
        Axes to draw on; a new figure if ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import basesim
    >>> from basesim.experiments import replay_stances
    >>> scn = basesim.load_scenario("syria-2025")
    >>> replay = replay_stances(scn, issue="basing", n_runs=3, rng=1)
    >>> ax = plot_stance_bands(replay)
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    if not isinstance(replay, StanceReplay):
        raise BasesimError(
            "replay must be a StanceReplay: basesim.experiments.replay_stances(scenario, "
            f"issue=..., n_runs=..., rng=...) (got {type(replay).__name__})"
        )
    scenario, issue = replay.scenario, replay.issue
    paths, ends, settled_round = replay.paths, replay.ends, replay.settled_round
    k = _issue_index(scenario, issue)
    n = replay.n_runs
    last = int(ends.max())
    x = np.arange(last + 1)
    colours = actor_colors(scenario)
    ax = new_axes(ax, (9.5, 4.8))
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
        color=SHARE_ISSUE,
        linewidth=4,
        drawstyle="steps-post",
        solid_capstyle="butt",
        label="runs with this issue open",
    )
    ax.plot(
        x,
        negotiating,
        color=SHARE_RUN,
        linewidth=1.2,
        drawstyle="steps-post",
        label="runs still negotiating",
    )
    set_issue_axis(ax, scenario.issue(issue), axis="y")
    ax.set_ylim(-0.03, 1.03)
    share = ax.secondary_yaxis("right")
    share.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    share.set_ylabel("share of runs (grey lines)", color=SHARE_RUN)
    share.tick_params(colors=SHARE_RUN)
    round_ticks(ax, scenario, max(last, 1), start_tick=True)
    ax.set_xlim(-0.3, last + 0.3)
    handles: list[Any] = _actor_legend_handles(scenario, colours)
    handles += [
        Patch(color=NEUTRAL, alpha=0.4, label="10–90 % of runs"),
        Line2D([], [], color=SHARE_RUN, linewidth=1.2, label="share still negotiating"),
        Line2D([], [], color=SHARE_ISSUE, linewidth=4, label="share with this issue open"),
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
        f"{scenario_title(scenario)}: stances on {label}, {n} runs\n"
        "a run that has ended counts with its last stance",
        fontsize=10,
    )
    ax.grid(axis="y", alpha=0.3)
    return ax
