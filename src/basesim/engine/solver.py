"""Batched solver of the proposer's problem of a spatial bargaining round.

A proposer ``j`` chooses a package ``x`` in ``[0, 1]**K`` that maximises its
utility subject to every active responder ``v`` getting at least ``r_v``::

    maximise    u_j(x)
    subject to  u_v(x) >= r_v       for every active v,
                x_k = b_k           on the issues that are not free,
                0 <= x_k <= 1,

with ``u_i(x) = -sum_k s_ik |x_k - theta_ik|**p`` and ``p`` in ``{1, 2}``.
Many independent problems (rows) are solved at once.  Loops run over the small
issue (``K``) and constraint (``M``) axes, over fixed numbers of iterations and
over blocks of :data:`BLOCK_SIZE` rows (for cache efficiency), never over
single rows.

Determinism
-----------
A row is computed with elementwise NumPy operations only (``+ - * /``,
``sqrt``, ``abs``, ``minimum``, ``maximum``, ``where``), which are correctly
rounded and never mix rows; sums over issues and constraints are explicit
Python loops in a fixed order, and which computations a row goes through
depends on that row's data alone.  A row's result is therefore bit-identical
whether it is solved alone or inside any batch, in any block.

Algorithm
---------
*One free issue* (any ``p``): the exact closed form.  Each active constraint
is the interval ``theta_vk +- (R_v / s_vk)**(1/p)`` of the free issue; the
proposer takes the point of the intersection closest to its ideal point (the
Romer-Rosenthal setter model).

*Two or more free issues* (``p = 2``): for multipliers ``lam >= 0`` the
Lagrangian is minimised by the weighted average of ideal points

    x_k(lam) = (s_jk theta_jk + sum_v lam_v s_vk theta_vk) / (s_jk + sum_v lam_v s_vk).

The problem is convex, so its optimum is the optimum of the relaxation that
keeps only the constraints binding there, and a relaxation's optimum that
meets every constraint is the optimum of the problem.  The solver therefore
tries relaxations in order of size, each stage only on the rows no smaller
relaxation solved (and each relaxation only on the rows where its constraints
are active):

0. no constraint: ``x = theta_j``;
1. one constraint ``v``: ``lam_v`` solves the secular equation
   ``Q_v(lam) = R_v`` (Newton on ``Q**-0.5``, as in Moré-Sorensen, from a lower
   bound of the root, so the iterates increase monotonically;
   :data:`N_SECULAR_STEPS` steps);
2. two (then three, ...) constraints, all binding: :data:`N_JOINT_STEPS`
   Newton (SQP) steps on the KKT system in ``(x, lam)`` with ``lam`` kept
   ``>= 0``, started from the most restrictive converged solution of a
   one-smaller relaxation.

A candidate ``x(lam)`` is accepted if it meets every constraint and its own
constraints are tight, both within the feasibility tolerance; by weak duality
it is then optimal up to ``sum_v lam_v * tol_v``.  A row with no accepted
candidate is infeasible.  Iteration counts are fixed; which stages a row goes
through depends on that row alone.
"""

from __future__ import annotations

import itertools
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["solve_package", "utility"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IndexArray = NDArray[np.intp]
# Solution of a relaxation on its rows: multipliers (|A|, n), package (K, n),
# proposer's loss (n,), whether the relaxation's constraints came out tight (n,).
_Face = tuple[FloatArray, FloatArray, FloatArray, BoolArray]
_ArrayT = TypeVar("_ArrayT", bound=NDArray[Any])

#: A constraint holds if ``u_v(x) >= r_v - FEASIBILITY_TOL * max(1, sum_k s_vk)``.
FEASIBILITY_TOL = 1e-9
#: Newton steps on the secular equation of a one-constraint relaxation.
N_SECULAR_STEPS = 8
#: Newton (SQP) steps for a relaxation with two or more binding constraints.
N_JOINT_STEPS = 16
#: Rows are processed in blocks of this many (cache efficiency only: results do
#: not depend on it).
BLOCK_SIZE = 8192
#: Upper bound of a multiplier (reached when a constraint allows one point only).
_LAMBDA_MAX = 1e15
#: Budgets below this are raised to it, so that ``Q / R`` stays finite.
_BUDGET_FLOOR = 1e-200
#: Added to denominators that are zero only when their numerator is zero.
_TINY = 1e-300
#: Proposer weight of an issue it is indifferent about: about 2**-_REG_SHIFT
#: times the row's largest salience, rounded to a power of two so that the
#: regularised value ``(eps * b) / eps`` is exactly ``b``.
_REG_SHIFT = 40


def _check_exponent(exponent: int) -> None:
    if exponent not in (1, 2):
        raise ValueError(f"exponent must be 1 or 2, got {exponent!r}")


def _loss(diff: FloatArray, exponent: int) -> FloatArray:
    """``|diff|**exponent`` for ``exponent`` in ``{1, 2}`` (no ``np.power``)."""
    result: FloatArray = diff * diff if exponent == 2 else np.abs(diff)
    return result


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
        Utilities, of the broadcast shape of the three arguments without its
        last axis.  The sum over issues is an explicit loop over ``k`` in order,
        so a value does not depend on the batch it is computed in.

    Examples
    --------
    >>> utility([0.2, 0.5], [1.0, 2.0], [0.4, 0.5])
    np.float64(-0.04...)
    >>> utility([[0.2, 0.5]], [[1.0, 2.0]], [0.4, 0.0], exponent=1)
    array([-1.2])
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
        The responders' ideal points (in ``[0, 1]``) and saliences (``>= 0``),
        shape ``(n, M, K)``.
    bound
        The utility each responder must get, ``r_v``, shape ``(n, M)``.  A bound
        above what the responder can get makes the row infeasible.
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
        The proposals, shape ``(n, K)``; ``fixed[i]`` where row ``i`` is
        infeasible.
    feasible : numpy.ndarray
        Shape ``(n,)``: whether row ``i`` has a package meeting every active
        constraint.

    Raises
    ------
    ValueError
        If the shapes disagree, ``exponent`` is not 1 or 2, or ``exponent`` is
        1 and some row has two or more free issues.

    Notes
    -----
    * Tolerance: a constraint counts as met if
      ``u_v(x) >= r_v - tol_v`` with ``tol_v = FEASIBILITY_TOL * max(1, sum_k s_vk)``.
      Every row's ``feasible`` flag is this check, made with :func:`utility` on
      the package returned; rows that fail get the breakdown package.
    * Fixed issues cost responder ``v`` a constant, which is taken off its
      budget: on the free issues ``v`` needs
      ``sum_k s_vk |x_k - theta_vk|**p <= R_v = -r_v - (its loss on fixed issues)``.
    * One free issue: ``x = clip(theta_j, lo, hi)`` with ``[lo, hi]`` the
      intersection of ``[0, 1]`` and the intervals of the active constraints
      (a negative budget counts as 0, and the tolerance check then rejects
      budgets below ``-tol_v``); if the proposer's salience on
      the issue is 0, ``x = clip(b, lo, hi)``.  An empty intersection is
      infeasible.
    * Two or more free issues: see the module docstring.  Multi-issue results
      are accurate to about ``1e-12`` in ``x`` on well-posed problems; problems
      whose feasible set is (almost) a single point are ill-posed, and may come
      out either way.
    * Zero saliences with two or more free issues: a free issue the proposer
      does not care about gets the weight ``eps`` (about ``2**-40`` times the
      row's largest salience) and the ideal point ``b_k``.  If no binding
      constraint cares about the issue this gives exactly ``x_k = b_k``;
      otherwise ``x_k`` goes where the binding responders want it (as
      ``eps -> 0``: the proposer's optimum closest to the breakdown value),
      off by a relative ``O(eps / lam)``.
    * Ideal points are assumed to lie in ``[0, 1]``: the multi-issue solution
      is a weighted average of them, so it does too.
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
        several = int(np.count_nonzero(np.count_nonzero(is_free, axis=1) >= 2))
        if several:
            raise ValueError(
                f"exponent=1 supports at most one free issue per row; {several} row(s) have more"
            )

    package = np.empty((n_issues, n))
    tol = np.empty((n, n_cons))
    pending: list[_MultiIssueProblem] = []
    pending_rows: list[IndexArray] = []
    blocks = [slice(start, min(start + BLOCK_SIZE, n)) for start in range(0, n, BLOCK_SIZE)]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # Closed forms, and the multi-issue relaxations with at most one constraint.
        for blk in blocks:
            x, tol_blk, rest = _solve_block(
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
            package[:, blk] = x
            tol[blk] = tol_blk.T
            if rest is not None:
                pending.append(rest[0])
                pending_rows.append(rest[1] + blk.start)
        # Multi-issue rows needing two or more binding constraints, gathered
        # from all blocks.
        if pending:
            problem = _MultiIssueProblem.concatenate(pending)
            rows = np.concatenate(pending_rows)
            for start in range(0, rows.size, BLOCK_SIZE):
                part = np.arange(start, min(start + BLOCK_SIZE, rows.size))
                x, _ = problem.take(part).solve(2)
                package[:, rows[part]] = x
        # The feasibility check, with the true utilities, on every row.
        result = np.ascontiguousarray(package.T)
        feasible = np.empty(n, dtype=np.bool_)
        for blk in blocks:
            u = utility(theta_v[blk], sal_v[blk], result[blk, None, :], exponent=exponent)
            met = u >= r[blk] - tol[blk]
            ok = np.ones(u.shape[0], dtype=np.bool_)
            for v in range(n_cons):
                ok &= met[:, v] | ~act[blk, v]
            feasible[blk] = ok
    result = np.where(feasible[:, None], result, b)
    return result, feasible


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
) -> tuple[FloatArray, FloatArray, tuple[_MultiIssueProblem, IndexArray] | None]:
    """Solve a block of rows given issue-major arrays (``(K, n)``, ``(M, K, n)``, ...).

    Returns the packages ``(K, n)`` (infeasible rows get anything), the
    feasibility tolerances ``(M, n)``, and the multi-issue rows that need two
    or more binding constraints: their problem (with its one-constraint
    solutions) and their indices in the block.
    """
    tj, sj, bt = np.ascontiguousarray(tj), np.ascontiguousarray(sj), np.ascontiguousarray(bt)
    tv, sv = np.ascontiguousarray(tv), np.ascontiguousarray(sv)
    rt, at, ft = np.ascontiguousarray(rt), np.ascontiguousarray(at), np.ascontiguousarray(ft)
    # Budgets on the free issues (R_v) and feasibility tolerances, shape (M, n).
    fixed_loss = np.where(ft, 0.0, sv * _loss(bt - tv, exponent))
    budget = -rt - _sum_issues(fixed_loss)
    tol = np.maximum(_sum_issues(sv), 1.0) * FEASIBILITY_TOL

    package = bt.copy()
    rest = None
    n_free = _count_free(ft)
    for multi in (False, True):
        rows = np.flatnonzero(n_free >= 2 if multi else n_free == 1)
        if rows.size == 0:
            continue
        every = rows.size == ft.shape[1]

        def pick(a: _ArrayT, rows: IndexArray = rows, every: bool = every) -> _ArrayT:
            return a if every else _cols(a, rows)

        data = (pick(tj), pick(sj), pick(tv), pick(sv), pick(budget))
        masks = (pick(at), pick(ft), pick(bt))
        if not multi:
            x = _solve_one_issue(*data, *masks, exponent)
        else:
            x, unsolved = _MultiIssueProblem(*data, pick(tol), *masks).solve_up_to_one()
            if unsolved is not None:
                rest = (unsolved[0], rows[unsolved[1]])
        if every:
            package = x
        else:
            package[:, rows] = x
    return package, tol, rest


def _solve_one_issue(
    tj: FloatArray,
    sj: FloatArray,
    tv: FloatArray,
    sv: FloatArray,
    budget: FloatArray,
    at: BoolArray,
    ft: BoolArray,
    bt: FloatArray,
    exponent: int,
) -> FloatArray:
    """Closed form for rows with exactly one free issue (issue-major arrays).

    Returns the packages ``(K, n)``, with NaN on the free issue where the
    intervals do not intersect, so that the feasibility check rejects them.  A
    budget ``R_v < 0`` counts as 0 here (the interval is the point
    ``theta_vk``); the feasibility check then decides with the tolerance.
    """
    n = ft.shape[1]
    cols = np.arange(n)
    k_star = np.argmax(ft, axis=0)
    target = np.where(sj[k_star, cols] > 0.0, tj[k_star, cols], bt[k_star, cols])
    lo = np.zeros(n)
    hi = np.ones(n)
    for v in range(tv.shape[0]):
        s = sv[v, k_star, cols]
        t = tv[v, k_star, cols]
        half = np.maximum(budget[v], 0.0) / s
        if exponent == 2:
            half = np.sqrt(half)
        binding = at[v] & (s > 0.0)
        lo = np.where(binding, np.maximum(lo, t - half), lo)
        hi = np.where(binding, np.minimum(hi, t + half), hi)
    x = bt.copy()
    x[k_star, cols] = np.where(lo <= hi, np.minimum(np.maximum(target, lo), hi), np.nan)
    return x


def _cols(a: _ArrayT, rows: IndexArray) -> _ArrayT:
    """The rows ``rows`` of an array whose last axis runs over rows."""
    return cast(_ArrayT, np.take(a, rows, axis=-1))


def _count_free(ft: BoolArray) -> NDArray[np.intp]:
    """Number of free issues of each row, from the ``(K, n)`` mask."""
    count = np.zeros(ft.shape[1], dtype=np.intp)
    for k in range(ft.shape[0]):
        count += ft[k]
    return count


def _sum_first(a: FloatArray) -> FloatArray:
    """Sum over the first axis as an explicit loop in order (no pairwise summation)."""
    total: FloatArray = a[0].copy()
    for i in range(1, a.shape[0]):
        total += a[i]
    return total


def _sum_issues(a: FloatArray) -> FloatArray:
    """Sum an ``(M, K, n)`` array over its issue axis, in order; shape ``(M, n)``."""
    total: FloatArray = a[:, 0].copy() if a.shape[1] else np.zeros((a.shape[0], a.shape[2]))
    for k in range(1, a.shape[1]):
        total += a[:, k]
    return total


class _MultiIssueProblem:
    """The ``p = 2`` problem of rows with two or more free issues.

    Arrays are issue-major, ``(K, n)`` and ``(M, K, n)``.  Fixed issues and
    inactive constraints get zero responder salience (their losses are already
    in the budgets); issues the proposer is indifferent about (fixed, or zero
    salience) get the proposer weight ``eps`` and the ideal point ``b_k``.
    ``faces`` holds the solutions of the relaxations of the previous size.
    """

    _ARRAYS = ("at", "ft", "n_free", "tv", "sv", "wv", "sj", "tj", "aj", "r", "r_hi", "r_lo")

    at: BoolArray
    ft: BoolArray
    n_free: NDArray[np.intp]
    tv: FloatArray
    sv: FloatArray
    wv: FloatArray
    sj: FloatArray
    tj: FloatArray
    aj: FloatArray
    r: FloatArray
    r_hi: FloatArray
    r_lo: FloatArray

    def __init__(
        self,
        tj: FloatArray,
        sj: FloatArray,
        tv: FloatArray,
        sv: FloatArray,
        budget: FloatArray,
        tol: FloatArray,
        at: BoolArray,
        ft: BoolArray,
        bt: FloatArray,
    ) -> None:
        self.n_cons, self.n_issues = tv.shape[:2]
        self.faces: dict[tuple[int, ...], _Face] = {}
        self.at = at
        self.ft = ft
        self.n_free = _count_free(ft)
        self.tv = tv
        self.sv = sv * (ft[None] & at[:, None])
        self.wv = self.sv * tv
        scale = np.zeros(tv.shape[2])
        for k in range(self.n_issues):
            scale = np.maximum(scale, sj[k] * ft[k])
            for v in range(self.n_cons):
                scale = np.maximum(scale, self.sv[v, k])
        eps = np.ldexp(1.0, np.frexp(scale)[1] - (_REG_SHIFT + 1))
        indifferent = ~ft | (sj == 0.0)
        self.sj = np.where(indifferent, eps, sj)
        self.tj = np.where(indifferent, bt, tj)
        self.aj = self.sj * self.tj
        # Budget used by the Newton steps (finite, > 0), and the band within
        # which a constraint counts as met (q <= r_hi) and as tight (q >= r_lo).
        self.r = np.where(at, np.maximum(budget, _BUDGET_FLOOR), 1.0)
        self.r_hi = np.where(at, budget + tol, np.inf)
        self.r_lo = np.where(at, budget - tol, -np.inf)

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.sj.shape[1])

    def take(
        self, rows: IndexArray, faces: dict[tuple[int, ...], _Face] | None = None
    ) -> _MultiIssueProblem:
        """The problem restricted to ``rows`` (and ``faces``, if given, to ``rows``)."""
        sub = object.__new__(_MultiIssueProblem)
        sub.n_cons, sub.n_issues = self.n_cons, self.n_issues
        for name in self._ARRAYS:
            setattr(sub, name, _cols(getattr(self, name), rows))
        source = self.faces if faces is None else faces
        sub.faces = {
            key: (_cols(mu, rows), _cols(x, rows), _cols(loss, rows), _cols(tight, rows))
            for key, (mu, x, loss, tight) in source.items()
        }
        return sub

    @classmethod
    def concatenate(cls, problems: list[_MultiIssueProblem]) -> _MultiIssueProblem:
        """The problems' rows, one after the other."""
        first = problems[0]
        out = object.__new__(cls)
        out.n_cons, out.n_issues = first.n_cons, first.n_issues
        for name in cls._ARRAYS:
            setattr(out, name, np.concatenate([getattr(p, name) for p in problems], axis=-1))
        out.faces = {
            key: (
                np.concatenate([p.faces[key][0] for p in problems], axis=-1),
                np.concatenate([p.faces[key][1] for p in problems], axis=-1),
                np.concatenate([p.faces[key][2] for p in problems]),
                np.concatenate([p.faces[key][3] for p in problems]),
            )
            for key in first.faces
        }
        return out

    def evaluate(self, x: FloatArray) -> tuple[FloatArray, FloatArray, BoolArray]:
        """At packages ``x`` ``(K, n)``: the proposer's loss, every ``Q_v`` and feasibility."""
        d = x - self.tj
        loss = _sum_first(self.sj * d * d)
        dv = x - self.tv
        q = _sum_issues(self.sv * dv * dv)
        ok = np.ones(self.n, dtype=np.bool_)
        for v in range(self.n_cons):
            ok &= q[v] <= self.r_hi[v]
        return loss, q, ok

    def minimiser(self, support: tuple[int, ...], mu: FloatArray) -> FloatArray:
        """The Lagrangian minimiser ``x(mu)`` for multipliers ``mu`` ``(|A|, n)`` on ``A``."""
        s = self.sj.copy()
        a = self.aj.copy()
        for i, v in enumerate(support):
            s += mu[i] * self.sv[v]
            a += mu[i] * self.wv[v]
        x: FloatArray = a / s
        return x

    def single(self, v: int) -> FloatArray:
        """The multiplier of the relaxation keeping only constraint ``v``.

        With ``c_k = s_jk (theta_jk - theta_vk)``, ``alpha_k = c_k**2 / s_vk`` and
        ``rho_k = s_jk / s_vk``, ``Q(lam) = sum_k alpha_k / (rho_k + lam)**2``.
        Newton on ``Q(lam)**-0.5 = R**-0.5`` (concave and increasing in
        ``lam``), started from a lower bound of the root (the largest of
        ``sqrt(sum_k alpha_k / R) - max_k rho_k`` and ``sqrt(alpha_k / R) - rho_k``),
        increases monotonically to the root; it is exact at once when the
        saliences are proportional, and :data:`N_SECULAR_STEPS` = 8 steps reach
        machine precision when the ratios ``s_jk / s_vk`` span up to about six
        orders of magnitude.  A constraint already met at ``lam = 0`` gets 0.
        """
        s = self.sv[v]
        cares = s > 0.0
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=cares)
        c = self.sj * (self.tj - self.tv[v])
        alpha = c * c * inv
        rho = np.where(cares, self.sj * inv, 1.0)
        r = self.r[v]
        # Lower bounds of the root: Q(lam) >= sum_k alpha_k / (max_k rho_k + lam)**2
        # and Q(lam) >= alpha_k / (rho_k + lam)**2 for every k.
        rho_max = rho[0] * cares[0]
        lam: FloatArray = np.sqrt(alpha[0] / r) - rho[0]
        for k in range(1, self.n_issues):
            rho_max = np.maximum(rho_max, rho[k] * cares[k])
            lam = np.maximum(lam, np.sqrt(alpha[k] / r) - rho[k])
        lam = np.maximum(np.maximum(lam, np.sqrt(_sum_first(alpha) / r) - rho_max), 0.0)
        for _ in range(N_SECULAR_STEPS):
            rcp = 1.0 / (rho + lam)
            t = alpha * rcp * rcp
            q = _sum_first(t)
            p = _sum_first(t * rcp)
            # Never negative but at lam = 0 when the constraint is met there.
            lam = np.maximum(lam + q / (p + _TINY) * (np.sqrt(q / r) - 1.0), 0.0)
        return np.minimum(lam, _LAMBDA_MAX)

    def joint(self, support: tuple[int, ...], x: FloatArray, mu: FloatArray) -> FloatArray:
        """Multipliers of the relaxation keeping the constraints ``support``, all binding.

        Newton (SQP) steps on the KKT system in ``(x, mu)`` from ``(x, mu)``:
        with ``S_k = s_jk + sum_v mu_v s_vk``, ``e_k = s_jk (x_k - theta_jk)`` and
        ``g_vk = s_vk (x_k - theta_vk)``, the step is ``dx_k = -(e_k + sum_v
        mu'_v g_vk) / S_k`` with the new multipliers ``mu'`` such that the
        linearised constraints ``sqrt(Q_v) + sum_k g_vk dx_k / sqrt(Q_v) =
        sqrt(R_v)`` hold; ``mu'`` is clipped to ``[0, _LAMBDA_MAX]``.
        """
        sel = list(support)
        sv, tv, r = self.sv[sel], self.tv[sel], self.r[sel]
        m = len(sel)
        for _ in range(N_JOINT_STEPS):
            s = self.sj.copy()
            for i in range(m):
                s += mu[i] * sv[i]
            inv_s = 1.0 / s
            e = self.sj * (x - self.tj)
            dv = x - tv
            g = sv * dv
            q = _sum_issues(g * dv)
            gi = g * inv_s
            c = q - np.sqrt(q * r) - _sum_issues(gi * e)
            hess = [[np.zeros(0)] * m for _ in range(m)]
            for i in range(m):
                for j in range(i, m):
                    hess[i][j] = hess[j][i] = _sum_first(gi[i] * g[j])
            mu = np.minimum(np.maximum(_solve_small(hess, c), 0.0), _LAMBDA_MAX)
            step = e.copy()
            for i in range(m):
                step += mu[i] * g[i]
            x = x - step * inv_s
        return mu

    def relaxation(self, support: tuple[int, ...]) -> tuple[_Face, BoolArray]:
        """Solve the relaxation keeping the constraints ``support``, all binding.

        Only rows where every constraint of ``support`` is active and that have
        at least ``len(support)`` free issues are solved (a relaxation with an
        inactive constraint is a smaller one); the others get multipliers 0, a
        NaN package, loss ``-inf`` and ``tight = False``.  Returns the solution
        (a face for the next size) and whether it is the problem's optimum:
        feasible, with the support's constraints tight.
        """
        size = len(support)
        keep = self.n_free >= size
        for v in support:
            keep = keep & self.at[v]
        rows = np.flatnonzero(keep)
        every = rows.size == self.n
        sub_faces = {f: self.faces[f] for f in itertools.combinations(support, size - 1) if f}
        part = self if every else self.take(rows, sub_faces)
        if size == 1:
            mu = part.single(support[0])[None]
        else:
            mu = part.joint(support, *part.warm_start(support))
        cand = part.minimiser(support, mu)
        loss, q, ok = part.evaluate(cand)
        tight = np.ones(part.n, dtype=np.bool_)
        for v in support:
            tight &= (q[v] >= part.r_lo[v]) & (q[v] <= part.r_hi[v])
        if every:
            return (mu, cand, loss, tight), ok & tight
        face = (
            np.zeros((size, self.n)),
            np.full((self.n_issues, self.n), np.nan),
            np.full(self.n, -np.inf),
            np.zeros(self.n, dtype=np.bool_),
        )
        face[0][:, rows], face[1][:, rows], face[2][rows], face[3][rows] = mu, cand, loss, tight
        valid = np.zeros(self.n, dtype=np.bool_)
        valid[rows] = ok & tight
        return face, valid

    def warm_start(self, support: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
        """Starting ``(x, mu)`` for ``support``: the most restrictive (largest
        loss) tight solution of a one-smaller support, its multipliers extended by 0."""
        size, n = len(support), self.n
        faces = list(itertools.combinations(support, size - 1))
        face_loss = np.array(
            [np.where(self.faces[f][3], self.faces[f][2], -np.inf) for f in faces]
        )
        pick = np.argmax(face_loss, axis=0)
        x0 = np.zeros((self.n_issues, n))
        mu0 = np.zeros((size, n))
        for i, face in enumerate(faces):
            chosen = pick == i
            mu_face, x_face = self.faces[face][:2]
            x0 = np.where(chosen, x_face, x0)
            for j, v in enumerate(face):
                at = support.index(v)
                mu0[at] = np.where(chosen, mu_face[j], mu0[at])
        return x0, mu0

    def solve_up_to_one(
        self,
    ) -> tuple[FloatArray, tuple[_MultiIssueProblem, IndexArray] | None]:
        """Stages 0 and 1 (no constraint, one constraint).

        Returns the packages ``(K, n)`` (NaN where not found) and, if some rows
        need two or more binding constraints, their problem (with the
        one-constraint solutions as ``faces``) and their row indices.
        """
        x = self.tj.copy()
        _, _, found = self.evaluate(x)
        if np.all(found):
            return x, None
        rows = np.flatnonzero(~found)
        sub = self.take(rows)
        best_x, found_sub, faces = sub.best_of(1)
        x[:, rows] = best_x
        unsolved = np.flatnonzero(~found_sub)
        if unsolved.size == 0 or min(self.n_cons, self.n_issues) < 2:
            return x, None
        return x, (sub.take(unsolved, faces), rows[unsolved])

    def best_of(self, size: int) -> tuple[FloatArray, BoolArray, dict[tuple[int, ...], _Face]]:
        """The best optimal package among the relaxations with ``size`` binding constraints.

        Returns the packages ``(K, n)`` (NaN where none is optimal), whether one
        is, and every relaxation's solution (the faces of the next size).
        """
        best_x = np.full((self.n_issues, self.n), np.nan)
        best_loss = np.full(self.n, np.inf)
        faces: dict[tuple[int, ...], _Face] = {}
        for support in itertools.combinations(range(self.n_cons), size):
            face, valid = self.relaxation(support)
            better = valid & (face[2] < best_loss)
            best_loss = np.where(better, face[2], best_loss)
            best_x = np.where(better, face[1], best_x)
            faces[support] = face
        return np.where(self.ft, best_x, self.tj), best_loss < np.inf, faces

    def solve(self, size: int) -> tuple[FloatArray, BoolArray]:
        """Stages ``size`` and up, on rows that no smaller relaxation solved.

        Returns the packages ``(K, n)``, NaN where none was found (so that
        they fail the feasibility check), and whether one was found.
        """
        best_x, found, faces = self.best_of(size)
        if size < min(self.n_cons, self.n_issues) and not np.all(found):
            rows = np.flatnonzero(~found)
            x_rest, found_rest = self.take(rows, faces).solve(size + 1)
            best_x[:, rows] = x_rest
            found[rows] = found_rest
        return best_x, found


def _solve_small(hess: list[list[FloatArray]], rhs: FloatArray) -> FloatArray:
    """Solve the batched symmetric positive semidefinite systems ``hess @ y = rhs``.

    ``hess[i][j]`` and ``rhs[i]`` are arrays over rows.  Gaussian elimination
    without pivoting, in a fixed order, with the diagonal raised by a relative
    ``1e-12`` so that a singular system gives a large but finite solution
    (which then fails the caller's tightness test).
    """
    m = len(hess)
    a = [list(row) for row in hess]
    y = list(rhs)
    for i in range(m):
        a[i][i] = a[i][i] * (1.0 + 1e-12) + _TINY
    for i in range(m):
        for j in range(i + 1, m):
            f = a[j][i] / a[i][i]
            for col in range(i + 1, m):
                a[j][col] = a[j][col] - f * a[i][col]
            y[j] = y[j] - f * y[i]
    out = np.empty((m, rhs.shape[1]))
    for i in reversed(range(m)):
        acc = y[i]
        for col in range(i + 1, m):
            acc = acc - a[i][col] * out[col]
        out[i] = acc / a[i][i]
    return out
