"""The compromise model: capability x salience weighted means and medians, by hand."""

from __future__ import annotations

import numpy as np
import pytest

import basesim
from basesim.protocols import get, names
from basesim.protocols.compromise import Compromise, compromise_package
from basesim.testing import spatial_scenario


def _arrays(positions, saliences, capabilities):
    theta = np.array(positions, dtype=float).T[None]  # (1, N, K)
    s = np.array(saliences, dtype=float).T[None]
    c = np.array([capabilities], dtype=float)
    return theta, s, c


def test_the_weighted_mean_and_median_are_the_hand_computed_ones():
    # Capabilities 1, 2, 1 and saliences 1, 0.5, 0.5: weights c*s = 1, 1, 0.5.
    # Mean: (1 * 0.1 + 1 * 0.4 + 0.5 * 0.9) / 2.5 = 0.95 / 2.5 = 0.38.
    # Median: sorted 0.1, 0.4, 0.9 with cumulative weight 1, 2, 2.5; half of
    # 2.5 is 1.25, first reached at 0.4.
    theta, s, c = _arrays([[0.1, 0.4, 0.9]], [[1.0, 0.5, 0.5]], [1.0, 2.0, 1.0])
    assert compromise_package(theta, s, c)[0, 0] == pytest.approx(0.38, abs=1e-15)
    assert compromise_package(theta, s, c, centre="median")[0, 0] == 0.4


def test_the_median_takes_the_first_position_reaching_half_the_weight():
    # Equal weights at 0.6 and 0.2: sorted 0.2, 0.6, cumulative 1, 2; half of
    # 2 is 1, reached at 0.2 already (the lower median).
    theta, s, c = _arrays([[0.6, 0.2]], [[1.0, 1.0]], [1.0, 1.0])
    assert compromise_package(theta, s, c, centre="median")[0, 0] == 0.2
    # Rounding: weights 0.1, 0.2, 0.3 sum to 0.6000000000000001, half of it is
    # 0.30000000000000004 = 0.1 + 0.2 in floating point: reached at the second.
    theta, s, c = _arrays([[0.1, 0.5, 0.9]], [[0.1, 0.2, 0.3]], [1.0, 1.0, 1.0])
    assert compromise_package(theta, s, c, centre="median")[0, 0] == 0.5


def test_an_actor_without_salience_has_no_say():
    # The third actor, at 1.0, has salience 0: the mean of 0.2 and 0.4 with
    # weights 1 and 3 is (0.2 + 1.2) / 4 = 0.35; the median is 0.4 (cumulative
    # 1, 4; half of 4 first reached at 0.4).
    theta, s, c = _arrays([[0.2, 0.4, 1.0]], [[1.0, 1.0, 0.0]], [1.0, 3.0, 100.0])
    assert compromise_package(theta, s, c)[0, 0] == pytest.approx(0.35, abs=1e-15)
    assert compromise_package(theta, s, c, centre="median")[0, 0] == 0.4


def test_with_no_weight_at_all_every_actor_counts_equally():
    # Every salience zero: plain mean (0.1 + 0.2 + 0.9) / 3 = 0.4, plain lower
    # median 0.2 (cumulative 1, 2, 3; half of 3 first reached at the second).
    theta, s, c = _arrays([[0.1, 0.9, 0.2]], [[0.0, 0.0, 0.0]], [1.0, 2.0, 3.0])
    assert compromise_package(theta, s, c)[0, 0] == pytest.approx(0.4, abs=1e-15)
    assert compromise_package(theta, s, c, centre="median")[0, 0] == 0.2


def test_issues_are_weighted_each_by_their_own_salience():
    # Two issues, actors a (capability 1) and b (capability 2):
    # issue 0: saliences 1 and 0.5 -> weights 1, 1 -> mean (0 + 1) / 2 = 0.5;
    # issue 1: saliences 0.5 and 1 -> weights 0.5, 2 -> mean (0.5 * 1 + 0) / 2.5 = 0.2.
    theta, s, c = _arrays([[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.5], [0.5, 1.0]], [1.0, 2.0])
    assert compromise_package(theta, s, c)[0] == pytest.approx([0.5, 0.2], abs=1e-15)


def test_a_run_settles_every_issue_in_month_one_by_nobody():
    scn = spatial_scenario(
        positions={"a": (0.1, 0.0), "b": (0.4, 1.0), "c": (0.9, 1.0)},
        saliences={"a": (1.0, 1.0), "b": (0.5, 1.0), "c": (0.5, 0.0)},
        capabilities={"a": 1.0, "b": 2.0, "c": 1.0},
        status_quo=(0.0, 0.3),
        model="compromise",
    )
    res = basesim.simulate(scn, n_runs=4, rng=1)
    runs = res.runs
    # Issue 0 as in the first test: 0.38.  Issue 1: weights 1, 2, 0 -> 2/3.
    assert runs.package == pytest.approx(np.tile([0.38, 2 / 3], (4, 1)), abs=1e-15)
    assert runs.settled.all()
    assert (runs.settled_round == 1).all() and (runs.settled_by == -1).all()
    assert (runs.proposals == 0).all()
    median = basesim.simulate(scn, n_runs=4, rng=1, model="compromise-median").runs
    # Issue 1 median: sorted 0 (w 1), 1 (w 2), 1 (w 0); half of 3 first reached at 1.
    assert median.package == pytest.approx(np.tile([0.4, 1.0], (4, 1)), abs=0)


def test_uncertain_positions_move_each_run_by_its_own_draw():
    # The mean is linear in each position: run r's value is
    # (1 * theta_a(r) + 1 * 0.4) / 2 with theta_a(r) the run's draw.
    base = spatial_scenario(
        positions={"a": (0.1,), "b": (0.4,)},
        saliences={"a": (1.0,), "b": (1.0,)},
        capabilities={"a": 1.0, "b": 1.0},
        status_quo=(0.0,),
        model="compromise",
    )
    scn = base.replace(
        {"actors.a.i0.position": basesim.Distribution(kind="uniform", low=0.0, high=0.2)}
    )
    res = basesim.simulate(scn, n_runs=50, rng=3)
    drawn = res.runs.sampled[:, 0]
    assert np.unique(drawn).size == 50
    np.testing.assert_allclose(res.runs.package[:, 0], (drawn + 0.4) / 2, rtol=0, atol=1e-15)


def test_both_centres_are_registered_and_a_bad_centre_is_refused():
    assert {"compromise", "compromise-median"} <= set(names())
    assert get("compromise").centre == "mean"
    assert get("compromise-median").centre == "median"
    with pytest.raises(
        basesim.ProtocolError, match=r"centre must be one of mean, median \(got 'mode'\)"
    ):
        Compromise("compromise-mode", "mode").compile(None)
