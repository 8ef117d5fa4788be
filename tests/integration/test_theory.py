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
from basesim.protocols.spatial import TOLERANCE
from basesim.testing import (
    alternating_offers_scenario,
    romer_rosenthal_outcome,
    rubinstein_share,
    setter_scenario,
)

unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _single_run(scenario: basesim.Scenario) -> basesim.model.RunOutcome:
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
    assert outcome.package[0] == pytest.approx(expected, abs=1e-12)
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
        assert outcome.package[0] in (pytest.approx(expected, abs=1e-9), status_quo)
    else:
        assert outcome.package[0] == pytest.approx(expected, abs=1e-9)


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
    assert outcome.agreed and outcome.round == 1
    assert outcome.package[0] == pytest.approx(keep, abs=1e-12)


@pytest.mark.parametrize(("d1", "d2"), [(0.9, 0.8), (0.8, 0.9), (0.95, 0.95), (0.5, 0.7)])
def test_rubinstein_limit(d1, d2):
    # The finite-horizon share converges to (1 - d2) / (1 - d1 d2) geometrically,
    # at rate (d1 d2) per two rounds: 200 rounds leave an error far below 1e-3.
    scn = alternating_offers_scenario(first_discount=d1, second_discount=d2, horizon=200)
    outcome = _single_run(scn)
    expected = rubinstein_share(first_discount=d1, second_discount=d2)
    assert abs(outcome.package[0] - expected) < 1e-3


@pytest.mark.slow
def test_nash_split_as_discounting_vanishes():
    # With equal discount factors d, the share is 1 / (1 + d) -> 1/2, the Nash
    # bargaining split of a unit pie with equal disagreement values.  The
    # finite-horizon error shrinks like d**T, so each d gets a horizon with
    # d**T < 1e-3 (0.999**8001 is about 3e-4).
    gaps = []
    for d, horizon in ((0.9, 101), (0.99, 1001), (0.999, 8001)):
        scn = alternating_offers_scenario(first_discount=d, second_discount=d, horizon=horizon)
        gaps.append(abs(_single_run(scn).package[0] - 0.5))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3


def test_batch_engine_matches_theory_too():
    scn = alternating_offers_scenario(first_discount=0.9, second_discount=0.8, horizon=60)
    res = basesim.simulate(scn, n_runs=3, rng=0)
    expected = rubinstein_share(first_discount=0.9, second_discount=0.8)
    assert np.all(np.abs(res.runs.package[:, 0] - expected) < 1e-3)
    assert np.all(res.runs.round == 1)


def test_spatial_bargaining_implements_the_round_protocol():
    from basesim.protocols import RoundProtocol, SpatialBargaining

    assert isinstance(SpatialBargaining(), RoundProtocol)
