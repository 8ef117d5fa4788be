"""Batched solver of the proposer's problem of a spatial bargaining round.

A proposer ``j`` chooses a package ``x`` in ``[0, 1]**K`` that maximises its
utility subject to every active responder ``v`` getting at least ``r_v``::

    maximise    u_j(x)
    subject to  u_v(x) >= r_v       for every active v,
                x_k = b_k           on the issues that are not free,
                0 <= x_k <= 1,

with ``u_i(x) = -sum_k s_ik |x_k - theta_ik|**p`` and ``p`` in ``{1, 2}``.
Many independent problems (rows) are solved at once; all loops in this module
run over the small issue (``K``) and constraint (``M``) axes or over a fixed
number of iterations, never over rows.

Determinism
-----------
Every row is computed with elementwise NumPy operations only (``+ - * /``,
``sqrt``, ``abs``, ``minimum``, ``maximum``, ``where``), which are correctly
rounded and do not depend on the other rows; sums over issues and constraints
are explicit Python loops in a fixed order.  A row's result is therefore
bit-identical whether it is solved alone or inside any batch.

Algorithm
---------
*One free issue* (any ``p``): the exact closed form.  Each active constraint
is an interval ``theta_vk +- (R_v / s_vk)**(1/p)`` on the free issue; the
proposer takes the point of the intersection closest to its ideal point
(Romer-Rosenthal setter model).

*Two or more free issues* (``p = 2``): the Lagrangian solution
``x_k(lam) = (s_jk theta_jk + sum_v lam_v s_vk theta_vk) / (s_jk + sum_v lam_v s_vk)``
with the multipliers ``lam >= 0`` maximising the concave dual.  Each of a fixed
number of iterations is one cyclic sweep of coordinate steps (a Newton step on
the Moré-Sorensen secular equation ``Q_v(lam)**-0.5 = R_v**-0.5`` of each
multiplier, which after its first step increases monotonically to the root)
followed by one projected Newton step on all multipliers at once, accepted only
if it does not decrease the dual.  The sweeps make the method globally
convergent; the joint Newton steps make it converge quadratically when several
constraints bind together.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["solve_package", "utility"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: A constraint holds if ``u_v(x) >= r_v - FEASIBILITY_TOL * max(1, sum_k s_vk)``.
FEASIBILITY_TOL = 1e-9
#: Number of (coordinate sweep + joint Newton step) iterations of the dual solver.
N_ITERATIONS = 8
#: Primal-dual Newton steps per iteration.
N_PD_STEPS = 2
#: Upper bound of a multiplier; reaching it means the constraint set is (almost) empty.
_LAMBDA_MAX = 1e15
#: Budgets below this are raised to it, so that ``Q / R`` stays finite.
_BUDGET_FLOOR = 1e-200
#: Added to denominators that are zero only when their numerator is zero.
_TINY = 1e-300
#: Proposer weight of an issue it is indifferent about: 2**-_REG_SHIFT times the
#: row's largest salience (rounded to a power of two, so that the regularised
#: value ``(eps * b) / eps`` is exactly ``b``).
_REG_SHIFT = 40


def _check_exponent(exponent: int) -> None:
    if exponent not in (1, 2):
        raise ValueError(f"exponent must be 1 or 2, got {exponent!r}")


def _loss(diff: FloatArray, exponent: int) -> FloatArray:
    """``|diff|**exponent`` for ``exponent`` in ``{1, 2}`` (no ``np.power``)."""
    return diff * diff if exponent == 2 else np.abs(diff)


def utility(
    position: ArrayLike,
    salience: ArrayLike,
    package: ArrayLike,
    *,
    exponent: int = 2,
) -> FloatArray:
    """Spatial utility ``-sum_k s_k |x_k - theta_k|**p`` of packages.

    Parameters
    ----------
    position
        Ideal points ``theta``, shape ``(..., K)``.
    salience
        Saliences ``s >= 0``, shape ``(..., K)``.
    package
        Packages ``x``, shape ``(..., K)``.
    exponent
        The loss exponent ``p``, 1 or 2.

    Returns
    -------
    numpy.ndarray
        Utilities, the broadcast shape of the three arguments without its last
        axis.  The sum over issues is an explicit loop over ``k`` in order, so a
        value does not depend on the shape of the batch it is computed in.

    Examples
    --------
    >>> utility([0.2, 0.5], [1.0, 2.0], [0.4, 0.5])
    np.float64(-0.04...)
    >>> utility([0.2, 0.5], [1.0, 2.0], [0.4, 0.0], exponent=1)
    np.float64(-1.2)
    """
    _check_exponent(exponent)
    pos, sal, pkg = np.broadcast_arrays(
        np.asarray(position, dtype=np.float64),
        np.asarray(salience, dtype=np.float64),
        np.asarray(package, dtype=np.float64),
    )
    if pos.ndim == 0:
        raise ValueError("utility needs arrays with an issue axis (the last axis)")
    total = np.zeros(pos.shape[:-1])
    for k in range(pos.shape[-1]):
        total += sal[..., k] * _loss(pkg[..., k] - pos[..., k], exponent)
    result: FloatArray = -total
    return result


def solve_package(
    proposer_position: ArrayLike,
    proposer_salience: ArrayLike,
    responder_position: ArrayLike,
    responder_salience: ArrayLike,
    bound: ArrayLike,
    active: ArrayLike,
    free: ArrayLike,
    fixed: ArrayLike,
    *,
    exponent: int = 2,
) -> tuple[FloatArray, BoolArray]:
    """Solve a batch of proposer's problems.

    Row ``i`` is: maximise ``u_j(x)`` over ``x`` in ``[0, 1]**K`` subject to
    ``u_v(x) >= bound[i, v]`` for every ``v`` with ``active[i, v]``, and
    ``x_k = fixed[i, k]`` for every issue with ``not free[i, k]``.

    Parameters
    ----------
    proposer_position, proposer_salience
        The proposer's ideal point (in ``[0, 1]``) and saliences (``>= 0``),
        shape ``(n, K)``.
    responder_position, responder_salience
        The responders' ideal points and saliences, shape ``(n, M, K)``.
    bound
        The utility each responder must get, ``r_v``, shape ``(n, M)``.  A bound
        above the responder's best attainable utility makes the row infeasible.
    active
        Which constraints apply, shape ``(n, M)``; inactive ones are ignored.
    free
        Which issues the proposer sets, shape ``(n, K)``.
    fixed
        The breakdown package, shape ``(n, K)``: the value of the issues that
        are not free, the tie-break target of free issues the proposer is
        indifferent about, and the package returned for infeasible rows.
    exponent
        The loss exponent ``p``: 1 (linear) or 2 (quadratic).  With ``p = 1``
        every row must have at most one free issue.

    Returns
    -------
    package : numpy.ndarray
        The proposal, shape ``(n, K)``; ``fixed[i]`` where row ``i`` is
        infeasible.
    feasible : numpy.ndarray
        Shape ``(n,)``: whether row ``i`` has a package meeting every active
        constraint (within ``FEASIBILITY_TOL * max(1, sum_k s_vk)`` utility).

    Raises
    ------
    ValueError
        If the shapes disagree, ``exponent`` is not 1 or 2, or ``exponent`` is
        1 and some row has two or more free issues.

    Notes
    -----
    * Fixed issues cost responder ``v`` a constant, which is taken off its
      budget: on the free issues ``v`` needs
      ``sum_k s_vk |x_k - theta_vk|**p <= R_v = -r_v - (loss on fixed issues)``.
      A row with ``R_v < -tol`` for an active ``v`` is infeasible; a budget in
      ``[-tol, 0)`` is treated as 0.
    * One free issue: ``x = clip(theta_j, lo, hi)`` with ``[lo, hi]`` the
      intersection of ``[0, 1]`` and the intervals of the active constraints;
      if the proposer's salience on the issue is 0, ``x = clip(b, lo, hi)``.
      An empty intersection (``lo > hi``) is infeasible.
    * Two or more free issues: see the module docstring.  Where the proposer's
      salience on a free issue is 0 it gets the weight ``eps`` (about
      ``2**-40`` times the row's largest salience) with ideal point
      ``fixed[i, k]``: with no binding constraint that cares about the issue
      this gives exactly ``x_k = fixed[i, k]``; otherwise ``x_k`` is set where
      the binding constraints want it (the limit ``eps -> 0`` picks, among the
      proposer's optimal packages, the one closest to the breakdown value), up
      to an error of order ``eps / lam``.
    * Ideal points are assumed to be in ``[0, 1]``; the multi-issue solution is
      a weighted average of them and so lies in ``[0, 1]`` too.
    * Feasibility of every row is checked on the returned package with the full
      utility function; rows that fail get the breakdown package.
    """
    _check_exponent(exponent)
    theta_j = np.asarray(proposer_position, dtype=np.float64)
    sal_j = np.asarray(proposer_salience, dtype=np.float64)
    theta_v = np.asarray(responder_position, dtype=np.float64)
    sal_v = np.asarray(responder_salience, dtype=np.float64)
    r = np.asarray(bound, dtype=np.float64)
    act = np.asarray(active, dtype=np.bool_)
    is_free = np.asarray(free, dtype=np.bool_)
    b = np.asarray(fixed, dtype=np.float64)
    if theta_j.ndim != 2:
        raise ValueError(f"proposer_position must have shape (n, K), got {theta_j.shape}")
    n, n_issues = theta_j.shape
    if theta_v.ndim != 3 or theta_v.shape[0] != n or theta_v.shape[2] != n_issues:
        raise ValueError(
            f"responder_position must have shape (n, M, K) = ({n}, M, {n_issues}), "
            f"got {theta_v.shape}"
        )
    n_cons = theta_v.shape[1]
    for name, arr, shape in (
        ("proposer_salience", sal_j, (n, n_issues)),
        ("responder_salience", sal_v, (n, n_cons, n_issues)),
        ("bound", r, (n, n_cons)),
        ("active", act, (n, n_cons)),
        ("free", is_free, (n, n_issues)),
        ("fixed", b, (n, n_issues)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")

    n_free = np.count_nonzero(is_free, axis=1)
    if exponent == 1 and np.any(n_free >= 2):
        raise ValueError(
            "exponent=1 supports at most one free issue per row; "
            f"{int(np.count_nonzero(n_free >= 2))} row(s) have two or more"
        )

    # Issue-major, contiguous layout: every [k] / [v][k] slice is a 1-D array over rows.
    tj = np.ascontiguousarray(theta_j.T)
    sj = np.ascontiguousarray(sal_j.T)
    tv = np.ascontiguousarray(theta_v.transpose(1, 2, 0))
    sv = np.ascontiguousarray(sal_v.transpose(1, 2, 0))
    rt = np.ascontiguousarray(r.T)
    at = np.ascontiguousarray(act.T)
    ft = np.ascontiguousarray(is_free.T)
    bt = np.ascontiguousarray(b.T)

    # Budgets on the free issues and feasibility tolerances, shape (M, n).
    budget = np.empty((n_cons, n))
    tol = np.empty((n_cons, n))
    for v in range(n_cons):
        rv = np.negative(rt[v], out=budget[v])
        weight = np.zeros(n)
        for k in range(n_issues):
            fixed_loss = sv[v, k] * _loss(bt[k] - tv[v, k], exponent)
            rv -= np.where(ft[k], 0.0, fixed_loss)
            weight += sv[v, k]
        np.multiply(np.maximum(weight, 1.0), FEASIBILITY_TOL, out=tol[v])

    package = bt.copy()
    ok = np.ones(n, dtype=np.bool_)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        one = n_free == 1
        if np.any(one):
            rows = None if np.all(one) else np.flatnonzero(one)
            _solve_one_issue(rows, tj, sj, tv, sv, budget, tol, at, ft, bt, package, ok, exponent)
        many = n_free >= 2
        if np.any(many):
            rows = None if np.all(many) else np.flatnonzero(many)
            _solve_many_issues(rows, tj, sj, tv, sv, budget, at, ft, bt, package)

        # Check every row on the package returned, with the true utilities.
        for v in range(n_cons):
            total = np.zeros(n)
            for k in range(n_issues):
                total += sv[v, k] * _loss(package[k] - tv[v, k], exponent)
            ok &= ~at[v] | (-total >= rt[v] - tol[v])
    package = np.where(ok, package, bt)
    return np.ascontiguousarray(package.T), ok


def _solve_one_issue(
    rows: NDArray[np.intp] | None,
    tj: FloatArray,
    sj: FloatArray,
    tv: FloatArray,
    sv: FloatArray,
    budget: FloatArray,
    tol: FloatArray,
    at: BoolArray,
    ft: BoolArray,
    bt: FloatArray,
    package: FloatArray,
    ok: BoolArray,
    exponent: int,
) -> None:
    """Closed form for rows with exactly one free issue; writes ``package`` and ``ok``."""
    free_sub = ft if rows is None else ft[:, rows]
    n_sub = free_sub.shape[1]
    cols = np.arange(n_sub) if rows is None else rows
    k_star = np.argmax(free_sub, axis=0)
    sel = (k_star, cols)
    target = np.where(sj[sel] > 0.0, tj[sel], bt[sel])
    lo = np.zeros(n_sub)
    hi = np.ones(n_sub)
    good = np.ones(n_sub, dtype=np.bool_)
    for v in range(tv.shape[0]):
        act_v = at[v] if rows is None else at[v, rows]
        rv = budget[v] if rows is None else budget[v, rows]
        tol_v = tol[v] if rows is None else tol[v, rows]
        s = sv[v][sel]
        t = tv[v][sel]
        good &= ~act_v | (rv >= -tol_v)
        half = np.maximum(rv, 0.0) / s
        if exponent == 2:
            half = np.sqrt(half)
        binding = act_v & (s > 0.0)
        lo = np.where(binding, np.maximum(lo, t - half), lo)
        hi = np.where(binding, np.minimum(hi, t + half), hi)
    good &= lo <= hi
    package[sel] = np.minimum(np.maximum(target, lo), hi)
    if rows is None:
        ok &= good
    else:
        ok[rows] &= good


def _solve_many_issues(
    rows: NDArray[np.intp] | None,
    tj: FloatArray,
    sj: FloatArray,
    tv: FloatArray,
    sv: FloatArray,
    budget: FloatArray,
    at: BoolArray,
    ft: BoolArray,
    bt: FloatArray,
    package: FloatArray,
) -> None:
    """Dual solver (``p = 2``) for rows with two or more free issues; writes ``package``."""
    if rows is not None:
        tj, sj, tv, sv = tj[:, rows], sj[:, rows], tv[:, :, rows], sv[:, :, rows]
        budget, at, ft, bt = budget[:, rows], at[:, rows], ft[:, rows], bt[:, rows]
    n_cons, n_issues, n = tv.shape

    # Effective problem: fixed issues and inactive constraints drop out; free
    # issues the proposer does not care about get a tiny weight toward b_k.
    sv_eff = [[np.where(ft[k] & at[v], sv[v, k], 0.0) for k in range(n_issues)] for v in range(n_cons)]
    scale = np.zeros(n)
    for k in range(n_issues):
        np.maximum(scale, np.where(ft[k], sj[k], 0.0), out=scale)
        for v in range(n_cons):
            np.maximum(scale, sv_eff[v][k], out=scale)
    eps = np.ldexp(1.0, np.frexp(scale)[1] - (_REG_SHIFT + 1))
    sj_eff = []
    aj_eff = []
    tj_eff = []
    for k in range(n_issues):
        indifferent = ~ft[k] | (sj[k] == 0.0)
        s = np.where(indifferent, eps, sj[k])
        t = np.where(indifferent, bt[k], tj[k])
        sj_eff.append(s)
        tj_eff.append(t)
        aj_eff.append(s * t)
    tv_l = [[tv[v, k] for k in range(n_issues)] for v in range(n_cons)]
    wv_eff = [[sv_eff[v][k] * tv_l[v][k] for k in range(n_issues)] for v in range(n_cons)]
    r_eff = [np.where(at[v], np.maximum(budget[v], _BUDGET_FLOOR), 1.0) for v in range(n_cons)]

    n_free = np.count_nonzero(ft, axis=0)
    supports = [
        support
        for size in range(1, min(n_cons, n_issues) + 1)
        for support in itertools.combinations(range(n_cons), size)
    ]
    lam = [np.zeros(n) for _ in range(n_cons)]

    def lagrangian_minimiser(lam: list[FloatArray]) -> tuple[list[FloatArray], FloatArray]:
        """The package ``x(lam)`` and the dual value at ``lam``."""
        xs = []
        dual = np.zeros(n)
        for k in range(n_issues):
            s = sj_eff[k].copy()
            a = aj_eff[k].copy()
            for v in range(n_cons):
                s += lam[v] * sv_eff[v][k]
                a += lam[v] * wv_eff[v][k]
            x = a / s
            xs.append(x)
            d = x - tj_eff[k]
            dual += sj_eff[k] * d * d
        for v in range(n_cons):
            q = np.zeros(n)
            for k in range(n_issues):
                d = xs[k] - tv_l[v][k]
                q += sv_eff[v][k] * d * d
            dual += lam[v] * (q - r_eff[v])
        return xs, dual

    def primal_dual_step(
        xs: list[FloatArray], lam: list[FloatArray]
    ) -> tuple[list[FloatArray], list[FloatArray]]:
        """One Newton (SQP) step on the KKT system in ``(x, lam)``."""
        inv_s = []
        e = []
        for k in range(n_issues):
            s = sj_eff[k].copy()
            for v in range(n_cons):
                s += lam[v] * sv_eff[v][k]
            inv_s.append(1.0 / s)
            e.append(sj_eff[k] * (xs[k] - tj_eff[k]))
        gs = []
        work = []
        for v in range(n_cons):
            q = np.zeros(n)
            g_row = []
            for k in range(n_issues):
                d = xs[k] - tv_l[v][k]
                g = sv_eff[v][k] * d
                q += g * d
                g_row.append(g)
            gs.append(g_row)
            # Linearise sqrt(Q_v) <= sqrt(R_v): sum_k g_vk dx_k = sqrt(Q_v R_v) - Q_v.
            acc = q - np.sqrt(q * r_eff[v])
            for k in range(n_issues):
                acc -= g_row[k] * inv_s[k] * e[k]
            work.append(acc)
        hess = [[np.zeros(0)] * n_cons for _ in range(n_cons)]
        for v in range(n_cons):
            for w in range(v, n_cons):
                h = np.zeros(n)
                for k in range(n_issues):
                    h += gs[v][k] * inv_s[k] * gs[w][k]
                hess[v][w] = h
                hess[w][v] = h
        # The SQP subproblem's dual: minimise mu H mu / 2 - work . mu over mu >= 0,
        # solved exactly by trying every support (at most n_free constraints).
        mu = [np.zeros(n) for _ in range(n_cons)]
        best = np.zeros(n)
        for support in supports:
            sol = _solve_subsystem(hess, work, support)
            value = np.zeros(n)
            valid = n_free >= len(support)
            for v, m in zip(support, sol, strict=True):
                valid &= m >= 0.0
                value -= work[v] * m
            better = valid & (value < best)
            best = np.where(better, value, best)
            for v in range(n_cons):
                m = sol[support.index(v)] if v in support else 0.0
                mu[v] = np.where(better, m, mu[v])
        mu = [np.minimum(m, _LAMBDA_MAX) for m in mu]
        new_xs = []
        for k in range(n_issues):
            acc = e[k].copy()
            for v in range(n_cons):
                acc += mu[v] * gs[v][k]
            new_xs.append(xs[k] - acc * inv_s[k])
        return new_xs, mu

    xs, dual = lagrangian_minimiser(lam)
    for _ in range(N_ITERATIONS):
        # Cyclic coordinate sweep: one Newton step on phi(lam_v) = Q_v**-0.5 each.
        for v in range(n_cons):
            q = np.zeros(n)
            p = np.zeros(n)
            for k in range(n_issues):
                bk = sj_eff[k].copy()
                ak = aj_eff[k].copy()
                for w in range(n_cons):
                    if w != v:
                        bk += lam[w] * sv_eff[w][k]
                        ak += lam[w] * wv_eff[w][k]
                c = ak - bk * tv_l[v][k]
                dk = bk + lam[v] * sv_eff[v][k]
                d = c / dk
                t = sv_eff[v][k] * d
                q += t * d
                p += t * t / dk
            step = q / (p + _TINY) * (np.sqrt(q / r_eff[v]) - 1.0)
            lam[v] = np.minimum(np.maximum(lam[v] + step, 0.0), _LAMBDA_MAX)
        xs, dual = lagrangian_minimiser(lam)

        # Primal-dual Newton steps from (x(lam), lam); their multipliers are
        # kept if the dual does not decrease.
        px, plam = xs, lam
        for _ in range(N_PD_STEPS):
            px, plam = primal_dual_step(px, plam)
        xs_new, dual_new = lagrangian_minimiser(plam)
        accept = dual_new >= dual
        lam = [np.where(accept, plam[v], lam[v]) for v in range(n_cons)]
        xs = [np.where(accept, xs_new[k], xs[k]) for k in range(n_issues)]
        dual = np.where(accept, dual_new, dual)

    for k in range(n_issues):
        x = np.where(ft[k], xs[k], bt[k])
        if rows is None:
            package[k] = x
        else:
            package[k, rows] = x


def _solve_subsystem(
    hess: list[list[FloatArray]],
    rhs: list[FloatArray],
    support: tuple[int, ...],
) -> list[FloatArray]:
    """Solve ``H[A, A] y = rhs[A]`` for the index tuple ``A = support``, row by row.

    The systems are tiny, symmetric and positive semidefinite: Gaussian
    elimination without pivoting, in a fixed order, with the diagonal raised by
    a relative ``1e-12`` so that a singular system gives a large but finite
    solution (which the caller's dual test then rejects).
    """
    a = [[hess[i][j] for j in support] for i in support]
    y = [rhs[i] for i in support]
    m = len(support)
    for i in range(m):
        a[i][i] = a[i][i] * (1.0 + 1e-12) + _TINY
    for i in range(m):
        for j in range(i + 1, m):
            f = a[j][i] / a[i][i]
            for col in range(i + 1, m):
                a[j][col] = a[j][col] - f * a[i][col]
            y[j] = y[j] - f * y[i]
    x: list[FloatArray] = [np.zeros(0)] * m
    for i in reversed(range(m)):
        acc = y[i]
        for col in range(i + 1, m):
            acc = acc - a[i][col] * x[col]
        x[i] = acc / a[i][i]
    return x
