"""A weighted mixture of registered models: each run is one model's run.

Registered as ``"ensemble"`` with equal weights on :data:`DEFAULT_COMPONENTS`;
:func:`mixture` makes a mixture with weights of your own, to register under a
name of its own::

    from basesim.protocols import register
    from basesim.protocols.ensemble import mixture

    register("nash-heavy", lambda: mixture({"nash": 0.7, "compromise": 0.3}, name="nash-heavy"))

(register it in a module the workers import to run it on a process pool or a
cluster, as for any protocol).

Each run draws its component from its own random inputs, never from a new
generator: with cumulative weights ``0 = W_0 < W_1 < ... < W_M = 1``, run
``r`` with month-1 recognition draw ``u`` is a run of component ``c`` where
``W_{c-1} <= u < W_c``.  The component then plays month 1 with the draw
stretched back to the unit interval, ``(u - W_{c-1}) / (W_c - W_{c-1})``,
which given ``c`` is again uniform and carries no trace of the choice; every
other random input (the uncertain parameters, later months' draws, the
perception noise) is the run's own, as under the component alone.  So the
runs of component ``c`` are a sample of that model's runs and the ensemble's
outcome distribution is the weighted mixture of its components'.  With the
same ``rng``, a run given to a static component (which uses no recognition
draw) is exactly that model's run; a run given to ``bargaining`` differs
from it only through its month-1 draw.  The per-run record
``BatchOutcome.component`` (the ``model`` column of
:meth:`basesim.SimulationResult.to_frame`) says which model produced each
run.

References
----------
.. [1] Raftery, A. E., Gneiting, T., Balabdaoui, F. and Polakowski, M.
   (2005). Using Bayesian model averaging to calibrate forecast ensembles.
   *Monthly Weather Review* 133(5), 1155-1174.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ProtocolError
from basesim.protocols.bargaining import RoundRecord

__all__ = ["DEFAULT_COMPONENTS", "Ensemble", "EnsembleState", "choose_components", "mixture"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: The components of the registered ``"ensemble"``, equally weighted.
DEFAULT_COMPONENTS = ("bargaining", "compromise", "compromise-median", "nash", "nash-salience")
#: Largest float below 1: a stretched draw stays in [0, 1).
_BELOW_ONE = float(np.nextafter(1.0, 0.0))


def choose_components(
    weights: FloatArray, draws: FloatArray
) -> tuple[NDArray[np.intp], FloatArray]:
    """Each run's component ``(n,)`` from its uniform draw, and the draw stretched back to [0, 1).

    ``weights`` ``(M,)`` are positive and sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> c, u = choose_components(np.array([0.25, 0.75]), np.array([0.1, 0.25, 0.625]))
    >>> c.tolist(), u.tolist()
    ([0, 1, 1], [0.4, 0.0, 0.5])
    """
    upper = np.cumsum(weights)
    upper[-1] = 1.0
    chosen = np.minimum(np.searchsorted(upper, draws, side="right"), weights.shape[0] - 1)
    lower = np.concatenate([[0.0], upper[:-1]])[chosen]
    stretched = np.clip((draws - lower) / weights[chosen], 0.0, _BELOW_ONE)
    return chosen.astype(np.intp), stretched


@dataclass(slots=True)
class EnsembleState:
    """The state of a batch of ensemble runs: each component's state for its own runs.

    Before month 1 no component is chosen (``choice`` -1) and every
    component holds a state of every run; from month 1 on, component ``c``
    holds the runs with ``choice == c``, in their order in the batch
    (``slot`` is a run's row in its component's state).
    """

    choice: IntArray  # (n,)
    slot: NDArray[np.intp]  # (n,)
    parts: list[Any]

    @property
    def decided(self) -> bool:
        """Whether the runs' components have been drawn (month 1 played)."""
        return bool(self.choice.size > 0 and self.choice[0] >= 0)

    def _gather(self, name: str) -> Any:
        if not self.decided:
            return getattr(self.parts[0], name)
        first = getattr(self.parts[int(self.choice[0])], name)
        out = np.empty((self.choice.shape[0], *first.shape[1:]), dtype=first.dtype)
        for c, part in enumerate(self.parts):
            rows = np.flatnonzero(self.choice == c)
            if rows.size:
                out[rows] = getattr(part, name)[self.slot[rows]]
        return out

    @property
    def stances(self) -> FloatArray:
        """``(n, N, K)`` every run's stances."""
        result: FloatArray = self._gather("stances")
        return result

    @stances.setter
    def stances(self, value: FloatArray) -> None:
        for c, part in enumerate(self.parts):
            if not self.decided:
                part.stances[self.slot] = value
                continue
            rows = np.flatnonzero(self.choice == c)
            if rows.size:
                part.stances[self.slot[rows]] = value[rows]

    @property
    def proposals(self) -> IntArray:
        """``(n, N)`` how often each actor proposed in each run."""
        result: IntArray = self._gather("proposals")
        return result

    @property
    def status_quo(self) -> FloatArray:
        """``(n, K)`` agreed values of settled issues, the status quo of open ones."""
        result: FloatArray = self._gather("status_quo")
        return result

    @property
    def open(self) -> BoolArray:
        """``(n, K)`` the issues still open."""
        result: BoolArray = self._gather("open")
        return result

    @property
    def settled_round(self) -> IntArray:
        """``(n, K)`` the month each issue was settled in (0: not)."""
        result: IntArray = self._gather("settled_round")
        return result

    def take(self, rows: NDArray[np.intp]) -> EnsembleState:
        """The state of a subset of runs (copies)."""
        rows = np.asarray(rows, dtype=np.intp)
        if not self.decided:
            slot = self.slot[rows]
            return EnsembleState(
                choice=self.choice[rows].copy(),
                slot=np.arange(rows.size, dtype=np.intp),
                parts=[part.take(slot) for part in self.parts],
            )
        choice = self.choice[rows].copy()
        slot = np.zeros(rows.size, dtype=np.intp)
        parts = []
        for c, part in enumerate(self.parts):
            mine = np.flatnonzero(choice == c)
            slot[mine] = np.arange(mine.size)
            parts.append(part.take(self.slot[rows[mine]]))
        return EnsembleState(choice=choice, slot=slot, parts=parts)

    def put(self, rows: NDArray[np.intp], part: EnsembleState) -> None:
        """Write the state of a subset of runs back."""
        rows = np.asarray(rows, dtype=np.intp)
        if not self.decided:
            for mine, theirs in zip(self.parts, part.parts, strict=True):
                mine.put(self.slot[rows], theirs)
            return
        for c, mine in enumerate(self.parts):
            chosen = np.flatnonzero(part.choice == c)
            if chosen.size:
                mine.put(self.slot[rows[chosen]], part.parts[c].take(part.slot[chosen]))


def _scatter(records: list[tuple[NDArray[np.intp], RoundRecord]], n: int) -> RoundRecord:
    """One record of every run from the records of each component's runs."""
    values: dict[str, Any] = {}
    for f in fields(RoundRecord):
        first = getattr(records[0][1], f.name)
        out = np.empty((n, *first.shape[1:]), dtype=first.dtype)
        for rows, record in records:
            out[rows] = getattr(record, f.name)
        values[f.name] = out
    return RoundRecord(**values)


@dataclass(frozen=True, slots=True)
class Ensemble:
    """A weighted mixture of registered models; each run is a run of one of them.

    Parameters
    ----------
    name
        The name it is registered under.
    weights
        ``(model, weight)`` pairs: registered model names (not mixtures) and
        positive weights (normalised to sum to 1).
    """

    name: str = field(default="ensemble")
    weights: tuple[tuple[str, float], ...] = field(
        default=tuple((model, 1.0) for model in DEFAULT_COMPONENTS)
    )

    @property
    def components(self) -> tuple[str, ...]:
        """The component models, in order (``BatchOutcome.component`` indexes them)."""
        return tuple(model for model, _ in self.weights)

    def _protocols(self) -> list[Any]:
        from basesim.protocols.registry import get

        protocols = [get(model) for model in self.components]
        for model, protocol in zip(self.components, protocols, strict=True):
            if getattr(protocol, "components", None):
                raise ProtocolError(
                    f"model {self.name!r}: components must be single models, not mixtures "
                    f"(got {model!r})"
                )
        return protocols

    def normalised_weights(self) -> FloatArray:
        """The weights, summing to 1 ``(M,)``."""
        raw = np.array([w for _, w in self.weights], dtype=float)
        result: FloatArray = raw / raw.sum()
        return result

    def compile(self, compiled: CompiledScenario) -> tuple[Any, ...]:
        """Each component's tables (checks the weights and that every component fits)."""
        if not self.weights:
            raise ProtocolError(
                f"model {self.name!r}: weights must name at least one model (got none)"
            )
        for model, w in self.weights:
            if not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
                raise ProtocolError(
                    f"model {self.name!r}: weights.{model} must be a positive number (got {w!r})"
                )
        if len(set(self.components)) < len(self.components):
            raise ProtocolError(
                f"model {self.name!r}: weights name a model twice (got {list(self.components)})"
            )
        return tuple(p.compile(compiled) for p in self._protocols())

    def start(self, compiled: CompiledScenario, params: RunParameters) -> EnsembleState:
        """Every component's state of every run; the components are drawn in month 1."""
        n = params.n_runs
        return EnsembleState(
            choice=np.full(n, -1, dtype=np.int64),
            slot=np.arange(n, dtype=np.intp),
            parts=[p.start(compiled, params) for p in self._protocols()],
        )

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: EnsembleState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """Draw each run's component (month 1), then play each component's month on its runs."""
        n = params.n_runs
        protocols = self._protocols()
        draws = recognition
        if month == 1:
            # Month 1's draw chooses the component, then (stretched) the proposer.
            _, draws = choose_components(self.normalised_weights(), recognition)
            self.decide(state, recognition)
        records = []
        for c, protocol in enumerate(protocols):
            rows = np.flatnonzero(state.choice == c)
            if rows.size == 0:
                continue
            record = protocol.play_round(
                compiled,
                tables[c],
                params.take(rows),
                state.parts[c],
                month,
                draws[rows],
                noise[rows],
            )
            records.append((rows, record))
        return _scatter(records, n)

    def decide(self, state: EnsembleState, recognition: FloatArray) -> None:
        """Draw each run's component from its month-1 draws ``(n,)`` (in place; once).

        :meth:`play_round` does this in month 1; an engine that splits a
        batch before month 1's round (runs under different rules after
        events) calls it first, on the whole batch.
        """
        if state.decided:
            return
        n = recognition.shape[0]
        chosen, _ = choose_components(self.normalised_weights(), recognition)
        state.choice = chosen.astype(np.int64)
        state.slot = np.zeros(n, dtype=np.intp)
        parts = []
        for c, part in enumerate(state.parts):
            rows = np.flatnonzero(chosen == c)
            state.slot[rows] = np.arange(rows.size)
            parts.append(part.take(rows))
        state.parts = parts

    def finished(self, state: EnsembleState) -> BoolArray:
        """Runs whose component has nothing left to do ``(n,)``."""
        done = np.zeros(state.choice.shape[0], dtype=bool)
        if not state.decided:
            return done
        for c, protocol in enumerate(self._protocols()):
            rows = np.flatnonzero(state.choice == c)
            if rows.size:
                done[rows] = protocol.finished(state.parts[c])
        return done

    def outcome(self, state: EnsembleState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record; ``component`` says which model produced each run."""
        n = state.choice.shape[0]
        protocols = self._protocols()
        if not state.decided:
            first = protocols[0].outcome(state.parts[0], sampled)
            return BatchOutcome(
                **{f.name: getattr(first, f.name) for f in fields(BatchOutcome)[:-1]}
            )
        pieces = []
        for c, protocol in enumerate(protocols):
            rows = np.flatnonzero(state.choice == c)
            if rows.size:
                pieces.append((rows, protocol.outcome(state.parts[c], sampled[rows])))
        values: dict[str, Any] = {}
        for f in fields(BatchOutcome):
            if f.name == "component":
                continue
            first = getattr(pieces[0][1], f.name)
            out = np.empty((n, *first.shape[1:]), dtype=first.dtype)
            for rows, piece in pieces:
                out[rows] = getattr(piece, f.name)
            values[f.name] = out
        return BatchOutcome(**values, component=state.choice.copy())


def mixture(weights: Mapping[str, float], *, name: str = "ensemble") -> Ensemble:
    """A mixture of registered models with the given weights (normalised to sum to 1).

    Examples
    --------
    >>> mix = mixture({"nash": 3.0, "compromise": 1.0}, name="nash-heavy")
    >>> mix.components, mix.normalised_weights().tolist()
    (('nash', 'compromise'), [0.75, 0.25])
    """
    if not isinstance(weights, Mapping):
        raise ProtocolError(
            f"model {name!r}: weights must map model names to weights (got {weights!r})"
        )
    return Ensemble(name, tuple((str(model), w) for model, w in weights.items()))
