"""What the static models share: a state and a record for models without a calendar.

A static model (a compromise rule, a bargaining solution) has no months: it
computes each run's package once, in month 1, and every issue it decides is
settled in month 1 by nobody's proposal (``settled_round`` 1, ``settled_by``
-1).  The issues it leaves undecided stay at their status quo, unsettled.
Every run is finished after month 1, whatever the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.protocols.bargaining import RoundRecord

__all__ = ["StaticState", "settle", "start", "static_outcome"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


@dataclass(slots=True, kw_only=True)
class StaticState:
    """The state of a batch of runs of a static model (leading axis: run)."""

    stances: FloatArray  # (n, N, K): the positions (static models move no stance)
    status_quo: FloatArray  # (n, K): the decided package once settled, the status quo before
    open: BoolArray  # (n, K)
    settled_round: IntArray  # (n, K)
    settled_by: IntArray  # (n, K), always -1
    proposals: IntArray  # (n, N), always 0: nobody proposes
    done: BoolArray  # (n,) whether month 1 has been played

    def take(self, rows: NDArray[np.intp]) -> StaticState:
        """The state of a subset of runs (copies)."""
        return StaticState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows: NDArray[np.intp], part: StaticState) -> None:
        """Write the state of a subset of runs back."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


def start(compiled: CompiledScenario, params: RunParameters) -> StaticState:
    """The state before month 1: every issue open at its status quo."""
    n = params.n_runs
    n_act, n_iss = compiled.n_actors, compiled.n_issues
    return StaticState(
        stances=params.position.copy(),
        status_quo=params.status_quo.copy(),
        open=np.ones((n, n_iss), dtype=bool),
        settled_round=np.zeros((n, n_iss), dtype=np.int64),
        settled_by=np.full((n, n_iss), -1, dtype=np.int64),
        proposals=np.zeros((n, n_act), dtype=np.int64),
        done=np.zeros(n, dtype=bool),
    )


def settle(
    state: StaticState,
    package: FloatArray,
    settles: BoolArray,
    month: int,
    *,
    accepted: BoolArray,
    reservation: FloatArray,
    disagreement: FloatArray,
) -> RoundRecord:
    """Settle ``settles`` ``(n, K)`` at ``package`` in month 1 (in place); the month's record.

    Months after the first change nothing (a static model has decided).
    """
    n = state.status_quo.shape[0]
    if month != 1:
        settles = np.zeros_like(settles)
    state.status_quo = np.where(settles, package, state.status_quo)
    state.open = state.open & ~settles
    state.settled_round = np.where(settles, month, state.settled_round)
    state.done = np.ones(n, dtype=bool)
    decided = np.asarray(settles.any(axis=1))
    return RoundRecord(
        proposer=np.full(n, -1, dtype=np.intp),
        package=state.status_quo.copy(),
        settles=settles,
        offered=decided,
        accepted=accepted,
        passed=decided,
        reservation=reservation,
        disagreement=disagreement,
    )


def static_outcome(state: StaticState, sampled: FloatArray) -> BatchOutcome:
    """The per-run record of how the runs in ``state`` ended."""
    return BatchOutcome(
        package=state.status_quo.copy(),
        settled=~state.open,
        settled_round=state.settled_round.copy(),
        settled_by=state.settled_by.copy(),
        proposals=state.proposals.copy(),
        sampled=sampled,
    )
