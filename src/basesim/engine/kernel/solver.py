"""Compiled per-row port of the proposer's convex solver.

One row of :func:`basesim.engine.solver.solve_package` (:func:`solve_row`), one
row of the proposer's problem of :mod:`basesim.protocols.proposer` with its
working-set method for many constraints (:func:`solve_proposer_row`), the
spatial utility (:func:`utility_row`) and the standard normal distribution
function (:func:`ndtr`), as Numba functions that take plain arrays and scalars
so that they can be called from other compiled code.

The arithmetic is the batch solver's, operation by operation and in the same
order (sums over issues and constraints are loops in index order, starting
from their first term), so a row's result is bit-identical to the batch
solver's.  Inactive constraints are dropped before solving: the batch solver
never keeps a relaxation that contains one, so this changes nothing but the
work done.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np

from basesim.engine.solver import (
    _BUDGET_FLOOR,
    _LAMBDA_MAX,
    _REG_SHIFT,
    _TINY,
    FEASIBILITY_TOL,
    N_JOINT_STEPS,
    N_SECULAR_STEPS,
)

__all__ = [
    "ndtr",
    "proposer_workspace",
    "solve_proposer_row",
    "solve_proposer_row_with",
    "solve_row",
    "utility_row",
]

#: The diagonal factor of the batch solver's small linear systems.
_DIAG = 1.0 + 1e-12
#: The proposer's constants (``MAX_DIRECT_CONSTRAINTS``, ``MAX_CUT_CONSTRAINTS``
#: and ``TOLERANCE`` of :mod:`basesim.protocols.proposer`, which imports the
#: engine and so cannot be imported here).
_MAX_DIRECT_CONSTRAINTS = 4
_MAX_CUT_CONSTRAINTS = 8
_TOLERANCE = 1e-9

_F = TypeVar("_F", bound=Callable[..., Any])


def _compiled(*, allocates: bool) -> Callable[[_F], _F]:
    """The Numba decorator of this module's functions.

    Functions that allocate nothing are compiled without reference counting
    (``_nrt=False``): they only read and write arrays they are given, and
    counting references on every array passed would cost more than their
    arithmetic.
    """
    options: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}
    if not allocates:
        options["_nrt"] = False
    return cast("Callable[[_F], _F]", numba.njit(**options))


_jit = _compiled(allocates=False)
_jit_alloc = _compiled(allocates=True)


@_jit
def _maximum(a: float, b: float) -> float:
    """``numpy.maximum`` of two floats (NaN wins)."""
    if a >= b or a != a:
        return a
    return b


@_jit
def _minimum(a: float, b: float) -> float:
    """``numpy.minimum`` of two floats (NaN wins)."""
    if a <= b or a != a:
        return a
    return b


@_jit
def _same(a: float, b: float) -> bool:
    """Whether two floats have the same bits (NaN never does; 0.0 and -0.0 do not)."""
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


@_jit
def _argmax(values: np.ndarray, n: int) -> int:
    """``numpy.argmax`` of ``values[:n]``: the first maximum, or the first NaN."""
    best = values[0]
    pick = 0
    if best != best:
        return 0
    for i in range(1, n):
        value = values[i]
        if value != value:
            return i
        if value > best:
            best = value
            pick = i
    return pick


@_jit
def utility_row(theta: np.ndarray, sal: np.ndarray, x: np.ndarray, exponent: int) -> float:
    """Spatial utility ``-sum_k s_k |x_k - theta_k|**p`` of one package.

    Parameters
    ----------
    theta, sal, x
        Ideal point, saliences and package, shape ``(K,)``.
    exponent
        The loss exponent ``p``, 1 or 2.

    Returns
    -------
    float
        The utility, summed over issues in order from 0 as
        :func:`basesim.engine.solver.utility` does.
    """
    total = 0.0
    for k in range(theta.shape[0]):
        d = x[k] - theta[k]
        if exponent == 2:
            total += sal[k] * (d * d)
        else:
            total += sal[k] * abs(d)
    return -total


@_jit
def _binom(n: int, k: int) -> int:
    """The binomial coefficient ``C(n, k)`` (0 if ``k`` is out of range)."""
    if k < 0 or k > n:
        return 0
    result = 1
    for i in range(min(k, n - k)):
        result = result * (n - i) // (i + 1)
    return result


@_jit
def _rank(comb: np.ndarray, size: int, n: int) -> int:
    """Rank of the combination ``comb[:size]`` of ``range(n)`` in lexicographic order."""
    rank = 0
    prev = -1
    for i in range(size):
        for j in range(prev + 1, comb[i]):
            rank += _binom(n - 1 - j, size - 1 - i)
        prev = comb[i]
    return rank


@_jit
def _next_comb(comb: np.ndarray, size: int, n: int) -> bool:
    """Advance ``comb[:size]`` to the next combination of ``range(n)``; False at the end."""
    i = size - 1
    while i >= 0 and comb[i] == n - size + i:
        i -= 1
    if i < 0:
        return False
    comb[i] += 1
    for j in range(i + 1, size):
        comb[j] = comb[j - 1] + 1
    return True


@_jit_alloc
def _workspace(n_issues: int, n_cons: int) -> tuple[Any, ...]:
    """Scratch arrays for a row with ``n_issues`` issues and up to ``n_cons`` constraints."""
    mm = max(n_cons, 1)
    n_faces = max(_binom(mm, mm // 2), 1)
    vk = np.empty((11, n_issues))
    vm = np.empty((12, mm))
    vmk = np.empty((4, mm, n_issues))
    hess = np.empty((mm, mm))
    face_mu = np.empty((2, n_faces, mm))
    face_x = np.empty((2, n_faces, n_issues))
    face_loss = np.empty((2, n_faces))
    face_tight = np.empty((2, n_faces), dtype=np.bool_)
    ints = np.empty((3, mm), dtype=np.intp)
    return vk, vm, vmk, hess, face_mu, face_x, face_loss, face_tight, ints


@_jit
def _evaluate(
    x: np.ndarray,
    sj: np.ndarray,
    tj: np.ndarray,
    sv: np.ndarray,
    tv: np.ndarray,
    r_hi: np.ndarray,
    m: int,
    q: np.ndarray,
) -> tuple[Any, ...]:
    """The proposer's loss at ``x``, every ``Q_v`` (into ``q``) and whether all are met."""
    n_issues = x.shape[0]
    d = x[0] - tj[0]
    loss = sj[0] * d * d
    for k in range(1, n_issues):
        d = x[k] - tj[k]
        loss += sj[k] * d * d
    ok = True
    for i in range(m):
        dv = x[0] - tv[i, 0]
        total = sv[i, 0] * dv * dv
        for k in range(1, n_issues):
            dv = x[k] - tv[i, k]
            total += sv[i, k] * dv * dv
        q[i] = total
        ok = ok and total <= r_hi[i]
    return loss, ok


@_jit
def _minimiser(
    sel: np.ndarray,
    size: int,
    mu: np.ndarray,
    sj: np.ndarray,
    aj: np.ndarray,
    sv: np.ndarray,
    wv: np.ndarray,
    x: np.ndarray,
) -> None:
    """The Lagrangian minimiser for multipliers ``mu[:size]`` on the constraints ``sel``."""
    for k in range(x.shape[0]):
        s = sj[k]
        a = aj[k]
        for i in range(size):
            v = sel[i]
            s += mu[i] * sv[v, k]
            a += mu[i] * wv[v, k]
        x[k] = a / s


@_jit
def _single(
    i: int,
    sj: np.ndarray,
    tj: np.ndarray,
    sv: np.ndarray,
    tv: np.ndarray,
    r: float,
    alpha: np.ndarray,
    rho: np.ndarray,
) -> float:
    """The multiplier of the relaxation keeping only constraint ``i`` (secular equation)."""
    n_issues = sj.shape[0]
    rho_max = 0.0
    lam = 0.0
    total = 0.0
    for k in range(n_issues):
        s = sv[i, k]
        cares = s > 0.0
        inv = 1.0 / s if cares else 0.0
        c = sj[k] * (tj[k] - tv[i, k])
        alpha[k] = c * c * inv
        rho[k] = sj[k] * inv if cares else 1.0
        bound = math.sqrt(alpha[k] / r) - rho[k]
        if k == 0:
            rho_max = rho[0] * (1.0 if cares else 0.0)
            lam = bound
            total = alpha[0]
        else:
            rho_max = _maximum(rho_max, rho[k] * (1.0 if cares else 0.0))
            lam = _maximum(lam, bound)
            total += alpha[k]
    lam = _maximum(_maximum(lam, math.sqrt(total / r) - rho_max), 0.0)
    earlier = np.nan
    for step in range(N_SECULAR_STEPS):
        before = lam
        rcp = 1.0 / (rho[0] + lam)
        t = alpha[0] * rcp * rcp
        q = t
        p = t * rcp
        for k in range(1, n_issues):
            rcp = 1.0 / (rho[k] + lam)
            t = alpha[k] * rcp * rcp
            q += t
            p += t * rcp
        lam = _maximum(lam + q / (p + _TINY) * (math.sqrt(q / r) - 1.0), 0.0)
        # A step is a function of lam alone: at a fixed point every further step
        # returns the same bits, and in a cycle of two the last step's result
        # is known from the parity of the steps left.
        if _same(lam, before):
            break
        if _same(lam, earlier):
            if (N_SECULAR_STEPS - 1 - step) % 2 == 1:
                lam = before
            break
        earlier = before
    return _minimum(lam, _LAMBDA_MAX)


@_jit
def _joint(
    sel: np.ndarray,
    size: int,
    x: np.ndarray,
    mu: np.ndarray,
    sj: np.ndarray,
    tj: np.ndarray,
    sv: np.ndarray,
    tv: np.ndarray,
    r: np.ndarray,
    vk: np.ndarray,
    vm: np.ndarray,
    g: np.ndarray,
    hess: np.ndarray,
) -> None:
    """Newton (SQP) steps on the KKT system of the relaxation keeping ``sel[:size]``.

    Updates ``x`` and ``mu[:size]`` in place.
    """
    n_issues = x.shape[0]
    inv_s = vk[0]
    e = vk[1]
    x_before = vk[9]
    x_earlier = vk[10]
    c = vm[0]
    y = vm[1]
    mu_before = vm[2]
    mu_earlier = vm[3]
    for iteration in range(N_JOINT_STEPS):
        for k in range(n_issues):
            x_earlier[k] = x_before[k]
            x_before[k] = x[k]
        for i in range(size):
            mu_earlier[i] = mu_before[i]
            mu_before[i] = mu[i]
        for k in range(n_issues):
            s = sj[k]
            for i in range(size):
                s += mu[i] * sv[sel[i], k]
            inv_s[k] = 1.0 / s
            e[k] = sj[k] * (x[k] - tj[k])
        for i in range(size):
            v = sel[i]
            q = 0.0
            ge = 0.0
            for k in range(n_issues):
                dv = x[k] - tv[v, k]
                gik = sv[v, k] * dv
                g[i, k] = gik
                if k == 0:
                    q = gik * dv
                    ge = gik * inv_s[k] * e[k]
                else:
                    q += gik * dv
                    ge += gik * inv_s[k] * e[k]
            c[i] = q - math.sqrt(q * r[v]) - ge
        for i in range(size):
            for j in range(i, size):
                h = g[i, 0] * inv_s[0] * g[j, 0]
                for k in range(1, n_issues):
                    h += g[i, k] * inv_s[k] * g[j, k]
                hess[i, j] = h
                hess[j, i] = h
        # Gaussian elimination without pivoting, the diagonal raised slightly.
        for i in range(size):
            hess[i, i] = hess[i, i] * _DIAG + _TINY
            y[i] = c[i]
        for i in range(size):
            for j in range(i + 1, size):
                f = hess[j, i] / hess[i, i]
                for col in range(i + 1, size):
                    hess[j, col] = hess[j, col] - f * hess[i, col]
                y[j] = y[j] - f * y[i]
        for i in range(size - 1, -1, -1):
            acc = y[i]
            for col in range(i + 1, size):
                acc = acc - hess[i, col] * mu[col]
            mu[i] = acc / hess[i, i]
        for i in range(size):
            mu[i] = _minimum(_maximum(mu[i], 0.0), _LAMBDA_MAX)
        for k in range(n_issues):
            step = e[k]
            for i in range(size):
                step += mu[i] * g[i, k]
            x[k] = x[k] - step * inv_s[k]
        # A step is a function of (x, mu) alone: at a fixed point every further
        # step would return the same bits, and in a cycle of two the last
        # step's result is known from the parity of the steps left.
        fixed = True
        for k in range(n_issues):
            fixed = fixed and _same(x[k], x_before[k])
        for i in range(size):
            fixed = fixed and _same(mu[i], mu_before[i])
        if fixed:
            break
        if iteration == 0:
            continue
        cycle = True
        for k in range(n_issues):
            cycle = cycle and _same(x[k], x_earlier[k])
        for i in range(size):
            cycle = cycle and _same(mu[i], mu_earlier[i])
        if cycle:
            if (N_JOINT_STEPS - 1 - iteration) % 2 == 1:
                for k in range(n_issues):
                    x[k] = x_before[k]
                for i in range(size):
                    mu[i] = mu_before[i]
            break


@_jit
def _solve_multi(
    free: np.ndarray,
    n_free: int,
    m: int,
    ws: tuple[Any, ...],
    out: np.ndarray,
) -> None:
    """Stages 0, 1, 2, ... of a row with two or more free issues (``p = 2``).

    Expects the regularised proposer data and the constraints (compressed to
    the active ones) in the workspace; writes the package into ``out`` (NaN on
    the free issues if no relaxation is the optimum).
    """
    vk, vm, vmk, hess, face_mu, face_x, face_loss, face_tight, ints = ws
    n_issues = out.shape[0]
    sj, tj, aj = vk[2], vk[3], vk[4]
    x, best_x, alpha, rho = vk[5], vk[6], vk[7], vk[8]
    r, r_hi, r_lo, q, mu = vm[3], vm[4], vm[5], vm[6], vm[7]
    sv, wv, tv, g = vmk[0], vmk[1], vmk[2], vmk[3]
    comb, sub = ints[0], ints[1]

    # Stage 0: the proposer's ideal point.
    for k in range(n_issues):
        x[k] = tj[k]
    _, ok = _evaluate(x, sj, tj, sv, tv, r_hi, m, q)
    if ok:
        for k in range(n_issues):
            out[k] = tj[k]
        return
    best_loss = np.inf
    for k in range(n_issues):
        best_x[k] = np.nan
    # Stage 1: one constraint, by the secular equation.
    cur = 0
    for i in range(m):
        lam = _single(i, sj, tj, sv, tv, r[i], alpha, rho)
        comb[0] = i
        mu[0] = lam
        _minimiser(comb, 1, mu, sj, aj, sv, wv, x)
        loss, ok = _evaluate(x, sj, tj, sv, tv, r_hi, m, q)
        tight = q[i] >= r_lo[i] and q[i] <= r_hi[i]
        face_mu[cur, i, 0] = lam
        for k in range(n_issues):
            face_x[cur, i, k] = x[k]
        face_loss[cur, i] = loss
        face_tight[cur, i] = tight
        if ok and tight and loss < best_loss:
            best_loss = loss
            for k in range(n_issues):
                best_x[k] = x[k]
    # Stages 2, 3, ...: several binding constraints, by SQP from the most
    # restrictive tight face of a one-smaller support.
    top = min(m, n_free)
    size = 2
    while best_loss == np.inf and size <= top:
        prev = cur
        cur = 1 - cur
        for i in range(size):
            comb[i] = i
        rank = 0
        more = True
        while more:
            # Warm start: the faces omit comb[size - 1], comb[size - 2], ..., comb[0]
            # (the order of itertools.combinations(comb, size - 1)).
            pick = 0
            pick_rank = 0
            pick_loss = 0.0
            for j in range(size):
                omit = size - 1 - j
                n_sub = 0
                for i in range(size):
                    if i != omit:
                        sub[n_sub] = comb[i]
                        n_sub += 1
                face = _rank(sub, size - 1, m)
                value = face_loss[prev, face] if face_tight[prev, face] else -np.inf
                if j == 0:
                    pick, pick_rank, pick_loss = 0, face, value
                    if value != value:
                        break
                elif value != value or value > pick_loss:
                    pick, pick_rank, pick_loss = j, face, value
                    if value != value:
                        break
            omit = size - 1 - pick
            for k in range(n_issues):
                x[k] = face_x[prev, pick_rank, k]
            n_sub = 0
            for i in range(size):
                if i == omit:
                    mu[i] = 0.0
                else:
                    mu[i] = face_mu[prev, pick_rank, n_sub]
                    n_sub += 1
            _joint(comb, size, x, mu, sj, tj, sv, tv, r, vk, vm[8:], g, hess)
            _minimiser(comb, size, mu, sj, aj, sv, wv, x)
            loss, ok = _evaluate(x, sj, tj, sv, tv, r_hi, m, q)
            tight = True
            for i in range(size):
                v = comb[i]
                tight = tight and q[v] >= r_lo[v] and q[v] <= r_hi[v]
            for i in range(size):
                face_mu[cur, rank, i] = mu[i]
            for k in range(n_issues):
                face_x[cur, rank, k] = x[k]
            face_loss[cur, rank] = loss
            face_tight[cur, rank] = tight
            if ok and tight and loss < best_loss:
                best_loss = loss
                for k in range(n_issues):
                    best_x[k] = x[k]
            rank += 1
            more = _next_comb(comb, size, m)
        size += 1
    for k in range(n_issues):
        out[k] = best_x[k] if free[k] else tj[k]


@_jit
def _solve_core(
    theta_j: np.ndarray,
    sal_j: np.ndarray,
    theta_v: np.ndarray,
    sal_v: np.ndarray,
    bound: np.ndarray,
    cons: np.ndarray,
    m: int,
    free: np.ndarray,
    fixed: np.ndarray,
    exponent: int,
    out: np.ndarray,
    ws: tuple[Any, ...],
) -> bool:
    """One row of ``solve_package`` with the constraints ``cons[:m]`` (all active)."""
    vk, vm, vmk, _, _, _, _, _, _ = ws
    n_issues = theta_j.shape[0]
    budget, tol = vm[0], vm[1]
    # Budgets on the free issues and feasibility tolerances.
    for i in range(m):
        v = cons[i]
        fixed_loss = 0.0
        total_sal = 0.0
        for k in range(n_issues):
            term = 0.0
            if not free[k]:
                d = fixed[k] - theta_v[v, k]
                term = sal_v[v, k] * (d * d if exponent == 2 else abs(d))
            if k == 0:
                fixed_loss = term
                total_sal = sal_v[v, 0]
            else:
                fixed_loss += term
                total_sal += sal_v[v, k]
        budget[i] = -bound[v] - fixed_loss
        tol[i] = _maximum(total_sal, 1.0) * FEASIBILITY_TOL
    n_free = 0
    k_star = -1
    for k in range(n_issues):
        if free[k]:
            n_free += 1
            if k_star < 0:
                k_star = k
    if n_free == 0:
        for k in range(n_issues):
            out[k] = fixed[k]
    elif n_free == 1:
        # Closed form: the intersection of the constraints' intervals.
        target = theta_j[k_star] if sal_j[k_star] > 0.0 else fixed[k_star]
        lo = 0.0
        hi = 1.0
        for i in range(m):
            v = cons[i]
            s = sal_v[v, k_star]
            t = theta_v[v, k_star]
            half = _maximum(budget[i], 0.0) / s
            if exponent == 2:
                half = math.sqrt(half)
            if s > 0.0:
                lo = _maximum(lo, t - half)
                hi = _minimum(hi, t + half)
        for k in range(n_issues):
            out[k] = fixed[k]
        out[k_star] = _minimum(_maximum(target, lo), hi) if lo <= hi else np.nan
    elif exponent != 2:
        for k in range(n_issues):
            out[k] = np.nan if free[k] else fixed[k]
    else:
        r, r_hi, r_lo = vm[3], vm[4], vm[5]
        sj, tj, aj = vk[2], vk[3], vk[4]
        sv, wv, tv = vmk[0], vmk[1], vmk[2]
        scale = 0.0
        for k in range(n_issues):
            on = 1.0 if free[k] else 0.0
            scale = _maximum(scale, sal_j[k] * on)
            for i in range(m):
                v = cons[i]
                s = sal_v[v, k] * on
                sv[i, k] = s
                wv[i, k] = s * theta_v[v, k]
                tv[i, k] = theta_v[v, k]
                scale = _maximum(scale, s)
        eps = math.ldexp(1.0, math.frexp(scale)[1] - (_REG_SHIFT + 1))
        for k in range(n_issues):
            if not free[k] or sal_j[k] == 0.0:
                sj[k] = eps
                tj[k] = fixed[k]
            else:
                sj[k] = sal_j[k]
                tj[k] = theta_j[k]
            aj[k] = sj[k] * tj[k]
        for i in range(m):
            r[i] = _maximum(budget[i], _BUDGET_FLOOR)
            r_hi[i] = budget[i] + tol[i]
            r_lo[i] = budget[i] - tol[i]
        _solve_multi(free, n_free, m, ws, out)
    # The feasibility check, with the true utilities.
    feasible = True
    for i in range(m):
        v = cons[i]
        u = utility_row(theta_v[v], sal_v[v], out, exponent)
        if not u >= bound[v] - tol[i]:
            feasible = False
            break
    if not feasible:
        for k in range(n_issues):
            out[k] = fixed[k]
    return feasible


@_jit_alloc
def solve_row(
    theta_j: np.ndarray,
    sal_j: np.ndarray,
    theta_v: np.ndarray,
    sal_v: np.ndarray,
    bound: np.ndarray,
    active: np.ndarray,
    free: np.ndarray,
    fixed: np.ndarray,
    exponent: int,
    out: np.ndarray,
) -> bool:
    """Solve one proposer's problem: one row of :func:`basesim.engine.solver.solve_package`.

    Parameters
    ----------
    theta_j, sal_j
        The proposer's ideal point and saliences, shape ``(K,)``.
    theta_v, sal_v
        The responders' ideal points and saliences, shape ``(M, K)``.
    bound
        The utility each responder must get, shape ``(M,)``.
    active
        Which constraints apply, shape ``(M,)``.
    free
        Which issues the proposer sets, shape ``(K,)``.
    fixed
        The breakdown package, shape ``(K,)``.
    exponent
        The loss exponent, 1 or 2; with 1, at most one issue may be free (a
        row with more comes out infeasible).
    out
        Shape ``(K,)``, overwritten with the package (``fixed`` where the row
        is infeasible).

    Returns
    -------
    bool
        Whether the row is feasible.  Package and flag are bit-identical to
        the batch solver's for this row.
    """
    n_cons = theta_v.shape[0]
    cons = np.empty(max(n_cons, 1), dtype=np.intp)
    m = 0
    for v in range(n_cons):
        if active[v]:
            cons[m] = v
            m += 1
    ws = _workspace(theta_j.shape[0], m)
    return _solve_core(
        theta_j, sal_j, theta_v, sal_v, bound, cons, m, free, fixed, exponent, out, ws
    )


@_jit_alloc
def solve_proposer_row(
    theta_j: np.ndarray,
    sal_j: np.ndarray,
    stances: np.ndarray,
    salience: np.ndarray,
    target: np.ndarray,
    active: np.ndarray,
    free: np.ndarray,
    status_quo: np.ndarray,
    exponent: int,
    out: np.ndarray,
) -> bool:
    """Solve one row of the proposer's problem, directly or by cuts.

    The port of ``basesim.protocols.proposer._solve`` for quadratic losses: a
    row with at most four active constraints is solved directly
    (:func:`solve_row`); otherwise constraints are added one at a time, the
    most violated first (relative to the actor's utility scale), and the
    problem solved with the working set only, up to eight constraints; a row
    still violating a constraint then is infeasible.

    Parameters
    ----------
    theta_j, sal_j
        The proposer's ideal point and saliences, shape ``(K,)``.
    stances, salience
        The actors' ideal points and saliences, shape ``(N, K)``.
    target
        The utility each actor must get, shape ``(N,)``.
    active
        Which actors constrain the package, shape ``(N,)``.
    free
        Which issues the package may move, shape ``(K,)``.
    status_quo
        The package's value on the other issues and the answer of an
        infeasible row, shape ``(K,)``.
    exponent
        The loss exponent.  With 1, only rows with at most one free issue are
        solved (directly); others come out infeasible.
    out
        Shape ``(K,)``, overwritten with the package.

    Returns
    -------
    bool
        Whether the row is feasible.
    """
    work = proposer_workspace(theta_j.shape[0], stances.shape[0])
    return solve_proposer_row_with(
        theta_j, sal_j, stances, salience, target, active, free, status_quo, exponent, out, work
    )


@_jit_alloc
def proposer_workspace(n_issues: int, n_actors: int) -> tuple[Any, ...]:
    """Scratch arrays for :func:`solve_proposer_row_with`.

    Parameters
    ----------
    n_issues, n_actors
        The number of issues ``K`` and of actors ``N`` of the rows it serves.

    Returns
    -------
    tuple
        Arrays to pass, unchanged, to every call for rows of that size.
    """
    n = max(n_actors, _MAX_CUT_CONSTRAINTS)
    cons = np.empty(n, dtype=np.intp)
    per_actor = np.empty((2, max(n_actors, 1)))
    return _workspace(n_issues, _MAX_CUT_CONSTRAINTS), cons, per_actor


@_jit
def solve_proposer_row_with(
    theta_j: np.ndarray,
    sal_j: np.ndarray,
    stances: np.ndarray,
    salience: np.ndarray,
    target: np.ndarray,
    active: np.ndarray,
    free: np.ndarray,
    status_quo: np.ndarray,
    exponent: int,
    out: np.ndarray,
    work: tuple[Any, ...],
) -> bool:
    """:func:`solve_proposer_row` with scratch arrays from :func:`proposer_workspace`.

    Allocates nothing, so that a loop over many rows pays for its scratch
    arrays once.  Same parameters as :func:`solve_proposer_row`, plus ``work``.
    """
    ws, cons, per_actor = work
    n_act = stances.shape[0]
    n_issues = theta_j.shape[0]
    m = 0
    for v in range(n_act):
        if active[v]:
            cons[m] = v
            m += 1
    if m <= _MAX_DIRECT_CONSTRAINTS or exponent != 2:
        if exponent != 2:
            n_free = 0
            for k in range(n_issues):
                if free[k]:
                    n_free += 1
            if n_free > 1:
                for k in range(n_issues):
                    out[k] = status_quo[k]
                return False
        return _solve_core(
            theta_j, sal_j, stances, salience, target, cons, m, free, status_quo, exponent, out, ws
        )
    slots = cons
    scale = per_actor[0]
    violation = per_actor[1]
    for v in range(n_act):
        total = salience[v, 0]
        for k in range(1, n_issues):
            total += salience[v, k]
        scale[v] = _maximum(total, 1.0)
    for k in range(n_issues):
        out[k] = theta_j[k] if free[k] else status_quo[k]
    for size in range(1, _MAX_CUT_CONSTRAINTS + 1):
        for v in range(n_act):
            if active[v]:
                value = utility_row(stances[v], salience[v], out, 2)
                violation[v] = (target[v] - value) / scale[v]
            else:
                violation[v] = -np.inf
        worst = _argmax(violation, n_act)
        if not violation[worst] > _TOLERANCE * scale[worst] / scale[worst]:
            break
        slots[size - 1] = worst
        ok = _solve_core(
            theta_j, sal_j, stances, salience, target, slots, size, free, status_quo, 2, out, ws
        )
        if not ok:
            return False
    for v in range(n_act):
        if active[v]:
            value = utility_row(stances[v], salience[v], out, 2)
            if not value >= target[v] - _TOLERANCE * scale[v]:
                return False
    return True


# Coefficients of the Cephes error function approximations.
_ERFC_P = np.array(
    [
        2.46196981473530512524e-10,
        5.64189564831068821977e-1,
        7.46321056442269912687e0,
        4.86371970985681366614e1,
        1.96520832956077098242e2,
        5.26445194995477358631e2,
        9.34528527171957607540e2,
        1.02755188689515710272e3,
        5.57535335369399327526e2,
    ]
)
_ERFC_Q = np.array(
    [
        1.32281951154744992508e1,
        8.67072140885989742329e1,
        3.54937778887819891062e2,
        9.75708501743205489753e2,
        1.82390916687909736289e3,
        2.24633760818710981792e3,
        1.65666309194161350182e3,
        5.57535340817727675546e2,
    ]
)
_ERFC_R = np.array(
    [
        5.64189583547755073984e-1,
        1.27536670759978104416e0,
        5.01905042251180477414e0,
        6.16021097993053585195e0,
        7.40974269950448939160e0,
        2.97886665372100240670e0,
    ]
)
_ERFC_S = np.array(
    [
        2.26052863220117276590e0,
        9.39603524938001434673e0,
        1.20489539808096656605e1,
        1.70814450747565897222e1,
        9.60896809063285878198e0,
        3.36907645100081516050e0,
    ]
)
_ERF_T = np.array(
    [
        9.60497373987051638749e0,
        9.00260197203842689217e1,
        2.23200534594684319226e3,
        7.00332514112805075473e3,
        5.55923013010394962768e4,
    ]
)
_ERF_U = np.array(
    [
        3.35617141647503099647e1,
        5.21357949780152679795e2,
        4.59432382970980127987e3,
        2.26290000613890934246e4,
        4.92673942608635921086e4,
    ]
)
_MAXLOG = 7.09782712893383996843e2
_SQRT1_2 = 0.70710678118654752440


@_jit
def _polevl(x: float, coef: np.ndarray) -> float:
    """Horner evaluation of ``coef[0] x**n + ... + coef[n]``."""
    ans: float = coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@_jit
def _p1evl(x: float, coef: np.ndarray) -> float:
    """Horner evaluation of ``x**n + coef[0] x**(n-1) + ... + coef[n-1]``."""
    ans: float = x + coef[0]
    for i in range(1, coef.shape[0]):
        ans = ans * x + coef[i]
    return ans


@_jit
def _erf_small(x: float) -> float:
    """``erf(x)`` for ``0 <= x <= 1``."""
    z = x * x
    return x * _polevl(z, _ERF_T) / _p1evl(z, _ERF_U)


@_jit
def _erfc_large(a: float) -> float:
    """``erfc(a)`` for ``|a| >= 1`` (not NaN)."""
    x = -a if a < 0.0 else a
    z = -a * a
    if z < -_MAXLOG:
        return 2.0 if a < 0 else 0.0
    z = math.exp(z)
    if x < 8.0:
        p = _polevl(x, _ERFC_P)
        q = _p1evl(x, _ERFC_Q)
    else:
        p = _polevl(x, _ERFC_R)
        q = _p1evl(x, _ERFC_S)
    y = (z * p) / q
    if a < 0:
        y = 2.0 - y
    if y != 0.0:
        return y
    return 2.0 if a < 0 else 0.0


@_jit
def _erf(x: float) -> float:
    """The error function (``x`` not NaN)."""
    if x < 0.0:
        y = -x
        if y > 1.0:
            return -(1.0 - _erfc_large(y))
        return -_erf_small(y)
    if x > 1.0:
        return 1.0 - _erfc_large(x)
    return _erf_small(x)


@_jit
def _erfc(a: float) -> float:
    """The complementary error function (``a`` not NaN)."""
    x = -a if a < 0.0 else a
    if x < 1.0:
        return 1.0 - _erf(a)
    return _erfc_large(a)


@_jit
def ndtr(a: float) -> float:
    """The standard normal distribution function ``Phi(a)``.

    A port of ``ndtr`` of the Cephes Mathematical Library (S. L. Moshier),
    with its rational approximations of ``erf`` and ``erfc``, as used by
    ``scipy.special.ndtr``; it gives the same values.

    Parameters
    ----------
    a
        The argument (NaN gives NaN).

    Returns
    -------
    float
        ``P(Z <= a)`` for a standard normal ``Z``.
    """
    if a != a:
        return np.nan
    x = a * _SQRT1_2
    z = abs(x)
    if z < 1.0:
        return 0.5 + 0.5 * _erf(x)
    y = 0.5 * _erfc(z)
    if x > 0:
        y = 1.0 - y
    return y
