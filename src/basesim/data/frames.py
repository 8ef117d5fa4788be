"""Scenarios from tables: one row per actor, one call.

:func:`scenario_from_frame` turns a :class:`pandas.DataFrame` of positions,
saliences, capabilities and votes into a :class:`~basesim.Scenario`.  A
missing position is not an error but an absence: the actor has no stance on
that issue.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from basesim.actors import Actor, Stance
from basesim.exceptions import DataError
from basesim.issues import Issue
from basesim.parameters import Evidence, Parameter
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["scenario_from_frame"]

T = TypeVar("T")

_ABSENT = Evidence(
    rationale="No stance in the data: placed at the status quo with salience 0, "
    "so the issue does not enter the actor's utility, and not a voter on it.",
    assumption=True,
)


def _per_issue(value: T | Mapping[str, T], issue: str, what: str) -> T:
    if isinstance(value, Mapping):
        if issue not in value:
            raise DataError(f"{what} gives no value for issue {issue!r} (got {dict(value)!r})")
        return value[issue]
    return value


def _number(value: Any) -> float:
    """``value`` as a float; NaN for a missing value (``None``, NaN or blank).

    Raises ``ValueError`` for anything else that is not a number.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return math.nan
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _argument(value: Any, what: str) -> float:
    """An argument that must be a finite number, or a :class:`DataError` naming it."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)):
        raise DataError(f"{what} must be a finite number (got {value!r})")
    return float(value)


def _flag(value: Any, actor: str) -> bool:
    """A true/false cell: a boolean, 0 or 1, or the words true and false."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, bool | np.bool_) or (isinstance(value, int | float) and value in (0, 1)):
        return bool(value)
    raise DataError(f"row {actor!r}, column 'proposer' must be true or false (got {value!r})")


def _issue_columns(frame: pd.DataFrame, issue: str | None) -> dict[str, tuple[str, str]]:
    """Issue name -> (position column, salience column)."""
    columns = [str(c) for c in frame.columns]
    if "position" in columns:
        if "salience" not in columns:
            raise DataError(
                "column 'salience' is missing: every position column needs a salience column "
                f"(columns are {', '.join(columns)})"
            )
        return {issue or "issue": ("position", "salience")}
    found: dict[str, tuple[str, str]] = {}
    for c in columns:
        if c.startswith("position_"):
            name = c[len("position_") :]
            if f"salience_{name}" not in columns:
                raise DataError(
                    f"column 'salience_{name}' is missing: every position column needs a "
                    f"salience column (columns are {', '.join(columns)})"
                )
            found[name] = (c, f"salience_{name}")
    if not found:
        raise DataError(
            "no position column: give 'position' and 'salience' (one issue) or "
            f"'position_<issue>' and 'salience_<issue>' (columns are {', '.join(columns)})"
        )
    return found


def scenario_from_frame(
    frame: pd.DataFrame,
    *,
    status_quo: float | Mapping[str, float],
    rule: str | Mapping[str, str] = "unanimity",
    voters: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    min_voter_share: float | Mapping[str, float] | None = None,
    scale: tuple[float, float] = (0.0, 1.0),
    salience_scale: float = 1.0,
    issue: str | None = None,
    name: str = "from-frame",
    title: str = "",
    horizon: int = 24,
) -> Scenario:
    """A scenario from a table with one row per actor.

    Parameters
    ----------
    frame
        One row per actor.  Columns: ``actor`` (the actor's name; the index
        if there is no such column), ``capability`` (> 0), optionally
        ``votes`` (>= 0, default 1), ``proposer`` (true/false, default true)
        and ``label``; and the stances: ``position`` and ``salience`` for a
        scenario of one issue (named ``issue``), or ``position_<issue>`` and
        ``salience_<issue>`` for each of several issues.  Positions are on
        ``scale``, saliences on ``[0, salience_scale]``.  A missing position
        (NaN or empty) means the actor has no stance on the issue (a
        salience without a position is ignored).
    status_quo
        Where each issue stands, on ``scale``: one number, or one per issue.
    rule, voters, threshold, min_voter_share
        Each issue's decision rule (see the scenario format): one value for
        every issue, or a mapping by issue.  ``voters`` defaults to every
        actor with a stance on the issue; actors without one are left out of
        the voters in any case.
    scale
        The ``(low, high)`` ends of the positions' scale, mapped onto [0, 1].
    salience_scale
        The largest salience (saliences are divided by it).
    issue
        The name of the one issue of a ``position``/``salience`` table
        (default ``"issue"``).
    name, title, horizon
        As for :class:`~basesim.Scenario`.

    Returns
    -------
    Scenario
        Issues in column order, actors in row order.  An actor without a
        stance on any issue is left out.  The scenario format needs a stance
        from every actor on every issue, so an actor without a stance on
        some issue gets, on that issue, the status quo as position and
        salience 0 (the issue does not enter its utility; its evidence says
        so), and it is not a voter there.

    Raises
    ------
    DataError
        A required column is missing, or a row has a bad value (naming the
        row and the column): a position without a salience, a position or
        salience outside its scale, a capability that is not > 0.
    ScenarioError
        The table's values break a rule of the scenario format (an actor
        name that is not a lower-case identifier, an unknown rule ...).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"actor": ["a", "b", "c"], "capability": [1.0, 2.0, 1.0],
    ...                       "position": [0.0, 60.0, None], "salience": [50, 100, 80]})
    >>> scn = scenario_from_frame(frame, status_quo=0.0, scale=(0, 100), salience_scale=100)
    >>> scn.actor_names, scn.actor("b").stances["issue"].position.value
    (('a', 'b'), 0.6)
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"frame must be a pandas DataFrame (got {type(frame).__name__})")
    if not isinstance(scale, tuple | list) or len(scale) != 2:
        raise DataError(f"scale must be (low, high) (got {scale!r})")
    low, high = (_argument(scale[0], "scale[0]"), _argument(scale[1], "scale[1]"))
    if not high > low:
        raise DataError(f"scale must be (low, high) with low < high (got {tuple(scale)!r})")
    if not _argument(salience_scale, "salience_scale") > 0:
        raise DataError(f"salience_scale must be > 0 (got {salience_scale!r})")
    columns = [str(c) for c in frame.columns]
    if "capability" not in columns:
        raise DataError(f"column 'capability' is missing (columns are {', '.join(columns)})")
    issues = _issue_columns(frame, issue)
    names = (
        [str(a) for a in frame["actor"]] if "actor" in columns else [str(a) for a in frame.index]
    )

    def cell(row: int, column: str) -> float:
        value = frame[column].iloc[row]
        try:
            x = _number(value)
        except (TypeError, ValueError):
            raise DataError(
                f"row {names[row]!r}, column {column!r} must be a number (got {value!r})"
            ) from None
        return x

    def unit(row: int, column: str, x: float, top: float, bottom: float = 0.0) -> float:
        if not bottom <= x <= top:
            raise DataError(
                f"row {names[row]!r}, column {column!r} must be in [{bottom:g}, {top:g}] "
                f"(got {x:g})"
            )
        return (x - bottom) / (top - bottom)

    status: dict[str, float] = {}
    for k in issues:
        q = _argument(_per_issue(status_quo, k, "status_quo"), f"status_quo of issue {k!r}")
        if not low <= q <= high:
            raise DataError(
                f"status_quo of issue {k!r} must be in [{low:g}, {high:g}] (got {q:g})"
            )
        status[k] = (q - low) / (high - low)

    # Stances: (position, salience) on [0, 1], or None where the actor has none.
    stances: list[dict[str, tuple[float, float] | None]] = []
    for row in range(len(frame)):
        own: dict[str, tuple[float, float] | None] = {}
        for k, (pcol, scol) in issues.items():
            p, s = cell(row, pcol), cell(row, scol)
            if math.isnan(p):
                own[k] = None
                continue
            if math.isnan(s):
                raise DataError(
                    f"row {names[row]!r}, column {scol!r}: the actor has a position "
                    f"({pcol} = {p:g}) but no salience"
                )
            own[k] = (unit(row, pcol, p, high, low), unit(row, scol, s, salience_scale))
        stances.append(own)

    actors: list[Actor] = []
    present: dict[str, list[str]] = {k: [] for k in issues}
    for row, own in enumerate(stances):
        if all(v is None for v in own.values()):
            continue
        cap = cell(row, "capability")
        if not cap > 0:
            raise DataError(f"row {names[row]!r}, column 'capability' must be > 0 (got {cap:g})")
        votes = cell(row, "votes") if "votes" in columns else 1.0
        if not votes >= 0:
            raise DataError(f"row {names[row]!r}, column 'votes' must be >= 0 (got {votes:g})")
        proposer = (
            _flag(frame["proposer"].iloc[row], names[row]) if "proposer" in columns else True
        )
        label = str(frame["label"].iloc[row]) if "label" in columns else names[row]
        made: dict[str, Stance] = {}
        for k, v in own.items():
            if v is None:
                made[k] = Stance(
                    position=Parameter(value=status[k], evidence=_ABSENT),
                    salience=Parameter(value=0.0, evidence=_ABSENT),
                )
            else:
                made[k] = Stance(position=Parameter(value=v[0]), salience=Parameter(value=v[1]))
                present[k].append(names[row])
        actors.append(
            Actor(
                name=names[row],
                label=label,
                capability=Parameter(value=cap),
                votes=votes,
                proposer=proposer,
                stances=made,
            )
        )

    built: list[Issue] = []
    for k in issues:
        how = str(_per_issue(rule, k, "rule"))
        who: tuple[str, ...] | None = None
        if how != "unilateral":
            wanted = present[k] if voters is None else list(_per_issue(voters, k, "voters"))
            who = tuple(v for v in wanted if v in present[k])
            if not who:
                raise DataError(
                    f"issue {k!r} has no voter with a stance on it (voters {list(wanted)!r}; "
                    f"actors with a stance: {present[k]!r})"
                )
        qualified = how == "qualified"
        th = _per_issue(threshold, k, "threshold") if threshold is not None else None
        ms = _per_issue(min_voter_share, k, "min_voter_share") if min_voter_share else None
        built.append(
            Issue(
                name=k,
                label=k,
                anchors=(f"{low:g}", f"{(low + high) / 2:g}", f"{high:g}"),
                status_quo=Parameter(value=status[k]),
                rule=how,
                voters=who,
                threshold=(
                    _argument(th, f"threshold of issue {k!r}")
                    if qualified and th is not None
                    else None
                ),
                min_voter_share=(
                    _argument(ms, f"min_voter_share of issue {k!r}")
                    if qualified and ms is not None
                    else None
                ),
            )
        )
    if not actors:
        raise DataError("no actor has a stance on any issue")
    return Scenario(
        name=name, title=title, issues=tuple(built), actors=tuple(actors), horizon=horizon
    )
