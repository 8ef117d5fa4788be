"""Observations of what happened, and how well a scenario forecast them.

An :class:`Observation` says where an issue stood at the end of a month (in a
named category, inside a range of values, settled, or still unsettled), or
whether one of the scenario's events had occurred by then.
:func:`observe` evaluates observations on simulated runs (which run met which
observation, and how far the others were from meeting it); :func:`score` turns
that into the probability the scenario gave each observation, with Brier and
log scores against two baselines.  Observations are kept in TOML files of
``[[observations]]`` tables (:func:`read_observations`,
:func:`observations_to_toml`).

What an observation means
-------------------------
``by`` is a month: ``"YYYY-MM"`` (the scenario's ``start`` is month 1) or the
month's number.  The observation is about the state of each run at the end of
that month, after the month is played: exactly the outcome of the same run
with the horizon cut to that month (random inputs are drawn month by month, so
the first months of a run do not depend on the horizon).

- ``state = "<category>"``: the issue's value at the end of the month lies in
  the category (``issue.category_index``: ``[cut before, cut after)``), settled
  or not.  Combine it with a ``"settled"`` observation to ask for both.
- ``low``, ``high``: the value lies in ``[low, high]`` (inclusive).
- ``state = "settled"`` / ``"unsettled"``: an agreement has / has not settled the
  issue by the end of the month.
- ``event = "<name>"``, ``occurred = true`` / ``false``: the scenario's event
  (:class:`~basesim.Event`) has / has not happened by the end of the month.  An
  event of a run's month ``e`` (its drawn or fixed month, see
  :func:`~basesim.engine.events.event_months`) has occurred by month ``m`` iff
  ``e <= m``.  Every event happens in every run, at some month of the
  horizon; whether the run had already ended does not matter.

Distances (:attr:`RunObservations.distance`) are 0 for a run that meets the
observation and in ``(0, 1]`` for one that does not:

- category or range: how far the value is from the interval on the issue's
  ``[0, 1]`` scale (a value exactly at a category's upper cut point, which
  belongs to the next category, counts as the smallest positive distance,
  :data:`MIN_DISTANCE`);
- ``"settled"``: a run that settled the issue in a later month ``s`` is
  ``(s - m) / horizon`` away; a run that never settled it (by the horizon), 1;
- ``"unsettled"``: a run that settled the issue in month ``s <= m`` is
  ``(m + 1 - s) / horizon`` away (it would have had to settle ``m + 1 - s``
  months later).
- an event that ``occurred``: a run whose event month ``e`` is later than
  ``m`` is ``(e - m) / horizon`` away;
- an event that did not occur: a run whose event month is ``e <= m`` is
  ``(m + 1 - e) / horizon`` away (it would have had to happen ``m + 1 - e``
  months later), as for ``"unsettled"``.

So a distance never decreases as a run's value moves away from the interval
or its settlement or event month moves away from the observed side of ``m``.
An event observation has no value: in :class:`RunObservations` its ``value``
is NaN, its ``category`` -1, ``settled`` false and ``settled_round`` 0, and
``event_month`` holds each run's month of the event.

Examples
--------
>>> import basesim
>>> obs = basesim.Observation(by="2025-12", issue="sanctions_relief", state="substantial")
>>> obs.kind
'category'
>>> basesim.Observation(by=3, issue="basing", low=0.25, high=0.75).kind
'range'
>>> basesim.Observation(by="2025-07", event="west_lifts_economic_sanctions", occurred=True).kind
'event'
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from basesim._io import read_regular_file
from basesim._random import RNGLike, as_seed_sequence
from basesim._toml_text import _value as _toml_value
from basesim.engine.batch import run_batch
from basesim.engine.compiled import BLOCK_SIZE, CompiledScenario, RandomInputs, compile_scenario
from basesim.engine.compiled import draw_inputs as _draw_inputs
from basesim.exceptions import ObservationError
from basesim.issues import Issue
from basesim.outcomes import wilson_interval
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

    from basesim.results import Provenance

__all__ = [
    "EVENT_STATES",
    "FORECASTERS",
    "KINDS",
    "MIN_DISTANCE",
    "SETTLEMENT_STATES",
    "Observation",
    "RunObservations",
    "ScoreResult",
    "check_observations",
    "observation_month",
    "observations_to_toml",
    "observe",
    "read_observations",
    "score",
]

#: The states that speak of settlement rather than of a category.
SETTLEMENT_STATES = ("settled", "unsettled")
#: The outcomes of an event observation: the event has or has not happened by the month.
EVENT_STATES = ("occurred", "did not occur")
#: The kinds of observation: a category, a value range, settled or unsettled, an event.
KINDS = ("category", "range", "settlement", "event")
#: The forecasters a :class:`ScoreResult` scores: the scenario and two baselines.
FORECASTERS = ("model", "uniform", "status quo")
#: The distance of an unmet observation whose value lies on the interval's open end.
MIN_DISTANCE = float(np.finfo(np.float64).eps)
#: Runs simulated at a time by :func:`score`.
_CHUNK = 16 * BLOCK_SIZE
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_KEYS = ("by", "issue", "state", "low", "high", "event", "occurred", "evidence", "note")


def _number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, int | float | np.integer | np.floating)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Where an issue stood at the end of a month, or whether an event had occurred by then.

    Give exactly one of ``issue`` (with ``state`` or ``low`` and ``high``)
    and ``event`` (with ``occurred``).

    Parameters
    ----------
    by
        The month: ``"YYYY-MM"`` (needs a scenario with a ``start``, which is
        month 1) or a month number ``>= 1``.  The observation is about the
        state at the end of that month.
    issue
        The issue's name.
    state
        A category of the issue (its value lies in it, settled or not), or
        ``"settled"`` / ``"unsettled"``.  Give either ``state`` or both
        ``low`` and ``high``.
    low, high
        The value lies in ``[low, high]``, inside ``[0, 1]``.
    event
        The name of one of the scenario's events (:class:`~basesim.Event`).
    occurred
        With ``event`` (and only then; required): whether the event had
        happened by the end of the month (``True``) or not (``False``).
    evidence
        Identifiers of the sources the observation rests on (``"E12"``).
    note
        Free text.

    Raises
    ------
    ObservationError
        If a field has the wrong type, both or neither of ``issue`` and
        ``event`` are given, both or neither of ``state`` and a range are
        given for an issue, ``low > high``, ``occurred`` is missing for an
        event, or ``occurred`` / ``state`` / a range come with the wrong one.
        Whether the issue, category, event and month exist is checked against
        a scenario by :func:`check_observations`.

    Examples
    --------
    >>> Observation(by="2025-07", issue="basing", state="unsettled", evidence=("E12",)).kind
    'settlement'
    >>> Observation(by="2025-06", event="west_lifts_economic_sanctions", occurred=True).label()
    'event west_lifts_economic_sanctions occurred by 2025-06'
    >>> Observation(by=1, issue="basing", state="settled", low=0.0, high=1.0)
    Traceback (most recent call last):
    ...
    basesim.exceptions.ObservationError: state and low/high are exclusive: give one of them (got state='settled', low=0.0, high=1.0)
    """

    by: str | int
    issue: str | None = None
    state: str | None = None
    low: float | None = None
    high: float | None = None
    event: str | None = None
    occurred: bool | None = None
    evidence: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.evidence, list):
            object.__setattr__(self, "evidence", tuple(self.evidence))
        by = self.by
        if isinstance(by, bool) or not isinstance(by, int | str | np.integer):
            raise ObservationError(
                f"by must be a month 'YYYY-MM' or a month number >= 1 (got {by!r})"
            )
        if isinstance(by, str) and not _MONTH.match(by):
            raise ObservationError(f"by must be a month written 'YYYY-MM' (got {by!r})")
        if not isinstance(by, str):
            if by < 1:
                raise ObservationError(f"by must be a month number >= 1 (got {int(by)})")
            object.__setattr__(self, "by", int(by))
        if self.issue is not None and self.event is not None:
            raise ObservationError(
                "issue and event are exclusive: give one of them "
                f"(got issue={self.issue!r}, event={self.event!r})"
            )
        if self.issue is None and self.event is None:
            raise ObservationError("an observation needs an issue or an event (got neither)")
        if self.event is not None:
            self._check_event()
        else:
            self._check_issue()
        if not isinstance(self.evidence, tuple) or not all(
            isinstance(e, str) for e in self.evidence
        ):
            raise ObservationError(f"evidence must be a list of strings (got {self.evidence!r})")
        if not isinstance(self.note, str):
            raise ObservationError(f"note must be a string (got {self.note!r})")

    def _check_event(self) -> None:
        if not isinstance(self.event, str) or not self.event:
            raise ObservationError(f"event must be a non-empty string (got {self.event!r})")
        for name in ("state", "low", "high"):
            value = getattr(self, name)
            if value is not None:
                raise ObservationError(
                    f"{name} does not belong to an event observation "
                    f"(it takes occurred) (got {name}={value!r})"
                )
        occurred = self.occurred
        if not isinstance(occurred, bool | np.bool_):
            raise ObservationError(
                f"occurred must be true or false for an event observation (got {occurred!r})"
            )
        object.__setattr__(self, "occurred", bool(occurred))

    def _check_issue(self) -> None:
        if not isinstance(self.issue, str) or not self.issue:
            raise ObservationError(f"issue must be a non-empty string (got {self.issue!r})")
        if self.occurred is not None:
            raise ObservationError(
                "occurred belongs to an event observation only: give event, not issue "
                f"(got issue={self.issue!r}, occurred={self.occurred!r})"
            )
        if self.state is not None and not isinstance(self.state, str):
            raise ObservationError(
                f"state must be a category name, 'settled' or 'unsettled' (got {self.state!r})"
            )
        has_range = self.low is not None or self.high is not None
        if self.state is not None and has_range:
            raise ObservationError(
                "state and low/high are exclusive: give one of them "
                f"(got state={self.state!r}, low={self.low!r}, high={self.high!r})"
            )
        if self.state is None and not has_range:
            raise ObservationError(
                "an observation needs a state or a range low/high (got neither)"
            )
        if has_range:
            for name in ("low", "high"):
                value = getattr(self, name)
                if not _number(value) or not 0.0 <= float(value) <= 1.0:
                    raise ObservationError(
                        f"{name} must be a number in [0, 1] when a range is given (got {value!r})"
                    )
                object.__setattr__(self, name, float(value))
            assert self.low is not None and self.high is not None
            if self.low > self.high:
                raise ObservationError(
                    f"low must be at most high (got low={self.low!r}, high={self.high!r})"
                )

    @property
    def kind(self) -> str:
        """``"category"``, ``"range"``, ``"settlement"`` or ``"event"``."""
        if self.event is not None:
            return "event"
        if self.state is None:
            return "range"
        return "settlement" if self.state in SETTLEMENT_STATES else "category"

    def label(self) -> str:
        """A short description: ``"basing unsettled by 2026-01"``, ``"event x occurred by month 4"``."""
        when = self.by if isinstance(self.by, str) else f"month {self.by}"
        if self.kind == "event":
            return f"event {self.event} {self._event_state} by {when}"
        if self.kind == "range":
            what = f"in [{self.low:g}, {self.high:g}]"
        elif self.kind == "settlement":
            what = str(self.state)
        else:
            what = f"{self.state!r}"
        return f"{self.issue} {what} by {when}"

    @property
    def _event_state(self) -> str:
        return EVENT_STATES[0] if self.occurred else EVENT_STATES[1]

    @property
    def subject(self) -> str:
        """What the observation is about: the issue's name, or ``"event <name>"``."""
        return f"event {self.event}" if self.event is not None else str(self.issue)

    def to_dict(self) -> dict[str, Any]:
        """The fields that differ from their defaults, as a TOML table would hold them."""
        out: dict[str, Any] = {"by": self.by}
        if self.event is not None:
            out["event"] = self.event
            out["occurred"] = self.occurred
        else:
            out["issue"] = self.issue
            if self.state is not None:
                out["state"] = self.state
            else:
                out["low"] = self.low
                out["high"] = self.high
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.note:
            out["note"] = self.note
        return out


# -- checking against a scenario ---------------------------------------------------------
def _month_label(scenario: Scenario, month: int) -> str:
    if scenario.start is None:
        return f"month {month}"
    year, mon = (int(x) for x in scenario.start.split("-"))
    index = year * 12 + mon - 1 + month - 1
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def observation_month(scenario: Scenario, by: str | int) -> int:
    """The month number (1 = the scenario's ``start``) of ``by``, checked to be within the horizon.

    Raises
    ------
    ObservationError
        If ``by`` is a calendar month and the scenario has no ``start``, or the
        month is before the start or after the horizon.

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> scn.start, observation_month(scn, "2025-12")
    ('2025-02', 11)
    """
    if isinstance(by, str):
        if scenario.start is None:
            raise ObservationError(
                f"by must be a month number: scenario {scenario.name!r} has no start month "
                f"to count calendar months from (got {by!r})"
            )
        if not _MONTH.match(by):
            raise ObservationError(f"by must be a month written 'YYYY-MM' (got {by!r})")
        y0, m0 = (int(x) for x in scenario.start.split("-"))
        y1, m1 = (int(x) for x in by.split("-"))
        month = (y1 * 12 + m1) - (y0 * 12 + m0) + 1
        if month < 1:
            raise ObservationError(
                f"by must not be before the scenario's start {scenario.start} (got {by!r})"
            )
    else:
        month = int(by)
        if month < 1:
            raise ObservationError(f"by must be a month number >= 1 (got {month})")
    if month > scenario.horizon:
        raise ObservationError(
            f"by must be within the scenario's horizon, month {scenario.horizon} "
            f"({_month_label(scenario, scenario.horizon)}) (got {by!r}, month {month})"
        )
    return month


def check_observations(
    scenario: Scenario, observations: Iterable[Observation]
) -> tuple[Observation, ...]:
    """Check that every observation fits ``scenario``; return them as a tuple.

    Raises
    ------
    ObservationError
        Naming ``observations[i].<field>``, the rule and the bad value: an
        unknown issue or event, a state that is neither a category of the
        issue nor ``"settled"``/``"unsettled"``, or a month outside
        ``1..horizon``.
    """
    out = tuple(observations)
    if not out:
        raise ObservationError("observations must hold at least one observation (got none)")
    names = scenario.issue_names
    events = tuple(e.name for e in scenario.events)
    for i, obs in enumerate(out):
        where = f"observations[{i}]"
        if not isinstance(obs, Observation):
            raise ObservationError(
                f"{where} must be a basesim.Observation (got {type(obs).__name__})"
            )
        if obs.event is not None:
            if obs.event not in events:
                from basesim.vocabulary import suggest

                known = f"({', '.join(events)})" if events else "(it has none)"
                raise ObservationError(
                    f"{where}.event must be an event of scenario {scenario.name!r} "
                    f"{known} (got {obs.event!r}){suggest(obs.event, events)}"
                )
        elif obs.issue not in names:
            raise ObservationError(
                f"{where}.issue must be an issue of scenario {scenario.name!r} "
                f"({', '.join(names)}) (got {obs.issue!r})"
            )
        if obs.kind == "category":
            issue = scenario.issue(str(obs.issue))
            if obs.state not in issue.categories:
                allowed = ", ".join(repr(c) for c in (*issue.categories, *SETTLEMENT_STATES))
                raise ObservationError(
                    f"{where}.state must be a category of issue {obs.issue!r} or "
                    f"settled/unsettled ({allowed}) (got {obs.state!r})"
                )
        try:
            observation_month(scenario, obs.by)
        except ObservationError as exc:
            raise ObservationError(f"{where}.{exc}") from None
    return out


# -- evaluation on runs -----------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class RunObservations:
    """What each run showed at each observation's month (leading axis: run).

    Attributes
    ----------
    observations
        The observations, in order (axis ``O``).
    months
        ``(O,)`` each observation's month number.
    met
        ``(n, O)`` whether the run meets the observation.
    distance
        ``(n, O)`` how far the run is from meeting it: 0 iff met, else in
        ``(0, 1]`` (see the module's notes).
    value
        ``(n, O)`` the issue's value at the end of the observation's month
        (NaN for an event observation).
    category
        ``(n, O)`` the index of that value's category in ``issue.categories``
        (-1 for an event observation).
    settled
        ``(n, O)`` whether the issue was settled by the end of the month
        (false for an event observation).
    settled_round
        ``(n, O)`` the month the issue was settled in, over the whole
        horizon; 0 if it never was.  Computed only when some observation is
        about settlement (it needs a run to the full horizon); zeros
        otherwise (and for an event observation).
    event_month
        ``(n, O)`` for an event observation, the month the event happens in
        the run (:func:`~basesim.engine.events.event_months`); 0 for the
        others.
    """

    observations: tuple[Observation, ...]
    months: NDArray[np.int64]
    met: NDArray[np.bool_]
    distance: NDArray[np.float64]
    value: NDArray[np.float64]
    category: NDArray[np.intp]
    settled: NDArray[np.bool_]
    settled_round: NDArray[np.int64]
    event_month: NDArray[np.int64]

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.met.shape[0])

    @property
    def met_all(self) -> NDArray[np.bool_]:
        """``(n,)`` whether the run meets every observation."""
        out: NDArray[np.bool_] = np.asarray(self.met.all(axis=1))
        return out

    @staticmethod
    def concatenate(parts: Sequence[RunObservations]) -> RunObservations:
        """Join the observations of consecutive run ranges."""
        first = parts[0]
        arrays = {
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in (
                "met",
                "distance",
                "value",
                "category",
                "settled",
                "settled_round",
                "event_month",
            )
        }
        return RunObservations(observations=first.observations, months=first.months, **arrays)


def _interval(issue: Issue, obs: Observation) -> tuple[float, float]:
    """The closed interval an observation's value must lie in (a category's cuts or the range)."""
    if obs.kind == "range":
        assert obs.low is not None and obs.high is not None
        return obs.low, obs.high
    i = issue.categories.index(str(obs.state))
    bounds = (0.0, *issue.cuts, 1.0)
    return float(bounds[i]), float(bounds[i + 1])


def observe(
    compiled: CompiledScenario,
    inputs: RandomInputs,
    observations: Sequence[Observation],
    *,
    protocol: Any = None,
) -> RunObservations:
    """Evaluate observations on the runs of ``inputs``.

    Runs :func:`~basesim.engine.batch.run_batch` once per distinct month of
    an issue's observation with the horizon cut to that month (the same
    inputs: the first months of a run do not depend on the horizon), and once
    to the full horizon when a settlement observation needs the month a run
    settled in.  An event observation needs no run: each run's event months
    come from its parameters (:func:`~basesim.engine.events.event_months`).

    Parameters
    ----------
    compiled
        The compiled scenario (its ``horizon`` is the full one).
    inputs
        The runs' random inputs, drawn for the full horizon.
    observations
        Checked against ``compiled.scenario`` (:func:`check_observations`).
    protocol
        The protocol to run, as for :func:`~basesim.engine.batch.run_batch`
        (default: the scenario's model).

    Returns
    -------
    RunObservations

    Examples
    --------
    >>> import basesim
    >>> import numpy as np
    >>> from basesim.engine.compiled import compile_scenario, draw_inputs
    >>> scn = basesim.load_scenario("syria-2025")
    >>> compiled = compile_scenario(scn)
    >>> inputs = draw_inputs(compiled, np.random.SeedSequence(1), 0, 50)
    >>> obs = [basesim.Observation(by="2025-12", issue="basing", state="unsettled")]
    >>> ro = observe(compiled, inputs, obs)
    >>> ro.met.shape, bool(((ro.distance == 0) == ro.met).all())
    ((50, 1), True)
    """
    scenario = compiled.scenario
    obs = check_observations(scenario, observations)
    n, n_obs = inputs.n_runs, len(obs)
    months = np.array([observation_month(scenario, o.by) for o in obs], dtype=np.int64)
    on_issue = [j for j, o in enumerate(obs) if o.event is None]
    k_of = {j: scenario.issue_names.index(str(obs[j].issue)) for j in on_issue}
    value = np.full((n, n_obs), math.nan)
    settled = np.zeros((n, n_obs), dtype=bool)
    settled_round = np.zeros((n, n_obs), dtype=np.int64)
    event_month = np.zeros((n, n_obs), dtype=np.int64)
    category = np.full((n, n_obs), -1, dtype=np.intp)
    met = np.empty((n, n_obs), dtype=bool)
    distance = np.empty((n, n_obs))
    horizon = float(compiled.horizon)
    if len(on_issue) < n_obs:
        from basesim.engine.events import event_months

        all_months = event_months(compiled, compiled.parameters(inputs.quantiles))
        e_of = {e.name: i for i, e in enumerate(scenario.events)}
        for j, o in enumerate(obs):
            if o.event is None:
                continue
            m, e = int(months[j]), all_months[:, e_of[o.event]]
            event_month[:, j] = e
            met[:, j] = (e <= m) == o.occurred
            # The run's event would have had to happen (e - m) months earlier,
            # or (m + 1 - e) months later.
            off = (e - m) / horizon if o.occurred else (m + 1 - e) / horizon
            distance[:, j] = np.where(met[:, j], 0.0, off)
    runs_at = {}
    for month in sorted({int(months[j]) for j in on_issue}):
        cut = dataclasses.replace(compiled, horizon=month)
        runs_at[month] = run_batch(cut, inputs, protocol)
    if any(o.kind == "settlement" for o in obs):
        full = runs_at.get(compiled.horizon)
        if full is None:
            full = run_batch(compiled, inputs, protocol)
        for j in on_issue:
            settled_round[:, j] = full.settled_round[:, k_of[j]]
    for j in on_issue:
        o, k = obs[j], k_of[j]
        issue = scenario.issue(str(o.issue))
        outcome = runs_at[int(months[j])]
        value[:, j] = outcome.package[:, k]
        settled[:, j] = outcome.settled[:, k]
        x = value[:, j]
        category[:, j] = issue.category_index(x)
        if o.kind == "settlement":
            m = int(months[j])
            s = settled_round[:, j]
            if o.state == "settled":
                met[:, j] = settled[:, j]
                off = np.where(s > 0, (s - m) / horizon, 1.0)
            else:
                met[:, j] = ~settled[:, j]
                off = (m + 1 - s) / horizon
            distance[:, j] = np.where(met[:, j], 0.0, np.maximum(off, MIN_DISTANCE))
            continue
        lo, hi = _interval(issue, o)
        if o.kind == "category":
            met[:, j] = category[:, j] == issue.categories.index(str(o.state))
        else:
            met[:, j] = (x >= lo) & (x <= hi)
        off = np.maximum(np.maximum(lo - x, x - hi), MIN_DISTANCE)
        distance[:, j] = np.where(met[:, j], 0.0, np.minimum(off, 1.0))
    return RunObservations(
        observations=obs,
        months=months,
        met=met,
        distance=distance,
        value=value,
        category=category,
        settled=settled,
        settled_round=settled_round,
        event_month=event_month,
    )


# -- forecasts and scores ------------------------------------------------------------------
def _issue(scenario: Scenario, obs: Observation) -> Issue | None:
    """The issue an observation is about; ``None`` for an event observation."""
    return None if obs.issue is None else scenario.issue(obs.issue)


def _outcomes(issue: Issue | None, obs: Observation) -> tuple[str, ...]:
    """The outcomes an observation's forecast is over (its partition of runs)."""
    if obs.kind == "event":
        return EVENT_STATES
    assert issue is not None
    if obs.kind == "category":
        return issue.categories
    if obs.kind == "settlement":
        return SETTLEMENT_STATES
    return ("inside", "outside")


def _observed(issue: Issue | None, obs: Observation) -> int:
    if obs.kind == "event":
        return 0 if obs.occurred else 1
    assert issue is not None
    if obs.kind == "category":
        return issue.categories.index(str(obs.state))
    if obs.kind == "settlement":
        return SETTLEMENT_STATES.index(str(obs.state))
    return 0


def _status_quo_share(issue: Issue, lo: float, hi: float, *, closed: bool) -> float:
    """The prior probability that the issue's initial status quo lies in ``[lo, hi]``.

    ``closed=False``: in ``[lo, hi)`` (a category), ``[lo, 1]`` for the top one.
    """
    param = issue.status_quo
    dist = param.distribution
    if dist is None:
        x = param.value
        return float(lo <= x <= hi if closed or hi >= 1.0 else lo <= x < hi)
    share = float(dist.frozen.cdf(hi) - dist.frozen.cdf(lo))
    return min(max(share, 0.0), 1.0)


def _baselines(
    issue: Issue | None, obs: Observation
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The uniform and status-quo forecasts over :func:`_outcomes`."""
    if obs.kind == "event":
        # The status quo: nothing happens.
        return np.array([0.5, 0.5]), np.array([0.0, 1.0])
    assert issue is not None
    if obs.kind == "category":
        c = len(issue.categories)
        bounds = (0.0, *issue.cuts, 1.0)
        sq = [_status_quo_share(issue, bounds[i], bounds[i + 1], closed=False) for i in range(c)]
        return np.full(c, 1.0 / c), np.asarray(sq, dtype=np.float64)
    if obs.kind == "settlement":
        return np.array([0.5, 0.5]), np.array([0.0, 1.0])
    assert obs.low is not None and obs.high is not None
    width = obs.high - obs.low
    inside = _status_quo_share(issue, obs.low, obs.high, closed=True)
    return np.array([width, 1.0 - width]), np.array([inside, 1.0 - inside])


def _brier(forecast: NDArray[np.float64], observed: int) -> float:
    truth = np.zeros_like(forecast)
    truth[observed] = 1.0
    return float(((forecast - truth) ** 2).sum())


def _log(p: float) -> float:
    if p <= 0.0:
        return math.inf
    return 0.0 if p >= 1.0 else -math.log(p)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreResult:
    """How well a scenario's runs forecast what was observed.

    Scores, per observation and forecaster (:data:`FORECASTERS`: the model,
    i.e. the scenario's runs; ``"uniform"``; ``"status quo"``), each over the
    observation's outcomes (the issue's categories; settled/unsettled; inside
    or outside the range; the event occurred/did not occur,
    :data:`EVENT_STATES`):

    - Brier: ``sum_j (p_j - o_j)^2`` over those outcomes, ``o_j`` 1 for the
      observed one, else 0; 0 is perfect, 2 the worst.
    - log: ``-ln p`` of the observed outcome, infinite if ``p`` is 0 (the
      forecaster called what happened impossible).

    Baselines: ``"uniform"`` gives each category ``1/C``, settled and
    unsettled 1/2 each, a range its share of the ``[0, 1]`` scale, and an
    event's occurred and did not occur 1/2 each; ``"status quo"`` assumes
    nothing happens: the issue stays unsettled at its initial status quo
    (unsettled with probability 1, and each category or range the prior
    probability of the status quo's distribution, 1 or 0 for a fixed one),
    and no event occurs (did not occur with probability 1).  Lower scores
    are better.

    Attributes
    ----------
    scenario
        The scenario scored (with the model that ran it).
    observations
        The observations, in order.
    months
        ``(O,)`` each observation's month number.
    n_runs
        Runs simulated.
    counts
        Per observation, ``(C,)`` how many runs ended in each of its outcomes.
    met_count
        ``(O,)`` runs meeting each observation.
    joint_count
        Runs meeting every observation.
    confidence_level
        Of the Wilson intervals.
    provenance
        Seed entropy and spawn key of the runs (as a simulation's).
    given
        The observations the runs were conditioned on (empty: none); then
        ``n_runs`` counts the runs that met them, out of ``n_simulated``.
    n_simulated
        Runs simulated (``n_runs`` unless conditioned).
    """

    scenario: Scenario
    observations: tuple[Observation, ...]
    months: tuple[int, ...]
    n_runs: int
    counts: tuple[NDArray[np.int64], ...]
    met_count: NDArray[np.int64]
    joint_count: int
    confidence_level: float
    provenance: Provenance
    given: tuple[Observation, ...] = ()
    n_simulated: int | None = None

    @property
    def model(self) -> str:
        """The model that produced the runs."""
        return self.scenario.protocol.model

    def forecasts(self, j: int) -> dict[str, NDArray[np.float64]]:
        """Observation ``j``'s forecast by each forecaster, over its outcomes."""
        obs = self.observations[j]
        uniform, status_quo = _baselines(_issue(self.scenario, obs), obs)
        return {
            "model": self.counts[j] / self.n_runs,
            "uniform": uniform,
            "status quo": status_quo,
        }

    def _rule_of_three(self, count: int) -> float:
        return -math.log(1.0 - self.confidence_level) / self.n_runs if count == 0 else math.nan

    @property
    def joint_probability(self) -> tuple[float, float, float]:
        """Share of runs meeting every observation, with its Wilson interval."""
        low, high = wilson_interval(self.joint_count, self.n_runs, self.confidence_level)
        return self.joint_count / self.n_runs, float(low), float(high)

    def to_frame(self) -> pd.DataFrame:
        """One row per observation: its probability under the model, and the scores.

        Columns ``observation`` (:meth:`Observation.label`), ``issue`` (the
        issue's name, or ``"event <name>"`` for an event observation:
        :attr:`Observation.subject`), ``kind``, ``month`` (number), ``by`` (``YYYY-MM`` or ``month N``),
        ``count`` (runs meeting it), ``probability``, ``ci_low``, ``ci_high``
        (Wilson), ``upper_bound_if_none`` (when no run met it: the rule of
        three, ``-ln(1 - level) / n``, 3/n at 95 %; NaN otherwise), then
        ``brier_<f>`` and ``log_<f>`` for each forecaster ``f`` (``model``,
        ``uniform``, ``status_quo``).
        """
        import pandas as pd

        low, high = wilson_interval(self.met_count, self.n_runs, self.confidence_level)
        rows = []
        for j, obs in enumerate(self.observations):
            observed = _observed(_issue(self.scenario, obs), obs)
            count = int(self.met_count[j])
            row: dict[str, Any] = {
                "observation": obs.label(),
                "issue": obs.subject,
                "kind": obs.kind,
                "month": self.months[j],
                "by": _month_label(self.scenario, self.months[j]),
                "count": count,
                "probability": count / self.n_runs,
                "ci_low": float(low[j]),
                "ci_high": float(high[j]),
                "upper_bound_if_none": self._rule_of_three(count),
            }
            for name, forecast in self.forecasts(j).items():
                key = name.replace(" ", "_")
                row[f"brier_{key}"] = _brier(forecast, observed)
                row[f"log_{key}"] = _log(float(forecast[observed]))
            rows.append(row)
        return pd.DataFrame(rows)

    def issue_scores(self) -> pd.DataFrame:
        """Per issue (and ``"all"``), the mean Brier and log score of each forecaster.

        Columns ``issue`` (an issue's name, ``"event <name>"`` for an
        event's observations, or ``"all"``), ``observations`` (how many), then ``brier_<f>``
        and ``log_<f>`` for each forecaster, means over the issue's
        observations (a log score is infinite if any of them is).
        """
        import pandas as pd

        frame = self.to_frame()
        columns = [c for c in frame.columns if c.startswith(("brier_", "log_"))]
        groups = [(issue, frame[frame.issue == issue]) for issue in dict.fromkeys(frame.issue)]
        groups.append(("all", frame))
        rows = []
        for issue, part in groups:
            row: dict[str, Any] = {"issue": issue, "observations": len(part)}
            for c in columns:
                row[c] = float(part[c].mean())
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        """Does the model beat each baseline?  Per issue (and ``"all"``) and baseline.

        Columns ``issue``, ``baseline``, ``brier_model``, ``brier_baseline``,
        ``brier_better`` (the model's mean Brier score is strictly lower),
        ``log_model``, ``log_baseline``, ``log_better`` (likewise; two
        infinite scores tie, so neither is better).
        """
        import pandas as pd

        scores = self.issue_scores()
        rows = []
        for _, r in scores.iterrows():
            for base in FORECASTERS[1:]:
                key = base.replace(" ", "_")
                rows.append(
                    {
                        "issue": r.issue,
                        "baseline": base,
                        "brier_model": r.brier_model,
                        "brier_baseline": r[f"brier_{key}"],
                        "brier_better": bool(r.brier_model < r[f"brier_{key}"]),
                        "log_model": r.log_model,
                        "log_baseline": r[f"log_{key}"],
                        "log_better": bool(r.log_model < r[f"log_{key}"]),
                    }
                )
        return pd.DataFrame(rows)

    def headline(self) -> str:
        p, lo, hi = self.joint_probability
        text = (
            f"{self.scenario.name}: {len(self.observations)} observations, "
            f"{self.n_runs:,} runs, model {self.model}; all observations met in "
            f"{self.joint_count:,} runs: p = {p:.4f} [{lo:.4f}, {hi:.4f}]"
        )
        if self.given:
            text += (
                f"; given {len(self.given)} earlier observations, met by {self.n_runs:,} "
                f"of {self.n_simulated or self.n_runs:,} simulated runs"
            )
        if self.joint_count == 0:
            text += f", at most {self._rule_of_three(0):.2g} (rule of three)"
        return text

    def notes(self) -> str:
        frame = self.to_frame()
        zero = frame[np.isinf(frame.log_model)]
        if zero.empty:
            return ""
        return (
            "log score infinite: no run met "
            + "; ".join(zero.observation)
            + " (the model gave it probability 0 in these runs)"
        )

    def __repr__(self) -> str:
        import pandas as pd

        frame = self.to_frame()[
            [
                "observation",
                "count",
                "probability",
                "ci_low",
                "ci_high",
                "brier_model",
                "log_model",
            ]
        ]
        with pd.option_context("display.width", 200, "display.max_columns", None):
            parts = [
                self.headline(),
                frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
                self.summary().to_string(index=False, float_format=lambda v: f"{v:.3f}"),
            ]
        note = self.notes()
        if note:
            parts.append(note)
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        note = self.notes()
        tables: list[str] = [
            frame.to_html(index=False, float_format=lambda v: f"{v:.3f}")
            for frame in (self.to_frame(), self.summary())
        ]
        return (
            f"<p>{html.escape(self.headline())}</p>"
            + "".join(tables)
            + (f"<p>{html.escape(note)}</p>" if note else "")
        )


def score(
    scenario: Scenario,
    observations: Sequence[Observation] | str | PathLike[str],
    *,
    n_runs: int = 10_000,
    given: Sequence[Observation] | str | PathLike[str] | None = None,
    model: str | None = None,
    confidence_level: float = 0.95,
    rng: RNGLike = None,
) -> ScoreResult:
    """Score a scenario's forecast of what was observed.

    Simulates ``n_runs`` runs exactly as :func:`basesim.simulate` with the
    same ``rng`` would (run ``i`` gets the same random inputs; the batch
    engine), evaluates each observation on them (:func:`observe`) and scores
    the model against the uniform and status-quo baselines (see
    :class:`ScoreResult`).

    Parameters
    ----------
    scenario
        The scenario.
    observations
        :class:`Observation` objects, or the path of a TOML file of them
        (:func:`read_observations`).
    n_runs
        Runs to simulate.
    given
        Observations to condition on: only the runs that meet every one of
        them count, so the scores are those of the forecast given what was
        seen (for earlier months: the posterior predictive of rejection
        calibration on ``given``, with the same runs).  ``n_runs`` is then
        the number of runs simulated; the result's ``n_runs`` is the number
        that met ``given``.
    model
        The registered model to run instead of the scenario's own.
    confidence_level
        Of the Wilson intervals (and the rule-of-three bound).
    rng
        Seed (SPEC 7).

    Returns
    -------
    ScoreResult

    Raises
    ------
    ObservationError
        For observations that do not fit the scenario, or when no run meets
        ``given`` (with the closest summed distance reached).

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> obs = [basesim.Observation(by="2025-12", issue="basing", state="unsettled")]
    >>> res = basesim.score(scn, obs, n_runs=500, rng=1)
    >>> res.to_frame().loc[0, "observation"]
    'basing unsettled by 2025-12'
    """
    from basesim._checks import check_confidence_level
    from basesim.experiments.tasks import check_int, provenance_of
    from basesim.protocols.registry import with_model

    if not isinstance(scenario, Scenario):
        raise ObservationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    if isinstance(observations, str | PathLike):
        observations = read_observations(observations)
    n = check_int("n_runs", n_runs, 1)
    level = check_confidence_level(confidence_level)
    scenario = with_model(scenario, model)
    obs = check_observations(scenario, observations)
    if isinstance(given, str | PathLike):
        given = read_observations(given)
    condition = None if given is None else check_observations(scenario, given)
    root = as_seed_sequence(rng)
    compiled = compile_scenario(scenario)
    parts = []
    closest = math.inf
    for start in range(0, n, _CHUNK):
        inputs = _draw_inputs(compiled, root, start, min(start + _CHUNK, n))
        if condition is not None:
            past = observe(compiled, inputs, condition)
            closest = min(closest, float(past.distance.sum(axis=1).min()))
            inputs = inputs.take(np.flatnonzero(past.met_all))
        parts.append(observe(compiled, inputs, obs))
    runs = parts[0] if len(parts) == 1 else RunObservations.concatenate(parts)
    if condition is not None:
        n = runs.n_runs
        if n == 0:
            raise ObservationError(
                f"given: no run of {n_runs} met every given observation "
                f"({'; '.join(o.label() for o in condition)}); the closest run's summed "
                f"distance to them was {closest:.4g} (0 would meet them): simulate more runs "
                "or check the observations"
            )
    counts = []
    for j, o in enumerate(obs):
        if o.kind == "category":
            issue = scenario.issue(str(o.issue))
            c = np.bincount(runs.category[:, j], minlength=len(issue.categories))
        elif o.kind == "event":
            e = int((runs.event_month[:, j] <= runs.months[j]).sum())
            c = np.array([e, n - e])
        elif o.kind == "settlement":
            s = int(runs.settled[:, j].sum())
            c = np.array([s, n - s])
        else:
            m = int(runs.met[:, j].sum())
            c = np.array([m, n - m])
        counts.append(c.astype(np.int64))
    return ScoreResult(
        scenario=scenario,
        observations=obs,
        months=tuple(int(m) for m in runs.months),
        n_runs=n,
        counts=tuple(counts),
        met_count=runs.met.sum(axis=0).astype(np.int64),
        joint_count=int(runs.met_all.sum()),
        confidence_level=level,
        provenance=provenance_of(root),
        given=() if condition is None else condition,
        n_simulated=int(n_runs),
    )


# -- files ------------------------------------------------------------------------------------
def _parse(data: Any, where: str) -> Observation:
    if not isinstance(data, dict):
        raise ObservationError(f"{where} must be a table (got {data!r})")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ObservationError(
            f"{where}.{unknown[0]} is not a field of an observation "
            f"(fields: {', '.join(_KEYS)}) (got {data[unknown[0]]!r})"
        )
    if "by" not in data:
        raise ObservationError(f"{where}.by is required (got nothing)")
    if "issue" not in data and "event" not in data:
        raise ObservationError(f"{where}.issue or {where}.event is required (got neither)")
    try:
        return Observation(**data)
    except ObservationError as exc:
        raise ObservationError(f"{where}.{exc}") from None


def parse_observations_text(text: str, *, source: str | None = None) -> tuple[Observation, ...]:
    """Observations from TOML text with ``[[observations]]`` tables."""
    prefix = "" if source is None else f"{source}: "
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as exc:
        raise ObservationError(f"{prefix}TOML cannot be read: {exc}") from None
    extra = sorted(set(data) - {"observations"})
    if extra:
        raise ObservationError(
            f"{prefix}{extra[0]} is not a table of an observations file "
            f"(only [[observations]]) (got {extra[0]!r})"
        )
    items = data.get("observations")
    if not isinstance(items, list) or not items:
        raise ObservationError(
            f"{prefix}observations must be one or more [[observations]] tables (got {items!r})"
        )
    try:
        return tuple(_parse(item, f"observations[{i}]") for i, item in enumerate(items))
    except ObservationError as exc:
        raise ObservationError(f"{prefix}{exc}") from None


def read_observations(path: str | PathLike[str]) -> tuple[Observation, ...]:
    """Read observations from a TOML file of ``[[observations]]`` tables, or a bundled record.

    A name without ``/`` or ``.toml`` names a record bundled with basesim:
    ``"syria-2025-record"`` is what happened to the issues of the
    ``syria-2025`` scenarios from February 2025 to January 2026.

    Each table has ``by``; then ``issue`` with ``state`` or ``low`` and
    ``high``, or ``event`` with ``occurred`` (``true`` or ``false``); and
    optionally ``evidence`` (a list of strings) and ``note``.

    Raises
    ------
    ObservationError
        Naming the file, ``observations[i].<field>``, the rule and the bad
        value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "obs.toml").write_text(
    ...     '[[observations]]\\nby = "2025-07"\\nissue = "basing"\\nstate = "unsettled"\\n'
    ... )
    >>> read_observations(folder / "obs.toml")[0].state
    'unsettled'
    >>> len(read_observations("syria-2025-record"))
    6
    """
    text_name = str(path)
    if not isinstance(path, PathLike) and "/" not in text_name and not text_name.endswith(".toml"):
        from importlib import resources

        bundled = resources.files("basesim.scenarios") / "records" / f"{text_name}.toml"
        if not bundled.is_file():
            raise ObservationError(
                f"no bundled record named {text_name!r} (bundled: syria-2025-record); "
                "give the path of a .toml file for one's own"
            )
        return parse_observations_text(bundled.read_text(encoding="utf-8"), source=text_name)
    path = Path(path)
    raw = read_regular_file(path, error=ObservationError, what="observations file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ObservationError(f"{path}: observations file must be UTF-8 ({exc})") from None
    return parse_observations_text(text, source=str(path))


def observations_to_toml(observations: Iterable[Observation]) -> str:
    """TOML text of ``[[observations]]`` tables that :func:`read_observations` reads back equal.

    Examples
    --------
    >>> print(observations_to_toml([Observation(by=3, issue="basing", low=0.2, high=0.6)]))
    [[observations]]
    by = 3
    issue = "basing"
    low = 0.2
    high = 0.6
    <BLANKLINE>
    """
    blocks = []
    for obs in observations:
        if not isinstance(obs, Observation):
            raise ObservationError(
                f"observations must be basesim.Observation objects (got {type(obs).__name__})"
            )
        lines = ["[[observations]]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in obs.to_dict().items()]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)
