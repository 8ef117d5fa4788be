"""The proposer's problem with linear losses, as a linear programme per row.

With ``p = 1`` the proposer's problem of a month (``docs/model.md``, step 5)

    maximise    u_j(x) = -sum_k s_jk |x_k - theta_jk|
    subject to  u_v(x) >= r_v              for every active v,
                sum_{k in G_b} x_k <= T_b  for every budget b,
                x_k = q_k                  on the issues that are not free,
                0 <= x_k <= 1,

is a linear programme once every absolute value ``|x_k - theta_ik|`` of an
actor that enters it (the proposer and the active responders, on the free
issues they care about) is replaced by a variable ``t_ik >= +-(x_k -
theta_ik)``.  The replacement is exact: the objective and every constraint
are monotone in ``t``, so at an optimum each ``t_ik`` that matters equals its
absolute value, and any package meeting the original constraints gives a
feasible point of the programme with the same objective.  Budgets are linear
already: the settled values and the status quo of a budget's issues that the
package leaves where they are (fixed) count against its total ``T_b``.

An issue of the package the proposer does not care about (``s_jk = 0``) is
pulled toward its status quo with a weight ``2**-40`` times the proposer's
largest salience (at least 1), as the convex solver of
:mod:`basesim.engine.solver` does, so the answer is unique and such an issue
stays where it is unless a constraint or a budget moves it; this changes the
proposer's optimal value by less than ``2**-40`` per issue.

Each row is one call of :func:`scipy.optimize.linprog` (HiGHS, which is
deterministic) built from that row's data only, so a row's result does not
depend on the batch it is in.  The answer is checked against the original
constraints afterwards: a row whose package misses a responder's demand by
more than :data:`FEASIBILITY_TOL` times its utility scale, or a budget by
more than :data:`BUDGET_TOL`, is infeasible.

References
----------
.. [1] Dantzig, G. B. (1963). *Linear Programming and Extensions*. Princeton
   University Press (absolute values in linear programmes).
.. [2] Huangfu, Q. and Hall, J. A. J. (2018). Parallelizing the dual revised
   simplex method. *Mathematical Programming Computation* 10(1), 119-142
   (the HiGHS solver).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from basesim.engine.solver import FEASIBILITY_TOL, utility

__all__ = ["BUDGET_TOL", "LP_TOLERANCE", "budget_sums", "solve_linear_package"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Primal and dual feasibility tolerance asked of the LP solver.
LP_TOLERANCE = 1e-10
#: A budget holds if its issues sum to at most its total plus this.
BUDGET_TOL = 1e-9
#: Weight, relative to the proposer's largest salience, pulling an issue it is
#: indifferent about toward its status quo.
_REGULARISATION = 2.0**-40


def budget_sums(package: FloatArray, members: BoolArray) -> FloatArray:
    """The sum of each budget's issues ``(..., B)`` in packages ``(..., K)``.

    ``members`` ``(B, K)`` says which issues each budget holds.  The sum is a
    loop over issues in order, so it does not depend on the batch.
    """
    total = np.zeros((*package.shape[:-1], members.shape[0]))
    for k in range(package.shape[-1]):
        total = total + np.where(members[:, k], package[..., k, None], 0.0)
    return total


def solve_linear_package(
    theta_j: FloatArray,
    sal_j: FloatArray,
    theta_v: FloatArray,
    sal_v: FloatArray,
    target: FloatArray,
    active: BoolArray,
    free: BoolArray,
    status_quo: FloatArray,
    *,
    members: BoolArray,
    totals: FloatArray,
) -> tuple[FloatArray, BoolArray]:
    """Solve the proposer's problem with linear losses and budgets, row by row.

    Parameters
    ----------
    theta_j, sal_j
        ``(n, K)``: the proposer's ideal point and saliences.
    theta_v, sal_v
        ``(n, M, K)``: the responders' ideal points and saliences.
    target
        ``(n, M)``: the utility each responder must get.
    active
        ``(n, M)``: which responders constrain the package.
    free
        ``(n, K)``: the issues the package may move; the others stay at
        ``status_quo``.
    status_quo
        ``(n, K)``: the current status quo (settled issues at their values).
    members, totals
        ``(B, K)`` and ``(B,)``: the budgets (``B`` may be 0).

    Returns
    -------
    package : numpy.ndarray
        ``(n, K)``; the status quo where the problem is infeasible.
    feasible : numpy.ndarray
        ``(n,)``.
    """
    n, n_iss = status_quo.shape
    members = np.asarray(members, dtype=bool).reshape(-1, n_iss)
    totals = np.asarray(totals, dtype=np.float64)
    package = status_quo.copy()
    feasible = np.zeros(n, dtype=bool)
    scale_v = sal_v[:, :, 0].copy()
    for k in range(1, n_iss):
        scale_v += sal_v[:, :, k]
    scale_v = np.maximum(scale_v, 1.0)
    for row in range(n):
        x, ok = _solve_row(
            theta_j[row],
            sal_j[row],
            theta_v[row],
            sal_v[row],
            target[row],
            active[row],
            free[row],
            status_quo[row],
            scale_v[row],
            members,
            totals,
        )
        package[row] = x
        feasible[row] = ok
    # The answer against the original constraints.
    value = utility(theta_v, sal_v, package[:, None, :], exponent=1)
    meets = (value >= target - FEASIBILITY_TOL * scale_v) | ~active
    within = budget_sums(package, members) <= totals + BUDGET_TOL
    feasible &= meets.all(axis=1) & within.all(axis=1)
    return np.where(feasible[:, None], package, status_quo), feasible


def _solve_row(
    theta_j: FloatArray,
    sal_j: FloatArray,
    theta_v: FloatArray,
    sal_v: FloatArray,
    target: FloatArray,
    active: BoolArray,
    free: BoolArray,
    quo: FloatArray,
    scale_v: FloatArray,
    members: BoolArray,
    totals: FloatArray,
) -> tuple[FloatArray, bool]:
    """One row's linear programme; ``(package (K,), solved)``."""
    issues = [int(k) for k in np.flatnonzero(free)]
    fixed = ~free
    n_free = len(issues)
    column = {k: c for c, k in enumerate(issues)}
    cost: list[float] = [0.0] * n_free
    rows_ub: list[dict[int, float]] = []
    rhs_ub: list[float] = []

    def absolute(centre: float, k: int) -> int:
        """A new variable ``t >= |x_k - centre|``; its column."""
        col = len(cost)
        cost.append(0.0)
        rows_ub.append({column[k]: 1.0, col: -1.0})
        rhs_ub.append(centre)
        rows_ub.append({column[k]: -1.0, col: -1.0})
        rhs_ub.append(-centre)
        return col

    # The proposer's loss, and the pull of issues it is indifferent about.
    weight = _REGULARISATION * max(1.0, float(sal_j.max(initial=0.0)))
    for k in issues:
        if sal_j[k] > 0:
            cost[absolute(float(theta_j[k]), k)] += float(sal_j[k])
        else:
            cost[absolute(float(quo[k]), k)] += weight
    # Each active responder's demand: sum_k s_vk t_vk <= R_v on the free issues.
    for v in np.flatnonzero(active):
        fixed_loss = 0.0
        for fixed_k in np.flatnonzero(fixed):
            fixed_loss += float(sal_v[v, fixed_k]) * abs(float(quo[fixed_k] - theta_v[v, fixed_k]))
        room = -float(target[v]) - fixed_loss
        # A demand a hair beyond reach (rounding) is met exactly; the check
        # against the original constraints decides.
        room = max(room, 0.0) if room >= -FEASIBILITY_TOL * scale_v[v] else room
        cares = [k for k in issues if sal_v[v, k] > 0]
        if not cares:
            if room < 0:
                return quo.copy(), False
            continue
        demand: dict[int, float] = {}
        for k in cares:
            demand[absolute(float(theta_v[v, k]), k)] = float(sal_v[v, k])
        rows_ub.append(demand)
        rhs_ub.append(room)
    # Budgets: the free issues' values within what the fixed ones leave.
    for b in range(members.shape[0]):
        inside = [k for k in issues if members[b, k]]
        if not inside:
            continue
        left = float(totals[b])
        for fixed_k in np.flatnonzero(fixed & members[b]):
            left -= float(quo[fixed_k])
        rows_ub.append({column[k]: 1.0 for k in inside})
        rhs_ub.append(max(left, 0.0) if left >= -BUDGET_TOL else left)
    n_var = len(cost)
    a_ub = np.zeros((len(rows_ub), n_var))
    for i, entries in enumerate(rows_ub):
        for col, coef in entries.items():
            a_ub[i, col] = coef
    bounds = [(0.0, 1.0)] * n_free + [(0.0, None)] * (n_var - n_free)
    result = linprog(
        np.asarray(cost),
        A_ub=a_ub,
        b_ub=np.asarray(rhs_ub),
        bounds=bounds,
        method="highs",
        options={
            "primal_feasibility_tolerance": LP_TOLERANCE,
            "dual_feasibility_tolerance": LP_TOLERANCE,
        },
    )
    if result.status != 0:
        return quo.copy(), False
    x = quo.copy()
    x[issues] = np.clip(result.x[:n_free], 0.0, 1.0)
    return x, True
