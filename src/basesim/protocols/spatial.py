"""Spatial bargaining over a package of continuous issues.

One round: influence between actors (Friedkin–Johnsen), recognition of a
proposer, the proposer's package (the best for itself among those it believes
every needed veto player accepts), and the veto players' responses.  The
equations are written out in ``docs/model.md``.

References
----------
.. [1] Romer, T. and Rosenthal, H. (1978). Political resource allocation,
   controlled agendas, and the status quo. Public Choice 33(4), 27-43.
.. [2] Rubinstein, A. (1982). Perfect equilibrium in a bargaining model.
   Econometrica 50(1), 97-109.
.. [3] Baron, D. P. and Ferejohn, J. A. (1989). Bargaining in legislatures.
   American Political Science Review 83(4), 1181-1206.
.. [4] Friedkin, N. E. and Johnsen, E. C. (1990). Social influence and
   opinions. Journal of Mathematical Sociology 15(3-4), 193-206.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.solver import solve_package, utility

__all__ = ["TOLERANCE", "CandidateTable", "SpatialBargaining", "candidate_table"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Relative tolerance of acceptance tests, in units of an actor's utility scale.
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class CandidateTable:
    """The ways a proposer can shape a package around the veto players.

    A veto player's consent is needed only for a package that differs from
    the breakdown package on an issue it holds a veto on.  So a proposer can
    leave a veto player out by keeping that player's issues at breakdown.
    For proposer ``j`` and candidate ``c``: ``free[j, c]`` marks the issues it
    may set (``K``), ``needed[j, c]`` the actors whose consent the package then
    needs (``N``), ``valid[j, c]`` whether the candidate exists.
    """

    free: BoolArray  # (N, C, K)
    needed: BoolArray  # (N, C, N)
    valid: BoolArray  # (N, C)


@cache
def _candidate_table(veto_bytes: bytes, n_actors: int, n_issues: int) -> CandidateTable:
    veto = np.frombuffer(veto_bytes, dtype=bool).reshape(n_actors, n_issues)
    per_proposer: list[list[tuple[BoolArray, BoolArray]]] = []
    for j in range(n_actors):
        others = [v for v in range(n_actors) if v != j and veto[v].any()]
        seen: set[bytes] = set()
        options: list[tuple[int, BoolArray, BoolArray]] = []
        for mask in range(2 ** len(others)):
            excluded = [others[b] for b in range(len(others)) if mask >> b & 1]
            fixed = np.zeros(n_issues, dtype=bool)
            for v in excluded:
                fixed |= veto[v]
            if fixed.all() or fixed.tobytes() in seen:
                continue
            seen.add(fixed.tobytes())
            free = ~fixed
            needed = np.array([v != j and bool((veto[v] & free).any()) for v in range(n_actors)])
            options.append((int(fixed.sum()), free, needed))
        options.sort(key=lambda item: item[0])  # stable: fewest fixed issues first
        per_proposer.append([(free, needed) for _, free, needed in options])
    width = max(1, max(len(o) for o in per_proposer))
    free_t = np.zeros((n_actors, width, n_issues), dtype=bool)
    needed_t = np.zeros((n_actors, width, n_actors), dtype=bool)
    valid_t = np.zeros((n_actors, width), dtype=bool)
    for j, candidates in enumerate(per_proposer):
        for c, (free, needed) in enumerate(candidates):
            free_t[j, c], needed_t[j, c], valid_t[j, c] = free, needed, True
    for arr in (free_t, needed_t, valid_t):
        arr.setflags(write=False)
    return CandidateTable(free=free_t, needed=needed_t, valid=valid_t)


def candidate_table(veto: BoolArray) -> CandidateTable:
    """The :class:`CandidateTable` of a veto structure ``(N, K)``."""
    veto = np.ascontiguousarray(veto, dtype=bool)
    return _candidate_table(veto.tobytes(), veto.shape[0], veto.shape[1])


def _sum_last(values: FloatArray) -> FloatArray:
    """Sum over the last axis in index order (bit-identical whatever the batch)."""
    total = values[..., 0].copy()
    for k in range(1, values.shape[-1]):
        total += values[..., k]
    return total


def utility_scale(salience: FloatArray) -> FloatArray:
    """An actor's utility scale: the sum of its saliences (the loss of being 1 away on every issue)."""
    return _sum_last(salience)


@dataclass(frozen=True, slots=True)
class SpatialBargaining:
    """Spatial bargaining: recognition, proposal under vetoes, response.

    The protocol is stateless; the scenario's ``protocol`` settings choose the
    recognition rule (``weighted`` or ``rotation``) and the reservation values
    (``concession`` or ``equilibrium``).
    """

    name: str = field(default="spatial")

    # -- influence ------------------------------------------------------------------
    @staticmethod
    def mixing(weights: FloatArray) -> FloatArray:
        """The Friedkin–Johnsen mixing matrix ``(n, N, N)`` from influence weights.

        Row ``i`` keeps ``1 - sum_j w_ij`` on actor ``i``'s own stance.
        """
        mixing = weights.copy()
        n_actors = weights.shape[-1]
        for i in range(n_actors):
            mixing[:, i, i] = 1.0 - _sum_last(weights[:, i, :])
        return mixing

    def influence(
        self, previous: FloatArray, initial: FloatArray, mixing: FloatArray, anchoring: FloatArray
    ) -> FloatArray:
        """Stances ``(n, M, K)`` of M targets after one round of influence."""
        pulled = mixing[:, :, 0, None] * previous[:, None, 0, :]
        for j in range(1, previous.shape[1]):
            pulled = pulled + mixing[:, :, j, None] * previous[:, None, j, :]
        a = anchoring[:, :, None]
        return (1.0 - a) * pulled + a * initial

    def step_stances(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        previous: FloatArray,
        mixing: FloatArray,
    ) -> FloatArray:
        """Every actor's stance ``(n, N, K)`` one round after ``previous``.

        Only actors that someone can pull (``compiled.influenced``) move; the
        others keep their stance exactly.
        """
        targets = np.flatnonzero(compiled.influenced)
        if targets.size == 0:
            return previous
        current = previous.copy()
        current[:, targets] = self.influence(
            previous, params.position[:, targets], mixing[:, targets], params.anchoring[:, targets]
        )
        return current

    def stance_path(self, compiled: CompiledScenario, params: RunParameters) -> FloatArray:
        """Stances in every round ``(n, T, N, K)``; round 1 follows one influence step."""
        mixing = self.mixing(params.influence)
        n, n_act, n_iss = params.position.shape
        path = np.empty((n, compiled.horizon, n_act, n_iss))
        current = params.position
        for t in range(compiled.horizon):
            current = self.step_stances(compiled, params, current, mixing)
            path[:, t] = current
        return path

    # -- values ---------------------------------------------------------------------
    def disagreement(
        self, compiled: CompiledScenario, params: RunParameters, stances: FloatArray
    ) -> FloatArray:
        """Disagreement values ``(n, N)``: utility of the breakdown package, or as given."""
        value = utility(
            stances, params.salience, params.breakdown[:, None, :], exponent=compiled.exponent
        )
        return np.where(np.isnan(params.disagreement), value, params.disagreement)

    def reservation_values(
        self, compiled: CompiledScenario, params: RunParameters, stance_path: FloatArray
    ) -> FloatArray:
        """Reservation values ``(n, T, N)`` in every round (both forms)."""
        horizon = compiled.horizon
        if compiled.reservation == "concession":
            return np.stack(
                [
                    self.round_reservation(compiled, params, stance_path[:, t - 1], t)
                    for t in range(1, horizon + 1)
                ],
                axis=1,
            )
        d = np.empty(stance_path.shape[:3])
        for t in range(horizon):
            d[:, t] = self.disagreement(compiled, params, stance_path[:, t])
        return self._equilibrium(compiled, params, stance_path, d)

    def round_reservation(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        round_index: int,
        disagreement: FloatArray | None = None,
    ) -> FloatArray:
        """Concession-curve reservation values ``(n, N)`` of one round.

        ``r(t) = d(t) + (A - d(t)) (1 - (t/T)^(1/e))`` with aspiration ``A = 0``,
        the utility of the actor's ideal package, which is ``d(t) (t/T)^(1/e)``.
        """
        if compiled.reservation != "concession":
            raise ValueError("round_reservation serves the concession form only")
        d = self.disagreement(compiled, params, stances) if disagreement is None else disagreement
        return d * (round_index / compiled.horizon) ** (1.0 / params.concession)

    def _equilibrium(
        self, compiled: CompiledScenario, params: RunParameters, path: FloatArray, d: FloatArray
    ) -> FloatArray:
        # Finite-horizon backward induction (Baron–Ferejohn): V(T+1) = d(T);
        # r(t) = d(t) + delta (V(t+1) - d(t)); V(t) = sum_j pi_j value_j(t).
        n, horizon, n_act = d.shape
        reservation = np.empty_like(d)
        value_next = d[:, horizon - 1].copy()
        everyone = np.arange(n)
        for t in range(horizon, 0, -1):
            d_t = d[:, t - 1]
            stances = path[:, t - 1]
            r_t = d_t + params.discount * (value_next - d_t)
            reservation[:, t - 1] = r_t
            weights = self.recognition_probabilities(compiled, params, t)
            value = np.zeros((n, n_act))
            for j in range(n_act):
                if compiled.recognition == "rotation" and not weights[0, j]:
                    continue
                proposer = np.full(n, j, dtype=np.intp)
                package, offered, needed = self.propose(
                    compiled, params, proposer, stances, r_t, r_t[everyone, proposer], d_t
                )
                agreed = self.agreed(compiled, params, stances, package, r_t, offered, needed)
                payoff = utility(
                    stances, params.salience, package[:, None, :], exponent=compiled.exponent
                )
                value = value + weights[:, j, None] * np.where(agreed[:, None], payoff, r_t)
            value_next = value
        return reservation

    # -- recognition ----------------------------------------------------------------
    def recognition_probabilities(
        self, compiled: CompiledScenario, params: RunParameters, round_index: int
    ) -> FloatArray:
        """Each actor's chance ``(n, N)`` of proposing in round ``round_index``."""
        n, n_act = params.capability.shape
        if compiled.recognition == "rotation":
            probs = np.zeros((n, n_act))
            probs[:, compiled.rotation[(round_index - 1) % len(compiled.rotation)]] = 1.0
            return probs
        return params.capability / _sum_last(params.capability)[:, None]

    def recognise(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        draws: FloatArray,
        round_index: int,
    ) -> NDArray[np.intp]:
        """The proposer ``(n,)`` of round ``round_index`` from uniform draws ``(n,)``."""
        n, n_act = params.capability.shape
        if compiled.recognition == "rotation":
            who = compiled.rotation[(round_index - 1) % len(compiled.rotation)]
            return np.full(n, who, dtype=np.intp)
        capability = params.capability
        target = draws * _sum_last(capability)
        proposer = np.zeros(n, dtype=np.intp)
        cumulative = np.zeros(n)
        for j in range(n_act - 1):
            cumulative = cumulative + capability[:, j]
            proposer += target >= cumulative
        return proposer

    # -- proposal and response --------------------------------------------------------
    def propose(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        proposer: NDArray[np.intp],
        stances: FloatArray,
        believed: FloatArray,
        own_reservation: FloatArray,
        disagreement: FloatArray,
    ) -> tuple[FloatArray, BoolArray, BoolArray]:
        """The proposer's best package among those it believes the needed vetoes accept.

        Returns the package ``(n, K)`` (the breakdown package where no offer is
        made), whether an offer is made ``(n,)`` and whose consent the package
        needs ``(n, N)``.  The proposer offers only a package worth at least its
        own reservation value and strictly more than its disagreement value.
        """
        table = candidate_table(compiled.veto)
        n = proposer.shape[0]
        rows = np.arange(n)
        own_position = stances[rows, proposer]
        own_salience = params.salience[rows, proposer]
        own_disagreement = disagreement[rows, proposer]
        tol = TOLERANCE * np.maximum(1.0, utility_scale(own_salience))
        package = params.breakdown.copy()
        best = np.full(n, -np.inf)
        offered = np.zeros(n, dtype=bool)
        needed = np.zeros((n, compiled.n_actors), dtype=bool)
        for c in range(table.valid.shape[1]):
            rows_c = np.flatnonzero(table.valid[proposer, c])
            if rows_c.size == 0:
                continue
            who = proposer[rows_c]
            active = table.needed[who, c]
            x, feasible = solve_package(
                own_position[rows_c],
                own_salience[rows_c],
                stances[rows_c],
                params.salience[rows_c],
                believed[rows_c],
                active,
                table.free[who, c],
                params.breakdown[rows_c],
                exponent=compiled.exponent,
            )
            gain = utility(
                own_position[rows_c], own_salience[rows_c], x, exponent=compiled.exponent
            )
            better = (
                feasible
                & (gain >= own_reservation[rows_c] - tol[rows_c])
                & (gain > own_disagreement[rows_c] + tol[rows_c])
                & (gain > best[rows_c])
            )
            chosen = rows_c[better]
            package[chosen] = x[better]
            best[chosen] = gain[better]
            needed[chosen] = active[better]
            offered[chosen] = True
        return package, offered, needed

    def accepts(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        package: FloatArray,
        reservation: FloatArray,
    ) -> BoolArray:
        """Whether each actor accepts ``package`` at its true reservation value ``(n, N)``."""
        value = utility(stances, params.salience, package[:, None, :], exponent=compiled.exponent)
        tol = TOLERANCE * np.maximum(1.0, utility_scale(params.salience))
        return value >= reservation - tol

    def agreed(
        self,
        compiled: CompiledScenario,
        params: RunParameters,
        stances: FloatArray,
        package: FloatArray,
        reservation: FloatArray,
        offered: BoolArray,
        needed: BoolArray,
    ) -> BoolArray:
        """An offer is agreed when every actor whose consent it needs accepts it ``(n,)``."""
        accepted = self.accepts(compiled, params, stances, package, reservation)
        return offered & (accepted | ~needed).all(axis=1)

    def believed_reservation(
        self,
        params: RunParameters,
        proposer: NDArray[np.intp],
        reservation: FloatArray,
        errors: FloatArray,
    ) -> FloatArray:
        """What the proposer believes each actor will accept ``(n, N)``.

        ``r_v + sigma_j * eps_v * scale_v``, with ``scale_v`` the sum of v's
        saliences; the proposer knows its own value.
        """
        rows = np.arange(proposer.shape[0])
        sigma = params.noise[rows, proposer]
        believed = reservation + sigma[:, None] * errors * utility_scale(params.salience)
        believed[rows, proposer] = reservation[rows, proposer]
        return believed
