"""The compiled per-row solver against the batch solver it ports.

Each compiled function must give, row by row, exactly the bits of the NumPy
code it ports: the batch solver (:func:`basesim.engine.solver.solve_package`),
the proposer's problem (``basesim.protocols.proposer._solve``), the utility,
and ``scipy.special.ndtr``.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.special import ndtr as scipy_ndtr

from basesim.engine.kernel import solver as kernel
from basesim.engine.kernel.solver import (
    ndtr,
    proposer_workspace,
    solve_proposer_row,
    solve_proposer_row_with,
    solve_row,
    utility_row,
)
from basesim.engine.solver import solve_package, utility
from basesim.protocols import proposer
from basesim.protocols.proposer import _solve

Array = NDArray[np.float64]


def _batch(
    rng: np.random.Generator, n: int, n_issues: int, n_cons: int, exponent: int
) -> tuple[Array, ...]:
    """Random problems: a mix of feasible, tight, infeasible and degenerate rows."""
    theta_j = rng.random((n, n_issues))
    sal_j = rng.random((n, n_issues)) * (rng.random((n, n_issues)) > 0.1)
    theta_v = rng.random((n, n_cons, n_issues))
    sal_v = rng.random((n, n_cons, n_issues)) * (rng.random((n, n_cons, n_issues)) > 0.1)
    if exponent == 1:
        free = np.zeros((n, n_issues), dtype=bool)
        free[np.arange(n), rng.integers(0, n_issues, n)] = True
        free &= rng.random((n, 1)) > 0.1
    else:
        free = rng.random((n, n_issues)) < 0.7
    fixed = rng.random((n, n_issues))
    # Bounds from the utility of a random package, minus a slack that is
    # mostly positive (feasible rows), sometimes tiny (tight) or negative.
    point = np.where(free, rng.random((n, n_issues)), fixed)
    value = utility(theta_v, sal_v, point[:, None, :], exponent=exponent)
    slack = rng.normal(0.05, 0.1, (n, n_cons)) * rng.choice([1.0, 0.01, 1e-9], (n, n_cons))
    bound = value - slack
    active = rng.random((n, n_cons)) < 0.7
    return theta_j, sal_j, theta_v, sal_v, bound, active, free, fixed


def _bits_equal(a: Array, b: Array) -> NDArray[np.bool_]:
    """Row-wise bit equality of two ``(n, K)`` arrays."""
    return np.all(a.view(np.uint64) == b.view(np.uint64), axis=1)


@pytest.mark.parametrize("exponent", [2, 1])
def test_solve_row_is_the_batch_solver_row_by_row(exponent: int) -> None:
    rng = np.random.default_rng(20261128 + exponent)
    n_rows = n_feasible = 0
    for n_issues in range(1, 6):
        for n_cons in range(9):
            args = _batch(rng, 100, n_issues, n_cons, exponent)
            expected, feasible = solve_package(*args, exponent=exponent)
            got = np.empty_like(expected)
            flags = np.empty_like(feasible)
            for i in range(expected.shape[0]):
                row = tuple(a[i] for a in args)
                flags[i] = solve_row(*row, exponent, got[i])
            np.testing.assert_array_equal(flags, feasible)
            np.testing.assert_array_equal(_bits_equal(got, expected), True)
            n_rows += expected.shape[0]
            n_feasible += int(feasible.sum())
    # The problems are a real mix.
    assert 0.3 * n_rows < n_feasible < 0.95 * n_rows


def test_solve_row_covers_the_joint_stages() -> None:
    # Rows whose optimum has two or more binding constraints (stage 2 and up):
    # several constraints tight at an interior point of the responders.
    rng = np.random.default_rng(7)
    n, n_issues, n_cons = 2000, 4, 6
    theta_j = rng.random((n, n_issues))
    sal_j = rng.random((n, n_issues)) + 0.1
    theta_v = rng.random((n, n_cons, n_issues))
    sal_v = rng.random((n, n_cons, n_issues)) + 0.1
    centre = theta_v.mean(axis=1)
    value = utility(theta_v, sal_v, centre[:, None, :])
    bound = value - rng.random((n, n_cons)) * 0.05
    active = np.ones((n, n_cons), dtype=bool)
    free = np.ones((n, n_issues), dtype=bool)
    fixed = rng.random((n, n_issues))
    args = (theta_j, sal_j, theta_v, sal_v, bound, active, free, fixed)
    expected, feasible = solve_package(*args)
    got = np.empty_like(expected)
    flags = np.empty_like(feasible)
    for i in range(n):
        flags[i] = solve_row(*(a[i] for a in args), 2, got[i])
    np.testing.assert_array_equal(flags, feasible)
    np.testing.assert_array_equal(_bits_equal(got, expected), True)
    # How many constraints bind at the optimum: several rows have two or more.
    slack = utility(theta_v, sal_v, expected[:, None, :]) - bound
    binding = (np.abs(slack) < 1e-8).sum(axis=1)
    assert feasible.mean() > 0.9
    assert (binding[feasible] >= 2).sum() > 100
    assert (binding[feasible] >= 3).sum() > 10


@pytest.mark.parametrize("n_issues", [8, 16])
def test_solve_row_with_many_issues_and_constraints(n_issues: int) -> None:
    rng = np.random.default_rng(n_issues)
    args = _batch(rng, 150, n_issues, 8, 2)
    args[5][:] = True
    expected, feasible = solve_package(*args)
    got = np.empty_like(expected)
    flags = np.empty_like(feasible)
    for i in range(expected.shape[0]):
        flags[i] = solve_row(*(a[i] for a in args), 2, got[i])
    np.testing.assert_array_equal(flags, feasible)
    np.testing.assert_array_equal(_bits_equal(got, expected), True)
    assert 0.3 < feasible.mean() < 1.0


@pytest.mark.parametrize("seed", [1, 2])
def test_solve_proposer_row_is_the_proposer_solve(seed: int) -> None:
    rng = np.random.default_rng(seed)
    tables = SimpleNamespace()
    n_cuts = n_feasible = n_rows = 0
    for n_issues in range(1, 6):
        for n_act in (1, 3, 5, 7, 10):
            theta_j, sal_j, stances, salience, target, active, free, sq = _batch(
                rng, 80, n_issues, n_act, 2
            )
            active |= rng.random(active.shape) < 0.5
            expected, feasible = _solve(
                theta_j, sal_j, stances, salience, target, active, free, sq, 2, tables
            )
            got = np.empty_like(expected)
            flags = np.empty_like(feasible)
            # The same rows with one set of scratch arrays for all of them.
            got_with = np.empty_like(expected)
            flags_with = np.empty_like(feasible)
            work = proposer_workspace(n_issues, n_act)
            for i in range(expected.shape[0]):
                row = (theta_j[i], sal_j[i], stances[i], salience[i], target[i])
                row += (active[i], free[i], sq[i], 2)
                flags[i] = solve_proposer_row(*row, got[i])
                flags_with[i] = solve_proposer_row_with(*row, got_with[i], work)
            np.testing.assert_array_equal(flags, feasible)
            np.testing.assert_array_equal(_bits_equal(got, expected), True)
            np.testing.assert_array_equal(flags_with, feasible)
            np.testing.assert_array_equal(_bits_equal(got_with, expected), True)
            cuts = active.sum(axis=1) > 4
            n_cuts += int(cuts.sum())
            n_feasible += int((feasible & cuts).sum())
            n_rows += expected.shape[0]
    assert n_cuts > 0.3 * n_rows
    assert 0.1 * n_cuts < n_feasible < 0.95 * n_cuts


def test_solve_proposer_row_with_linear_losses_solves_one_issue() -> None:
    rng = np.random.default_rng(3)
    args = _batch(rng, 500, 3, 5, 1)
    expected, feasible = solve_package(*args, exponent=1)
    got = np.empty_like(expected)
    for i in range(expected.shape[0]):
        assert solve_proposer_row(*(a[i] for a in args), 1, got[i]) == feasible[i]
    np.testing.assert_array_equal(_bits_equal(got, expected), True)
    # Two free issues are not solved here: the row comes out infeasible.
    theta_j, sal_j, theta_v, sal_v, bound, active, _, fixed = (a[0] for a in args)
    out = np.empty(3)
    free = np.array([True, True, False])
    assert not solve_proposer_row(
        theta_j, sal_j, theta_v, sal_v, bound, active, free, fixed, 1, out
    )
    np.testing.assert_array_equal(out, fixed)


@pytest.mark.parametrize("exponent", [1, 2])
def test_utility_row_is_the_batch_utility(exponent: int) -> None:
    rng = np.random.default_rng(11)
    theta, sal, x = rng.random((3, 1000, 7))
    sal[rng.random(sal.shape) < 0.2] = 0.0
    expected = utility(theta, sal, x, exponent=exponent)
    got = np.array([utility_row(theta[i], sal[i], x[i], exponent) for i in range(1000)])
    np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_ndtr_is_scipy_ndtr() -> None:
    rng = np.random.default_rng(5)
    points = np.concatenate(
        [
            rng.normal(0.0, 3.0, 400_000),
            rng.uniform(-40.0, 40.0, 300_000),
            rng.uniform(-1.5, 1.5, 200_000),
            np.linspace(-39.0, 39.0, 100_001),
            [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, np.sqrt(2.0), -np.sqrt(2.0)],
            [8.0 * np.sqrt(2.0), -8.0 * np.sqrt(2.0), 37.5, -37.5, 38.5, -38.5, 1e300, -1e300],
            [5e-324, -5e-324, 1e-300, -1e-300],
        ]
    )
    expected = scipy_ndtr(points)
    got = np.array([ndtr(p) for p in points])
    np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))


def test_constants_are_the_proposer_s() -> None:
    assert kernel._MAX_DIRECT_CONSTRAINTS == proposer.MAX_DIRECT_CONSTRAINTS
    assert kernel._MAX_CUT_CONSTRAINTS == proposer.MAX_CUT_CONSTRAINTS
    assert kernel._TOLERANCE == proposer.TOLERANCE
