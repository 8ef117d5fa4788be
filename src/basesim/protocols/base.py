"""The interface a bargaining protocol offers to the engines."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters

__all__ = ["RoundProtocol"]

FloatArray = NDArray[np.float64]


@runtime_checkable
class RoundProtocol(Protocol):
    """The rules of one negotiation round, vectorised over runs.

    Every method works on a batch of runs (leading axis ``n``); the Mesa model
    calls them with ``n = 1`` through its agents, the batch engine with many
    runs at once.  A protocol is stateless: all state lives in the arrays.

    A new bargaining model joins basesim by implementing these methods; the
    Mesa model and the batch engine need no change.
    """

    name: str

    def mixing(self, weights: FloatArray) -> FloatArray:
        """The influence mixing matrix ``(n, N, N)`` from influence weights ``(n, N, N)``."""
        ...

    def believed_reservation(
        self,
        params: RunParameters,
        proposer: NDArray[np.intp],
        reservation: FloatArray,
        errors: FloatArray,
    ) -> FloatArray:
        """What the proposer believes each actor will accept ``(n, N)``, given perception errors."""
        ...

    def agreed(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        package: FloatArray,
        reservation: FloatArray,
        offered: NDArray[np.bool_],
        needed: NDArray[np.bool_],
    ) -> NDArray[np.bool_]:
        """Whether each run's offer is agreed ``(n,)``."""
        ...

    def influence(
        self, previous: FloatArray, initial: FloatArray, mixing: FloatArray, anchoring: FloatArray
    ) -> FloatArray:
        """New stances ``(n, M, K)`` of M target actors after one round of influence.

        ``previous`` holds every actor's stance ``(n, N, K)``, ``initial`` the
        targets' starting stances ``(n, M, K)``, ``mixing`` the targets' rows of
        the mixing matrix ``(n, M, N)`` and ``anchoring`` theirs ``(n, M)``.
        """
        ...

    def disagreement(
        self, compiled: CompiledScenario, params: RunParameters, stances: FloatArray
    ) -> FloatArray:
        """Each actor's disagreement value ``(n, N)`` given current stances ``(n, N, K)``."""
        ...

    def step_stances(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        previous: FloatArray,
        mixing: FloatArray,
    ) -> FloatArray:
        """Every actor's stance ``(n, N, K)`` one round after ``previous``."""
        ...

    def stance_path(self, compiled: CompiledScenario, params: RunParameters) -> FloatArray:
        """Stances in every round ``(n, T, N, K)``."""
        ...

    def round_reservation(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        round_index: int,
        disagreement: FloatArray | None = None,
    ) -> FloatArray:
        """Reservation values ``(n, N)`` of one round, for forms that need only that round.

        ``disagreement`` ``(n, N)`` may be passed when the caller has it already.
        """
        ...

    def reservation_values(
        self, compiled: CompiledScenario, params: RunParameters, stance_path: FloatArray
    ) -> FloatArray:
        """Reservation values ``(n, T, N)`` for every round, from the stance path ``(n, T, N, K)``."""
        ...

    def recognise(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        draws: FloatArray,
        round_index: int,
    ) -> NDArray[np.intp]:
        """The proposer ``(n,)`` of round ``round_index`` (1-based) from uniform draws ``(n,)``."""
        ...

    def propose(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        proposer: NDArray[np.intp],
        stances: FloatArray,
        believed: FloatArray,
        own_reservation: FloatArray,
        disagreement: FloatArray,
    ) -> tuple[FloatArray, NDArray[np.bool_], NDArray[np.bool_]]:
        """The proposer's package ``(n, K)``, whether it makes an offer ``(n,)``,
        and whose consent the package needs ``(n, N)``."""
        ...

    def accepts(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        package: FloatArray,
        reservation: FloatArray,
    ) -> NDArray[np.bool_]:
        """Whether each actor would accept ``package`` ``(n, N)`` at its true reservation value."""
        ...
