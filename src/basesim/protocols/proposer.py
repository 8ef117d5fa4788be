"""The proposer's problem under per-issue decision rules.

A proposer ``j`` chooses a set ``F`` of open issues to settle, their values
``x_F`` (the other issues stay at the status quo ``q``) and, implicitly, the
coalition whose acceptance it counts on.  It believes actor ``v`` accepts iff
``u_v(x) >= b_v + z * spread_v``, where ``b_v`` is its noisy estimate of
``v``'s reservation value, ``spread_v`` the standard deviation of its error
and ``z`` a safety margin; among the packages it believes pass, it takes the
one with the largest expected gain ``P(pass) * (u_j(x) - r_j)``, with
``P(pass)`` computed from the same normal belief.  Margins ``z`` in
:data:`MARGINS` are tried, so a proposer who is unsure of the others trades a
smaller gain for a safer package.

* **One issue** (``|F| = 1``): exact.  Each actor accepts on an interval of
  the issue (its reservation value, with every other issue at ``q``); the set
  of values whose acceptors satisfy the rule is a union of closed intervals,
  so the value closest to the proposer's ideal is its ideal or an interval
  end (for a proposer indifferent about the issue: the value closest to the
  status quo, which may be the status quo itself).  All ``2N + 2`` candidates
  are checked against the rule: ``O(N^2)``
  per run, for any rule (this is the pivotal-politics closed form: the
  setter's ideal, clipped to the pivotal voter's acceptance interval).
* **Several issues**: every actor the rules of ``F`` always need (unanimity
  voters, authorities) is constrained.  For qualified and majority rules with
  at most :data:`MAX_ENUMERATED_VOTERS` voters who may be left out, every
  minimal winning coalition is tried (exact: adding an actor only adds a
  constraint); with more, they join cheapest first (by how far the
  proposer's ideal package falls short of what they believe each accepts,
  relative to its utility scale) until every rule of ``F`` is met, a
  heuristic.  The convex problem with a coalition's constraints is solved by
  :func:`basesim.engine.solver.solve_package`
  (directly with up to :data:`MAX_DIRECT_CONSTRAINTS` constrained actors,
  otherwise by adding the most violated constraint one at a time, which is
  exact whenever at most :data:`MAX_CUT_CONSTRAINTS` constraints are needed).
  The cheapest-first step costs ``O(N^2 K)`` per run and candidate.  With
  linear losses (``p = 1``) each coalition's problem is instead one linear
  programme per run, with every constraint and the budgets
  (:func:`basesim.engine.linear.solve_linear_package`: exact).
* **Budgets**: a package keeps each budget's sum (its settled values and the
  status quo of the budget's issues it leaves alone) within the total; in
  the one-issue search the most the budget leaves the issue is one more
  candidate, and values above it are excluded.  A budget is divided in one
  package: an issue set holding some but not all of a budget's open issues
  is not tried.
* **Ties**: :class:`Choice` also carries the packages of every coalition as
  good for the proposer as the one it offers (within :data:`TOLERANCE`
  times its utility scale), for the chosen issue set and margin, so the
  equilibrium form can value a proposer mixing over them; the offered
  package is the first of them in the order coalitions are tried.

Which sets ``F`` are tried: every non-empty subset of the open issues when
there are at most :data:`MAX_EXHAUSTIVE_ISSUES` issues, otherwise each single
issue (:func:`issue_subsets`), each budget's open issues together and all the
issues still open together.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from basesim.engine.linear import BUDGET_TOL, budget_sums, solve_linear_package
from basesim.engine.solver import solve_package, utility
from basesim.protocols.rules import RULE_CODES, issue_rule_met, rule_met

if TYPE_CHECKING:
    from basesim.engine.compiled import RunParameters
    from basesim.protocols.bargaining import BargainingTables

__all__ = [
    "MARGINS",
    "MAX_EXHAUSTIVE_ISSUES",
    "TOLERANCE",
    "Choice",
    "best_packages",
    "issue_subsets",
    "utility_scale",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Safety margins tried by a proposer unsure of the others, in standard deviations.
MARGINS = (0.0, 1.0, 2.0)
#: Up to this many issues every subset of open issues is tried.
MAX_EXHAUSTIVE_ISSUES = 4
#: Up to this many constrained actors the multi-issue problem is solved directly;
#: beyond, by adding violated constraints one at a time (:func:`_solve_by_cuts`).
MAX_DIRECT_CONSTRAINTS = 4
#: Most constraints in a working set of :func:`_solve_by_cuts`.
MAX_CUT_CONSTRAINTS = 8
#: Up to this many optional voters (of qualified and majority rules) every minimal
#: winning coalition is tried (exact); beyond, they join cheapest first.
MAX_ENUMERATED_VOTERS = 8
#: Acceptance tolerance, relative to an actor's utility scale (the same in the
#: proposer's search and in the true responses).
TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """The proposer's choice per run."""

    package: FloatArray  # (n, K): the status quo where no offer is made
    settles: BoolArray  # (n, K): the issues the package settles
    offered: BoolArray  # (n,)
    expected_gain: FloatArray  # (n,): -inf where no offer is made
    # The packages of the proposer's tied optimal coalitions for the chosen issue
    # set and margin (within the tolerance), the offered package among them:
    # (n, A, K) and which of the A slots hold one (n, A); none where no offer.
    alternatives: FloatArray
    tied: BoolArray


def issue_subsets(n_issues: int) -> BoolArray:
    """The fixed sets of issues a proposer considers settling together ``(S, K)``, smallest first.

    Every non-empty subset up to :data:`MAX_EXHAUSTIVE_ISSUES` issues; beyond,
    each single issue (:func:`best_packages` adds the set of all open issues).
    """
    if n_issues <= MAX_EXHAUSTIVE_ISSUES:
        sets = [c for size in range(1, n_issues + 1) for c in combinations(range(n_issues), size)]
    else:
        sets = [(k,) for k in range(n_issues)]
    out = np.zeros((len(sets), n_issues), dtype=bool)
    for s, members in enumerate(sets):
        out[s, list(members)] = True
    out.setflags(write=False)
    return out


def utility_scale(salience: FloatArray) -> FloatArray:
    """An actor's utility scale ``(..., N)``: the sum of its saliences, at least 1."""
    total = salience[..., 0].copy()
    for k in range(1, salience.shape[-1]):
        total += salience[..., k]
    result: FloatArray = np.maximum(total, 1.0)
    return result


def _loss(diff: FloatArray, exponent: int) -> FloatArray:
    result: FloatArray = diff * diff if exponent == 2 else np.abs(diff)
    return result


#: Cells per chunk of the one-issue search, whose arrays are (rows, 2N + 2, N).
_CHUNK_CELLS = 1 << 21


def _one_issue(
    k: int,
    tables: BargainingTables,
    proposer: NDArray[np.intp],
    stances: FloatArray,
    salience: FloatArray,
    status_quo: FloatArray,
    target: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray]:
    """The exact best value of issue ``k`` for each row, in chunks of rows (bounded memory)."""
    m, n_act, _ = stances.shape
    step = max(1, _CHUNK_CELLS // ((2 * n_act + 2) * n_act))
    if m <= step:
        return _one_issue_rows(
            k, tables, proposer, stances, salience, status_quo, target, exponent
        )
    package = np.empty_like(status_quo)
    feasible = np.empty(m, dtype=bool)
    for lo in range(0, m, step):
        rows = slice(lo, min(lo + step, m))
        package[rows], feasible[rows] = _one_issue_rows(
            k,
            tables,
            proposer[rows],
            stances[rows],
            salience[rows],
            status_quo[rows],
            target[rows],
            exponent,
        )
    return package, feasible


def _one_issue_rows(
    k: int,
    tables: BargainingTables,
    proposer: NDArray[np.intp],
    stances: FloatArray,
    salience: FloatArray,
    status_quo: FloatArray,
    target: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray]:
    """The exact best value of issue ``k`` for each row; ``(package (m, K), feasible (m,))``."""
    m = stances.shape[0]
    rows = np.arange(m)
    theta = stances[:, :, k]
    sal = salience[:, :, k]
    quo_k = status_quo[:, k]
    u_quo = utility(stances, salience, status_quo[:, None, :], exponent=exponent)
    budget = u_quo + sal * _loss(quo_k[:, None] - theta, exponent) - target  # (m, N)
    tol = TOLERANCE * utility_scale(salience)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.maximum(budget, 0.0) / sal
        radius = np.sqrt(ratio) if exponent == 2 else ratio
    # A budget a hair below 0 (rounding) is an interval of one point, as in the solver.
    has_interval = (sal > 0) & (budget >= -tol)
    lo = np.where(has_interval, np.clip(theta - radius, 0.0, 1.0), np.nan)
    hi = np.where(has_interval, np.clip(theta + radius, 0.0, 1.0), np.nan)
    own = theta[rows, proposer]
    # The proposer's ideal, every interval end, and the status quo (the target
    # of a proposer indifferent about the issue).
    cand = np.concatenate([own[:, None], lo, hi, quo_k[:, None]], axis=1)  # (m, 2N + 2)
    cap = _budget_cap(k, tables, status_quo)
    if cap is not None:
        # The most the budget leaves the issue is one more candidate (an end of
        # the feasible set).
        cand = np.concatenate([cand, np.clip(cap, 0.0, 1.0)[:, None]], axis=1)
    valid = ~np.isnan(cand)
    safe = np.where(valid, cand, 0.0)
    # Believed acceptance of every actor at every candidate (m, C, N).
    cost = sal[:, None, :] * _loss(safe[:, :, None] - theta[:, None, :], exponent)
    accepted = cost <= budget[:, None, :] + tol[:, None, :]
    met = issue_rule_met(tables.rules, accepted, k)
    own_ok = accepted[rows, :, proposer]
    valid &= met & own_ok
    if cap is not None:
        valid &= safe <= cap[:, None] + BUDGET_TOL
    own_sal = sal[rows, proposer]
    anchor = np.where(own_sal > 0, own, quo_k)
    distance = np.where(valid, np.abs(safe - anchor[:, None]), np.inf)
    pick = np.argmin(distance, axis=1)
    feasible = valid[rows, pick]
    package = status_quo.copy()
    package[:, k] = np.where(feasible, safe[rows, pick], quo_k)
    return package, feasible


def _budget_cap(k: int, tables: BargainingTables, status_quo: FloatArray) -> FloatArray | None:
    """The most issue ``k`` may take, the rest where it is ``(m,)``; ``None`` outside budgets."""
    if tables.budgets.shape[0] == 0:
        return None
    inside = np.flatnonzero(tables.budgets[:, k])
    if inside.size == 0:
        return None
    b = int(inside[0])
    others = np.where(np.arange(status_quo.shape[1]) == k, 0.0, status_quo)
    cap: FloatArray = tables.totals[b] - budget_sums(others, tables.budgets[b : b + 1])[:, 0]
    return cap


def _several_issues(
    subset: BoolArray,
    tables: BargainingTables,
    proposer: NDArray[np.intp],
    stances: FloatArray,
    salience: FloatArray,
    status_quo: FloatArray,
    target: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray, FloatArray, BoolArray]:
    """Best package settling the issues of ``subset`` together (see the module docstring).

    Returns the package ``(m, K)``, whether one was found ``(m,)``, every
    coalition's package ``(m, C, K)`` and which of them are worth as much to
    the proposer as the best, within the tolerance ``(m, C)``.
    """
    m, _, n_iss = stances.shape
    rows = np.arange(m)
    rules = tables.rules
    forced: BoolArray = np.asarray(rules.forced[:, subset].any(axis=1))
    optional: BoolArray = np.asarray(rules.optional[:, subset].any(axis=1)) & ~forced
    theta_j = stances[rows, proposer]
    sal_j = salience[rows, proposer]
    free = np.broadcast_to(subset, (m, n_iss))
    if int(optional.sum()) <= MAX_ENUMERATED_VOTERS:
        coalitions, valid = _minimal_winning(subset, tables, proposer)
    else:
        coalitions, valid = _cheapest_first(
            subset,
            tables,
            proposer,
            stances,
            salience,
            status_quo,
            target,
            forced,
            optional,
            exponent,
        )
    package = status_quo.copy()
    feasible = np.zeros(m, dtype=bool)
    best = np.full(m, -np.inf)
    n_coal = coalitions.shape[1]
    each = np.repeat(status_quo[:, None, :], n_coal, axis=1)
    each_gain = np.full((m, n_coal), -np.inf)
    for c in range(n_coal):
        part = np.flatnonzero(valid[:, c])
        if part.size == 0:
            continue
        active = coalitions[part, c].copy()
        active[np.arange(part.size), proposer[part]] = False
        x, ok = _solve(
            theta_j[part],
            sal_j[part],
            stances[part],
            salience[part],
            target[part],
            active,
            free[part],
            status_quo[part],
            exponent,
            tables,
        )
        gain = utility(theta_j[part], sal_j[part], x, exponent=exponent)
        each[part[ok], c] = x[ok]
        each_gain[part[ok], c] = gain[ok]
        better = ok & (gain > best[part])
        chosen = part[better]
        package[chosen] = x[better]
        best[chosen] = gain[better]
        feasible[chosen] = True
    # Coalitions whose package is worth as much to the proposer, within the tolerance.
    tol_j = TOLERANCE * utility_scale(sal_j[:, None, :])[:, 0]
    tied = feasible[:, None] & (each_gain >= best[:, None] - tol_j[:, None])
    return np.where(feasible[:, None], package, status_quo), feasible, each, tied


def _minimal_winning(
    subset: BoolArray, tables: BargainingTables, proposer: NDArray[np.intp]
) -> tuple[BoolArray, BoolArray]:
    """Every minimal winning coalition of each row ``((m, C, N), valid (m, C))``.

    A coalition holds the actors the rules always need, the proposer, and a
    subset of the optional voters; it is winning if it meets the rule of
    every issue in ``subset`` and minimal if no optional member can leave it.
    Adding an actor only adds a constraint, so the proposer's best package is
    reached with a minimal winning coalition: trying them all is exact.
    """
    m = proposer.shape[0]
    n_act = tables.rules.voters.shape[0]
    per_proposer = {
        int(j): _minimal_winning_of(tables, subset.tobytes(), int(j)) for j in np.unique(proposer)
    }
    width = max(1, max(c.shape[0] for c in per_proposer.values()))
    coalitions = np.zeros((m, width, n_act), dtype=bool)
    valid = np.zeros((m, width), dtype=bool)
    for j, coal in per_proposer.items():
        rows = np.flatnonzero(proposer == j)
        coalitions[rows, : coal.shape[0]] = coal
        valid[rows, : coal.shape[0]] = True
    return coalitions, valid


def _minimal_winning_of(tables: BargainingTables, subset_key: bytes, j: int) -> BoolArray:
    """The minimal winning coalitions ``(C, N)`` of proposer ``j`` for an issue set (cached)."""
    key = (subset_key, j)
    cached = tables.coalitions.get(key)
    if cached is not None:
        return cached
    rules = tables.rules
    subset = np.frombuffer(subset_key, dtype=bool)
    forced = rules.forced[:, subset].any(axis=1)
    optional = rules.optional[:, subset].any(axis=1) & ~forced
    n_act = forced.shape[0]
    members = np.flatnonzero(optional)
    choices = np.array(
        [[(mask >> b) & 1 for b in range(members.size)] for mask in range(1 << members.size)],
        dtype=bool,
    ).reshape(1 << members.size, members.size)
    keep = ~choices[:, members == j].any(axis=1)
    picks = choices[keep]
    coal = np.zeros((picks.shape[0], n_act), dtype=bool)
    coal[:, members] = picks
    coal |= forced
    coal[:, j] = True
    minimal = rule_met(rules, coal)[:, subset].all(axis=1)
    for b, v in enumerate(members):
        if v == j:
            continue
        without = coal.copy()
        without[:, v] = False
        minimal &= ~(picks[:, b] & rule_met(rules, without)[:, subset].all(axis=1))
    result: BoolArray = coal[minimal]
    result.setflags(write=False)
    tables.coalitions[key] = result
    return result


def _cheapest_first(
    subset: BoolArray,
    tables: BargainingTables,
    proposer: NDArray[np.intp],
    stances: FloatArray,
    salience: FloatArray,
    status_quo: FloatArray,
    target: FloatArray,
    forced: BoolArray,
    optional: BoolArray,
    exponent: int,
) -> tuple[BoolArray, BoolArray]:
    """One coalition per row: optional voters join cheapest first until every rule is met."""
    m, n_act, _ = stances.shape
    rows = np.arange(m)
    theta_j = stances[rows, proposer]
    ideal = np.where(subset, theta_j, status_quo)
    u_ideal = utility(stances, salience, ideal[:, None, :], exponent=exponent)
    shortfall = np.maximum(target - u_ideal, 0.0) / utility_scale(salience)
    shortfall = np.where(optional[None, :], shortfall, np.inf)
    order = np.argsort(shortfall, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[rows[:, None], order] = np.arange(n_act)[None, :]
    n_opt = int(optional.sum())
    # The coalition of each prefix length p = 0..n_opt of the cheapest-first order.
    lengths = np.arange(n_opt + 1)[None, :, None]
    prefixes = forced[None, None, :] | (optional[None, None, :] & (rank[:, None, :] < lengths))
    prefixes[rows, :, proposer] = True
    met: BoolArray = np.asarray(rule_met(tables.rules, prefixes)[:, :, subset].all(axis=2))
    first = np.argmax(met, axis=1)
    return prefixes[rows, first][:, None, :], met[rows, first][:, None]


def _solve(
    theta_j: FloatArray,
    sal_j: FloatArray,
    stances: FloatArray,
    salience: FloatArray,
    target: FloatArray,
    active: BoolArray,
    free: BoolArray,
    status_quo: FloatArray,
    exponent: int,
    tables: BargainingTables,
) -> tuple[FloatArray, BoolArray]:
    """The proposer's problem with the ``active`` constraints, directly or by cuts.

    With linear losses, a linear programme per row with every constraint and
    the budgets (:func:`basesim.engine.linear.solve_linear_package`: exact).
    Otherwise which method a row gets depends on that row's number of
    constraints only, so a run's result does not depend on the other runs of
    its batch.
    """
    if exponent == 1:
        return solve_linear_package(
            theta_j,
            sal_j,
            stances,
            salience,
            target,
            active,
            free,
            status_quo,
            members=tables.budgets.reshape(-1, status_quo.shape[1]),
            totals=tables.totals,
        )
    few = active.sum(axis=1) <= MAX_DIRECT_CONSTRAINTS
    package = np.empty_like(status_quo)
    feasible = np.zeros(active.shape[0], dtype=bool)
    for rows, solver in ((np.flatnonzero(few), "direct"), (np.flatnonzero(~few), "cuts")):
        if rows.size == 0:
            continue
        args = (
            theta_j[rows],
            sal_j[rows],
            stances[rows],
            salience[rows],
            target[rows],
            active[rows],
            free[rows],
            status_quo[rows],
        )
        if solver == "direct":
            package[rows], feasible[rows] = solve_package(*args, exponent=exponent)
        else:
            package[rows], feasible[rows] = _solve_by_cuts(*args, exponent)
    return package, feasible


def _solve_by_cuts(
    theta_j: FloatArray,
    sal_j: FloatArray,
    stances: FloatArray,
    salience: FloatArray,
    target: FloatArray,
    active: BoolArray,
    free: BoolArray,
    status_quo: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray]:
    """The proposer's problem with many constraints, by adding violated constraints one at a time.

    Start from the proposer's ideal; while some active constraint is violated,
    add the most violated one (relative to its actor's utility scale) to the
    row's working set and solve the problem with the working set only.  A
    relaxation's optimum that meets every constraint is the optimum of the
    whole problem, and an infeasible relaxation means an infeasible problem,
    so the answer is exact whenever it stops within
    :data:`MAX_CUT_CONSTRAINTS` constraints; a row still violating a
    constraint then is treated as infeasible (no offer).  Each solve has at
    most :data:`MAX_CUT_CONSTRAINTS` constraints, so the cost is polynomial in
    the number of actors.
    """
    m = stances.shape[0]
    rows = np.arange(m)
    scale = utility_scale(salience)
    tol = TOLERANCE * scale
    package = np.where(free, theta_j, status_quo)
    slots = np.zeros((m, MAX_CUT_CONSTRAINTS), dtype=np.intp)
    failed = np.zeros(m, dtype=bool)
    for size in range(1, MAX_CUT_CONSTRAINTS + 1):
        value = utility(stances, salience, package[:, None, :], exponent=exponent)
        violation = np.where(active, (target - value) / scale, -np.inf)
        worst = np.argmax(violation, axis=1)
        open_rows = np.flatnonzero(
            ~failed & (violation[rows, worst] > tol[rows, worst] / scale[rows, worst])
        )
        if open_rows.size == 0:
            break
        slots[open_rows, size - 1] = worst[open_rows]
        chosen = slots[open_rows, :size]
        pick = open_rows[:, None]
        x, ok = solve_package(
            theta_j[open_rows],
            sal_j[open_rows],
            stances[pick, chosen],
            salience[pick, chosen],
            target[pick, chosen],
            np.ones((open_rows.size, size), dtype=bool),
            free[open_rows],
            status_quo[open_rows],
            exponent=exponent,
        )
        package[open_rows] = x
        failed[open_rows] |= ~ok
    value = utility(stances, salience, package[:, None, :], exponent=exponent)
    feasible = ~failed & ((value >= target - tol) | ~active).all(axis=1)
    return package, feasible


def _pass_probability(
    subset: BoolArray,
    tables: BargainingTables,
    proposer: NDArray[np.intp],
    value: FloatArray,
    believed: FloatArray,
    spread: FloatArray,
    tol: FloatArray,
) -> FloatArray:
    """The proposer's belief that a package settling ``subset`` passes ``(m,)``.

    Actor ``v`` accepts with probability ``Phi((u_v(x) - b_v) / spread_v)``
    (a certainty where the spread is 0).  Actors every rule of ``subset``
    needs must all accept; for each qualified or majority issue the accepted
    votes (and heads) are taken as normal with the matching mean and variance.
    """
    m, n_act = value.shape
    rows = np.arange(m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        z = (value - believed) / spread
    p = np.where(spread > 0, ndtr(np.where(spread > 0, z, 0.0)), value >= believed - tol)
    p[rows, proposer] = 1.0
    rules = tables.rules
    forced = rules.forced[:, subset].any(axis=1)
    prob = np.ones(m)
    for v in np.flatnonzero(forced):
        prob = prob * p[:, v]
    for k in np.flatnonzero(subset):
        if rules.code[k] not in (RULE_CODES["qualified"], RULE_CODES["majority"]):
            continue
        parts = [(rules.votes[:, k], float(rules.threshold[k] * rules.total_votes[k]))]
        if rules.code[k] == RULE_CODES["majority"]:
            parts = [(rules.votes[:, k], float(0.5 * rules.total_votes[k]))]
        if rules.min_voter_share[k] > 0:
            heads = rules.voters[:, k].astype(np.float64)
            parts.append((heads, float(rules.min_voter_share[k] * rules.n_voters[k])))
        for weight, need in parts:
            mean: FloatArray = np.zeros(m)
            var: FloatArray = np.zeros(m)
            for w in range(n_act):
                mean += weight[w] * p[:, w]
                var += weight[w] * weight[w] * p[:, w] * (1.0 - p[:, w])
            slack = mean - need
            with np.errstate(divide="ignore", invalid="ignore"):
                normal = ndtr(slack / np.sqrt(var))
            prob = prob * np.where(var > 0, normal, slack >= -1e-12 * max(need, 1.0))
    return prob


def best_packages(
    tables: BargainingTables,
    params: RunParameters,
    *,
    proposer: NDArray[np.intp],
    stances: FloatArray,
    status_quo: FloatArray,
    open_: BoolArray,
    believed: FloatArray,
    spread: FloatArray,
    own_reservation: FloatArray,
    own_disagreement: FloatArray,
    exponent: int,
) -> Choice:
    """Each row's proposal: the package with the largest expected gain for the proposer.

    Parameters
    ----------
    tables
        The protocol's tables (decision rules, candidate issue sets).
    params
        The runs' parameters (saliences are read from it).
    proposer
        ``(n,)`` the proposer of each run.
    stances, status_quo, open_
        ``(n, N, K)``, ``(n, K)``, ``(n, K)``: the month's state.
    believed, spread
        ``(n, N)``: the proposer's estimate of each reservation value and the
        standard deviation of its error (0 for itself, and for a proposer
        without perception noise).
    own_reservation, own_disagreement
        ``(n,)``: the proposer's true reservation and disagreement values.
    exponent
        The utility's loss exponent.

    Returns
    -------
    Choice
        A package is offered only if it is worth at least the proposer's
        reservation value and more than its disagreement value.
    """
    n, n_iss = stances.shape[0], stances.shape[2]
    rows = np.arange(n)
    salience = params.salience
    theta_j = stances[rows, proposer]
    sal_j = salience[rows, proposer]
    tol_all = TOLERANCE * utility_scale(salience)
    tol_j = tol_all[rows, proposer]
    package = status_quo.copy()
    settles = np.zeros((n, n_iss), dtype=bool)
    offered = np.zeros(n, dtype=bool)
    best = np.full(n, -np.inf)
    noisy: BoolArray = np.asarray((spread > 0).any(axis=1))
    budgets = tables.budgets.reshape(-1, n_iss)
    candidates = [
        (
            subset,
            np.flatnonzero((open_ | ~subset).all(axis=1) & _whole_budgets(subset, open_, budgets)),
        )
        for subset in tables.subsets
    ]
    if n_iss > MAX_EXHAUSTIVE_ISSUES:
        # Each budget's open issues together (where other issues are open too),
        # then all the issues still open: one candidate per pattern of open issues.
        groups = [(open_ & budget, (open_ & ~budget).any(axis=1)) for budget in budgets]
        groups.append((open_, np.ones(n, dtype=bool)))
        for members, needed in groups:
            several = np.flatnonzero((members.sum(axis=1) >= 2) & needed)
            patterns, which = np.unique(members[several], axis=0, return_inverse=True)
            for p, pattern in enumerate(patterns):
                rows_p = several[which.ravel() == p]
                rows_p = rows_p[_whole_budgets(pattern, open_[rows_p], budgets)]
                candidates.append((pattern, rows_p))
    alternatives = package[:, None, :].copy()
    tied = np.zeros((n, 1), dtype=bool)
    for subset, eligible in candidates:
        if eligible.size == 0:
            continue
        for margin in MARGINS:
            part = eligible if margin == 0.0 else eligible[noisy[eligible]]
            if part.size == 0:
                continue
            who = proposer[part]
            local = np.arange(part.size)
            target = believed[part] + margin * spread[part]
            target[local, who] = own_reservation[part]
            if subset.sum() == 1:
                x, feasible = _one_issue(
                    int(np.flatnonzero(subset)[0]),
                    tables,
                    who,
                    stances[part],
                    salience[part],
                    status_quo[part],
                    target,
                    exponent,
                )
                each, each_tied = x[:, None, :], feasible[:, None]
            else:
                x, feasible, each, each_tied = _several_issues(
                    subset,
                    tables,
                    who,
                    stances[part],
                    salience[part],
                    status_quo[part],
                    target,
                    exponent,
                )
            gain = utility(theta_j[part], sal_j[part], x, exponent=exponent)
            value = utility(stances[part], salience[part], x[:, None, :], exponent=exponent)
            prob = _pass_probability(
                subset, tables, who, value, believed[part], spread[part], tol_all[part]
            )
            expected = prob * (gain - own_reservation[part])
            valid = (
                feasible
                & (gain >= own_reservation[part] - tol_j[part])
                & (gain > own_disagreement[part] + tol_j[part])
                & (prob > 0)
            )
            # Ties (within the tolerance) go to the earlier, smaller set of issues: a
            # proposer does not settle an issue it gains nothing from.
            better = valid & (expected > best[part] + tol_j[part])
            chosen = part[better]
            package[chosen] = x[better]
            settles[chosen] = subset
            offered[chosen] = True
            best[chosen] = expected[better]
            width = each.shape[1]
            if width > alternatives.shape[1]:
                grow = width - alternatives.shape[1]
                alternatives = np.concatenate(
                    [alternatives, np.repeat(status_quo[:, None, :], grow, axis=1)], axis=1
                )
                tied = np.concatenate([tied, np.zeros((n, grow), dtype=bool)], axis=1)
            tied[chosen] = False
            alternatives[chosen, :width] = each[better]
            tied[chosen, :width] = each_tied[better]
    return Choice(
        package=package,
        settles=settles,
        offered=offered,
        expected_gain=best,
        alternatives=alternatives,
        tied=tied & offered[:, None],
    )


def _whole_budgets(subset: BoolArray, open_: BoolArray, budgets: BoolArray) -> BoolArray:
    """Rows ``(m,)`` where ``subset`` holds every open issue of each budget it touches.

    A budget is divided in one package: a proposal that settles an open issue
    of a budget settles all of the budget's open issues (those it leaves
    where they are at their status quo).
    """
    whole = np.ones(open_.shape[0], dtype=bool)
    for budget in budgets:
        if (subset & budget).any():
            whole &= ~(open_ & budget & ~subset).any(axis=1)
    return whole
