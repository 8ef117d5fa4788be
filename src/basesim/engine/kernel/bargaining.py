"""The month of :mod:`basesim.protocols.bargaining`, compiled and per run.

:func:`play_month` plays one month of every run of a batch, in parallel over
chunks of runs (:mod:`basesim.engine.kernel.threads`), each run by scalar
loops over its actors and issues.
It is the same month as :func:`basesim.protocols.bargaining.play_round`, step
for step and operation for operation (sums over actors and issues in the same
order, the same tolerances, the same tie-breaks), so the two agree run by
run; the NumPy functions stay as the readable reference, and the test suite
compares both on the bundled scenarios and on generated ones.

A run's numbers depend on that run's inputs only: a run is computed by one
thread from its own rows, so results do not depend on the batch size, the
number of threads or the order in which threads take runs.

What is not compiled (the linear programme of the multi-issue proposer's
problem with linear losses, ``utility_exponent = 1`` with two or more
issues) is played by the NumPy reference; :func:`supported` says which.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from basesim.engine.kernel.solver import (
    _compiled,
    ndtr,
    proposer_workspace,
    solve_proposer_row_with,
    utility_row,
)
from basesim.engine.kernel.threads import run_pieces

__all__ = ["MAX_OPTIONAL", "minimal_winning", "play_month", "supported"]

#: Relative acceptance tolerance (``basesim.protocols.proposer.TOLERANCE``).
_TOL = 1e-9
#: Budget tolerance (``basesim.engine.linear.BUDGET_TOL``).
_BUDGET_TOL = 1e-9
#: Tolerance on vote shares (``basesim.protocols.rules._SHARE_TOL``).
_SHARE_TOL = 1e-12
#: Up to this many optional voters every minimal winning coalition is tried
#: (``basesim.protocols.proposer.MAX_ENUMERATED_VOTERS``).
MAX_OPTIONAL = 8
#: Up to this many issues every subset of open issues is tried
#: (``basesim.protocols.proposer.MAX_EXHAUSTIVE_ISSUES``).
_MAX_EXHAUSTIVE = 4
#: Rule codes (``basesim.protocols.rules.RULE_CODES``).
_UNANIMITY, _QUALIFIED, _MAJORITY, _UNILATERAL = 0, 1, 2, 3
#: The proposer's safety margins (``basesim.protocols.proposer.MARGINS``).
_MARGINS = (0.0, 1.0, 2.0)
#: Reservation form codes (``basesim.protocols.bargaining``).
_EQUILIBRIUM = 1

#: The functions of a run: compiled without reference counting, they allocate
#: nothing (every scratch array comes from a workspace made per chunk of runs),
#: so passing and slicing arrays costs no atomic operations.
_inner = _compiled(allocates=False)
_allocating = _compiled(allocates=True)


def supported(exponent: int, n_issues: int) -> bool:
    """Whether the compiled month covers a scenario (else the NumPy reference plays it).

    Everything is compiled except the multi-issue proposer's problem with
    linear losses (a linear programme per run).
    """
    return exponent == 2 or n_issues == 1


# -- small helpers ---------------------------------------------------------------------
@_inner
def _scale(sal_v: Any) -> float:
    """An actor's utility scale: the sum of its saliences in issue order, at least 1."""
    total = sal_v[0]
    for k in range(1, sal_v.shape[0]):
        total += sal_v[k]
    return float(max(total, 1.0))


@_inner
def _loss(diff: float, exponent: int) -> float:
    if exponent == 2:
        return diff * diff
    return abs(diff)


@_inner
def issue_met(rules: Any, accepted: Any, k: int) -> bool:
    """Whether issue ``k``'s rule is met by the actors who accept ``(N,)``."""
    code, voters, votes, total_votes, n_voters, threshold, min_share, authority = rules[:8]
    c = code[k]
    n_act = accepted.shape[0]
    if c == _UNILATERAL:
        return bool(accepted[authority[k]])
    if c == _UNANIMITY:
        for v in range(n_act):
            if voters[v, k] and not accepted[v]:
                return False
        return True
    got = 0.0
    heads = 0.0
    for v in range(n_act):
        if voters[v, k]:
            if accepted[v]:
                got += votes[v, k]
                heads += 1.0
            else:
                got += 0.0
    total = total_votes[k]
    share = got / total if total > 0 else 0.0
    if c == _MAJORITY:
        return share > 0.5 + _SHARE_TOL
    head_share = heads / max(n_voters[k], 1)
    return bool(share >= threshold[k] - _SHARE_TOL) and bool(
        head_share >= min_share[k] - _SHARE_TOL
    )


@_inner
def _subset_met(rules: Any, accepted: Any, subset: Any) -> bool:
    """Whether the rule of every issue in ``subset`` is met."""
    for k in range(subset.shape[0]):
        if subset[k] and not issue_met(rules, accepted, k):
            return False
    return True


@_inner
def _minimal_winning_into(
    rules: Any, subset: Any, j: int, out: Any, members: Any, coal: Any, forced: Any, optional: Any
) -> int:
    """Proposer ``j``'s minimal winning coalitions for ``subset``, written to ``out``; their number.

    The same coalitions in the same order as
    ``basesim.protocols.proposer._minimal_winning_of``: the actors the rules
    always need, ``j``, and each subset of the optional voters (by bit mask,
    in increasing order) that meets every rule of ``subset`` and from which no
    optional member can leave.  ``members``, ``coal``, ``forced`` and
    ``optional`` are scratch arrays ``(N,)``.
    """
    forced_all, optional_all = rules[8], rules[9]
    n_act, n_iss = forced_all.shape
    m = 0
    for v in range(n_act):
        forced[v] = False
        optional[v] = False
        for k in range(n_iss):
            if subset[k]:
                forced[v] |= forced_all[v, k]
                optional[v] |= optional_all[v, k]
        optional[v] &= not forced[v]
        if optional[v]:
            members[m] = v
            m += 1
    count = 0
    for mask in range(1 << m):
        skip = False
        for b in range(m):
            if members[b] == j and (mask >> b) & 1:
                skip = True
        if skip:
            continue
        for v in range(n_act):
            coal[v] = forced[v]
        for b in range(m):
            if (mask >> b) & 1:
                coal[members[b]] = True
        coal[j] = True
        if not _subset_met(rules, coal, subset):
            continue
        minimal = True
        for b in range(m):
            v = members[b]
            if v == j or not (mask >> b) & 1:
                continue
            coal[v] = False
            if _subset_met(rules, coal, subset):
                minimal = False
            coal[v] = True
            if not minimal:
                break
        if minimal:
            for v in range(n_act):
                out[count, v] = coal[v]
            count += 1
    return count


@_allocating
def minimal_winning(rules: Any, subset: Any, j: int) -> Any:
    """Proposer ``j``'s minimal winning coalitions ``(C, N)`` for the issues of ``subset``.

    At most :data:`MAX_OPTIONAL` optional voters (``2**MAX_OPTIONAL`` masks).
    """
    n_act = rules[8].shape[0]
    out = np.zeros((1 << min(_n_optional(rules, subset), MAX_OPTIONAL), n_act), dtype=np.bool_)
    members = np.zeros(n_act, dtype=np.int64)
    scratch = np.zeros((3, n_act), dtype=np.bool_)
    count = _minimal_winning_into(
        rules, subset, j, out, members, scratch[0], scratch[1], scratch[2]
    )
    return out[:count].copy()


@_inner
def _recognition_weights(
    month: int, rotation: Any, can_propose: Any, capability: Any, out: Any
) -> None:
    """Each actor's chance of proposing in ``month`` (``recognition_weights``)."""
    n_act = out.shape[0]
    if rotation.shape[0] > 0:
        for v in range(n_act):
            out[v] = 0.0
        out[rotation[(month - 1) % rotation.shape[0]]] = 1.0
        return
    top = -np.inf
    for v in range(n_act):
        w = capability[v] if can_propose[v] else 0.0
        out[v] = w
        top = max(top, w)
    for v in range(n_act):
        out[v] = out[v] / top
    total = out[0]
    for v in range(1, n_act):
        total += out[v]
    for v in range(n_act):
        out[v] = out[v] / total


@_inner
def _recognise(weights: Any, draw: float) -> int:
    """The proposer: the first actor whose cumulative weight exceeds the draw."""
    n_act = weights.shape[0]
    proposer = 0
    cumulative = 0.0
    last = 0
    for v in range(n_act):
        if weights[v] > 0:
            last = v
        cumulative = cumulative + weights[v]
        if draw >= cumulative and v < n_act - 1:
            proposer += 1
    proposer = min(proposer, n_act - 1)
    return proposer if weights[proposer] > 0 else last


@_inner
def _influence(
    stances: Any, position: Any, weights: Any, anchoring: Any, influenced: Any, out: Any
) -> None:
    """Stances ``(N, K)`` after one month of influence, written to ``out``."""
    n_act, n_iss = stances.shape
    for a in range(n_act):
        if not influenced[a]:
            for k in range(n_iss):
                out[a, k] = stances[a, k]
            continue
        own = weights[a, 0]
        for b in range(1, n_act):
            own += weights[a, b]
        keep = 1.0 - own
        for k in range(n_iss):
            m0 = keep if a == 0 else weights[a, 0]
            pulled = m0 * stances[0, k]
            for b in range(1, n_act):
                mb = keep if a == b else weights[a, b]
                pulled = pulled + mb * stances[b, k]
            out[a, k] = (1.0 - anchoring[a]) * pulled + anchoring[a] * position[a, k]


@_inner
def _drift(status_quo: Any, breakdown: Any, drift: Any, open_: Any, out: Any) -> None:
    """The status quo ``(K,)`` one month on, written to ``out``."""
    for k in range(out.shape[0]):
        if open_[k]:
            out[k] = breakdown[k] + (status_quo[k] - breakdown[k]) * (1.0 - drift[k])
        else:
            out[k] = status_quo[k]


@_inner
def _disagreement(
    stances: Any, salience: Any, status_quo: Any, given: Any, exponent: int, out: Any
) -> None:
    for v in range(out.shape[0]):
        value = utility_row(stances[v], salience[v], status_quo, exponent)
        out[v] = value if math.isnan(given[v]) else given[v]


@_inner
def _accepts(
    stances: Any, salience: Any, package: Any, reservation: Any, exponent: int, out: Any
) -> None:
    for v in range(out.shape[0]):
        value = utility_row(stances[v], salience[v], package, exponent)
        out[v] = value >= reservation[v] - _TOL * _scale(salience[v])


# -- the proposer's problem ---------------------------------------------------------------
@_inner
def _budget_cap(k: int, budgets: Any, totals: Any, status_quo: Any) -> float:
    """The most issue ``k`` may take (NaN outside budgets): ``_budget_cap``."""
    for b in range(budgets.shape[0]):
        if budgets[b, k]:
            total = 0.0
            for kk in range(status_quo.shape[0]):
                value = 0.0 if kk == k else status_quo[kk]
                total = total + (value if budgets[b, kk] else 0.0)
            return float(totals[b] - total)
    return np.nan


@_inner
def _one_issue(
    k: int,
    rules: Any,
    budgets: Any,
    totals: Any,
    j: int,
    stances: Any,
    salience: Any,
    status_quo: Any,
    target: Any,
    exponent: int,
    out: Any,
    scratch: Any,
) -> bool:
    """The exact best value of issue ``k`` (``_one_issue_rows``); writes ``out`` ``(K,)``."""
    budget, tol, cand, accepted = scratch
    n_act = stances.shape[0]
    quo_k = status_quo[k]
    n_cand = 2 * n_act + 2
    cap = _budget_cap(k, budgets, totals, status_quo)
    has_cap = not math.isnan(cap)
    for v in range(n_act):
        sal = salience[v, k]
        u_quo = utility_row(stances[v], salience[v], status_quo, exponent)
        budget[v] = u_quo + sal * _loss(quo_k - stances[v, k], exponent) - target[v]
        tol[v] = _TOL * _scale(salience[v])
        if sal > 0 and budget[v] >= -tol[v]:
            ratio = max(budget[v], 0.0) / sal
            radius = math.sqrt(ratio) if exponent == 2 else ratio
            cand[1 + v] = min(max(stances[v, k] - radius, 0.0), 1.0)
            cand[1 + n_act + v] = min(max(stances[v, k] + radius, 0.0), 1.0)
        else:
            cand[1 + v] = np.nan
            cand[1 + n_act + v] = np.nan
    own = stances[j, k]
    cand[0] = own
    cand[n_cand - 1] = quo_k
    if has_cap:
        cand[n_cand] = min(max(cap, 0.0), 1.0)
        n_cand += 1
    anchor = own if salience[j, k] > 0 else quo_k
    best = np.inf
    pick = -1
    for c in range(n_cand):
        if math.isnan(cand[c]):
            continue
        x = cand[c]
        for v in range(n_act):
            cost = salience[v, k] * _loss(x - stances[v, k], exponent)
            accepted[v] = cost <= budget[v] + tol[v]
        if not accepted[j] or not issue_met(rules, accepted, k):
            continue
        if has_cap and not x <= cap + _BUDGET_TOL:
            continue
        distance = abs(x - anchor)
        if distance < best:
            best = distance
            pick = c
    for kk in range(status_quo.shape[0]):
        out[kk] = status_quo[kk]
    if pick < 0:
        return False
    out[k] = cand[pick]
    return True


@_inner
def _cheapest_first(
    rules: Any,
    subset: Any,
    j: int,
    stances: Any,
    salience: Any,
    status_quo: Any,
    target: Any,
    forced: Any,
    optional: Any,
    exponent: int,
    coalition: Any,
    ideal: Any,
    shortfall: Any,
    rank: Any,
) -> bool:
    """One coalition: optional voters join cheapest first until every rule is met."""
    n_act, n_iss = stances.shape
    for k in range(n_iss):
        ideal[k] = stances[j, k] if subset[k] else status_quo[k]
    n_opt = 0
    for v in range(n_act):
        if optional[v]:
            u_ideal = utility_row(stances[v], salience[v], ideal, exponent)
            shortfall[v] = max(target[v] - u_ideal, 0.0) / _scale(salience[v])
            n_opt += 1
        else:
            shortfall[v] = np.inf
    # Each actor's place in the stable order of shortfalls.
    for v in range(n_act):
        place = 0
        for u in range(n_act):
            if shortfall[u] < shortfall[v] or (shortfall[u] == shortfall[v] and u < v):
                place += 1
        rank[v] = place
    for length in range(n_opt + 1):
        for v in range(n_act):
            coalition[v] = forced[v] or (optional[v] and rank[v] < length)
        coalition[j] = True
        if _subset_met(rules, coalition, subset):
            return True
    # No prefix wins: the first one (``argmax`` of an all-false row), not winning.
    for v in range(n_act):
        coalition[v] = forced[v] or (optional[v] and rank[v] < 0)
    coalition[j] = True
    return False


@_inner
def _several_issues(
    rules: Any,
    subset: Any,
    coalitions: Any,
    n_coalitions: int,
    j: int,
    stances: Any,
    salience: Any,
    status_quo: Any,
    target: Any,
    exponent: int,
    out: Any,
    each: Any,
    each_tied: Any,
    scratch: Any,
) -> tuple[bool, int]:
    """The best package settling ``subset`` together (``_several_issues``).

    ``coalitions`` ``(C, N)`` are the minimal winning coalitions (the first
    ``n_coalitions`` rows) or, with ``n_coalitions < 0``, the optional voters
    join cheapest first.  Writes the package to ``out``, every coalition's
    package to ``each`` and whether it ties with the best to ``each_tied``;
    returns ``(feasible, number of coalitions)``.
    """
    n_act, n_iss = stances.shape
    (forced, optional, active, x, each_gain, chosen, ideal, shortfall, rank, _dynamic,
     solver_space) = scratch  # fmt: skip
    forced_all, optional_all = rules[8], rules[9]
    for v in range(n_act):
        forced[v] = False
        optional[v] = False
        for k in range(n_iss):
            if subset[k]:
                forced[v] |= forced_all[v, k]
                optional[v] |= optional_all[v, k]
        optional[v] &= not forced[v]
    if n_coalitions < 0:
        winning = _cheapest_first(
            rules, subset, j, stances, salience, status_quo, target, forced, optional,
            exponent, chosen[0], ideal, shortfall, rank,
        )  # fmt: skip
        table = chosen
        n_coal = 1
        valid_all = winning
    else:
        table = coalitions
        n_coal = n_coalitions
        valid_all = True
    theta_j = stances[j]
    sal_j = salience[j]
    best = -np.inf
    feasible = False
    for k in range(n_iss):
        out[k] = status_quo[k]
    for c in range(n_coal):
        for k in range(n_iss):
            each[c, k] = status_quo[k]
        each_gain[c] = -np.inf
        if not valid_all:
            continue
        for v in range(n_act):
            active[v] = table[c, v]
        active[j] = False
        ok = solve_proposer_row_with(
            theta_j, sal_j, stances, salience, target, active, subset, status_quo, exponent, x,
            solver_space,
        )  # fmt: skip
        if not ok:
            continue
        gain = utility_row(theta_j, sal_j, x, exponent)
        for k in range(n_iss):
            each[c, k] = x[k]
        each_gain[c] = gain
        if gain > best:
            best = gain
            feasible = True
            for k in range(n_iss):
                out[k] = x[k]
    tol_j = _TOL * _scale(sal_j)
    for c in range(n_coal):
        each_tied[c] = feasible and each_gain[c] >= best - tol_j
    if not feasible:
        for k in range(n_iss):
            out[k] = status_quo[k]
    return feasible, n_coal


@_inner
def _pass_probability(
    rules: Any,
    subset: Any,
    j: int,
    value: Any,
    believed: Any,
    spread: Any,
    tol: Any,
    p: Any,
) -> float:
    """The proposer's belief that a package settling ``subset`` passes (``_pass_probability``)."""
    code, voters, votes, total_votes, n_voters, threshold, min_share = rules[:7]
    forced_all = rules[8]
    n_act, n_iss = forced_all.shape
    for v in range(n_act):
        if spread[v] > 0:
            p[v] = ndtr((value[v] - believed[v]) / spread[v])
        else:
            p[v] = 1.0 if value[v] >= believed[v] - tol[v] else 0.0
    p[j] = 1.0
    prob = 1.0
    for v in range(n_act):
        forced = False
        for k in range(n_iss):
            if subset[k] and forced_all[v, k]:
                forced = True
        if forced:
            prob = prob * p[v]
    for k in range(n_iss):
        if not subset[k] or (code[k] != _QUALIFIED and code[k] != _MAJORITY):
            continue
        for part in range(2):
            if part == 0:
                if code[k] == _MAJORITY:
                    need = 0.5 * total_votes[k]
                else:
                    need = threshold[k] * total_votes[k]
            else:
                if min_share[k] <= 0:
                    continue
                need = min_share[k] * n_voters[k]
            mean = 0.0
            var = 0.0
            for w in range(n_act):
                if part == 0:
                    weight = votes[w, k]
                else:
                    weight = 1.0 if voters[w, k] else 0.0
                mean += weight * p[w]
                var += weight * weight * p[w] * (1.0 - p[w])
            slack = mean - need
            if var > 0:
                prob = prob * ndtr(slack / math.sqrt(var))
            else:
                prob = prob * (1.0 if slack >= -1e-12 * max(need, 1.0) else 0.0)
    return prob


@_inner
def _whole_budgets(subset: Any, open_: Any, budgets: Any) -> bool:
    """Whether ``subset`` holds every open issue of each budget it touches."""
    n_iss = subset.shape[0]
    for b in range(budgets.shape[0]):
        touches = False
        for k in range(n_iss):
            if subset[k] and budgets[b, k]:
                touches = True
        if touches:
            for k in range(n_iss):
                if open_[k] and budgets[b, k] and not subset[k]:
                    return False
    return True


@_inner
def _candidate_sets(subsets: Any, budgets: Any, open_: Any, out: Any) -> int:
    """The issue sets a proposer tries this month, written to ``out`` ``(C, K)``; their number.

    In the reference's order.
    """
    n_sub, n_iss = subsets.shape
    n_bud = budgets.shape[0]
    count = 0
    for s in range(n_sub):
        eligible = True
        for k in range(n_iss):
            if subsets[s, k] and not open_[k]:
                eligible = False
        if eligible and _whole_budgets(subsets[s], open_, budgets):
            for k in range(n_iss):
                out[count, k] = subsets[s, k]
            count += 1
    if n_iss > _MAX_EXHAUSTIVE:
        for g in range(n_bud + 1):
            size = 0
            needed = g == n_bud
            for k in range(n_iss):
                member = open_[k] and (g == n_bud or budgets[g, k])
                out[count, k] = member
                size += member
                if g < n_bud and open_[k] and not budgets[g, k]:
                    needed = True
            if size >= 2 and needed and _whole_budgets(out[count], open_, budgets):
                count += 1
    return count


@_inner
def _subset_index(subsets: Any, pattern: Any) -> int:
    """The row of ``subsets`` equal to ``pattern``, or -1."""
    for s in range(subsets.shape[0]):
        same = True
        for k in range(pattern.shape[0]):
            if subsets[s, k] != pattern[k]:
                same = False
                break
        if same:
            return s
    return -1


@_inner
def best_package(
    rules: Any,
    tables: Any,
    j: int,
    stances: Any,
    salience: Any,
    status_quo: Any,
    open_: Any,
    believed: Any,
    spread: Any,
    own_reservation: float,
    own_disagreement: float,
    exponent: int,
    package: Any,
    settles: Any,
    alternatives: Any,
    tied: Any,
    scratch: Any,
) -> tuple[bool, int]:
    """The proposer's offer (``best_packages`` for one run).

    Writes the package and the issues it settles, the packages of the tied
    coalitions of the chosen issue set and margin (``alternatives`` rows,
    flagged in ``tied``); returns ``(offered, number of alternative rows)``.
    """
    subsets, budgets, totals, coalitions, n_coalitions, _width = tables
    own_scratch, one_scratch, several_scratch, p, p_flags = scratch
    tol_all, target, x, value, candidates, each, each_tied = own_scratch
    n_act, n_iss = stances.shape
    theta_j = stances[j]
    sal_j = salience[j]
    for v in range(n_act):
        tol_all[v] = _TOL * _scale(salience[v])
    tol_j = tol_all[j]
    for k in range(n_iss):
        package[k] = status_quo[k]
        settles[k] = False
    offered = False
    width = 0
    best = -np.inf
    noisy = False
    for v in range(n_act):
        if spread[v] > 0:
            noisy = True
    n_sets = _candidate_sets(subsets, budgets, open_, candidates)
    for s in range(n_sets):
        subset = candidates[s]
        size = 0
        first = -1
        for k in range(n_iss):
            if subset[k]:
                size += 1
                if first < 0:
                    first = k
        coal = coalitions[0, 0]
        n_coal = -1
        if size >= 2:
            row = _subset_index(subsets, subset)
            if row >= 0:
                coal = coalitions[row, j]
                n_coal = n_coalitions[row, j]
            elif _n_optional(rules, subset) <= MAX_OPTIONAL:
                # An issue set found this month (more than four issues).
                dynamic, members, buffers = several_scratch[9], several_scratch[8], p_flags
                coal = dynamic
                n_coal = _minimal_winning_into(
                    rules, subset, j, dynamic, members, buffers[0], buffers[1], buffers[2]
                )
        for margin in _MARGINS:
            if margin != 0.0 and not noisy:
                continue
            for v in range(n_act):
                target[v] = believed[v] + margin * spread[v]
            target[j] = own_reservation
            if size == 1:
                feasible = _one_issue(
                    first, rules, budgets, totals, j, stances, salience, status_quo, target,
                    exponent, x, one_scratch,
                )  # fmt: skip
                for k in range(n_iss):
                    each[0, k] = x[k]
                each_tied[0] = feasible
                n_each = 1
            else:
                feasible, n_each = _several_issues(
                    rules, subset, coal, n_coal, j, stances, salience, status_quo, target,
                    exponent, x, each, each_tied, several_scratch,
                )  # fmt: skip
            gain = utility_row(theta_j, sal_j, x, exponent)
            for v in range(n_act):
                value[v] = utility_row(stances[v], salience[v], x, exponent)
            prob = _pass_probability(rules, subset, j, value, believed, spread, tol_all, p)
            expected = prob * (gain - own_reservation)
            valid = (
                feasible
                and gain >= own_reservation - tol_j
                and gain > own_disagreement + tol_j
                and prob > 0
            )
            if valid and expected > best + tol_j:
                for k in range(n_iss):
                    package[k] = x[k]
                    settles[k] = subset[k]
                offered = True
                best = expected
                width = n_each
                for c in range(n_each):
                    for k in range(n_iss):
                        alternatives[c, k] = each[c, k]
                    tied[c] = each_tied[c]
    if not offered:
        width = 0
    return offered, width


@_inner
def _n_optional(rules: Any, subset: Any) -> int:
    forced_all, optional_all = rules[8], rules[9]
    n_act, n_iss = forced_all.shape
    count = 0
    for v in range(n_act):
        forced = False
        optional = False
        for k in range(n_iss):
            if subset[k]:
                forced |= forced_all[v, k]
                optional |= optional_all[v, k]
        if optional and not forced:
            count += 1
    return count


# -- equilibrium reservation values -------------------------------------------------------
@_inner
def _move_value(
    rules: Any,
    stances: Any,
    salience: Any,
    package: Any,
    settles: Any,
    reservation: Any,
    exponent: int,
    accepted: Any,
    out: Any,
) -> None:
    """Each actor's value of a package: its utility if the package passes, else ``reservation``."""
    n_act = stances.shape[0]
    _accepts(stances, salience, package, reservation, exponent, accepted)
    ok = True
    for k in range(settles.shape[0]):
        if settles[k] and not issue_met(rules, accepted, k):
            ok = False
    for v in range(n_act):
        out[v] = utility_row(stances[v], salience[v], package, exponent) if ok else reservation[v]


@_inner
def _equilibrium(
    rules: Any,
    tables: Any,
    rotation: Any,
    can_propose: Any,
    influenced: Any,
    params: Any,
    i: int,
    stances: Any,
    status_quo: Any,
    open_: Any,
    month: int,
    exponent: int,
    reservation: Any,
    workspace: Any,
) -> None:
    """Reservation values ``(L, N)`` by backward induction (``equilibrium_reservations``)."""
    (position, salience, capability, anchoring, discount, _c, _n, _o, _cm, given, weights,
     breakdown, drift, _f) = params  # fmt: skip
    vectors, path_stances, path_quo, package, settles, alternatives, tied, accepted, best = (
        workspace
    )
    value_next, d, r, recog, value, move, total, zeros = vectors
    look, n_act = reservation.shape
    sal = salience[i]
    n_iss = status_quo.shape[0]
    for k in range(n_iss):
        for v in range(n_act):
            path_stances[0, v, k] = stances[v, k]
        path_quo[0, k] = status_quo[k]
    for tau in range(1, look):
        _influence(
            path_stances[tau - 1], position[i], weights[i], anchoring[i], influenced,
            path_stances[tau],
        )  # fmt: skip
        _drift(path_quo[tau - 1], breakdown[i], drift[i], open_, path_quo[tau])
    _disagreement(path_stances[look - 1], sal, path_quo[look - 1], given[i], exponent, value_next)
    for v in range(n_act):
        zeros[v] = 0.0
    for tau in range(look - 1, -1, -1):
        st = path_stances[tau]
        qt = path_quo[tau]
        _disagreement(st, sal, qt, given[i], exponent, d)
        for v in range(n_act):
            r[v] = d[v] + discount[i, v] * (value_next[v] - d[v])
            reservation[tau, v] = r[v]
            value[v] = 0.0
        _recognition_weights(month + tau, rotation, can_propose, capability[i], recog)
        for j in range(n_act):
            if not can_propose[j] or not recog[j] > 0:
                continue
            offered, n_alt = best_package(
                rules, tables, j, st, sal, qt, open_, r, zeros, r[j], d[j], exponent,
                package, settles, alternatives, tied, best,
            )  # fmt: skip
            if offered:
                _move_value(rules, st, sal, package, settles, r, exponent, accepted, move)
            else:
                for v in range(n_act):
                    move[v] = r[v]
            n_tied = 0
            for a in range(n_alt):
                n_tied += tied[a]
            if offered and n_tied >= 2:
                for v in range(n_act):
                    total[v] = 0.0
                for a in range(n_alt):
                    if not tied[a]:
                        continue
                    _move_value(
                        rules, st, sal, alternatives[a], settles, r, exponent, accepted, move
                    )
                    for v in range(n_act):
                        total[v] = total[v] + move[v]
                for v in range(n_act):
                    move[v] = total[v] / n_tied
            for v in range(n_act):
                value[v] = value[v] + recog[j] * move[v]
        for v in range(n_act):
            value_next[v] = value[v]


# -- the month -----------------------------------------------------------------------------
@_allocating
def _best_workspace(n_act: int, n_iss: int, n_sets: int, width: int) -> Any:
    """Scratch arrays of :func:`best_package` and the functions it calls."""
    own = (
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_iss),
        np.empty(n_act),
        np.zeros((n_sets, n_iss), dtype=np.bool_),
        np.empty((width, n_iss)),
        np.zeros(width, dtype=np.bool_),
    )
    one = (
        np.empty(n_act),
        np.empty(n_act),
        np.empty(2 * n_act + 3),
        np.zeros(n_act, dtype=np.bool_),
    )
    several = (
        np.zeros(n_act, dtype=np.bool_),
        np.zeros(n_act, dtype=np.bool_),
        np.zeros(n_act, dtype=np.bool_),
        np.empty(n_iss),
        np.empty(width),
        np.zeros((1, n_act), dtype=np.bool_),
        np.empty(n_iss),
        np.empty(n_act),
        np.zeros(n_act, dtype=np.int64),
        np.zeros((width, n_act), dtype=np.bool_),
        proposer_workspace(n_iss, n_act),
    )
    return own, one, several, np.empty(n_act), np.zeros((3, n_act), dtype=np.bool_)


@_allocating
def _workspace(n_act: int, n_iss: int, look: int, n_sets: int, width: int) -> Any:
    """Every scratch array a run needs, allocated once per chunk of runs."""
    vectors = (
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
    )
    equilibrium = (
        vectors,
        np.empty((look, n_act, n_iss)),
        np.empty((look, n_iss)),
        np.empty(n_iss),
        np.zeros(n_iss, dtype=np.bool_),
        np.empty((width, n_iss)),
        np.zeros(width, dtype=np.bool_),
        np.zeros(n_act, dtype=np.bool_),
        _best_workspace(n_act, n_iss, n_sets, width),
    )
    run = (
        np.empty((n_act, n_iss)),
        np.empty(n_iss),
        np.empty(n_iss),
        np.empty(n_act),
        np.empty(n_act),
        np.empty(n_act),
        np.empty((width, n_iss)),
        np.zeros(width, dtype=np.bool_),
    )
    return equilibrium, run, _best_workspace(n_act, n_iss, n_sets, width)


@_inner
def _play_run(
    i: int,
    month: int,
    exponent: int,
    rules: Any,
    tables: Any,
    rotation: Any,
    can_propose: Any,
    influenced: Any,
    params: Any,
    state: Any,
    recognition: Any,
    noise_draws: Any,
    record: Any,
    workspace: Any,
) -> None:
    (position, salience, capability, anchoring, _disc, concession, noise, opening,
     concession_months, given, weights, breakdown, drift, form) = params  # fmt: skip
    stances_all, quo_all, open_all, settled_round, settled_by, proposals, table, table_start = (
        state
    )
    (out_proposer, out_package, out_settles, out_offered, out_accepted, out_passed,
     out_reservation, out_disagreement) = record  # fmt: skip
    equilibrium_space, run_space, best_space = workspace
    moved, drifted, ideal, recog, spread, believed, alternatives, tied = run_space
    n_act, n_iss = stances_all.shape[1], stances_all.shape[2]
    look = table.shape[1]
    sal = salience[i]
    open_ = open_all[i]
    if not open_.any():
        # A finished run the batch has not retired yet: it plays no more months.
        out_proposer[i] = -1
        for k in range(n_iss):
            out_package[i, k] = quo_all[i, k]
        return
    stances = stances_all[i]
    quo = quo_all[i]
    # 1. influence, 2. drift
    _influence(stances, position[i], weights[i], anchoring[i], influenced, moved)
    _drift(quo, breakdown[i], drift[i], open_, drifted)
    for k in range(n_iss):
        for v in range(n_act):
            stances[v, k] = moved[v, k]
        quo[k] = drifted[k]
    # 3. values
    d = out_disagreement[i]
    _disagreement(stances, sal, quo, given[i], exponent, d)
    r = out_reservation[i]
    for v in range(n_act):
        for k in range(n_iss):
            ideal[k] = stances[v, k] if open_[k] else quo[k]
        best = utility_row(stances[v], sal[v], ideal, exponent)
        aspiration = d[v] + opening[i, v] * (best - d[v])
        elapsed = min(1.0, month / concession_months[i, v])
        r[v] = d[v] + (aspiration - d[v]) * (1.0 - elapsed ** (1.0 / concession[i, v]))
    if form[i] == _EQUILIBRIUM:
        if table_start[i] == 0 or month - table_start[i] >= look:
            _equilibrium(
                rules, tables, rotation, can_propose, influenced, params, i, stances, quo,
                open_, month, exponent, table[i], equilibrium_space,
            )  # fmt: skip
            table_start[i] = month
        offset = min(max(month - table_start[i], 0), look - 1)
        for v in range(n_act):
            r[v] = table[i, offset, v]
    # 4. recognition
    _recognition_weights(month, rotation, can_propose, capability[i], recog)
    j = _recognise(recog, recognition[i])
    proposals[i, j] += 1
    out_proposer[i] = j
    # 5. proposal, under beliefs r_v + sigma_j eps_v scale_v (exact for itself)
    for v in range(n_act):
        spread[v] = 0.0 if v == j else noise[i, j] * _scale(sal[v])
        believed[v] = r[v] if v == j else r[v] + spread[v] * noise_draws[i, v]
    package = out_package[i]
    settles = out_settles[i]
    offered, _ = best_package(
        rules, tables, j, stances, sal, quo, open_, believed, spread, r[j], d[j], exponent,
        package, settles, alternatives, tied, best_space,
    )  # fmt: skip
    out_offered[i] = offered
    # 6. response, 7. settlement
    accepted = out_accepted[i]
    _accepts(stances, sal, package, r, exponent, accepted)
    passed = offered
    for k in range(n_iss):
        if settles[k] and not issue_met(rules, accepted, k):
            passed = False
    out_passed[i] = passed
    if passed:
        for k in range(n_iss):
            if settles[k]:
                quo[k] = package[k]
                open_[k] = False
                settled_round[i, k] = month
                settled_by[i, k] = j
        table_start[i] = 0
    if not offered:
        for k in range(n_iss):
            package[k] = quo[k]


#: Runs per chunk of :func:`play_month` (one workspace each; results do not depend on it).
CHUNK = 256


@_allocating
def _play_chunks(
    first: int,
    last: int,
    month: int,
    exponent: int,
    rules: Any,
    tables: Any,
    rotation: Any,
    can_propose: Any,
    influenced: Any,
    params: Any,
    state: Any,
    recognition: Any,
    noise_draws: Any,
    record: Any,
) -> None:
    """Play month ``month`` of the runs of chunks ``first .. last - 1``, a workspace per chunk."""
    n = recognition.shape[0]
    n_act, n_iss = state[0].shape[1], state[0].shape[2]
    look = state[6].shape[1]
    n_sets = tables[0].shape[0] + tables[1].shape[0] + 1
    for c in range(first, last):
        workspace = _workspace(n_act, n_iss, look, n_sets, tables[5])
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            _play_run(
                i, month, exponent, rules, tables, rotation, can_propose, influenced, params,
                state, recognition, noise_draws, record, workspace,
            )  # fmt: skip


def play_month(
    month: int,
    exponent: int,
    rules: Any,
    tables: Any,
    rotation: Any,
    can_propose: Any,
    influenced: Any,
    params: Any,
    state: Any,
    recognition: Any,
    noise_draws: Any,
    record: Any,
) -> None:
    """Play month ``month`` of every run (state and record arrays updated in place).

    ``rules`` is the rule table as a tuple of arrays (codes, voters, votes,
    total votes, number of voters, thresholds, voter shares, authorities,
    forced and optional actors), ``tables`` the candidate issue sets, budgets,
    minimal winning coalitions and the most coalitions an issue set can
    have; ``params``, ``state`` and ``record`` are the fields of
    :class:`~basesim.engine.compiled.RunParameters`,
    :class:`~basesim.protocols.bargaining.RunState` and
    :class:`~basesim.protocols.bargaining.RoundRecord` in the order
    :func:`basesim.protocols.bargaining.play_round_compiled` packs them.
    Runs are played in chunks of :data:`CHUNK`, the chunks shared among
    :func:`~basesim.engine.kernel.threads.get_threads` threads; each run by
    itself.
    """

    def play(first: int, last: int) -> None:
        _play_chunks(
            first, last, month, exponent, rules, tables, rotation, can_propose, influenced,
            params, state, recognition, noise_draws, record,
        )  # fmt: skip

    run_pieces(play, (recognition.shape[0] + CHUNK - 1) // CHUNK)
