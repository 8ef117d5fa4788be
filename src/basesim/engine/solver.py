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
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["solve_package", "utility"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: A constraint holds if ``u_v(x) >= r_v - FEASIBILITY_TOL * max(1, sum_k s_vk)``.
FEASIBILITY_TOL = 1e-9
#: The dual solver's fixed schedule: "S" a coordinate sweep, "P" a primal-dual
#: Newton step, "A" keep the primal-dual multipliers if they raise the dual.
SCHEDULE = "S" + "PPPA" + "SPPPA" * 3
#: Rows are solved in blocks of this many (for cache efficiency; results do not
#: depend on it).
BLOCK_SIZE = 8192
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
    if exponent == 1:
        several = np.count_nonzero(np.count_nonzero(is_free, axis=1) >= 2)
        if several:
            raise ValueError(
                f"exponent=1 supports at most one free issue per row; {several} row(s) have more"
            )

    package = np.empty((n, n_issues))
    feasible = np.empty(n, dtype=np.bool_)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        for start in range(0, n, BLOCK_SIZE):
            blk = slice(start, min(start + BLOCK_SIZE, n))
            package[blk], feasible[blk] = _solve_block(
                theta_j[blk].T,
                sal_j[blk].T,
                theta_v[blk].transpose(1, 2, 0),
                sal_v[blk].transpose(1, 2, 0),
                r[blk].T,
                act[blk].T,
                is_free[blk].T,
                b[blk].T,
                exponent,
            )
    return package, feasible


def _solve_block(
    tj: FloatArray,
    sj: FloatArray,
    tv: FloatArray,
    sv: FloatArray,
    rt: FloatArray,
    at: BoolArray,
    ft: BoolArray,
    bt: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray]:
    """Solve a block of rows given issue-major arrays (``(K, n)``, ``(M, K, n)``, ...).

    Returns the package, shape ``(n, K)``, and the feasibility flags.
    """
    tj, sj, bt = np.ascontiguousarray(tj), np.ascontiguousarray(sj), np.ascontiguousarray(bt)
    tv, sv = np.ascontiguousarray(tv), np.ascontiguousarray(sv)
    rt, at, ft = np.ascontiguousarray(rt), np.ascontiguousarray(at), np.ascontiguousarray(ft)
    n_cons, n_issues, n = tv.shape

    # Budgets on the free issues (R_v) and feasibility tolerances, shape (M, n).
    budget = np.empty((n_cons, n))
    tol = np.empty((n_cons, n))
    for v in range(n_cons):
        rv = -rt[v]
        weight = np.zeros(n)
        for k in range(n_issues):
            fixed_loss = sv[v, k] * _loss(bt[k] - tv[v, k], exponent)
            rv -= np.where(ft[k], 0.0, fixed_loss)
            weight += sv[v, k]
        budget[v] = rv
        tol[v] = np.maximum(weight, 1.0) * FEASIBILITY_TOL

    package = bt.copy()
    ok = np.ones(n, dtype=np.bool_)
    n_free = np.count_nonzero(ft, axis=0)
    for multi in (False, True):
        group = n_free >= 2 if multi else n_free == 1
        if not np.any(group):
            continue
        rows = None if np.all(group) else np.flatnonzero(group)

        def pick(a: NDArray[Any], rows: NDArray[np.intp] | None = rows) -> NDArray[Any]:
            return a if rows is None else a[..., rows]

        args = (pick(tj), pick(sj), pick(tv), pick(sv), pick(budget), pick(at), pick(ft), pick(bt))
        if multi:
            x = _MultiIssueProblem(*args).solve()
            good = None
        else:
            x, good = _solve_one_issue(*args, pick(tol), exponent)
        if rows is None:
            package[...] = x
            if good is not None:
                ok &= good
        else:
            package[:, rows] = x
            if good is not None:
                ok[rows] &= good

    # Check every row on the package it gets, with the true utilities.
    for v in range(n_cons):
        total = np.zeros(n)
        for k in range(n_issues):
            total += sv[v, k] * _loss(package[k] - tv[v, k], exponent)
        ok &= ~at[v] | (-total >= rt[v] - tol[v])
    return np.where(ok, package, bt).T, ok


def _solve_one_issue(
    tj: FloatArray,
    sj: FloatArray,
    tv: FloatArray,
    sv: FloatArray,
    budget: FloatArray,
    at: BoolArray,
    ft: BoolArray,
    bt: FloatArray,
    tol: FloatArray,
    exponent: int,
) -> tuple[FloatArray, BoolArray]:
    """Closed form for rows with exactly one free issue (issue-major arrays).

    Returns the package ``(K, n)`` and whether each row's intervals intersect.
    """
    n = ft.shape[1]
    cols = np.arange(n)
    k_star = np.argmax(ft, axis=0)
    x = bt.copy()
    target = np.where(sj[k_star, cols] > 0.0, tj[k_star, cols], bt[k_star, cols])
    lo = np.zeros(n)
    hi = np.ones(n)
    good = np.ones(n, dtype=np.bool_)
    for v in range(tv.shape[0]):
        s = sv[v, k_star, cols]
        t = tv[v, k_star, cols]
        good &= ~at[v] | (budget[v] >= -tol[v])
        half = np.maximum(budget[v], 0.0) / s
        if exponent == 2:
            half = np.sqrt(half)
        binding = at[v] & (s > 0.0)
        lo = np.where(binding, np.maximum(lo, t - half), lo)
        hi = np.where(binding, np.minimum(hi, t + half), hi)
    good &= lo <= hi
    x[k_star, cols] = np.minimum(np.maximum(target, lo), hi)
    return x, good


class _MultiIssueProblem:
    """The ``p = 2`` problem of rows with two or more free issues.

    Arrays are issue-major: ``[k]`` or ``[v][k]`` indexes a 1-D array over rows.
    Fixed issues and inactive constraints get zero responder salience (their
    losses are already in the budgets); issues the proposer is indifferent
    about (fixed, or zero salience) get the proposer weight ``eps`` and the
    ideal point ``b_k``.
    """

    def __init__(
        self,
        tj: FloatArray,
        sj: FloatArray,
        tv: FloatArray,
        sv: FloatArray,
        budget: FloatArray,
        at: BoolArray,
        ft: BoolArray,
        bt: FloatArray,
    ) -> None:
        n_cons, n_issues, n = tv.shape
        self.n, self.n_cons, self.n_issues = n, n_cons, n_issues
        self.ft, self.bt = ft, bt
        self.n_free = np.count_nonzero(ft, axis=0)
        self.tv = [[tv[v, k] for k in range(n_issues)] for v in range(n_cons)]
        self.sv = [
            [np.where(ft[k] & at[v], sv[v, k], 0.0) for k in range(n_issues)]
            for v in range(n_cons)
        ]
        self.wv = [
            [self.sv[v][k] * self.tv[v][k] for k in range(n_issues)] for v in range(n_cons)
        ]
        scale = np.zeros(n)
        for k in range(n_issues):
            scale = np.maximum(scale, np.where(ft[k], sj[k], 0.0))
            for v in range(n_cons):
                scale = np.maximum(scale, self.sv[v][k])
        eps = np.ldexp(1.0, np.frexp(scale)[1] - (_REG_SHIFT + 1))
        indifferent = ~ft | (sj == 0.0)
        self.sj = [np.where(indifferent[k], eps, sj[k]) for k in range(n_issues)]
        self.tj = [np.where(indifferent[k], bt[k], tj[k]) for k in range(n_issues)]
        self.aj = [self.sj[k] * self.tj[k] for k in range(n_issues)]
        self.r = [
            np.where(at[v], np.maximum(budget[v], _BUDGET_FLOOR), 1.0) for v in range(n_cons)
        ]
        self.supports = [
            support
            for size in range(1, min(n_cons, n_issues) + 1)
            for support in itertools.combinations(range(n_cons), size)
        ]

    def solve(self) -> FloatArray:
        """Run the fixed schedule; return the packages, shape ``(K, n)``."""
        lam = [np.zeros(self.n) for _ in range(self.n_cons)]
        base: tuple[list[FloatArray], FloatArray] | None = None
        chain: tuple[list[FloatArray], list[FloatArray]] | None = None
        for op in SCHEDULE:
            if op == "S":
                lam = self.sweep(lam)
                base = chain = None
            elif op == "P":
                if chain is None:
                    if base is None:
                        base = self.minimiser(lam)
                    chain = (base[0], lam)
                chain = self.primal_dual_step(*chain)
            elif op == "A":
                if base is None:
                    base = self.minimiser(lam)
                if chain is None:
                    continue
                xs, dual = self.minimiser(chain[1])
                accept = dual >= base[1]
                lam = [np.where(accept, a, b) for a, b in zip(chain[1], lam, strict=True)]
                base = (
                    [np.where(accept, a, b) for a, b in zip(xs, base[0], strict=True)],
                    np.where(accept, dual, base[1]),
                )
                chain = None
        if base is None:
            base = self.minimiser(lam)
        return np.where(self.ft, np.array(base[0]), self.bt)

    def minimiser(self, lam: list[FloatArray]) -> tuple[list[FloatArray], FloatArray]:
        """The Lagrangian minimiser ``x(lam)`` and the dual value at ``lam``."""
        xs = []
        dual = np.zeros(self.n)
        for k in range(self.n_issues):
            s = self.sj[k]
            a = self.aj[k]
            for v in range(self.n_cons):
                s = s + lam[v] * self.sv[v][k]
                a = a + lam[v] * self.wv[v][k]
            x = a / s
            xs.append(x)
            d = x - self.tj[k]
            dual += self.sj[k] * d * d
        for v in range(self.n_cons):
            q = np.zeros(self.n)
            for k in range(self.n_issues):
                d = xs[k] - self.tv[v][k]
                q += self.sv[v][k] * d * d
            dual += lam[v] * (q - self.r[v])
        return xs, dual

    def sweep(self, lam: list[FloatArray]) -> list[FloatArray]:
        """Cyclic coordinate sweep: one Newton step on ``Q_v(lam_v)**-0.5 = R_v**-0.5`` each."""
        lam = list(lam)
        for v in range(self.n_cons):
            q = np.zeros(self.n)
            p = np.zeros(self.n)
            for k in range(self.n_issues):
                bk = self.sj[k]
                ak = self.aj[k]
                for w in range(self.n_cons):
                    if w != v:
                        bk = bk + lam[w] * self.sv[w][k]
                        ak = ak + lam[w] * self.wv[w][k]
                dk = bk + lam[v] * self.sv[v][k]
                d = (ak - bk * self.tv[v][k]) / dk
                t = self.sv[v][k] * d
                q += t * d
                p += t * t / dk
            step = q / (p + _TINY) * (np.sqrt(q / self.r[v]) - 1.0)
            lam[v] = np.minimum(np.maximum(lam[v] + step, 0.0), _LAMBDA_MAX)
        return lam

    def primal_dual_step(
        self, xs: list[FloatArray], lam: list[FloatArray]
    ) -> tuple[list[FloatArray], list[FloatArray]]:
        """One Newton (SQP) step on the KKT system in ``(x, lam)``.

        The constraints are linearised in the form ``sqrt(Q_v) <= sqrt(R_v)``;
        the subproblem's dual, ``min mu H mu / 2 - c mu`` over ``mu >= 0``, is
        solved exactly by trying every support of at most ``n_free`` constraints.
        """
        n, n_cons, n_issues = self.n, self.n_cons, self.n_issues
        inv_s = []
        e = []
        for k in range(n_issues):
            s = self.sj[k]
            for v in range(n_cons):
                s = s + lam[v] * self.sv[v][k]
            inv_s.append(1.0 / s)
            e.append(self.sj[k] * (xs[k] - self.tj[k]))
        gs = []
        c = []
        for v in range(n_cons):
            q = np.zeros(n)
            g_row = []
            for k in range(n_issues):
                d = xs[k] - self.tv[v][k]
                g = self.sv[v][k] * d
                q += g * d
                g_row.append(g)
            gs.append(g_row)
            acc = q - np.sqrt(q * self.r[v])
            for k in range(n_issues):
                acc -= g_row[k] * inv_s[k] * e[k]
            c.append(acc)
        hess = [[np.zeros(0)] * n_cons for _ in range(n_cons)]
        for v in range(n_cons):
            for w in range(v, n_cons):
                h = np.zeros(n)
                for k in range(n_issues):
                    h += gs[v][k] * inv_s[k] * gs[w][k]
                hess[v][w] = h
                hess[w][v] = h
        mu = [np.zeros(n) for _ in range(n_cons)]
        best = np.zeros(n)
        for support in self.supports:
            sol = _solve_subsystem(hess, c, support)
            value = np.zeros(n)
            valid = self.n_free >= len(support)
            for v, m in zip(support, sol, strict=True):
                valid &= m >= 0.0
                value -= c[v] * m
            better = valid & (value < best)
            best = np.where(better, value, best)
            for v in range(n_cons):
                m = sol[support.index(v)] if v in support else 0.0
                mu[v] = np.where(better, m, mu[v])
        mu = [np.minimum(m, _LAMBDA_MAX) for m in mu]
        new_xs = []
        for k in range(n_issues):
            acc = e[k]
            for v in range(n_cons):
                acc = acc + mu[v] * gs[v][k]
            new_xs.append(xs[k] - acc * inv_s[k])
        return new_xs, mu


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
