"""The interface a negotiation protocol offers to the engines."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome

__all__ = ["NegotiationProtocol"]

FloatArray = NDArray[np.float64]


@runtime_checkable
class NegotiationProtocol(Protocol):
    """How a negotiation unfolds, month by month, over a batch of runs.

    A protocol is stateless.  It compiles what it needs from a scenario once
    (:meth:`compile`: decision rules, influence structure, ...), makes the
    state of a batch of runs (:meth:`start`), plays one month of every run in
    a state (:meth:`play_round`: the whole month, in one function), says which
    runs have nothing left to do (:meth:`finished`) and turns a state into the
    per-run record (:meth:`outcome`).  The batch engine calls these on many
    runs, the Mesa model on one, so the rules live in one place.  Protocols
    are found by name in :mod:`basesim.protocols.registry`.
    """

    name: str

    def compile(self, compiled: CompiledScenario) -> Any:
        """What the protocol needs from the scenario, besides the shared arrays."""
        ...

    def start(self, compiled: CompiledScenario, params: RunParameters) -> Any:
        """The state of a batch of runs before month 1 (with ``take`` and ``put`` by rows)."""
        ...

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: Any,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> Any:
        """Play month ``month`` of every run in ``state`` (in place); return what happened."""
        ...

    def finished(self, state: Any) -> NDArray[np.bool_]:
        """Which runs have nothing left to negotiate ``(n,)``."""
        ...

    def outcome(self, state: Any, sampled: FloatArray) -> BatchOutcome:
        """The per-run record of a state."""
        ...
