"""Applying a scenario's events inside the engines.

Both engines build one :class:`EventRunner` per batch (the batch engine) or
per run (the Mesa model) and call :meth:`EventRunner.apply` at the start of
every month, before the month's round, so an event does the same thing to a
run in either engine.  Each run's event months and values come from its own
parameters (``events.<name>.month`` and ``events.<name>.value`` are
parameters like any other, in :class:`RunParameters`), so run ``i`` meets the
same events in any batch, and a sweep can set them.

Changes of decision rule or of who is at the table make the rules differ
between runs: each run carries a *regime*, the set of such events it has met
so far (a bit mask), and :meth:`EventRunner.regimes` gives the compiled
scenario and protocol tables of each regime among a batch's runs, built once
per regime.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.events import SETTLED_BY_EVENT, Event

__all__ = ["EventRunner", "event_months", "structural_variant"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def event_months(compiled: CompiledScenario, params: RunParameters) -> IntArray:
    """Each run's month ``(n, E)`` of each event: ``floor`` of its drawn or fixed month.

    Examples
    --------
    >>> import basesim
    >>> from basesim.engine.compiled import compile_scenario
    >>> scn = basesim.load_scenario("syria-2025-events")
    >>> compiled = compile_scenario(scn)
    >>> event_months(compiled, compiled.nominal).tolist()
    [[1, 5]]
    """
    # A draw at the very top of [1, horizon + 1] still means the last month.
    months = np.minimum(np.floor(params.event_month), compiled.scenario.horizon)
    result: IntArray = months.astype(np.int64)
    return result


def _targets(compiled: CompiledScenario, event: Event) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Where a ``"set"`` event's value lands in :class:`RunParameters` (run axis left out)."""
    a_index = {name: i for i, name in enumerate(compiled.actor_names)}
    k_index = {name: k for k, name in enumerate(compiled.issue_names)}
    parts = event.target.split(".")
    if parts[0] == "issues":
        # A new status quo leaves the breakdown where it was (for an issue
        # without a breakdown of its own: the starting status quo).
        return ((parts[2], (k_index[parts[1]],)),)
    i = a_index[parts[1]]
    if len(parts) == 3:
        return ((parts[2], (i,)),)
    if parts[2] == "influence":
        return (("influence", (a_index[parts[3]], i)),)
    return ((parts[3], (i, k_index[parts[2]])),)


def _apply_state(
    state: Any, rows: NDArray[np.intp], change: Any, picked: NDArray[np.intp] | None = None
) -> None:
    """Call ``change(plain_state, where, picked)`` on the state arrays holding runs ``rows``.

    ``where`` are the rows of ``plain_state``; ``picked`` the positions in
    ``rows`` they stand for (to pick per-run values).  A mixture's state
    (``parts``, ``choice``, ``slot``) is followed into its components' states.
    """
    if picked is None:
        picked = np.arange(rows.shape[0])
    if hasattr(state, "parts"):
        if not state.decided:
            for part in state.parts:
                _apply_state(part, rows, change, picked)
            return
        for c, part in enumerate(state.parts):
            mine = state.choice[rows] == c
            if mine.any():
                _apply_state(part, state.slot[rows[mine]], change, picked[mine])
        return
    change(state, rows, picked)


class EventRunner:
    """The events of a batch of runs, applied month by month (see the module's text).

    Parameters
    ----------
    compiled
        The compiled scenario (its ``scenario.events``).
    protocol, tables
        The protocol playing the runs and its tables for the scenario as
        written (regime 0).
    params
        The runs' parameters, with their event months and values.
    """

    def __init__(
        self, compiled: CompiledScenario, protocol: Any, tables: Any, params: RunParameters
    ) -> None:
        self.compiled = compiled
        self.protocol = protocol
        self.events = compiled.scenario.events
        self.months = event_months(compiled, params)
        self.values = params.event_value.copy()
        self.regime = np.zeros(params.n_runs, dtype=np.int64)
        # Validation allows at most MAX_SEAT_EVENTS of them: one bit each in an int64.
        self._structural = [e for e, ev in enumerate(self.events) if ev.kind in ("rule", "table")]
        self._bit = {e: 1 << b for b, e in enumerate(self._structural)}
        # Events on the same rule or seat replace one another: the last one met counts.
        self._rivals = {
            e: sum(
                self._bit[f]
                for f in self._structural
                if _seat(self.events[f]) == _seat(self.events[e])
            )
            for e in self._structural
        }
        self._targets = {
            e: _targets(compiled, ev) for e, ev in enumerate(self.events) if ev.kind == "set"
        }
        self._k = {name: k for k, name in enumerate(compiled.issue_names)}
        self._regimes: dict[int, tuple[CompiledScenario, Any]] = {0: (compiled, tables)}
        # Issues settled by an event: their value and month, NaN / 0 elsewhere.
        n, n_iss = params.n_runs, compiled.n_issues
        self.forced_value = np.full((n, n_iss), math.nan)
        self.forced_month = np.zeros((n, n_iss), dtype=np.int64)

    def apply(
        self, month: int, params: RunParameters, state: Any, runs: NDArray[np.intp]
    ) -> NDArray[np.bool_]:
        """Apply the events of ``month`` to the runs held in ``params`` and ``state`` (in place).

        ``runs`` ``(m,)`` are the original indices of the rows of ``params``
        and ``state``.  Returns which rows met an event this month.
        """
        met = np.zeros(runs.shape[0], dtype=bool)
        for e, event in enumerate(self.events):
            rows = np.flatnonzero(self.months[runs, e] == month)
            if rows.size == 0:
                continue
            met[rows] = True
            value = self.values[runs[rows], e]
            if event.kind == "set":
                self._set(e, params, state, rows, value)
            elif event.kind == "settle":
                self._settle(event, state, runs, rows, value, month)
            else:
                # From now on this event's rule (or seat) holds, not an earlier one's.
                held = self.regime[runs[rows]] & ~self._rivals[e]
                self.regime[runs[rows]] = held | self._bit[e]
        touched = np.flatnonzero(met)
        if touched.size:

            def recompute(plain: Any, where: NDArray[np.intp], _: NDArray[np.intp]) -> None:
                # What waiting is worth has changed: equilibrium tables are stale.
                if hasattr(plain, "table_start"):
                    plain.table_start[where] = 0

            _apply_state(state, touched, recompute)
        return met

    def _set(
        self,
        e: int,
        params: RunParameters,
        state: Any,
        rows: NDArray[np.intp],
        value: FloatArray,
    ) -> None:
        for name, index in self._targets[e]:
            getattr(params, name)[(rows, *index)] = value
            if name == "status_quo":
                k = index[0]

                def move(
                    plain: Any, where: NDArray[np.intp], picked: NDArray[np.intp], k: int = k
                ) -> None:
                    # Only an open issue has a status quo that can change.
                    keep = plain.open[where, k]
                    plain.status_quo[where[keep], k] = value[picked[keep]]

                _apply_state(state, rows, move)
            elif name == "position":
                i, k = index

                def shift(
                    plain: Any,
                    where: NDArray[np.intp],
                    picked: NDArray[np.intp],
                    i: int = i,
                    k: int = k,
                ) -> None:
                    # The anchor moved: so does the stance the actor holds now.
                    plain.stances[where, i, k] = value[picked]

                _apply_state(state, rows, shift)

    def _settle(
        self,
        event: Event,
        state: Any,
        runs: NDArray[np.intp],
        rows: NDArray[np.intp],
        value: FloatArray,
        month: int,
    ) -> None:
        k = self._k[event.target]

        def settle(plain: Any, where: NDArray[np.intp], picked: NDArray[np.intp]) -> None:
            keep = plain.open[where, k]
            at = where[keep]
            plain.status_quo[at, k] = value[picked[keep]]
            plain.open[at, k] = False
            plain.settled_round[at, k] = month
            if hasattr(plain, "settled_by"):
                plain.settled_by[at, k] = SETTLED_BY_EVENT
            settled = runs[rows[picked[keep]]]
            self.forced_value[settled, k] = value[picked[keep]]
            self.forced_month[settled, k] = month

        _apply_state(state, rows, settle)

    def reassert(self, state: Any, runs: NDArray[np.intp]) -> None:
        """Keep issues settled by an event as the event settled them (after a round).

        A model that decides every issue at once in month 1 may overwrite an
        issue an event settled that month; the event's settlement stands.
        """
        forced = ~np.isnan(self.forced_value[runs])
        rows = np.flatnonzero(forced.any(axis=1))
        if rows.size == 0:
            return
        value, month = self.forced_value[runs[rows]], self.forced_month[runs[rows]]
        mask = forced[rows]

        def restore(plain: Any, where: NDArray[np.intp], picked: NDArray[np.intp]) -> None:
            m = mask[picked]
            plain.status_quo[where] = np.where(m, value[picked], plain.status_quo[where])
            plain.open[where] = plain.open[where] & ~m
            plain.settled_round[where] = np.where(m, month[picked], plain.settled_round[where])
            if hasattr(plain, "settled_by"):
                plain.settled_by[where] = np.where(m, SETTLED_BY_EVENT, plain.settled_by[where])

        _apply_state(state, rows, restore)

    def regimes(
        self, runs: NDArray[np.intp]
    ) -> list[tuple[NDArray[np.intp], CompiledScenario, Any]]:
        """The rows of ``runs`` in each regime, with that regime's compiled scenario and tables."""
        masks = self.regime[runs]
        if not self._structural or not masks.any():
            return [(np.arange(runs.shape[0]), *self._regimes[0])]
        out = []
        for mask in np.unique(masks):
            rows = np.flatnonzero(masks == mask)
            out.append((rows, *self._regime(int(mask))))
        return out

    def _regime(self, mask: int) -> tuple[CompiledScenario, Any]:
        if mask not in self._regimes:
            variant = structural_variant(
                self.compiled.scenario,
                [self.events[e] for e in self._structural if mask & self._bit[e]],
            )
            can_propose = np.array([a.proposer for a in variant.actors], dtype=bool)
            can_propose.setflags(write=False)
            compiled = dataclasses.replace(
                self.compiled, scenario=variant, can_propose=can_propose
            )
            self._regimes[mask] = (compiled, self.protocol.compile(compiled))
        return self._regimes[mask]


def _seat(event: Event) -> tuple[str, str]:
    """What a rule or table event sets: one issue's rule, or one actor's seat."""
    return (event.kind, event.target)


def structural_variant(scenario: Any, events: Sequence[Event]) -> Any:
    """``scenario`` with the rule and table changes of ``events`` made, in order.

    Raises :class:`~basesim.ScenarioError` if the changes together break a rule.
    """
    issues = {i.name: i for i in scenario.issues}
    actors = {a.name: a for a in scenario.actors}
    for event in events:
        if event.kind == "rule":
            issues[event.target] = dataclasses.replace(
                issues[event.target],
                rule=event.rule,
                voters=event.voters,
                threshold=event.threshold,
                min_voter_share=event.min_voter_share,
                authority=event.authority,
            )
        elif event.kind == "table":
            actors[event.target] = dataclasses.replace(
                actors[event.target], proposer=bool(event.proposer)
            )
    return dataclasses.replace(
        scenario, issues=tuple(issues.values()), actors=tuple(actors.values())
    )
