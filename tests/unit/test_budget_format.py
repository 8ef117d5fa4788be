"""Budgets: a group of issues whose values sum to at most a total.

The scenario format (reading, writing, validation, variants) and the proposer's
linear programme on hand-derived cases.
"""

from __future__ import annotations

import numpy as np
import pytest

from basesim import Budget, Parameter, ScenarioError
from basesim.engine.linear import BUDGET_TOL, LP_TOLERANCE, solve_linear_package
from basesim.scenarios.toml_io import read_scenario_text
from basesim.testing import divide_the_dollar_scenario

BUDGET_TABLE = '[budgets.pie]\nissues = ["share_p1", "share_p2", "share_p3"]\ntotal = 1.0\n'


def _pie(**changes):
    scn = divide_the_dollar_scenario(n_players=3, discount=0.9, lookahead=2)
    return scn.replace(changes) if changes else scn


def _text() -> str:
    text = _pie().to_toml()
    assert text.count(BUDGET_TABLE) == 1
    return text


def test_budgets_round_trip_through_toml():
    scn = _pie()
    back = read_scenario_text(scn.to_toml())
    assert back == scn
    assert back.budgets == (
        Budget(name="pie", issues=("share_p1", "share_p2", "share_p3"), total=1.0),
    )


def test_a_budget_with_a_description_round_trips():
    scn = _pie(
        budgets=(
            Budget(
                name="pie",
                issues=("share_p1", "share_p2"),
                total=0.5,
                description="Two shares of half a pie",
            ),
        )
    )
    assert read_scenario_text(scn.to_toml()) == scn


def test_budgets_change_by_field_path_and_wholesale():
    scn = _pie()
    smaller = scn.replace({"budgets.pie.total": 0.8})
    assert smaller.budgets[0].total == 0.8
    assert read_scenario_text(smaller.to_toml()) == smaller
    fewer = scn.replace({"budgets.pie.issues": ("share_p1", "share_p2")})
    assert fewer.budgets[0].issues == ("share_p1", "share_p2")
    assert scn.replace(budgets=()).budgets == ()
    with pytest.raises(ScenarioError, match=r"budgets\.pie\.total must be in \(0, 3\] \(got 0\)"):
        scn.replace({"budgets.pie.total": 0.0})
    with pytest.raises(ScenarioError, match=r"budgets\.cake\.total: no budget 'cake'"):
        scn.replace({"budgets.cake.total": 0.5})


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ('"share_p3"]\ntotal', '"share_p4"]\ntotal'),
            "budgets.pie.issues refers to an issue that does not exist (got 'share_p4')",
        ),
        (("total = 1.0", "total = 0.0"), "budgets.pie.total must be in (0, 3] (got 0)"),
        (("total = 1.0", "total = 3.5"), "budgets.pie.total must be in (0, 3] (got 3.5)"),
        (("total = 1.0", 'total = "all"'), "budgets.pie.total must be a number (got a string"),
        (("total = 1.0", "totl = 1.0"), "budgets.pie.totl is not a known field"),
        (("total = 1.0\n", ""), "budgets.pie.total is required but missing"),
        (
            ('"share_p2", "share_p3"]', '"share_p2", "share_p2"]'),
            "budgets.pie.issues lists an issue twice",
        ),
        (
            ("utility_exponent = 1", "utility_exponent = 2"),
            "budgets need protocol.utility_exponent = 1 (linear loss, solved as a linear "
            "programme) (got 2)",
        ),
        (
            ('model = "bargaining"', 'model = "nash"'),
            "budgets are honoured only by protocol.model = 'bargaining' (got 'nash')",
        ),
        (
            (
                BUDGET_TABLE,
                BUDGET_TABLE + '\n[budgets.cake]\nissues = ["share_p1"]\ntotal = 1.0\n',
            ),
            "budgets.cake.issues: issue 'share_p1' is already in budgets.pie",
        ),
    ],
)
def test_bad_budgets_name_the_field_and_the_value(edit, message):
    old, new = edit
    text = _text()
    assert text.count(old) == 1
    with pytest.raises(ScenarioError) as info:
        read_scenario_text(text.replace(old, new))
    assert message in str(info.value)


def test_a_status_quo_that_breaks_the_budget_is_refused():
    # Largest possible status quo: 0.5 + 0.4 (the top of its range) + 0.2 = 1.1 > 1.
    from basesim import Distribution

    with pytest.raises(ScenarioError) as info:
        _pie(
            **{
                "issues.share_p1.status_quo": 0.5,
                "issues.share_p2.status_quo": Distribution(kind="uniform", low=0.0, high=0.4),
                "issues.share_p3.status_quo": 0.2,
            }
        )
    assert str(info.value) == (
        "budgets.pie.total 1 is broken by the status quo: its issues' status quo must sum "
        "to at most the total in every run (got largest possible issues.share_p1.status_quo "
        "0.5 + issues.share_p2.status_quo 0.4 + issues.share_p3.status_quo 0.2 = 1.1)"
    )


def test_a_status_quo_drifting_up_inside_a_budget_is_refused():
    with pytest.raises(ScenarioError) as info:
        _pie(
            **{
                "issues.share_p1.breakdown": Parameter(value=0.3),
                "issues.share_p1.drift": 0.5,
            }
        )
    assert "issues.share_p1.breakdown must not exceed issues.share_p1.status_quo" in str(
        info.value
    )
    assert "(got breakdown up to 0.3 against a status quo down to 0)" in str(info.value)
    # Drifting down is fine: the budget's sum can only fall.
    _pie(
        **{
            "issues.share_p1.status_quo": 0.4,
            "issues.share_p1.breakdown": 0.1,
            "issues.share_p1.drift": 0.5,
        }
    )


# -- the linear programme ---------------------------------------------------------------
def _one_row(theta_j, sal_j, theta_v, sal_v, target, quo, *, members, totals):
    k = len(theta_j)
    package, feasible = solve_linear_package(
        np.array([theta_j], float),
        np.array([sal_j], float),
        np.array([theta_v], float).reshape(1, -1, k),
        np.array([sal_v], float).reshape(1, -1, k),
        np.array([target], float),
        np.ones((1, len(target)), dtype=bool),
        np.ones((1, k), dtype=bool),
        np.array([quo], float),
        members=np.array(members, dtype=bool).reshape(-1, k),
        totals=np.array(totals, float),
    )
    return package[0], bool(feasible[0])


def test_linear_programme_divides_a_pie_at_the_partners_demands():
    # Proposer wants issue 0 (share), responders 1 and 2 their own shares with
    # demands u >= -0.7 and -0.8, i.e. shares >= 0.3 and 0.2; the pie is 1:
    # the proposer keeps 1 - 0.3 - 0.2 = 0.5.
    x, ok = _one_row(
        [1.0, 1.0, 1.0],
        [1.0, 0.0, 0.0],
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [-0.7, -0.8],
        [0.0, 0.0, 0.0],
        members=[[1, 1, 1]],
        totals=[1.0],
    )
    assert ok
    np.testing.assert_allclose(x, [0.5, 0.3, 0.2], rtol=0, atol=3 * LP_TOLERANCE)


def test_linear_programme_reports_a_pie_too_small_for_the_demands():
    # Shares of at least 0.6 and 0.5 do not fit in a pie of 1.
    _, ok = _one_row(
        [1.0, 1.0, 1.0],
        [1.0, 0.0, 0.0],
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]],
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [-0.4, -0.5],
        [0.0, 0.0, 0.0],
        members=[[1, 1, 1]],
        totals=[1.0],
    )
    assert not ok


def test_linear_programme_without_budget_matches_the_closed_form_of_two_issues():
    # Linear losses, no budget: the proposer at (0, 0) with saliences (2, 1), one
    # responder at (1, 1) with saliences (1, 1) needing u >= -1.5 from q = (0, 0)
    # (where it gets -2): it must be moved 0.5 closer.  The proposer gives up the
    # cheaper issue first (salience 1 < 2): x = (0, 0.5).
    x, ok = _one_row(
        [0.0, 0.0],
        [2.0, 1.0],
        [[1.0, 1.0]],
        [[1.0, 1.0]],
        [-1.5],
        [0.0, 0.0],
        members=np.zeros((0, 2)),
        totals=[],
    )
    assert ok
    np.testing.assert_allclose(x, [0.0, 0.5], rtol=0, atol=2 * LP_TOLERANCE)


def test_linear_programme_rows_do_not_depend_on_their_batch():
    rng = np.random.default_rng(5)
    n, m, k = 6, 3, 3
    args = (
        rng.random((n, k)),
        rng.random((n, k)),
        rng.random((n, m, k)),
        rng.random((n, m, k)),
        -rng.random((n, m)) * 1.5,
        rng.random((n, m)) < 0.7,
        np.ones((n, k), dtype=bool),
        rng.random((n, k)) * 0.3,
    )
    budget = {"members": np.array([[True, True, False]]), "totals": np.array([0.9])}
    together, ok_together = solve_linear_package(*args, **budget)
    for row in range(n):
        alone, ok_alone = solve_linear_package(*(a[row : row + 1] for a in args), **budget)
        np.testing.assert_array_equal(alone[0], together[row])
        assert ok_alone[0] == ok_together[row]
        if ok_alone[0]:
            assert alone[0, 0] + alone[0, 1] <= 0.9 + BUDGET_TOL


def _random_rows(seed: int, n: int, m: int, k: int):
    rng = np.random.default_rng(seed)
    theta_j, sal_j = rng.random((n, k)), rng.random((n, k)) + 0.05
    theta_v, sal_v = rng.random((n, m, k)), rng.random((n, m, k))
    quo = rng.random((n, k)) * 0.4
    # Demands between the status quo's value and a bit above it, so most rows are feasible.
    u_quo = -(sal_v * np.abs(quo[:, None, :] - theta_v)).sum(axis=2)
    target = u_quo + rng.random((n, m)) * 0.3
    return theta_j, sal_j, theta_v, sal_v, target, quo


def test_linear_programme_matches_the_closed_form_on_one_free_issue():
    # With one free issue the problem has the closed form of the convex solver
    # (the proposer's ideal clipped to the intersection of the acceptance
    # intervals): both are exact, so they agree to the LP's tolerance.
    from basesim.engine.solver import solve_package

    theta_j, sal_j, theta_v, sal_v, target, quo = _random_rows(11, 40, 3, 3)
    target = target - 0.3  # looser demands: most rows feasible
    free = np.zeros((40, 3), dtype=bool)
    free[:, 1] = True
    active = np.ones((40, 3), dtype=bool)
    args = (theta_j, sal_j, theta_v, sal_v, target, active, free, quo)
    lp, ok_lp = solve_linear_package(*args, members=np.zeros((0, 3), dtype=bool), totals=[])
    closed, ok_closed = solve_package(*args, exponent=1)
    np.testing.assert_array_equal(ok_lp, ok_closed)
    assert ok_lp.sum() >= 10
    np.testing.assert_allclose(lp[ok_lp], closed[ok_lp], rtol=0, atol=1e-8)


def test_linear_programme_beats_every_feasible_point_of_a_grid():
    # Brute force on two free issues and a budget: no point of a 0.01 grid that
    # meets every demand and the budget is better for the proposer than the
    # programme's answer (up to the acceptance tolerance), and the answer is
    # feasible itself.
    from basesim.engine.solver import FEASIBILITY_TOL, utility

    theta_j, sal_j, theta_v, sal_v, target, quo = _random_rows(12, 12, 2, 3)
    target = target - 0.2  # looser demands: most rows feasible
    free = np.array([True, True, False])
    members = np.array([[True, True, False]])
    totals = np.array([0.8])
    package, ok = solve_linear_package(
        theta_j,
        sal_j,
        theta_v,
        sal_v,
        target,
        np.ones((12, 2), dtype=bool),
        np.broadcast_to(free, (12, 3)).copy(),
        quo,
        members=members,
        totals=totals,
    )
    assert ok.sum() >= 6
    assert np.any(package[ok, 0] + package[ok, 1] >= totals[0] - BUDGET_TOL)  # binds somewhere
    grid = np.linspace(0.0, 1.0, 101)
    gx, gy = np.meshgrid(grid, grid, indexing="ij")
    for row in range(12):
        points = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, quo[row, 2])], axis=1)
        value = utility(theta_v[row][None], sal_v[row][None], points[:, None, :], exponent=1)
        good = (value >= target[row] - FEASIBILITY_TOL).all(axis=1)
        good &= points[:, 0] + points[:, 1] <= totals[0]
        if not ok[row]:
            assert not good.any()
            continue
        assert package[row, 0] + package[row, 1] <= totals[0] + BUDGET_TOL
        best = utility(theta_j[row], sal_j[row], package[row], exponent=1)
        grid_best = utility(theta_j[row], sal_j[row], points[good], exponent=1).max(
            initial=-np.inf
        )
        assert best >= grid_best - 1e-9
