"""The spatial model of politics (``smp``): KTAB's reference runs and hand-worked pieces.

The two reference runs are those published with KAPSARC's KTAB (examples/smp/doc):
``dummyData_3Dim.csv`` with its log ``20170530_ref-dummyData_3Dim.txt`` and
``SOE-Pol-Comp.csv`` with ``20170530_ref-SOE-Pol-Comp.txt``, both run with KTAB's
defaults (linear victory probabilities, proportional voting, conditional PCE,
deterministic transitions, risk range "mid", one-third risk adjustment,
semi-committed third parties, S2P2 bargains, initiator-only bargains).  The
inputs below are copied from the csv files (positions and saliences on KTAB's
0-100 scale, divided by 100 as KTAB does on reading); the expected positions
are the ``postn`` lines the logs print with four decimals on the 0-100 scale
after each turn.  KTAB rounds every bargain to 1e-4 of the scale, so the
printed digits are the exact values.
"""

from __future__ import annotations

import numpy as np
import pytest

import basesim
from basesim.actors import Actor, Stance
from basesim.engine.compiled import compile_scenario
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.protocols import get, names, smp
from basesim.protocols.smp import (
    Smp,
    bargain_positions,
    coalition_strengths,
    condorcet_probabilities,
    predicted_package,
    risk_attitudes,
    run_smp,
    spatial_utility,
    victory_probabilities,
    weighted_distance,
)
from basesim.scenario import ProtocolSettings, Scenario

# dummyData_3Dim.csv: capability, then (position, salience) on each of 3 dimensions.
DUMMY_3DIM = np.array(
    [
        [102.543, 75.79, 49.53, 6.37, 5.91, 70.45, 28.15],
        [53.393, 82.72, 30.33, 73.50, 21.22, 64.00, 24.79],
        [129.643, 82.45, 48.47, 90.89, 13.55, 0.07, 34.62],
        [75.920, 62.52, 20.76, 50.82, 39.24, 62.33, 22.21],
        [63.224, 82.34, 40.96, 45.77, 25.43, 73.31, 22.59],
        [120.048, 84.48, 22.92, 33.70, 39.35, 88.11, 15.42],
        [54.178, 70.96, 31.75, 33.46, 27.93, 90.36, 26.03],
    ]
)
# The log's positions after turn 1 ("postn i , 0" of iteration 1) ...
DUMMY_3DIM_TURN_1 = [
    [79.54, 44.71, 72.05],
    [78.93, 56.33, 72.52],
    [82.45, 90.89, 0.07],
    [65.82, 50.76, 63.02],
    [79.54, 44.72, 72.05],
    [84.39, 34.05, 86.34],
    [75.61, 24.79, 71.95],
]
# ... and after turn 10, the last ("Fractional change ... 0.0045 (target=0.0200)").
DUMMY_3DIM_FINAL = [
    [78.56, 31.76, 74.05],
    [78.56, 31.76, 74.05],
    [82.45, 90.89, 0.07],
    [67.12, 50.12, 63.73],
    [78.60, 31.65, 74.11],
    [79.88, 34.37, 75.16],
    [78.60, 31.65, 74.11],
]
# The log's "History of actors' winning probabilities", last column (4 decimals):
# the PCE probability of each actor's final position (shared positions repeat it).
DUMMY_3DIM_PROB = [0.3340, 0.3340, 0.0183, 0.0957, 0.1512, 0.4009, 0.1512]

# SOE-Pol-Comp.csv (13 actors, 2 dimensions): capability, then (position, salience).
SOE = np.array(
    [
        [100.0, 30, 24.0, 20, 48.0],
        [60.2, 45, 44.7, 65, 41.3],
        [35.0, 30, 28.9, 15, 65.1],
        [35.0, 45, 20.6, 45, 49.4],
        [40.0, 50, 44.7, 65, 47.8],
        [20.0, 15, 32.0, 10, 32.0],
        [15.0, 20, 32.0, 15, 32.0],
        [25.0, 60, 43.9, 50, 50.1],
        [20.0, 30, 26.4, 15, 17.6],
        [35.0, 45, 35.9, 40, 46.6],
        [20.0, 50, 44.7, 50, 47.8],
        [20.0, 20, 47.4, 30, 40.6],
        [40.0, 15, 49.0, 60, 46.0],
    ]
)
# Its log's positions after turn 27, the last.
SOE_FINAL = [
    [43.18, 43.30],
    [43.23, 43.27],
    [38.66, 28.82],
    [38.57, 28.79],
    [38.66, 28.82],
    [38.59, 29.52],
    [38.72, 28.97],
    [38.72, 28.97],
    [38.71, 28.95],
    [38.82, 30.72],
    [38.82, 30.77],
    [38.82, 30.77],
    [15.00, 60.00],
]


def _inputs(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(position, salience, capability) with a run axis, on KTAB's internal scale."""
    capability = table[:, 0]
    position = table[:, 1::2] / 100.0
    salience = table[:, 2::2] / 100.0
    return position[None], salience[None], capability[None]


# -- the reference runs ----------------------------------------------------------------------
def test_dummy_3dim_first_turn_matches_ktab_reference():
    r = run_smp(*_inputs(DUMMY_3DIM), max_turns=1)
    np.testing.assert_allclose(r.position[0] * 100, DUMMY_3DIM_TURN_1, rtol=0, atol=1e-6)


def test_dummy_3dim_final_positions_match_ktab_reference_to_1e6():
    r = run_smp(*_inputs(DUMMY_3DIM))
    assert r.turns.tolist() == [10]
    np.testing.assert_allclose(r.position[0] * 100, DUMMY_3DIM_FINAL, rtol=0, atol=1e-6)
    np.testing.assert_allclose(r.first[0] * 100, DUMMY_3DIM_TURN_1, rtol=0, atol=1e-6)


def test_dummy_3dim_final_position_probabilities_match_the_reference():
    r = run_smp(*_inputs(DUMMY_3DIM))
    # Actors 1 and 6 share the positions of actors 0 and 4: their probability is the
    # shared position's, counted once (on the first actor holding it).
    assert r.distinct[0].tolist() == [True, False, True, True, True, True, False]
    shared = r.probability[0][[0, 0, 2, 3, 4, 5, 4]]
    np.testing.assert_allclose(shared, DUMMY_3DIM_PROB, rtol=0, atol=5e-5)
    assert r.probability[0].sum() == pytest.approx(1.0, abs=1e-12)


def test_soe_13_actors_2_dimensions_match_ktab_reference_after_27_turns():
    r = run_smp(*_inputs(SOE))
    assert r.turns.tolist() == [27]
    np.testing.assert_allclose(r.position[0] * 100, SOE_FINAL, rtol=0, atol=1e-6)


def test_runs_in_one_batch_equal_runs_alone(monkeypatch):
    # Three runs with different capabilities, in chunks of two runs: the batch is
    # bit-identical to each run alone, and runs that stop early do not disturb the others.
    position, salience, capability = _inputs(DUMMY_3DIM)
    caps = capability * np.array([[1.0], [0.5], [2.0]])
    monkeypatch.setattr(smp, "_CHUNK_PAIRS", 2 * 7**2)
    batch = run_smp(np.repeat(position, 3, 0), np.repeat(salience, 3, 0), caps)
    for i in range(3):
        alone = run_smp(position, salience, caps[i : i + 1])
        assert np.array_equal(batch.position[i], alone.position[0])
        assert batch.turns[i] == alone.turns[0]


# -- the pieces, by hand -----------------------------------------------------------------------
def test_weighted_distance_and_utility_by_hand():
    # d = sqrt((0.6 * 0.3)^2 + (0.8 * 0.4)^2) / sqrt(0.6^2 + 0.8^2) = sqrt(0.1348).
    d = weighted_distance(np.zeros((1, 1, 2)), np.array([[[0.3, 0.4]]]), np.array([[[0.6, 0.8]]]))
    assert d[0, 0, 0] == pytest.approx(np.sqrt(0.1348), abs=1e-15)
    # u = (1 - d)(1 + d R): d = 0.5 gives 0.75 for R = 1, 0.375 for R = -1/2.
    u = spatial_utility(np.array([0.5, 0.5, 0.0, 1.0]), np.array([1.0, -0.5, 1.0, 1.0]))
    assert u.tolist() == [0.75, 0.375, 1.0, 0.0]


def test_victory_probability_from_coalitions_by_hand():
    # Actor 0 (weight 2) prefers option 0 by 0.5, actor 1 (weight 1) option 1 by 0.8:
    # C_01 = 1e-8 + 1.0, C_10 = 1e-8 + 0.8, P[0 beats 1] = C_01 / (C_01 + C_10) ~ 5/9.
    utility = np.array([[[1.0, 0.5], [0.2, 1.0]]])
    c = coalition_strengths(np.array([[2.0, 1.0]]), utility)
    assert c[0, 0, 1] == pytest.approx(1.0 + 1e-8, abs=1e-15)
    assert c[0, 1, 0] == pytest.approx(0.8 + 1e-8, abs=1e-15)
    p = victory_probabilities(c, 1)
    assert p[0, 0, 1] == pytest.approx(5 / 9, abs=1e-8)
    assert p[0, 0, 0] == 0.5
    # Squared: 1 / (1 + 0.64) = 25/41; fourth power: 1 / (1 + 0.4096).
    assert victory_probabilities(c, 2)[0, 0, 1] == pytest.approx(25 / 41, abs=1e-8)
    assert victory_probabilities(c, 4)[0, 0, 1] == pytest.approx(1 / 1.4096, abs=1e-8)


def test_conditional_pce_by_hand():
    victory = np.array([[[0.5, 0.6, 0.7], [0.4, 0.5, 0.8], [0.3, 0.2, 0.5]]])
    # Products 0.21, 0.16, 0.03 over all three options, divided by their sum 0.40.
    p = condorcet_probabilities(victory, np.ones((1, 3), dtype=bool))
    np.testing.assert_allclose(p[0], [0.525, 0.4, 0.075], rtol=1e-14)
    # Without option 2: products 0.30 and 0.20.
    p = condorcet_probabilities(victory, np.array([[True, True, False]]))
    np.testing.assert_allclose(p[0], [0.6, 0.4, 0.0], rtol=1e-14)


def test_risk_attitudes_by_hand():
    # mid: R = (3 p - p_max - 2 p_min) / (2 (p_max - p_min)) with p_min 0.1, p_max 0.7.
    r = risk_attitudes(np.array([[0.1, 0.2, 0.7]]), "mid")
    np.testing.assert_allclose(r[0], [-0.5, -0.25, 1.0], atol=1e-15)
    np.testing.assert_allclose(
        risk_attitudes(np.array([[0.1, 0.2, 0.7]]), "max")[0], [-1, -2 / 3, 1]
    )
    assert risk_attitudes(np.array([[0.5, 0.5]]), "mid").tolist() == [[0.0, 0.0]]


def test_bargain_interpolates_with_squared_salience_and_probability():
    # s_i = 0.5, s_j = 0.25, p = 0.6: w_i = 0.25 * 0.36 = 0.09, w_j = 0.0625 * 0.16 = 0.01;
    # both adopt (0.09 * 0.2 + 0.01 * 0.8) / 0.1 = 0.26 (to the 1e-4 grid).
    position = np.array([[[0.2], [0.8]]])
    salience = np.array([[[0.5], [0.25]]])
    b_i, b_j = bargain_positions(
        position, salience, np.array([[1, -1]]), np.array([[0.6, np.nan]]), "s2p2"
    )
    assert b_i[0, 0, 0] == 0.26
    assert b_j[0, 0, 0] == 0.26
    # s1p1: w_i = 0.3, w_j = 0.1: (0.3 * 0.2 + 0.1 * 0.8) / 0.4 = 0.35.
    b_i, _ = bargain_positions(
        position, salience, np.array([[1, -1]]), np.array([[0.6, np.nan]]), "s1p1"
    )
    assert b_i[0, 0, 0] == 0.35


# -- the protocol ---------------------------------------------------------------------------------
def _scenario(table: np.ndarray, *, capability_sd: float = 0.0, **protocol) -> Scenario:
    n_dim = (table.shape[1] - 1) // 2
    issues = tuple(
        Issue(
            name=f"d{k}", label=f"Dimension {k}", status_quo=Parameter(value=0.5), rule="majority"
        )
        for k in range(n_dim)
    )
    actors = []
    for i, row in enumerate(table):
        cap = Parameter(value=float(row[0]))
        if capability_sd and i == 0:
            cap = Parameter(
                value=float(row[0]),
                distribution=Distribution(kind="uniform", low=row[0] * 0.5, high=row[0] * 1.5),
            )
        stances = {
            f"d{k}": Stance(
                position=Parameter(value=row[1 + 2 * k] / 100.0),
                salience=Parameter(value=row[2 + 2 * k] / 100.0),
            )
            for k in range(n_dim)
        }
        actors.append(Actor(name=f"a{i}", label=f"Actor {i}", capability=cap, stances=stances))
    return Scenario(
        name="smp-test",
        title="KTAB example",
        issues=issues,
        actors=tuple(actors),
        horizon=3,
        protocol=ProtocolSettings(model="smp", **protocol),
    )


def test_smp_is_registered():
    assert "smp" in names()
    assert isinstance(get("smp"), Smp)


def test_simulate_settles_every_issue_in_month_1_at_the_pce_expectation():
    result = basesim.simulate(_scenario(DUMMY_3DIM), n_runs=2, rng=1)
    runs = result.runs
    assert runs.settled.all()
    assert (runs.settled_round == 1).all()
    assert (runs.settled_by == -1).all()
    # Expected package: the reference's final positions weighted by their printed
    # probabilities (distinct positions 0, 2, 3, 4, 5); 4-decimal probabilities
    # leave an error below 5 * 0.5e-4.
    final = np.array(DUMMY_3DIM_FINAL) / 100
    prob = np.array(DUMMY_3DIM_PROB)
    distinct = [0, 2, 3, 4, 5]
    expected = prob[distinct] @ final[distinct]
    np.testing.assert_allclose(runs.package[0], expected, atol=2.5e-4)
    assert np.array_equal(runs.package[0], runs.package[1])


def test_prediction_options():
    position, salience, capability = _inputs(DUMMY_3DIM)
    r = run_smp(position, salience, capability)
    mode = predicted_package(r, salience, capability, "most_probable")
    # Actor 5's final position is the most probable (0.4009).
    np.testing.assert_allclose(mode[0], np.array(DUMMY_3DIM_FINAL[5]) / 100, atol=1e-12)
    mean = predicted_package(r, salience, capability, "weighted_mean")
    w = capability[0][:, None] * salience[0]
    np.testing.assert_allclose(mean[0], (w * r.position[0]).sum(0) / w.sum(0), rtol=1e-12)


def test_batch_and_mesa_engines_agree_run_by_run():
    scn = _scenario(DUMMY_3DIM, capability_sd=1.0)
    batch = basesim.simulate(scn, n_runs=3, rng=7).runs
    mesa = basesim.simulate(scn, n_runs=3, rng=7, engine="mesa").runs
    assert np.array_equal(batch.package, mesa.package)
    assert np.unique(batch.sampled[:, 0]).size == 3


def test_a_scenario_with_one_actor_is_refused():
    scn = _scenario(DUMMY_3DIM[:1])
    with pytest.raises(
        basesim.ProtocolError, match=r"smp: actors must number at least 2 \(got 1\)"
    ):
        Smp().compile(compile_scenario(scn))


def test_an_actor_without_salience_takes_no_part():
    # A row with zero salience everywhere (a DEU state with no stake) changes
    # nothing: the package is the one of the run without that actor.
    mute = np.array(DUMMY_3DIM[:1], dtype=float)
    mute[0, 2::2] = 0.0
    with_mute = basesim.simulate(_scenario(np.vstack([DUMMY_3DIM, mute])), n_runs=1, rng=1)
    without = basesim.simulate(_scenario(np.asarray(DUMMY_3DIM, dtype=float)), n_runs=1, rng=1)
    np.testing.assert_array_equal(with_mute.runs.package, without.runs.package)
    two_mute = np.vstack([DUMMY_3DIM[:1], mute, mute]).astype(float)
    with pytest.raises(basesim.ProtocolError, match=r"at least 2 actors need a positive salience"):
        Smp().compile(compile_scenario(_scenario(two_mute)))


def test_bad_options_are_refused():
    compiled = compile_scenario(_scenario(DUMMY_3DIM))
    with pytest.raises(basesim.ProtocolError, match=r"smp: prediction must be one of"):
        Smp(prediction="median").compile(compiled)
    with pytest.raises(
        basesim.ProtocolError, match=r"third_party .* \(got 'semo'\) \(did you mean 'semi'"
    ):
        Smp(third_party="semo").compile(compiled)


def test_saliences_summing_above_one_are_scaled_down():
    # Doubling every salience of dummyData_3Dim pushes some sums above 1; they are divided
    # by their sums, so those actors weigh their issues in the same proportions.
    table = DUMMY_3DIM.copy()
    table[:, 2::2] *= 1.1
    result = basesim.simulate(_scenario(table), n_runs=1, rng=1)
    assert np.isfinite(result.runs.package).all()
