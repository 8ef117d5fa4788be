"""The asymmetric Nash bargaining solution: closed forms derived by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import basesim
from basesim.protocols import get, names
from basesim.protocols.nash import Nash, nash_package
from basesim.testing import spatial_scenario


def _two_player_root(theta1: float, theta2: float, d: float, w1: float, w2: float) -> float:
    """The NBS of two players with quadratic utilities on one issue, both ideals above ``d``.

    With u = x - d and A_i = 2 (theta_i - d), player i's gain over d is
    (d - theta_i)**2 - (x - theta_i)**2 = (x - d)(2 theta_i - x - d) = u (A_i - u).
    So sum_i w_i log gain_i = W log u + w1 log(A1 - u) + w2 log(A2 - u),
    W = w1 + w2, whose derivative vanishes where
    W / u = w1 / (A1 - u) + w2 / (A2 - u), that is
    2 W u**2 - (W (A1 + A2) + w1 A2 + w2 A1) u + W A1 A2 = 0.
    The root inside (0, min A_i) is the smaller one.
    """
    a1, a2 = 2 * (theta1 - d), 2 * (theta2 - d)
    big = w1 + w2
    qa, qb, qc = 2 * big, -(big * (a1 + a2) + w1 * a2 + w2 * a1), big * a1 * a2
    return d + (-qb - math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)


def _one(theta, weight, d, *, salience=None, exponent=2):
    theta = np.array(theta, dtype=float)[None, :, None]
    s = np.ones_like(theta) if salience is None else np.array(salience, float)[None, :, None]
    x, ok = nash_package(
        theta, s, np.array([weight], float), np.array([[d]], float), exponent=exponent
    )
    return float(x[0, 0]), bool(ok[0])


def test_two_equal_players_quadratic_one_issue_closed_form():
    # theta = 0.2, 0.4, d = 0, w = 1, 1: 4 u**2 - 3.6 u + 0.32 = 0, so
    # u = (3.6 - sqrt(12.96 - 5.12 * 2)) / 8 = (3.6 - sqrt(2.72)) / 8 = 0.2438447...
    x, ok = _one([0.2, 0.4], [1.0, 1.0], 0.0)
    assert ok
    assert x == pytest.approx((3.6 - math.sqrt(2.72)) / 8, abs=1e-12)
    assert x == pytest.approx(_two_player_root(0.2, 0.4, 0.0, 1.0, 1.0), abs=1e-12)


def test_two_unequal_players_quadratic_one_issue_closed_form():
    # w = 1, 3: 8 u**2 - (4 * 1.2 + 0.8 + 3 * 0.4) u + 4 * 0.32 = 8 u**2 - 6.8 u + 1.28,
    # u = (6.8 - sqrt(46.24 - 40.96)) / 16 = (6.8 - sqrt(5.28)) / 16 = 0.2813859...
    x, ok = _one([0.2, 0.4], [1.0, 3.0], 0.0)
    assert ok and x == pytest.approx((6.8 - math.sqrt(5.28)) / 16, abs=1e-12)
    # On one issue a player's salience scales its gain, a constant in the log:
    # it changes nothing.
    assert _one([0.2, 0.4], [1.0, 3.0], 0.0, salience=[0.3, 0.9])[0] == pytest.approx(x, abs=1e-12)
    # Mirrored: ideals 0.8 and 0.6 below a status quo of 1 give 1 - x.
    assert _one([0.8, 0.6], [1.0, 3.0], 1.0)[0] == pytest.approx(1 - x, abs=1e-12)


def test_linear_utilities_one_issue_closed_form():
    # p = 1, d = 0, ideals 0.2 and 0.4: for 0.2 <= x <= 0.4 the gains are
    # 0.2 - (x - 0.2) = 0.4 - x and x, so w1 log(0.4 - x) + w2 log x peaks at
    # x = 0.4 w2 / (w1 + w2) (below 0.2 both gains are x: the product rises).
    # w = 1, 3 -> 0.3; w = 1, 1 -> 0.2.
    assert _one([0.2, 0.4], [1.0, 3.0], 0.0, exponent=1)[0] == pytest.approx(0.3, abs=1e-12)
    assert _one([0.2, 0.4], [1.0, 1.0], 0.0, exponent=1)[0] == pytest.approx(0.2, abs=1e-12)


def test_a_status_quo_between_the_ideals_cannot_be_improved_on():
    # d = 0.4 between 0.2 and 0.6: any move helps one player and hurts the other.
    x, ok = _one([0.2, 0.6], [1.0, 1.0], 0.4)
    assert not ok and x == 0.4


def test_separable_issues_solve_as_separate_bargains():
    # Actors a, b care only about issue 0, c, d only about issue 1: each gain
    # depends on one issue, so the product splits into two one-issue bargains.
    # Issue 0: ideals 0.2, 0.4 from d = 0 (as above).  Issue 1: ideals 0.9,
    # 0.7 from d = 1, the mirror of ideals 0.1, 0.3 from 0:
    # 4 u**2 - 3 * 0.8 u + 2 * 0.2 * 0.6 = 0, u = (2.4 - sqrt(1.92)) / 8.
    theta = np.array([[[0.2, 0.5], [0.4, 0.5], [0.5, 0.9], [0.5, 0.7]]])
    s = np.array([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    x, ok = nash_package(theta, s, np.ones((1, 4)), np.array([[0.0, 1.0]]))
    assert ok[0]
    assert x[0, 0] == pytest.approx((3.6 - math.sqrt(2.72)) / 8, abs=1e-9)
    assert x[0, 1] == pytest.approx(1 - (2.4 - math.sqrt(1.92)) / 8, abs=1e-9)


def test_a_far_status_quo_gives_the_weighted_mean_in_the_limit():
    # With d_k = -D on every issue, gain_i = S_i D**2 (1 + O(1/D)), S_i = sum_k s_ik,
    # so sum_i w_i grad gain_i / gain_i = 0 becomes, to first order,
    # sum_i (w_i / S_i) s_ik (x_k - theta_ik) = 0: the mean weighted by w_i s_ik / S_i,
    # within O(1/D).  With w_i = c_i S_i (nash-salience) that is the c_i s_ik weighted
    # mean, the compromise model.
    theta = np.array([[[0.1, 0.8, 0.3], [0.5, 0.2, 0.9], [0.9, 0.6, 0.4]]])
    s = np.array([[[1.0, 0.5, 0.2], [0.3, 1.0, 0.6], [0.7, 0.4, 1.0]]])
    c = np.array([[1.0, 2.0, 0.5]])
    big_s = s.sum(axis=2)
    limit = (c[:, :, None] * s * theta).sum(axis=1) / (c[:, :, None] * s).sum(axis=1)
    errors = []
    for far in (1e2, 1e4):
        x, ok = nash_package(theta, s, c * big_s, np.full((1, 3), -far))
        assert ok[0]
        errors.append(np.abs(x - limit).max())
    assert errors[0] < 1e-3 and errors[1] < 1e-5
    assert errors[1] < errors[0] / 50  # the error falls like 1/D


def test_the_registered_models_and_a_bad_weighting():
    assert {"nash", "nash-salience"} <= set(names())
    assert get("nash").weighting == "capability"
    assert get("nash-salience").weighting == "capability_salience"
    scn = spatial_scenario(
        positions={"a": (0.2,)},
        saliences={"a": (1.0,)},
        capabilities={"a": 1.0},
        status_quo=(0.0,),
    )
    from basesim.engine.compiled import compile_scenario

    with pytest.raises(
        basesim.ProtocolError, match=r"weighting must be one of .* \(got 'votes'\)"
    ):
        Nash("nash-votes", "votes").compile(compile_scenario(scn))


def _scenario(**changes):
    spec = {
        "positions": {"a": (0.2,), "b": (0.4,)},
        "saliences": {"a": (1.0,), "b": (0.5,)},
        "capabilities": {"a": 1.0, "b": 3.0},
        "status_quo": (0.0,),
        "model": "nash",
    }
    spec.update(changes)
    return spatial_scenario(**spec)


def test_a_run_settles_at_the_solution_in_month_one_by_nobody():
    runs = basesim.simulate(_scenario(), n_runs=3, rng=1).runs
    # Weights are capabilities 1 and 3: the unequal closed form above.
    assert runs.package[:, 0] == pytest.approx([(6.8 - math.sqrt(5.28)) / 16] * 3, abs=1e-12)
    assert runs.settled.all() and (runs.settled_round == 1).all()
    assert (runs.settled_by == -1).all() and (runs.proposals == 0).all()
    # nash-salience: weights 1 * 1 and 3 * 0.5 = 1.5.
    runs = basesim.simulate(_scenario(model="nash-salience"), n_runs=2, rng=1).runs
    assert runs.package[0, 0] == pytest.approx(
        _two_player_root(0.2, 0.4, 0.0, 1.0, 1.5), abs=1e-12
    )


def test_only_the_actors_whose_consent_the_rule_needs_bargain():
    # Unilateral, b decides: the solution is b's ideal.
    runs = basesim.simulate(_scenario(rules=("unilateral",), authority="b"), n_runs=2, rng=1).runs
    assert runs.package[:, 0] == pytest.approx([0.4, 0.4], abs=1e-12)
    # A qualified majority of 2/3, both voters above the status quo: the side
    # above holds every vote, so both bargain, as under unanimity.
    runs = basesim.simulate(_scenario(rules=("qualified",)), n_runs=2, rng=1).runs
    assert runs.package[0, 0] == pytest.approx((6.8 - math.sqrt(5.28)) / 16, abs=1e-12)


def _three(rule, positions):
    return _scenario(
        positions=positions,
        saliences=dict.fromkeys(positions, (1.0,)),
        capabilities=dict.fromkeys(positions, 1.0),
        status_quo=(0.1,),
        rules=(rule,),
    )


def test_under_a_weighted_rule_the_winning_side_bargains_and_the_rest_is_outvoted():
    # Qualified 2/3, d = 0.1: a (0.2) and b (0.4) above hold 2 of 3 votes, c
    # (0.0) below is outvoted.  a and b from d = 0.1 are ideals 0.1 and 0.3
    # from 0: A = 0.2, 0.6, 4 u**2 - 3 * 0.8 u + 2 * 0.12 = 0,
    # u = (2.4 - sqrt(1.92)) / 8, x = 0.1 + u.
    runs = basesim.simulate(
        _three("qualified", {"a": (0.2,), "b": (0.4,), "c": (0.0,)}), n_runs=2, rng=1
    ).runs
    assert runs.settled.all()
    assert runs.package[0, 0] == pytest.approx(0.1 + (2.4 - math.sqrt(1.92)) / 8, abs=1e-12)
    # Majority, two voters above and two below: neither side holds more than
    # half of the votes, so the issue stays at its status quo, unsettled.
    runs = basesim.simulate(
        _three("majority", {"a": (0.2,), "b": (0.4,), "c": (0.0,), "e": (0.05,)}),
        n_runs=2,
        rng=1,
    ).runs
    assert not runs.settled.any() and (runs.package == 0.1).all()


def test_no_improving_package_leaves_the_issue_unsettled_at_the_status_quo():
    runs = basesim.simulate(
        _scenario(positions={"a": (0.2,), "b": (0.6,)}, status_quo=(0.4,)), n_runs=2, rng=1
    ).runs
    assert not runs.settled.any()
    assert (runs.package == 0.4).all() and (runs.settled_round == 0).all()
