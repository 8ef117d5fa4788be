"""Bargaining over a package of issues, each decided by its own rule.

The whole month lives in :func:`play_round`; each of its steps is one function
here, and both engines (the batch engine over many runs, the Mesa model over
one) call :func:`play_round`, so a rule exists in exactly one place.  The steps
of month ``t`` (``docs/model.md`` writes out every equation):

1. *influence*: stances move toward those of the actors that sway them
   (Friedkin-Johnsen), anchored to the actor's starting view;
2. *drift*: each unsettled issue's status quo moves toward its breakdown
   value by its monthly drift;
3. *values*: each actor's disagreement value (the utility of living with the
   status quo) and reservation value (a concession curve in calendar months,
   or a continuation value by backward induction over a fixed look-ahead);
4. *recognition*: one actor at the table is chosen to propose;
5. *proposal*: it chooses which open issues to settle, at which values, and
   whose acceptance to count on, to maximise its expected gain under its
   noisy beliefs about what the others accept (:mod:`basesim.protocols.proposer`);
6. *response*: every actor accepts iff the package is worth at least its
   reservation value;
7. *settlement*: if the rule of every issue in the package is met, those
   issues are settled at the package's values; the others stay open.

Everything is vectorised over runs (leading axis ``n``) and computed with
elementwise operations and sums in a fixed order, so a run's numbers do not
depend on the batch it is in.

References
----------
.. [1] Baron, D. P. and Ferejohn, J. A. (1989). Bargaining in legislatures.
   American Political Science Review 83(4), 1181-1206.
.. [2] Friedkin, N. E. and Johnsen, E. C. (1990). Social influence and
   opinions. Journal of Mathematical Sociology 15(3-4), 193-206.
.. [3] Faratin, P., Sierra, C. and Jennings, N. R. (1998). Negotiation
   decision functions for autonomous agents. Robotics and Autonomous
   Systems 24(3-4), 159-182.
.. [4] Romer, T. and Rosenthal, H. (1978). Political resource allocation,
   controlled agendas, and the status quo. Public Choice 33(4), 27-43.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.engine.solver import utility
from basesim.protocols.proposer import (
    MAX_EXHAUSTIVE_ISSUES,
    TOLERANCE,
    best_packages,
    issue_subsets,
    utility_scale,
)
from basesim.protocols.rules import RuleTable, rule_met, rule_table

__all__ = [
    "Bargaining",
    "BargainingTables",
    "KernelTables",
    "RoundRecord",
    "RunState",
    "accepts",
    "concession_reservation",
    "disagreement_values",
    "drift_status_quo",
    "equilibrium_reservations",
    "influence",
    "kernel_tables",
    "play_round",
    "play_round_compiled",
    "recognise",
    "recognition_weights",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: Index of each reservation form in ``RunParameters.reservation_form``.
CONCESSION, EQUILIBRIUM = 0, 1


@dataclass(frozen=True, slots=True, kw_only=True)
class BargainingTables:
    """What this protocol compiles from a scenario, besides the shared arrays."""

    rules: RuleTable
    influenced: BoolArray  # (N,) actors some other actor can pull
    subsets: BoolArray  # (S, K) the sets of issues a proposer considers settling together
    # Budgets: the issues of each (B, K) and its total (B,); B = 0 without budgets.
    budgets: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    totals: FloatArray = field(default_factory=lambda: np.zeros(0))
    # Minimal winning coalitions by (issue set, proposer), filled as they are needed.
    coalitions: dict[tuple[bytes, int], BoolArray] = field(default_factory=dict, compare=False)
    # The same tables packed for the compiled month (None: the NumPy month plays).
    kernel: KernelTables | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class KernelTables:
    """A scenario's rules and tables as the compiled month takes them (:func:`kernel_tables`)."""

    rules: tuple[Any, ...]
    tables: tuple[Any, ...]
    rotation: IntArray
    can_propose: BoolArray
    influenced: BoolArray


def kernel_tables(compiled: CompiledScenario, tables: BargainingTables) -> KernelTables | None:
    """Pack a scenario's tables for :mod:`basesim.engine.kernel.bargaining`.

    ``None`` where the compiled month does not cover the scenario (linear
    losses with several issues).  Each issue set's minimal winning
    coalitions are listed once per proposer here, so the compiled month
    only looks them up.
    """
    from basesim.engine.kernel import bargaining as kernel

    if not kernel.supported(compiled.exponent, compiled.n_issues):
        return None
    r = tables.rules
    rules = (
        np.ascontiguousarray(r.code, dtype=np.int64),
        np.ascontiguousarray(r.voters),
        np.ascontiguousarray(r.votes),
        np.ascontiguousarray(r.total_votes),
        np.ascontiguousarray(r.n_voters, dtype=np.int64),
        np.ascontiguousarray(r.threshold),
        np.ascontiguousarray(r.min_voter_share),
        np.ascontiguousarray(r.authority, dtype=np.int64),
        np.ascontiguousarray(r.forced),
        np.ascontiguousarray(r.optional),
    )
    n_act, n_iss = compiled.n_actors, compiled.n_issues
    subsets = np.ascontiguousarray(tables.subsets)
    listed: dict[tuple[int, int], BoolArray] = {}
    for s, subset in enumerate(subsets):
        optional = (r.optional[:, subset].any(axis=1) & ~r.forced[:, subset].any(axis=1)).sum()
        if subset.sum() >= 2 and optional <= kernel.MAX_OPTIONAL:
            for j in range(n_act):
                listed[s, j] = kernel.minimal_winning(rules, subset, j)
    listed_width = max([1, *(c.shape[0] for c in listed.values())])
    width = listed_width
    if n_iss > MAX_EXHAUSTIVE_ISSUES:
        # Issue sets found month by month: room for any antichain of the optional voters.
        width = max(width, 1 << kernel.MAX_OPTIONAL)
    coalitions = np.zeros((subsets.shape[0], n_act, listed_width, n_act), dtype=bool)
    counts = np.full((subsets.shape[0], n_act), -1, dtype=np.int64)
    for (s, j), coal in listed.items():
        coalitions[s, j, : coal.shape[0]] = coal
        counts[s, j] = coal.shape[0]
    rotation = compiled.rotation if compiled.recognition == "rotation" else np.zeros(0)
    return KernelTables(
        rules=rules,
        tables=(
            subsets,
            np.ascontiguousarray(tables.budgets.reshape(-1, n_iss)),
            np.ascontiguousarray(tables.totals, dtype=np.float64),
            coalitions,
            counts,
            width,
        ),
        rotation=np.ascontiguousarray(rotation, dtype=np.int64),
        can_propose=np.ascontiguousarray(compiled.can_propose, dtype=bool),
        influenced=np.ascontiguousarray(tables.influenced),
    )


@dataclass(slots=True, kw_only=True)
class RunState:
    """The mutable state of a batch of runs between months (leading axis: run)."""

    stances: FloatArray  # (n, N, K)
    status_quo: FloatArray  # (n, K): agreed values of settled issues, the status quo of open ones
    open: BoolArray  # (n, K)
    settled_round: IntArray  # (n, K)
    settled_by: IntArray  # (n, K)
    proposals: IntArray  # (n, N)
    # Equilibrium reservation values from month ``table_start`` on ((n, L, N));
    # ``table_start`` is 0 where the table must be (re)computed.
    table: FloatArray
    table_start: IntArray  # (n,)

    def take(self, rows: NDArray[np.intp]) -> RunState:
        """The state of a subset of runs (copies)."""
        return RunState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows: NDArray[np.intp], part: RunState) -> None:
        """Write the state of a subset of runs back."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundRecord:
    """What happened in one month, per run (for inspection and the Mesa model's data)."""

    proposer: NDArray[np.intp]  # (n,)
    package: FloatArray  # (n, K) the proposal (the status quo where none was made)
    settles: BoolArray  # (n, K) the issues the proposal would settle
    offered: BoolArray  # (n,)
    accepted: BoolArray  # (n, N) each actor's response (True for actors who accept)
    passed: BoolArray  # (n,)
    reservation: FloatArray  # (n, N)
    disagreement: FloatArray  # (n, N)


# -- 1. influence ------------------------------------------------------------------------
def mixing_matrix(weights: FloatArray) -> FloatArray:
    """The Friedkin-Johnsen mixing matrix ``(n, N, N)`` from influence weights ``(n, N, N)``.

    Row ``i`` keeps ``1 - sum_j w_ij`` on actor ``i``'s own stance.
    """
    mixing = weights.copy()
    for i in range(weights.shape[-1]):
        own = weights[:, i, 0].copy()
        for j in range(1, weights.shape[-1]):
            own += weights[:, i, j]
        mixing[:, i, i] = 1.0 - own
    return mixing


def influence(
    stances: FloatArray,
    initial: FloatArray,
    mixing: FloatArray,
    anchoring: FloatArray,
    influenced: BoolArray,
) -> FloatArray:
    """Stances ``(n, N, K)`` after one month of influence.

    ``theta_i <- (1 - a_i) sum_j m_ij theta_j + a_i theta_i(0)`` for every
    actor someone can pull; the others keep their stance exactly.
    """
    targets = np.flatnonzero(influenced)
    if targets.size == 0:
        return stances
    out = stances.copy()
    pulled = mixing[:, targets, 0, None] * stances[:, None, 0, :]
    for j in range(1, stances.shape[1]):
        pulled = pulled + mixing[:, targets, j, None] * stances[:, None, j, :]
    a = anchoring[:, targets, None]
    out[:, targets] = (1.0 - a) * pulled + a * initial[:, targets]
    return out


# -- 2. drift ----------------------------------------------------------------------------
def drift_status_quo(
    status_quo: FloatArray, breakdown: FloatArray, drift: FloatArray, open_: BoolArray
) -> FloatArray:
    """The status quo ``(n, K)`` one month on: open issues close ``drift`` of their gap to breakdown."""
    moved = breakdown + (status_quo - breakdown) * (1.0 - drift)
    result: FloatArray = np.where(open_, moved, status_quo)
    return result


# -- 3. values ---------------------------------------------------------------------------
def disagreement_values(
    params: RunParameters, stances: FloatArray, status_quo: FloatArray, exponent: int
) -> FloatArray:
    """Each actor's value of no agreement this month ``(n, N)``: ``u_i(q)``, or as given."""
    value = utility(stances, params.salience, status_quo[:, None, :], exponent=exponent)
    result: FloatArray = np.where(np.isnan(params.disagreement), value, params.disagreement)
    return result


def best_values(
    params: RunParameters,
    stances: FloatArray,
    status_quo: FloatArray,
    open_: BoolArray,
    exponent: int,
) -> FloatArray:
    """Each actor's best attainable utility ``(n, N)``: its ideal on open issues, settled ones as agreed."""
    best = np.where(open_[:, None, :], stances, status_quo[:, None, :])
    return utility(stances, params.salience, best, exponent=exponent)


def concession_reservation(
    params: RunParameters,
    disagreement: FloatArray,
    best: FloatArray,
    month: int,
) -> FloatArray:
    """Concession-curve reservation values ``(n, N)`` in calendar month ``month``.

    ``A = d + opening (best - d)``, ``r = d + (A - d) (1 - min(1, t / M)^(1/e))``
    with ``M`` the actor's ``concession_months`` and ``e`` its ``concession``
    exponent.  The horizon plays no part.
    """
    aspiration = disagreement + params.opening * (best - disagreement)
    elapsed = np.minimum(1.0, month / params.concession_months)
    result: FloatArray = disagreement + (aspiration - disagreement) * (
        1.0 - _power(elapsed, 1.0 / params.concession)
    )
    return result


#: ``x ** y`` elementwise by the C library's ``pow`` (correctly rounded in
#: current C libraries), as the compiled month computes it: NumPy's own
#: ``power`` may use vector code that differs in the last bit, by processor.
_power = np.vectorize(math.pow, otypes=[np.float64])


# -- 4. recognition ----------------------------------------------------------------------
def recognition_weights(
    compiled: CompiledScenario, params: RunParameters, month: int
) -> FloatArray:
    """Each actor's chance ``(n, N)`` of proposing in ``month``.

    Capability-weighted among the actors at the table (capabilities are
    divided by their largest value first, so only ratios matter and no sum
    overflows), or the fixed rotation.
    """
    n, n_act = params.capability.shape
    if compiled.recognition == "rotation":
        probs = np.zeros((n, n_act))
        probs[:, compiled.rotation[(month - 1) % len(compiled.rotation)]] = 1.0
        return probs
    weight = np.where(compiled.can_propose, params.capability, 0.0)
    scaled = weight / weight.max(axis=1, keepdims=True)
    total = scaled[:, 0].copy()
    for j in range(1, n_act):
        total += scaled[:, j]
    result: FloatArray = scaled / total[:, None]
    return result


def recognise(weights: FloatArray, draws: FloatArray) -> NDArray[np.intp]:
    """The proposer ``(n,)``: the first actor whose cumulative weight exceeds the draw."""
    n, n_act = weights.shape
    proposer = np.zeros(n, dtype=np.intp)
    cumulative = np.zeros(n)
    last = np.zeros(n, dtype=np.intp)
    for j in range(n_act):
        has = weights[:, j] > 0
        last = np.where(has, j, last)
        cumulative = cumulative + weights[:, j]
        proposer += (draws >= cumulative) & (j < n_act - 1)
    # Rounding can leave the cumulative sum a hair below 1: never pick an actor
    # without weight.
    chosen = weights[np.arange(n), np.minimum(proposer, n_act - 1)] > 0
    result: NDArray[np.intp] = np.where(chosen, np.minimum(proposer, n_act - 1), last)
    return result


# -- 6. response -------------------------------------------------------------------------
def accepts(
    params: RunParameters,
    stances: FloatArray,
    package: FloatArray,
    reservation: FloatArray,
    exponent: int,
) -> BoolArray:
    """Whether each actor accepts ``package`` ``(n, N)``: ``u_i(x) >= r_i`` (true values)."""
    value = utility(stances, params.salience, package[:, None, :], exponent=exponent)
    tol = TOLERANCE * utility_scale(params.salience)
    result: BoolArray = value >= reservation - tol
    return result


# -- equilibrium reservation values --------------------------------------------------------
def equilibrium_reservations(
    compiled: CompiledScenario,
    tables: BargainingTables,
    params: RunParameters,
    state: RunState,
    month: int,
) -> FloatArray:
    """Reservation values ``(n, L, N)`` for months ``month .. month + L - 1`` by backward induction.

    ``L`` is the scenario's look-ahead in months, this one included (not its
    horizon).  With ``V(month + L) = d(month + L - 1)``, going back: ``r(t) = d(t) + delta (V(t + 1) -
    d(t))``; each actor at the table proposes the package it would offer
    knowing every reservation value exactly; ``V(t)`` is the
    recognition-weighted value of those proposals (``r`` where one fails);
    a proposer with several coalitions of equal worth to it (within the
    tolerance) is valued as mixing uniformly over their packages, as in the
    symmetric stationary equilibrium of Baron and Ferejohn (1989).
    Stances and status quo follow their deterministic paths with the open
    issues of ``state`` held open: a partial package is valued with its
    unsettled issues at the status quo (an approximation, ``docs/model.md``).
    """
    n, n_act, _ = state.stances.shape
    look = compiled.lookahead
    exponent = compiled.exponent
    mixing = mixing_matrix(params.influence)
    stances = state.stances
    quo = state.status_quo
    path: list[tuple[FloatArray, FloatArray]] = []
    for _ in range(look):
        path.append((stances, quo))
        stances = influence(stances, params.position, mixing, params.anchoring, tables.influenced)
        quo = drift_status_quo(quo, params.breakdown, params.drift, state.open)
    proposers = np.flatnonzero(compiled.can_propose)
    reservation = np.empty((n, look, n_act))
    stances_end, quo_end = path[look - 1]
    value_next = disagreement_values(params, stances_end, quo_end, exponent)
    zeros = np.zeros((n, n_act))
    for tau in range(look - 1, -1, -1):
        stances_t, quo_t = path[tau]
        d = disagreement_values(params, stances_t, quo_t, exponent)
        r = d + params.discount * (value_next - d)
        reservation[:, tau] = r
        weights = recognition_weights(compiled, params, month + tau)
        value = np.zeros((n, n_act))
        for j in proposers:
            if not weights[:, j].any():
                continue
            who = np.full(n, j, dtype=np.intp)
            choice = best_packages(
                tables,
                params,
                proposer=who,
                stances=stances_t,
                status_quo=quo_t,
                open_=state.open,
                believed=r,
                spread=zeros,
                own_reservation=r[:, j],
                own_disagreement=d[:, j],
                exponent=exponent,
            )
            accepted = accepts(params, stances_t, choice.package, r, exponent)
            met = rule_met(tables.rules, accepted)
            ok = choice.offered & (met | ~choice.settles).all(axis=1)
            payoff = utility(
                stances_t, params.salience, choice.package[:, None, :], exponent=exponent
            )
            move = np.where(ok[:, None], payoff, r)
            mixed = np.flatnonzero(choice.tied.sum(axis=1) >= 2)
            if mixed.size:
                move[mixed] = _tied_value(
                    tables,
                    params.take(mixed),
                    stances_t[mixed],
                    choice.alternatives[mixed],
                    choice.tied[mixed],
                    choice.settles[mixed],
                    r[mixed],
                    exponent,
                )
            value = value + weights[:, j, None] * move
        value_next = value
    return reservation


def _tied_value(
    tables: BargainingTables,
    params: RunParameters,
    stances: FloatArray,
    alternatives: FloatArray,
    tied: BoolArray,
    settles: BoolArray,
    reservation: FloatArray,
    exponent: int,
) -> FloatArray:
    """Each actor's value ``(m, N)`` of a proposer mixing uniformly over its tied packages.

    Each tied package counts with equal weight: its value to the actor if it
    passes, the actor's reservation value if it does not (the symmetric
    stationary equilibrium of Baron and Ferejohn, where the proposer picks
    among its equally cheap minimal winning coalitions at random).
    """
    total = np.zeros(reservation.shape)
    count = np.zeros(reservation.shape[0])
    for a in range(alternatives.shape[1]):
        package = alternatives[:, a]
        accepted = accepts(params, stances, package, reservation, exponent)
        ok: BoolArray = np.asarray((rule_met(tables.rules, accepted) | ~settles).all(axis=1))
        payoff = utility(stances, params.salience, package[:, None, :], exponent=exponent)
        move = np.where(ok[:, None], payoff, reservation)
        total = total + np.where(tied[:, a, None], move, 0.0)
        count = count + tied[:, a]
    result: FloatArray = total / count[:, None]
    return result


# -- the month ---------------------------------------------------------------------------
def play_round(
    compiled: CompiledScenario,
    tables: BargainingTables,
    params: RunParameters,
    state: RunState,
    month: int,
    recognition: FloatArray,
    noise: FloatArray,
) -> RoundRecord:
    """Play month ``month`` of every run in ``state`` (updated in place).

    ``recognition`` ``(n,)`` are the month's uniform draws, ``noise`` ``(n, N)``
    its standard normal perception errors.
    """
    exponent = compiled.exponent
    n = state.stances.shape[0]
    rows = np.arange(n)
    # 1. influence, 2. drift
    state.stances = influence(
        state.stances,
        params.position,
        mixing_matrix(params.influence),
        params.anchoring,
        tables.influenced,
    )
    state.status_quo = drift_status_quo(
        state.status_quo, params.breakdown, params.drift, state.open
    )
    # 3. values
    d = disagreement_values(params, state.stances, state.status_quo, exponent)
    best = best_values(params, state.stances, state.status_quo, state.open, exponent)
    r = concession_reservation(params, d, best, month)
    uses_table = params.reservation_form == EQUILIBRIUM
    if uses_table.any():
        stale = uses_table & (
            (state.table_start == 0) | (month - state.table_start >= compiled.lookahead)
        )
        redo = np.flatnonzero(stale)
        if redo.size:
            part = state.take(redo)
            state.table[redo] = equilibrium_reservations(
                compiled, tables, params.take(redo), part, month
            )
            state.table_start[redo] = month
        offset = np.clip(month - state.table_start, 0, compiled.lookahead - 1)
        r = np.where(uses_table[:, None], state.table[rows, offset], r)
    # 4. recognition
    proposer = recognise(recognition_weights(compiled, params, month), recognition)
    state.proposals[rows, proposer] += 1
    # 5. proposal, under beliefs r_v + sigma_j eps_v scale_v (exact for itself)
    spread = params.noise[rows, proposer][:, None] * utility_scale(params.salience)
    spread[rows, proposer] = 0.0
    believed = r + spread * noise
    believed[rows, proposer] = r[rows, proposer]
    choice = best_packages(
        tables,
        params,
        proposer=proposer,
        stances=state.stances,
        status_quo=state.status_quo,
        open_=state.open,
        believed=believed,
        spread=spread,
        own_reservation=r[rows, proposer],
        own_disagreement=d[rows, proposer],
        exponent=exponent,
    )
    # 6. response, 7. settlement
    accepted = accepts(params, state.stances, choice.package, r, exponent)
    met = rule_met(tables.rules, accepted)
    passed = choice.offered & (met | ~choice.settles).all(axis=1)
    settle = passed[:, None] & choice.settles
    state.status_quo = np.where(settle, choice.package, state.status_quo)
    state.open = state.open & ~settle
    state.settled_round = np.where(settle, month, state.settled_round)
    state.settled_by = np.where(settle, proposer[:, None], state.settled_by)
    # A settlement changes what waiting is worth: recompute equilibrium tables.
    state.table_start = np.where(passed, 0, state.table_start)
    return RoundRecord(
        proposer=proposer,
        package=np.where(choice.offered[:, None], choice.package, state.status_quo),
        settles=choice.settles,
        offered=choice.offered,
        accepted=accepted,
        passed=passed,
        reservation=r,
        disagreement=d,
    )


#: The order in which the compiled month takes each structure's arrays.
_PARAMETER_FIELDS = (
    "position",
    "salience",
    "capability",
    "anchoring",
    "discount",
    "concession",
    "noise",
    "opening",
    "concession_months",
    "disagreement",
    "influence",
    "breakdown",
    "drift",
    "reservation_form",
)
_STATE_FIELDS = (
    "stances",
    "status_quo",
    "open",
    "settled_round",
    "settled_by",
    "proposals",
    "table",
    "table_start",
)


def play_round_compiled(
    compiled: CompiledScenario,
    tables: BargainingTables,
    params: RunParameters,
    state: RunState,
    month: int,
    recognition: FloatArray,
    noise: FloatArray,
) -> RoundRecord:
    """:func:`play_round` by the compiled month (:mod:`basesim.engine.kernel.bargaining`).

    The same month, run by run; ``tables.kernel`` must be set.
    """
    from basesim.engine.kernel.bargaining import play_month

    packed = tables.kernel
    assert packed is not None  # the caller checks
    n, n_act, n_iss = state.stances.shape
    for name in _STATE_FIELDS:
        # The month writes into the state's arrays: make sure they are plain ones.
        value = getattr(state, name)
        if not value.flags.c_contiguous:
            setattr(state, name, np.ascontiguousarray(value))
    record = (
        np.zeros(n, dtype=np.int64),
        np.empty((n, n_iss)),
        np.zeros((n, n_iss), dtype=bool),
        np.zeros(n, dtype=bool),
        np.zeros((n, n_act), dtype=bool),
        np.zeros(n, dtype=bool),
        np.empty((n, n_act)),
        np.empty((n, n_act)),
    )
    play_month(
        month,
        compiled.exponent,
        packed.rules,
        packed.tables,
        packed.rotation,
        packed.can_propose,
        packed.influenced,
        tuple(
            np.ascontiguousarray(getattr(params, name), dtype=np.float64)
            for name in _PARAMETER_FIELDS
        ),
        tuple(getattr(state, name) for name in _STATE_FIELDS),
        np.ascontiguousarray(recognition, dtype=np.float64),
        np.ascontiguousarray(noise, dtype=np.float64),
        record,
    )
    return RoundRecord(
        proposer=record[0].astype(np.intp),
        package=record[1],
        settles=record[2],
        offered=record[3],
        accepted=record[4],
        passed=record[5],
        reservation=record[6],
        disagreement=record[7],
    )


# -- the protocol ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Bargaining:
    """Bargaining month by month over a package, each issue under its own decision rule.

    Registered as ``"bargaining"``, the default model.  Stateless: all state
    lives in :class:`RunState`.
    """

    name: str = field(default="bargaining")
    #: Play months with the compiled month where it covers the scenario (False:
    #: always the NumPy reference, :func:`play_round`).
    kernel: bool = field(default=True)

    def compile(self, compiled: CompiledScenario) -> BargainingTables:
        """The rule table and candidate issue sets of a compiled scenario."""
        scenario = compiled.scenario
        a_index = {name: i for i, name in enumerate(compiled.actor_names)}
        influenced = np.zeros(compiled.n_actors, dtype=bool)
        for actor in scenario.actors:
            for target, weight in actor.influence.items():
                influenced[a_index[target]] |= weight.support[1] > 0
        for event in scenario.events:
            parts = event.target.split(".")
            if event.kind == "set" and len(parts) == 4 and parts[2] == "influence":
                assert event.value is not None  # validated: a "set" event has a value
                influenced[a_index[parts[3]]] |= event.value.support[1] > 0
        influenced.setflags(write=False)
        k_index = {name: k for k, name in enumerate(compiled.issue_names)}
        budgets = np.zeros((len(scenario.budgets), compiled.n_issues), dtype=bool)
        for b, budget in enumerate(scenario.budgets):
            budgets[b, [k_index[name] for name in budget.issues]] = True
        totals = np.array([float(budget.total) for budget in scenario.budgets])
        budgets.setflags(write=False)
        totals.setflags(write=False)
        tables = BargainingTables(
            rules=rule_table(scenario),
            influenced=influenced,
            subsets=issue_subsets(compiled.n_issues),
            budgets=budgets,
            totals=totals,
        )
        if not self.kernel:
            return tables
        return replace(tables, kernel=kernel_tables(compiled, tables))

    def start(self, compiled: CompiledScenario, params: RunParameters) -> RunState:
        """The state before month 1."""
        n = params.n_runs
        n_act, n_iss = compiled.n_actors, compiled.n_issues
        eq = bool((params.reservation_form == EQUILIBRIUM).any())
        width = compiled.lookahead if eq else 1
        return RunState(
            stances=params.position.copy(),
            status_quo=params.status_quo.copy(),
            open=np.ones((n, n_iss), dtype=bool),
            settled_round=np.zeros((n, n_iss), dtype=np.int64),
            settled_by=np.full((n, n_iss), -1, dtype=np.int64),
            proposals=np.zeros((n, n_act), dtype=np.int64),
            table=np.zeros((n, width, n_act if eq else 1)),
            table_start=np.zeros(n, dtype=np.int64),
        )

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: RunState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """One month (see :func:`play_round`), compiled where ``tables`` allow."""
        if tables.kernel is not None:
            return play_round_compiled(compiled, tables, params, state, month, recognition, noise)
        return play_round(compiled, tables, params, state, month, recognition, noise)

    @staticmethod
    def finished(state: RunState) -> BoolArray:
        """Runs with nothing left to settle ``(n,)``."""
        result: BoolArray = np.asarray(~state.open.any(axis=1))
        return result

    @staticmethod
    def outcome(state: RunState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record of how the runs in ``state`` ended."""
        return BatchOutcome(
            package=state.status_quo.copy(),
            settled=~state.open,
            settled_round=state.settled_round.copy(),
            settled_by=state.settled_by.copy(),
            proposals=state.proposals.copy(),
            sampled=sampled,
        )
