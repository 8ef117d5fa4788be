"""Colours, labels and axes shared by every plot: one colour per actor, issue scales in words."""

from __future__ import annotations

import calendar
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt

from basesim.exceptions import BasesimError
from basesim.outcomes import UNSETTLED

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim.issues import Issue
    from basesim.scenario import Scenario


__all__ = [
    "BAR",
    "NEUTRAL",
    "PARTIAL",
    "SHARE_ISSUE",
    "SHARE_RUN",
    "actor_colors",
    "category_labels",
    "frame_of",
    "issue_tick_labels",
    "month_label",
    "new_axes",
    "parameter_label",
    "pick",
    "require",
    "round_ticks",
    "row_labels",
    "scenario_colors",
    "scenario_title",
    "set_issue_axis",
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
BAR = "#4C72B0"
PARTIAL = "#A3B8D9"  # a joint outcome with some issues settled and some not
NEUTRAL = "#9A9A9A"
SHARE_RUN = "#555555"  # shares of runs, on a right-hand scale
SHARE_ISSUE = "#C8C8C8"


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


def set_issue_axis(ax: Axes, issue: Issue, *, axis: str = "y") -> None:
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


def category_labels(issue: Issue, *, sep: str = " ") -> list[str]:
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


def row_labels(issue: Issue, *, sep: str = " ") -> list[str]:
    """The rows of an issue's outcome table: its categories with their ranges, then unsettled."""
    return [*category_labels(issue, sep=sep), f"{UNSETTLED}{sep}(status quo kept)"]


def month_label(scenario: Scenario, round_index: int, *, sep: str = " ") -> str:
    """Calendar month of a round as ``"Feb 2025"`` (or ``"round N"`` without a start month)."""
    if scenario.start is None:
        return f"round {round_index}"
    year, month = (int(x) for x in scenario.start.split("-"))
    index = year * 12 + (month - 1) + round_index - 1
    return f"{calendar.month_abbr[index % 12 + 1]}{sep}{index // 12}"


def round_ticks(
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


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def frame_of(obj: Any, what: str) -> pd.DataFrame:
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


def require(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise BasesimError(
            f"{what} needs columns {', '.join(columns)} (missing {', '.join(missing)}; "
            f"got {', '.join(map(str, frame.columns))})"
        )


def pick(frame: pd.DataFrame, candidates: Sequence[str], what: str) -> str:
    """The first of ``candidates`` that is a column of ``frame``."""
    for c in candidates:
        if c in frame.columns:
            return c
    raise BasesimError(
        f"{what} needs one of the columns {', '.join(candidates)} "
        f"(got {', '.join(map(str, frame.columns))})"
    )


def scenario_title(scenario: Scenario) -> str:
    return scenario.name


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
