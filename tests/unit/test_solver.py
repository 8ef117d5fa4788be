"""The proposer's-problem kernel: closed forms, an independent optimiser, KKT.

Each test states the answer it expects and where it comes from: a hand
derivation (in the comment above the case), the Romer-Rosenthal formula, or
``scipy.optimize.minimize`` (SLSQP) run on the same problem.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import minimize

from basesim.engine import solver
from basesim.engine.solver import solve_package, utility

Array = NDArray[np.float64]


def solve_row(
    theta_j: list[float] | Array,
    s_j: list[float] | Array,
    theta_v: list[list[float]] | Array,
    s_v: list[list[float]] | Array,
    bound: list[float] | Array,
    *,
    active: list[bool] | None = None,
    free: list[bool] | None = None,
    fixed: list[float] | Array | None = None,
    exponent: int = 2,
) -> tuple[Array, bool]:
    """Solve a single problem given as plain lists; return (package, feasible)."""
    tj = np.asarray(theta_j, dtype=float)[None]
    n_issues = tj.shape[1]
    tv = np.asarray(theta_v, dtype=float).reshape(1, -1, n_issues)
    n_cons = tv.shape[1]
    act = np.ones((1, n_cons), bool) if active is None else np.asarray(active, bool)[None]
    fr = np.ones((1, n_issues), bool) if free is None else np.asarray(free, bool)[None]
    b = np.zeros((1, n_issues)) if fixed is None else np.asarray(fixed, dtype=float)[None]
    x, ok = solve_package(
        tj,
        np.asarray(s_j, dtype=float)[None],
        tv,
        np.asarray(s_v, dtype=float).reshape(1, n_cons, n_issues),
        np.asarray(bound, dtype=float).reshape(1, n_cons),
        act,
        fr,
        b,
        exponent=exponent,
    )
    return x[0], bool(ok[0])


def romer_rosenthal(theta_a: float, theta_v: float, q: float) -> float:
    """The setter's proposal: the point of the vetoer's acceptance set nearest theta_a."""
    radius = abs(q - theta_v)
    return min(max(theta_a, theta_v - radius), theta_v + radius)


def random_feasible_problem(
    rng: np.random.Generator, n_issues: int, n_cons: int
) -> tuple[Array, Array, Array, Array, Array, Array]:
    """A problem with a strictly feasible point x0 (each bound is u_v(x0) - margin)."""
    tj = rng.random(n_issues)
    sj = rng.uniform(0.1, 1.0, n_issues)
    tv = rng.random((n_cons, n_issues))
    sv = rng.uniform(0.1, 1.0, (n_cons, n_issues))
    x0 = rng.random(n_issues)
    bound = utility(tv, sv, x0) - rng.uniform(0.005, 0.1, n_cons)
    return tj, sj, tv, sv, bound, x0


def scipy_reference(
    tj: Array, sj: Array, tv: Array, sv: Array, bound: Array, x0: Array
) -> tuple[Array, float]:
    """SLSQP from two starting points; the best feasible answer and its objective."""
    cons = [
        {
            "type": "ineq",
            "fun": lambda x, v=v: utility(tv[v], sv[v], x) - bound[v],
            "jac": lambda x, v=v: -2.0 * sv[v] * (x - tv[v]),
        }
        for v in range(len(bound))
    ]
    best: tuple[Array, float] | None = None
    for start in (x0, tj):
        res = minimize(
            lambda x: float(np.sum(sj * (x - tj) ** 2)),
            start,
            jac=lambda x: 2.0 * sj * (x - tj),
            constraints=cons,
            bounds=[(0.0, 1.0)] * len(tj),
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        )
        if all(c["fun"](res.x) >= -1e-10 for c in cons) and (best is None or res.fun < best[1]):
            best = (res.x, float(res.fun))
    assert best is not None, "the reference optimiser found no feasible point"
    return best


# --------------------------------------------------------------------------
# utility


def test_utility_quadratic_and_linear() -> None:
    # -(1 * 0.2**2 + 2 * 0**2) = -0.04 ;  -(1 * 0.2 + 2 * 0.5) = -1.2
    assert utility([0.2, 0.5], [1.0, 2.0], [0.4, 0.5]) == pytest.approx(-0.04, abs=1e-15)
    assert utility([0.2, 0.5], [1.0, 2.0], [0.4, 0.0], exponent=1) == pytest.approx(-1.2)


def test_utility_broadcasts_and_is_batch_invariant() -> None:
    rng = np.random.default_rng(0)
    pos, sal, pkg = rng.random((50, 3, 4)), rng.random((50, 3, 4)), rng.random((50, 1, 4))
    batch = utility(pos, sal, pkg)
    assert batch.shape == (50, 3)
    for i in range(50):
        assert np.array_equal(utility(pos[i], sal[i], pkg[i]), batch[i])


def test_utility_rejects_bad_exponent() -> None:
    with pytest.raises(ValueError, match="exponent"):
        utility([0.0], [1.0], [0.5], exponent=3)


# --------------------------------------------------------------------------
# One free issue: Romer-Rosenthal and interval intersections


# (theta_a, theta_v, q, expected).  The vetoer accepts x iff |x - theta_v| <= |q - theta_v|,
# i.e. x in [theta_v - |q - theta_v|, theta_v + |q - theta_v|]; the setter takes the point
# of that interval nearest its ideal point.
ROMER_ROSENTHAL_CASES = [
    # acceptance set [0.3, 0.7]; setter at 0.9 is above it -> upper end 0.7
    (0.9, 0.5, 0.3, 0.7),
    # setter at 0.6 inside [0.3, 0.7] -> its own ideal point
    (0.6, 0.5, 0.3, 0.6),
    # setter at 0.1 below [0.3, 0.7] -> lower end 0.3, i.e. the status quo
    (0.1, 0.5, 0.3, 0.3),
    # status quo at the vetoer's ideal: acceptance set {0.5} -> 0.5
    (0.9, 0.5, 0.5, 0.5),
    # acceptance set [0.4, 1.4] cut to [0.4, 1]; setter at 1 -> 1
    (1.0, 0.9, 0.4, 1.0),
    # acceptance set [-0.2, 0.2] cut to [0, 0.2]; setter at 0.05 -> 0.05
    (0.05, 0.0, 0.2, 0.05),
    # same set; setter at 0.5 -> upper end 0.2, the status quo
    (0.5, 0.0, 0.2, 0.2),
]


@pytest.mark.parametrize("exponent", [1, 2])
@pytest.mark.parametrize(("theta_a", "theta_v", "q", "expected"), ROMER_ROSENTHAL_CASES)
def test_romer_rosenthal_hand_cases(
    theta_a: float, theta_v: float, q: float, expected: float, exponent: int
) -> None:
    s_v = 0.7  # the answer does not depend on the vetoer's salience
    r_v = float(utility([theta_v], [s_v], [q], exponent=exponent))
    x, ok = solve_row([theta_a], [1.3], [[theta_v]], [[s_v]], [r_v], fixed=[q], exponent=exponent)
    assert ok
    assert x[0] == pytest.approx(expected, abs=1e-12)
    assert x[0] == pytest.approx(romer_rosenthal(theta_a, theta_v, q), abs=1e-12)


@pytest.mark.parametrize("exponent", [1, 2])
def test_romer_rosenthal_with_a_fixed_second_issue(exponent: int) -> None:
    # Issue 1 is fixed at 0.8, so the vetoer loses s * |0.8 - 0.2|**p on it in
    # every package, the status quo included: the acceptance set on issue 0 is
    # still [0.3, 0.7] and the setter at 0.9 proposes 0.7, keeping issue 1 at 0.8.
    tv, sv = [[0.5, 0.2]], [[0.7, 0.4]]
    q = [0.3, 0.8]
    r_v = float(utility(tv[0], sv[0], q, exponent=exponent))
    x, ok = solve_row(
        [0.9, 0.1], [1.0, 1.0], tv, sv, [r_v], free=[True, False], fixed=q, exponent=exponent
    )
    assert ok
    assert x[0] == pytest.approx(0.7, abs=1e-12)
    assert x[1] == 0.8


@settings(max_examples=200, deadline=None)
@given(
    theta_a=st.floats(0.0, 1.0),
    theta_v=st.floats(0.0, 1.0),
    q=st.floats(0.0, 1.0),
    s_a=st.floats(0.01, 10.0),
    s_v=st.floats(0.01, 10.0),
    exponent=st.sampled_from([1, 2]),
)
def test_romer_rosenthal_property(
    theta_a: float, theta_v: float, q: float, s_a: float, s_v: float, exponent: int
) -> None:
    r_v = float(utility([theta_v], [s_v], [q], exponent=exponent))
    x, ok = solve_row([theta_a], [s_a], [[theta_v]], [[s_v]], [r_v], fixed=[q], exponent=exponent)
    assert ok
    assert x[0] == pytest.approx(romer_rosenthal(theta_a, theta_v, q), abs=1e-12)


@pytest.mark.parametrize("exponent", [1, 2])
def test_two_vetoers_intersect_their_intervals(exponent: int) -> None:
    # Vetoer 1: ideal 0.3, half-width 0.1 -> [0.2, 0.4]; vetoer 2: ideal 0.45,
    # half-width 0.1 -> [0.35, 0.55].  Intersection [0.35, 0.4].
    s = [[2.0], [0.5]]
    bounds = [-s[0][0] * 0.1**exponent, -s[1][0] * 0.1**exponent]
    for theta_a, expected in [(0.9, 0.4), (0.0, 0.35), (0.37, 0.37)]:
        x, ok = solve_row([theta_a], [1.0], [[0.3], [0.45]], s, bounds, exponent=exponent)
        assert ok
        assert x[0] == pytest.approx(expected, abs=1e-12)
    # Vetoer 2 moved to 0.65: [0.55, 0.75] misses [0.2, 0.4] -> infeasible, breakdown returned.
    x, ok = solve_row([0.9], [1.0], [[0.3], [0.65]], s, bounds, fixed=[0.123], exponent=exponent)
    assert not ok
    assert x[0] == 0.123


def test_intervals_apart_by_less_than_the_tolerance_are_still_disjoint() -> None:
    # [0.2, 0.4] and [0.4 + 1e-11, 0.6]: no common point, however close.
    bounds = [-(0.1**2), -(0.1**2)]
    _, ok = solve_row([0.5], [1.0], [[0.3], [0.5 + 1e-11]], [[1.0], [1.0]], bounds)
    assert not ok
    _, ok = solve_row([0.5], [1.0], [[0.3], [0.5 - 1e-11]], [[1.0], [1.0]], bounds)
    assert ok


def test_one_issue_rows_with_several_issues_use_exponent_one() -> None:
    # K = 3, only issue 2 free: exponent=1 is allowed.  Vetoer: ideal 0.5 on
    # issue 2 with salience 2, loses 1 * |0.1 - 0.4| = 0.3 on the fixed issue 0,
    # bound -0.5 -> budget 0.2 -> half-width 0.1 -> [0.4, 0.6]; setter at 0.9 -> 0.6.
    x, ok = solve_row(
        [0.0, 0.0, 0.9],
        [1.0, 1.0, 1.0],
        [[0.4, 0.0, 0.5]],
        [[1.0, 0.0, 2.0]],
        [-0.5],
        free=[False, False, True],
        fixed=[0.1, 0.2, 0.3],
        exponent=1,
    )
    assert ok
    assert x == pytest.approx([0.1, 0.2, 0.6], abs=1e-12)


# --------------------------------------------------------------------------
# Several free issues (p = 2) against an independent optimiser, and KKT


def kkt_multipliers(x: Array, tj: Array, sj: Array, tv: Array, sv: Array) -> Array:
    """Least-squares multipliers of the stationarity condition at x."""
    grad_f = sj * (x - tj)
    grads = sv * (x - tv)  # (M, K)
    lam, *_ = np.linalg.lstsq(grads.T, -grad_f, rcond=None)
    return np.asarray(lam)


@pytest.mark.parametrize(("n_issues", "n_cons"), [(2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3)])
def test_multi_issue_matches_scipy_and_kkt(n_issues: int, n_cons: int) -> None:
    rng = np.random.default_rng(100 * n_issues + n_cons)
    for _ in range(12):
        tj, sj, tv, sv, bound, x0 = random_feasible_problem(rng, n_issues, n_cons)
        x, ok = solve_row(tj, sj, tv, sv, bound)
        assert ok
        ref_x, ref_f = scipy_reference(tj, sj, tv, sv, bound, x0)
        f = float(np.sum(sj * (x - tj) ** 2))
        # Same optimum value; the kernel is never worse than the reference.
        assert f == pytest.approx(ref_f, abs=1e-7)
        assert f <= ref_f + 1e-9
        assert np.max(np.abs(x - ref_x)) < 1e-5
        slack = utility(tv, sv, x) - bound
        tol = 1e-9 * np.maximum(1.0, sv.sum(axis=1))
        assert np.all(slack >= -tol)
        # KKT: constraints that are slack have zero multipliers; the binding ones
        # have multipliers >= 0 that reproduce x as a weighted average of ideal points.
        binding = slack < 1e-7
        lam = np.zeros(n_cons)
        if binding.any():
            lam[binding] = kkt_multipliers(x, tj, sj, tv[binding], sv[binding])
        assert np.all(lam >= -1e-7)
        assert np.all(np.abs(lam * slack) < 1e-8)
        weights = sj + lam @ sv
        assert x == pytest.approx(
            (sj * tj + (lam[:, None] * sv * tv).sum(axis=0)) / weights, abs=1e-8
        )


def test_multi_issue_with_zero_saliences_matches_scipy() -> None:
    # Some issues matter to the proposer or to a responder not at all.  The
    # optimal package may then not be unique, but the optimal value is.
    rng = np.random.default_rng(21)
    for _ in range(30):
        tj, sj, tv, sv, bound, x0 = random_feasible_problem(rng, 3, 2)
        sj[rng.random(3) < 0.4] = 0.0
        sv[rng.random((2, 3)) < 0.25] = 0.0
        bound = utility(tv, sv, x0) - rng.uniform(0.005, 0.1, 2)
        x, ok = solve_row(tj, sj, tv, sv, bound, fixed=rng.random(3))
        assert ok
        assert np.all(utility(tv, sv, x) >= bound - 1e-9)
        _, ref_f = scipy_reference(tj, sj, tv, sv, bound, x0)
        assert float(np.sum(sj * (x - tj) ** 2)) == pytest.approx(ref_f, abs=1e-7)


@pytest.mark.parametrize(("n_issues", "n_cons"), [(2, 2), (2, 4), (3, 3), (3, 4), (4, 3)])
def test_random_feasible_batches_are_reported_feasible(n_issues: int, n_cons: int) -> None:
    # Every row has a strictly feasible point (bounds u_v(x0) - margin, margins
    # down to 1e-3), so every row must be solved; the packages must be feasible
    # and no worse for the proposer than x0.
    rng = np.random.default_rng(31 * n_issues + n_cons)
    n = 4000
    tj, tv = rng.random((n, n_issues)), rng.random((n, n_cons, n_issues))
    sj = rng.uniform(0.05, 1.0, (n, n_issues))
    sv = rng.uniform(0.05, 1.0, (n, n_cons, n_issues))
    x0 = rng.random((n, 1, n_issues))
    bound = utility(tv, sv, x0) - rng.uniform(0.001, 0.1, (n, n_cons))
    free = np.ones((n, n_issues), bool)
    x, ok = solve_package(tj, sj, tv, sv, bound, np.ones((n, n_cons), bool), free, tj)
    assert ok.all()
    assert np.all(utility(tv, sv, x[:, None, :]) >= bound - 1e-9 * np.maximum(1, sv.sum(2)))
    assert np.all(utility(tj, sj, x) >= utility(tj, sj, x0[:, 0]) - 1e-12)


def test_multi_issue_hand_case_one_binding_circle() -> None:
    # Equal saliences: the responder accepts the disc of radius 0.2 around (0.5, 0.5)
    # (budget 0.04 = 0.2**2).  The proposer at (1, 0.5) gets the disc's nearest point
    # (0.7, 0.5); at (0.5, 1) it gets (0.5, 0.7); at (0.55, 0.5) (inside) its ideal.
    for tj, expected in [
        ([1.0, 0.5], [0.7, 0.5]),
        ([0.5, 1.0], [0.5, 0.7]),
        ([0.55, 0.5], [0.55, 0.5]),
    ]:
        x, ok = solve_row(tj, [1.0, 1.0], [[0.5, 0.5]], [[1.0, 1.0]], [-0.04])
        assert ok
        assert x == pytest.approx(expected, abs=1e-12)


def test_multi_issue_hand_case_two_binding_circles() -> None:
    # Two unit-salience responders at (0.4, 0.5) and (0.6, 0.5), each accepting a
    # disc of radius 0.2 (budget 0.04).  The lens between them has its tips at
    # (0.5, 0.5 +- sqrt(0.04 - 0.01)); a proposer far above, at (0.5, 1), gets the
    # upper tip (0.5, 0.5 + sqrt(0.03)), where both constraints bind.
    x, ok = solve_row(
        [0.5, 1.0], [1.0, 1.0], [[0.4, 0.5], [0.6, 0.5]], [[1.0, 1.0]] * 2, [-0.04] * 2
    )
    assert ok
    assert x == pytest.approx([0.5, 0.5 + np.sqrt(0.03)], abs=1e-12)


def one_constraint_reference(tj: Array, sj: Array, tv: Array, sv: Array, budget: Array) -> Array:
    """One-constraint optima of rows ``(n, K)`` by bisection on the multiplier.

    Q(lam) = sum_k s_vk (x_k(lam) - theta_vk)**2 decreases in lam; 200 halvings
    of a bracket on a log scale pin the root down to machine precision.
    """

    def x_of(lam: Array) -> Array:
        return (sj * tj + lam[:, None] * sv * tv) / (sj + lam[:, None] * sv)

    def q_of(lam: Array) -> Array:
        return np.sum(sv * (x_of(lam) - tv) ** 2, axis=1)

    lo, hi = np.full(len(tj), -40.0), np.full(len(tj), 40.0)  # log10 of lam
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = q_of(10.0**mid) > budget
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    lam = np.where(q_of(np.zeros(len(tj))) <= budget, 0.0, 10.0**hi)
    return x_of(lam)


@pytest.mark.parametrize("n_issues", [2, 3, 4])
def test_one_constraint_with_very_unequal_salience_ratios(n_issues: int) -> None:
    # The secular equation is hardest when the ratios s_jk / s_vk differ by orders
    # of magnitude across issues (here up to 1e4 either way); compare with
    # bisection on the multiplier.
    rng = np.random.default_rng(11 + n_issues)
    n = 20000
    sj = rng.uniform(1e-4, 1.0, (n, n_issues))
    sv = rng.uniform(1e-4, 1.0, (n, n_issues))
    tj, tv = rng.random((n, n_issues)), rng.random((n, n_issues))
    budget = np.sum(sv * (tj - tv) ** 2, axis=1) * 10.0 ** rng.uniform(-4, 0, n)
    x, ok = solve_package(
        tj,
        sj,
        tv[:, None],
        sv[:, None],
        -budget[:, None],
        np.ones((n, 1), bool),
        np.ones((n, n_issues), bool),
        tj,
    )
    assert ok.all()
    assert np.max(np.abs(x - one_constraint_reference(tj, sj, tv, sv, budget))) < 1e-10


def test_unconverged_candidates_are_never_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    # With a single Newton step the iterations cannot converge.  A row may then
    # be reported infeasible, but a row reported feasible must still be optimal:
    # candidates are accepted only with tight constraints (a duality certificate).
    rng = np.random.default_rng(13)
    problems = [random_feasible_problem(rng, 3, 3) for _ in range(300)]
    args = [np.array([p[i] for p in problems]) for i in range(5)]
    rest = (np.ones((300, 3), bool), np.ones((300, 3), bool), np.zeros((300, 3)))
    x, ok = solve_package(*args, *rest)
    assert ok.all()
    monkeypatch.setattr(solver, "N_SECULAR_STEPS", 1)
    monkeypatch.setattr(solver, "N_JOINT_STEPS", 1)
    x_fast, ok_fast = solve_package(*args, *rest)
    assert 0 < ok_fast.sum() < 300
    tj, sj = args[0], args[1]
    loss = np.sum(sj * (x - tj) ** 2, axis=1)
    loss_fast = np.sum(sj * (x_fast - tj) ** 2, axis=1)
    assert loss_fast[ok_fast] == pytest.approx(loss[ok_fast], abs=1e-8)


# --------------------------------------------------------------------------
# Infeasibility


def test_opposite_corners_are_infeasible() -> None:
    # Discs of radius sqrt(0.1) ~ 0.32 around (0, 0) and (1, 1) are 1.41 apart.
    x, ok = solve_row(
        [0.5, 0.5],
        [1.0, 1.0],
        [[0.0, 0.0], [1.0, 1.0]],
        [[1.0, 1.0]] * 2,
        [-0.1, -0.1],
        fixed=[0.25, 0.75],
    )
    assert not ok
    assert np.array_equal(x, [0.25, 0.75])


def test_three_discs_without_common_point_are_infeasible() -> None:
    # Three discs around the corners of an equilateral triangle with side 0.5.  With
    # radius 0.26 every two discs overlap (0.52 > 0.5) but a common point would have
    # to be within 0.26 of all three corners, and the closest point to all three, the
    # centre, is 0.5 / sqrt(3) = 0.289 away: infeasible.
    centres = [[0.25, 0.3], [0.75, 0.3], [0.5, 0.3 + 0.5 * np.sqrt(3) / 2]]
    x, ok = solve_row(
        [0.5, 0.5], [1.0, 1.0], centres, [[1.0, 1.0]] * 3, [-(0.26**2)] * 3, fixed=[0.1, 0.2]
    )
    assert not ok
    assert np.array_equal(x, [0.1, 0.2])
    # With radius 0.3 the centre is inside all three discs: feasible.
    _, ok = solve_row([0.5, 0.5], [1.0, 1.0], centres, [[1.0, 1.0]] * 3, [-(0.3**2)] * 3)
    assert ok


@pytest.mark.parametrize("free", [[True, False], [True, True]])
def test_positive_bound_is_infeasible(free: list[bool]) -> None:
    # Utilities are <= 0, so a bound of 0.01 cannot be met.
    _, ok = solve_row([0.5, 0.5], [1.0, 1.0], [[0.5, 0.5]], [[1.0, 1.0]], [0.01], free=free)
    assert not ok


@pytest.mark.parametrize("free", [[True, False, False], [True, True, False]])
def test_fixed_issues_can_exhaust_the_budget(free: list[bool]) -> None:
    # The responder loses 1 * (0.9 - 0.2)**2 = 0.49 on fixed issue 2 alone; a bound
    # of -0.4 leaves a budget of -0.09 < 0: infeasible whatever the free issues are.
    _, ok = solve_row(
        [0.5, 0.5, 0.5],
        [1.0, 1.0, 1.0],
        [[0.5, 0.5, 0.2]],
        [[1.0, 1.0, 1.0]],
        [-0.4],
        free=free,
        fixed=[0.5, 0.5, 0.9],
    )
    assert not ok


# --------------------------------------------------------------------------
# Fixed issues and inactive constraints


def test_fixed_issues_reduce_the_budget() -> None:
    # 3 issues, issue 2 fixed at 0.8 where the responder (ideal 0.2, salience 1)
    # loses 0.36.  With bound -0.4 the free issues have budget 0.04: the same as
    # the 2-issue problem with bound -0.04.
    rng = np.random.default_rng(5)
    for _ in range(20):
        tj = rng.random(3)
        sj = rng.uniform(0.1, 1.0, 3)
        tv = np.append(rng.random(2), 0.2)[None]
        sv = np.append(rng.uniform(0.1, 1.0, 2), 1.0)[None]
        x3, ok3 = solve_row(tj, sj, tv, sv, [-0.4], free=[True, True, False], fixed=[0, 0, 0.8])
        x2, ok2 = solve_row(tj[:2], sj[:2], tv[:, :2], sv[:, :2], [-0.04])
        assert ok3 and ok2
        assert x3[2] == 0.8
        assert x3[:2] == pytest.approx(x2, abs=1e-12)


def test_inactive_constraints_are_ignored() -> None:
    # An impossible, inactive constraint changes nothing: the proposer gets its
    # ideal point on the free issues and the breakdown value on the fixed one.
    x, ok = solve_row(
        [0.2, 0.7, 0.4],
        [1.0, 2.0, 3.0],
        [[0.9, 0.9, 0.9]],
        [[1.0, 1.0, 1.0]],
        [1.0],
        active=[False],
        free=[True, True, False],
        fixed=[0.0, 0.0, 0.6],
    )
    assert ok
    assert np.array_equal(x, [0.2, 0.7, 0.6])
    # One active and one inactive constraint: same answer as the active one alone.
    tv, sv = [[0.5, 0.5], [0.0, 0.0]], [[1.0, 1.0], [1.0, 1.0]]
    x, ok = solve_row([1.0, 0.5], [1.0, 1.0], tv, sv, [-0.04, 5.0], active=[True, False])
    assert ok
    assert x == pytest.approx([0.7, 0.5], abs=1e-12)


def test_no_free_issue_returns_the_breakdown() -> None:
    x, ok = solve_row(
        [0.2, 0.7],
        [1.0, 1.0],
        [[0.5, 0.5]],
        [[1.0, 1.0]],
        [-0.5],
        free=[False, False],
        fixed=[0.3, 0.4],
    )
    assert ok
    assert np.array_equal(x, [0.3, 0.4])
    x, ok = solve_row(
        [0.2, 0.7],
        [1.0, 1.0],
        [[0.5, 0.5]],
        [[1.0, 1.0]],
        [-0.01],
        free=[False, False],
        fixed=[0.3, 0.4],
    )
    assert not ok


# --------------------------------------------------------------------------
# Zero saliences


@pytest.mark.parametrize("exponent", [1, 2])
def test_indifferent_proposer_one_issue_keeps_the_breakdown_value(exponent: int) -> None:
    # Acceptance set [0.3, 0.7] (vetoer at 0.5, half-width 0.2).  A proposer with
    # salience 0 picks the point of it closest to the breakdown value b.
    bound = [-(0.2**exponent)]
    for b, expected in [(0.45, 0.45), (0.1, 0.3), (0.95, 0.7)]:
        x, ok = solve_row([0.0], [0.0], [[0.5]], [[1.0]], bound, fixed=[b], exponent=exponent)
        assert ok
        assert x[0] == pytest.approx(expected, abs=1e-12)


def test_responder_with_zero_salience_constrains_nothing_on_that_issue() -> None:
    # Vetoer 2 does not care about the issue: only vetoer 1's [0.3, 0.7] applies.
    x, ok = solve_row([0.9], [1.0], [[0.5], [0.0]], [[1.0], [0.0]], [-0.04, -0.3])
    assert ok
    assert x[0] == pytest.approx(0.7, abs=1e-12)
    # ... unless its bound cannot be met at all.
    _, ok = solve_row([0.9], [1.0], [[0.5], [0.0]], [[1.0], [0.0]], [-0.04, 0.1])
    assert not ok


def test_indifferent_issue_without_caring_responder_keeps_breakdown_value() -> None:
    # The proposer ignores issue 1 and so does the (binding) responder: x_1 = b_1
    # exactly; issue 0 is the 1-D answer: disc... half-width sqrt(0.04) = 0.2 -> 0.7.
    x, ok = solve_row(
        [1.0, 0.9], [1.0, 0.0], [[0.5, 0.1]], [[1.0, 0.0]], [-0.04], fixed=[0.0, 0.321]
    )
    assert ok
    assert x[1] == 0.321
    assert x[0] == pytest.approx(0.7, abs=1e-12)


def test_indifferent_issue_with_caring_responder_goes_to_the_responder() -> None:
    # Binding: the proposer wants issue 0 only, so it spends none of the
    # responder's budget on issue 1 (x_1 = theta_v1 = 0.2) and all of it on issue 0:
    # x_0 = 0.5 + sqrt(0.04 / 1) = 0.7.
    x, ok = solve_row(
        [1.0, 0.9], [1.0, 0.0], [[0.5, 0.2]], [[1.0, 1.0]], [-0.04], fixed=[0.0, 0.8]
    )
    assert ok
    assert x == pytest.approx([0.7, 0.2], abs=1e-9)
    # Slack: the proposer's ideal issue-0 value is acceptable whatever issue 1 is
    # within reach; it keeps the breakdown value on issue 1 (0.3 is inside the disc).
    x, ok = solve_row(
        [0.55, 0.9], [1.0, 0.0], [[0.5, 0.2]], [[1.0, 1.0]], [-0.04], fixed=[0.0, 0.3]
    )
    assert ok
    assert np.array_equal(x, [0.55, 0.3])


def test_all_zero_proposer_saliences_pick_the_acceptable_point_nearest_breakdown() -> None:
    # Breakdown (0.5, 1.0) is outside the disc of radius 0.2 around (0.5, 0.5); the
    # nearest acceptable package is (0.5, 0.7).
    x, ok = solve_row(
        [0.0, 0.0], [0.0, 0.0], [[0.5, 0.5]], [[1.0, 1.0]], [-0.04], fixed=[0.5, 1.0]
    )
    assert ok
    assert x == pytest.approx([0.5, 0.7], abs=1e-9)


# --------------------------------------------------------------------------
# Batch invariance


def random_batch(
    rng: np.random.Generator, n: int, n_issues: int, n_cons: int
) -> tuple[Array, ...]:
    """A mixed batch: free masks of all sizes, inactive constraints, zero saliences,
    feasible and infeasible rows."""
    tj = rng.random((n, n_issues))
    sj = rng.random((n, n_issues)) * (rng.random((n, n_issues)) > 0.1)
    tv = rng.random((n, n_cons, n_issues))
    sv = rng.random((n, n_cons, n_issues)) * (rng.random((n, n_cons, n_issues)) > 0.1)
    x0 = rng.random((n, 1, n_issues))
    bound = utility(tv, sv, x0) + rng.normal(-0.05, 0.05, (n, n_cons))
    active = rng.random((n, n_cons)) > 0.2
    free = rng.random((n, n_issues)) > 0.3
    fixed = rng.random((n, n_issues))
    return tj, sj, tv, sv, bound, active, free, fixed


@pytest.mark.parametrize(("n_issues", "n_cons"), [(2, 2), (3, 3), (4, 2)])
def test_rows_are_bit_identical_alone_and_in_any_batch(
    n_issues: int, n_cons: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(n_issues * 10 + n_cons)
    args = random_batch(rng, 600, n_issues, n_cons)
    x, ok = solve_package(*args)
    assert 0 < ok.sum() < ok.size  # both kinds of row are exercised
    for i in range(0, 600, 7):
        xi, oki = solve_package(*(a[i : i + 1] for a in args))
        assert np.array_equal(xi[0], x[i])
        assert oki[0] == ok[i]
    # Shuffled, and processed in small blocks: still the same rows.
    perm = rng.permutation(600)
    monkeypatch.setattr(solver, "BLOCK_SIZE", 37)
    xp, okp = solve_package(*(a[perm] for a in args))
    assert np.array_equal(xp, x[perm])
    assert np.array_equal(okp, ok[perm])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(1, 39))
def test_batch_invariance_property(seed: int, split: int) -> None:
    rng = np.random.default_rng(seed)
    args = random_batch(rng, 40, 3, 2)
    x, ok = solve_package(*args)
    x1, ok1 = solve_package(*(a[:split] for a in args))
    x2, ok2 = solve_package(*(a[split:] for a in args))
    assert np.array_equal(np.concatenate([x1, x2]), x)
    assert np.array_equal(np.concatenate([ok1, ok2]), ok)


def test_batch_results_are_feasible_and_in_the_box() -> None:
    rng = np.random.default_rng(7)
    tj, sj, tv, sv, bound, active, free, fixed = random_batch(rng, 2000, 3, 3)
    x, ok = solve_package(tj, sj, tv, sv, bound, active, free, fixed)
    assert np.all((x >= 0.0) & (x <= 1.0))
    assert np.array_equal(x[~ok], fixed[~ok])
    assert np.array_equal(x[~free], fixed[~free])
    u = utility(tv, sv, x[:, None, :])
    tol = 1e-9 * np.maximum(1.0, sv.sum(axis=2))
    assert np.all(~active[ok] | (u[ok] >= bound[ok] - tol[ok]))


# --------------------------------------------------------------------------
# Argument checks


def test_exponent_one_with_two_free_issues_raises() -> None:
    with pytest.raises(ValueError, match="at most one free issue"):
        solve_row([0.5, 0.5], [1.0, 1.0], [[0.5, 0.5]], [[1.0, 1.0]], [-0.1], exponent=1)


def test_bad_exponent_and_shapes_raise() -> None:
    with pytest.raises(ValueError, match="exponent"):
        solve_row([0.5], [1.0], [[0.5]], [[1.0]], [-0.1], exponent=3)
    with pytest.raises(ValueError, match="bound"):
        solve_package(
            np.zeros((2, 2)),
            np.ones((2, 2)),
            np.zeros((2, 1, 2)),
            np.ones((2, 1, 2)),
            np.zeros((2, 2)),
            np.ones((2, 1), bool),
            np.ones((2, 2), bool),
            np.zeros((2, 2)),
        )


def test_empty_batch() -> None:
    x, ok = solve_package(
        np.zeros((0, 2)),
        np.zeros((0, 2)),
        np.zeros((0, 3, 2)),
        np.zeros((0, 3, 2)),
        np.zeros((0, 3)),
        np.zeros((0, 3), bool),
        np.zeros((0, 2), bool),
        np.zeros((0, 2)),
    )
    assert x.shape == (0, 2)
    assert ok.shape == (0,)
