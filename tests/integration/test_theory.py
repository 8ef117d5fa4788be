"""The engine against bargaining theory's closed forms.

Each test builds a scenario whose equilibrium is known in closed form and checks
that both engines reproduce it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import basesim
from basesim.engine.linear import LP_TOLERANCE
from basesim.engine.outcome import BatchOutcome
from basesim.protocols.bargaining import TOLERANCE
from basesim.testing import (
    alternating_offers_scenario,
    baron_ferejohn_shares,
    divide_the_dollar_scenario,
    pivotal_outcome,
    pivotal_scenario,
    romer_rosenthal_outcome,
    rubinstein_share,
    setter_scenario,
)

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _single_run(scenario: basesim.Scenario) -> BatchOutcome:
    return basesim.NegotiationModel(scenario, rng=0).run()


@pytest.mark.parametrize("exponent", [1, 2])
@pytest.mark.parametrize(
    ("setter", "vetoer", "status_quo", "expected"),
    [
        # Vetoer at 0.5 accepts [0.5 - 0.3, 0.5 + 0.3] = [0.2, 0.8] against q = 0.8;
        # the setter's ideal 0.1 lies left of it, so the setter gets 0.2.
        (0.1, 0.5, 0.8, 0.2),
        # Setter's ideal 0.6 lies inside [0.2, 0.8]: the setter gets its ideal.
        (0.6, 0.5, 0.8, 0.6),
        # Vetoer at 0.3, q = 0.2: acceptable set [0.2, 0.4]; setter at 0.9 gets 0.4.
        (0.9, 0.3, 0.2, 0.4),
        # q equals the vetoer's ideal: only q itself is acceptable, so nothing changes.
        (0.9, 0.4, 0.4, 0.4),
    ],
)
def test_romer_rosenthal_hand_cases(exponent, setter, vetoer, status_quo, expected):
    scn = setter_scenario(setter=setter, vetoer=vetoer, status_quo=status_quo, exponent=exponent)
    outcome = _single_run(scn)
    assert outcome.package[0, 0] == pytest.approx(expected, abs=1e-12)
    assert romer_rosenthal_outcome(
        setter=setter, vetoer=vetoer, status_quo=status_quo
    ) == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(setter=unit, vetoer=unit, status_quo=unit, exponent=st.sampled_from([1, 2]))
def test_romer_rosenthal_closed_form(setter, vetoer, status_quo, exponent):
    scn = setter_scenario(setter=setter, vetoer=vetoer, status_quo=status_quo, exponent=exponent)
    outcome = _single_run(scn)
    expected = romer_rosenthal_outcome(setter=setter, vetoer=vetoer, status_quo=status_quo)
    # The setter proposes only when that gains it more than the acceptance
    # tolerance (TOLERANCE x its utility scale, here 1): a gain below it counts
    # as indifference, and the status quo stays.
    gain = abs(status_quo - setter) ** exponent - abs(expected - setter) ** exponent
    if gain <= TOLERANCE:
        assert outcome.package[0, 0] in (pytest.approx(expected, abs=1e-9), status_quo)
    else:
        assert outcome.package[0, 0] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.8), (0.8, 0.9), (0.95, 0.95), (0.6, 0.99)])
@pytest.mark.parametrize("horizon", [1, 2, 3, 10, 11])
def test_rubinstein_finite_horizon_exact(d1, d2, horizon):
    # Round t's proposer is "first" for odd t; backward from round T.
    keep = 1.0  # proposer of round T takes everything
    for t in range(horizon - 1, 0, -1):
        responder_discount = d2 if t % 2 == 1 else d1  # responder in round t
        keep = 1.0 - responder_discount * keep
    scn = alternating_offers_scenario(first_discount=d1, second_discount=d2, horizon=horizon)
    outcome = _single_run(scn)
    assert outcome.agreed[0] and outcome.round[0] == 1
    assert outcome.package[0, 0] == pytest.approx(keep, abs=1e-12)


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.8), (0.8, 0.9), (0.95, 0.95), (0.5, 0.7)])
def test_rubinstein_limit(d1, d2):
    # The finite-horizon share converges to (1 - d2) / (1 - d1 d2) geometrically,
    # at rate (d1 d2) per two rounds: 200 rounds leave an error far below 1e-3.
    scn = alternating_offers_scenario(first_discount=d1, second_discount=d2, horizon=200)
    outcome = _single_run(scn)
    expected = rubinstein_share(first_discount=d1, second_discount=d2)
    assert abs(outcome.package[0, 0] - expected) < 1e-3


@pytest.mark.slow
def test_nash_split_as_discounting_vanishes():
    # With equal discount factors d, the share is 1 / (1 + d) -> 1/2, the Nash
    # bargaining split of a unit pie with equal disagreement values.  The
    # finite-horizon error shrinks like d**T, so each d gets a horizon with
    # d**T < 1e-3 (0.999**8001 is about 3e-4).
    gaps = []
    for d, horizon in ((0.9, 101), (0.99, 1001), (0.999, 8001)):
        scn = alternating_offers_scenario(first_discount=d, second_discount=d, horizon=horizon)
        gaps.append(abs(_single_run(scn).package[0, 0] - 0.5))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3


def test_batch_engine_matches_theory_too():
    scn = alternating_offers_scenario(first_discount=0.9, second_discount=0.8, horizon=60)
    res = basesim.simulate(scn, n_runs=3, rng=0)
    expected = rubinstein_share(first_discount=0.9, second_discount=0.8)
    assert np.all(np.abs(res.runs.package[:, 0] - expected) < 1e-3)
    assert np.all(res.runs.settled_round == 1)


def test_bargaining_implements_the_protocol_interface():
    from basesim.protocols import Bargaining, NegotiationProtocol, get

    assert isinstance(Bargaining(), NegotiationProtocol)
    assert isinstance(get("bargaining"), Bargaining)


@pytest.mark.parametrize(
    ("setter", "voters", "status_quo", "threshold", "needed", "expected"),
    [
        # Five voters, three needed (0.6): moving left from q = 0.9 toward the
        # setter at 0.0, the voters at 0.2, 0.4, 0.6 (and 0.8) accept up to their
        # reflections 2 theta - q = -0.5, -0.1, 0.3, 0.7: the third, 0.3, binds.
        (0.0, (0.2, 0.4, 0.6, 0.8, 0.95), 0.9, 0.6, 3, 0.3),
        # Four of five (0.8): the fourth reflection, 0.7.
        (0.0, (0.2, 0.4, 0.6, 0.8, 0.95), 0.9, 0.8, 4, 0.7),
        # The setter's ideal 0.5 is inside the pivot's reach: it gets its ideal.
        (0.5, (0.2, 0.4, 0.6, 0.8, 0.95), 0.9, 0.6, 3, 0.5),
        # Setter to the right of q = 0.1: voters at 0.6, 0.8 and 0.95 reflect
        # q to 1.1, 1.5, 1.8 (clipped by the scale): with three needed, 1.1 -> the
        # setter's ideal 1.0 is reachable.
        (1.0, (0.2, 0.4, 0.6, 0.8, 0.95), 0.1, 0.6, 3, 1.0),
        # Only two voters on the setter's side, three needed: nothing changes.
        (0.0, (0.2, 0.4, 0.95, 0.96, 0.97), 0.9, 0.6, 3, 0.9),
    ],
)
def test_pivotal_politics_hand_cases(setter, voters, status_quo, threshold, needed, expected):
    assert pivotal_outcome(
        setter=setter, voters=voters, status_quo=status_quo, needed=needed
    ) == pytest.approx(expected)
    scn = pivotal_scenario(
        setter=setter, voters=voters, status_quo=status_quo, threshold=threshold
    )
    assert _single_run(scn).package[0, 0] == pytest.approx(expected, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    setter=unit,
    status_quo=unit,
    voters=st.lists(unit, min_size=1, max_size=9),
    needed_share=st.floats(min_value=0.05, max_value=1.0),
)
def test_pivotal_politics_closed_form(setter, status_quo, voters, needed_share):
    voters = tuple(voters)
    n = len(voters)
    needed = max(1, int(np.ceil(needed_share * n - 1e-9)))
    threshold = needed / n
    scn = pivotal_scenario(
        setter=setter, voters=voters, status_quo=status_quo, threshold=threshold
    )
    outcome = _single_run(scn).package[0, 0]
    expected = pivotal_outcome(setter=setter, voters=voters, status_quo=status_quo, needed=needed)
    # A gain below the acceptance tolerance counts as indifference (no offer).
    gain = (status_quo - setter) ** 2 - (expected - setter) ** 2
    if gain <= TOLERANCE:
        assert outcome in (pytest.approx(expected, abs=1e-9), status_quo)
    else:
        assert outcome == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("n_players", "lookahead"), [(3, 2), (3, 5), (5, 2), (5, 3)])
def test_baron_ferejohn_closed_rule_shares(n_players, lookahead):
    # Baron and Ferejohn (1989), closed rule, n odd, recognition 1/n each,
    # common discount d.  In shares (u_i = x_i - 1 with disagreement a zero
    # share, so a share is a gain over disagreement): in the last month of
    # the look-ahead r = d(t) (share 0), the proposer takes the whole pie and
    # each player's value is 1/n.  One month earlier each player's reservation
    # share is d * 1/n; the proposer buys the cheapest bare majority, (n - 1)/2
    # partners at d/n each, and keeps 1 - d (n - 1) / (2 n).  Mixing uniformly
    # over its C(n-1, (n-1)/2) equally cheap coalitions, each other player is a
    # partner with chance 1/2, so its value is
    #   (1/n) (1 - d (n-1)/(2n)) + ((n-1)/n) (1/2) (d/n) = 1/n,
    # the same as in the month after: the shares are stationary from the
    # second-to-last month back to month 1 for any look-ahead >= 2.  (Without
    # the mixing a look-ahead >= 3 would make some players cheaper than
    # others and move the shares.)
    discount = 0.9
    own, partner = baron_ferejohn_shares(n_players=n_players, discount=discount)
    scn = divide_the_dollar_scenario(n_players=n_players, discount=discount, lookahead=lookahead)
    # Each share is a linear programme's solution: exact up to its feasibility
    # tolerance per constraint; a reservation value carries the errors of the
    # packages of every later month of the look-ahead (n shares each), so the
    # shares are exact to (lookahead + 1) n LP_TOLERANCE.
    tol = (lookahead + 1) * n_players * LP_TOLERANCE
    runs = basesim.simulate(scn, n_runs=8, rng=0).runs
    mesa = _single_run(scn)
    for out in (runs, mesa):
        assert np.all(out.settled) and np.all(out.settled_round == 1)
        for r in range(out.package.shape[0]):
            shares = out.package[r]
            proposer = out.settled_by[r, 0]
            assert np.all(out.settled_by[r] == proposer)
            assert shares[proposer] == pytest.approx(own, abs=tol)
            others = np.delete(shares, proposer)
            partners = np.abs(others - partner) <= tol
            assert partners.sum() == (n_players - 1) // 2
            assert np.all(np.abs(others[~partners]) <= tol)
            assert shares.sum() <= 1.0 + tol
    # The batch engine's run 0 is the Mesa model's run.
    np.testing.assert_array_equal(runs.settled_by[0], mesa.settled_by[0])
    np.testing.assert_allclose(runs.package[0], mesa.package[0], rtol=0, atol=1e-12)
