"""The exchange model against exchanges worked out by hand (docs/models/exchange.md).

Notation: actor i has capability c_i, ideal x_ik, salience s_ik, voting position
y_ik (at first x_ik) and weight w_ik = c_i s_ik on issue k; the expected
outcome is O_k = sum_i w_ik y_ik / W_k with W_k = sum_i w_ik.  On issues p, q
the actor v demanding p (s_vp s_uq > s_up s_vq) gets O_p moved toward it by
dO_p, its partner u gets O_q moved toward it by dO_q = rate dO_p with
rate = (s_up + s_vp) / (s_uq + s_vq), and

    dO_p = min(bound_p, bound_q / rate),
    bound_p = min(w_up / W_p |x_vp - y_up|, |x_vp - O_p|)   (u moves toward v on p)
    bound_q = min(w_vq / W_q |x_uq - y_vq|, |x_uq - O_q|)   (v moves toward u on q)
    gain = s_vp dO_p - s_vq dO_q = s_uq dO_q - s_up dO_p.
"""

from __future__ import annotations

import numpy as np
import pytest

import basesim
from basesim.actors import Actor, Stance
from basesim.issues import Issue
from basesim.parameters import Parameter
from basesim.protocols.exchange import (
    Exchange,
    ExchangeOptions,
    candidate_pairs,
    exchange_table,
    expected_outcome,
    run_exchanges,
)
from basesim.scenario import ProtocolSettings, Scenario

TIGHT = 1e-12


def run(x, s, c, **options):
    """One run of the model from nested lists (actors x issues)."""
    x = np.array(x, dtype=float)[None]
    s = np.array(s, dtype=float)[None]
    c = np.array(c, dtype=float)[None]
    return run_exchanges(x, s, c, np.zeros((1, x.shape[2])), ExchangeOptions(**options))


# Case 1: three actors, one exchange, the supplier's move binds.
#   A: c = 1, x = (0, 0),     s = (0.2, 0.6)
#   B: c = 1, x = (1, 1),     s = (0.6, 0.3)
#   C: c = 2, x = (0.5, 0.5), s = (0.5, 0.5)
CASE1 = (
    [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]],
    [[0.2, 0.6], [0.6, 0.3], [0.5, 0.5]],
    [1.0, 1.0, 2.0],
)


def test_three_actor_exchange_matches_the_hand_derivation():
    # W_p = 0.2 + 0.6 + 1.0 = 1.8, O_p = (0.6 + 0.5) / 1.8 = 11/18;
    # W_q = 0.6 + 0.3 + 1.0 = 1.9, O_q = (0.3 + 0.5) / 1.9 = 8/19.
    # Sides: p: A, C left of 11/18, B right; q: A left of 8/19, B, C right.
    # Only A and B are on opposite sides on both issues.
    # s_Bp s_Aq - s_Ap s_Bq = 0.36 - 0.06 > 0: B demands p, A supplies p (u = A, v = B).
    # bound_p = min(0.2/1.8 * |1 - 0|, |1 - 11/18|) = min(1/9, 7/18) = 1/9;
    # bound_q = min(0.3/1.9 * |0 - 1|, |0 - 8/19|) = 3/19;  rate = 0.8/0.9 = 8/9;
    # dO_p = min(1/9, (3/19) / (8/9) = 27/152) = 1/9: A moves all the way, y_Ap = 1.
    # dO_q = 8/81: B moves by (8/81) * 1.9 / 0.3 = 152/243, y_Bq = 91/243.
    # O_p = 11/18 + 1/9 = 13/18, O_q = 8/19 - 8/81 = 496/1539.
    # Gain: 0.6/9 - 0.3 * 8/81 = 1/27 = 0.6 * 8/81 - 0.2/9 for both.
    # Round 2: A already votes x_Bp = 1, so bound_p = 0: no exchange (the fixed point).
    result = run(*CASE1)
    expected_voting = [[1.0, 0.0], [1.0, 91 / 243], [0.5, 0.5]]
    np.testing.assert_allclose(result.voting[0], expected_voting, rtol=0, atol=TIGHT)
    np.testing.assert_allclose(result.outcome[0], [13 / 18, 496 / 1539], rtol=0, atol=TIGHT)
    assert result.exchanges[0] == 1 and result.rounds[0] == 1


def test_the_hand_worked_exchange_has_equal_gains_of_one_27th():
    x, s, c = (np.array(v, dtype=float)[None] for v in CASE1)
    weight = c[:, :, None] * s
    outcome = expected_outcome(x, weight, np.zeros((1, 2)))
    pairs = candidate_pairs(3, 2)
    table = exchange_table(x, x, s, weight, outcome, pairs)
    # Pairs in order: (A, B), (A, C), (B, C); only (A, B) is possible.
    assert table.gain[0, 0] == pytest.approx(1 / 27, abs=TIGHT)
    assert np.isneginf(table.gain[0, 1:]).all()
    assert (table.supplier_p[0, 0], table.supplier_q[0, 0]) == (0, 1)
    assert table.shift_p[0, 0] == pytest.approx(1 / 9, abs=TIGHT)
    assert table.shift_q[0, 0] == pytest.approx(-8 / 81, abs=TIGHT)


# Case 2: the larger gain goes first, the outcome cap binds, a second round.
#   A: c = 1, x = (0, 0),   s = (0.2, 0.8)
#   B: c = 1, x = (0.9, 1), s = (0.8, 0.2)
#   C: c = 1, x = (1, 0.5), s = (0.5, 0.5)
CASE2 = (
    [[0.0, 0.0], [0.9, 1.0], [1.0, 0.5]],
    [[0.2, 0.8], [0.8, 0.2], [0.5, 0.5]],
    [1.0, 1.0, 1.0],
)


def test_largest_gain_first_then_a_second_round_to_the_fixed_point():
    # W_p = W_q = 1.5; O_p = (0.72 + 0.5) / 1.5 = 61/75, O_q = (0.2 + 0.25) / 1.5 = 0.3.
    # Sides: p: A left, B and C right; q: A left, B and C right.  So A-B and A-C.
    # A-B: B demands p (0.8*0.8 > 0.2*0.2); bound_p = min(0.2/1.5 * 0.9, 0.9 - 61/75)
    #      = min(0.12, 13/150) = 13/150 (the outcome cap: O_p stops at B's ideal);
    #      bound_q = min(0.2/1.5 * 1, 0.3) = 2/15; rate = 1; dO_p = dO_q = 13/150;
    #      gain = 13/150 * (0.8*0.8 - 0.2*0.2) / 1.0 = 0.052.
    # A-C: C demands p (0.5*0.8 > 0.2*0.5); bound_p = min(0.2/1.5, 1 - 61/75) = 2/15;
    #      bound_q = min(0.5/1.5 * 0.5, 0.3) = 1/6; rate = 0.7/1.3;
    #      dO_p = 2/15, gain = 2/15 * 0.3/1.3 = 0.0308 < 0.052.
    # Round 1 realises A-B (A is then spent for the round): A moves 13/150 * 1.5/0.2
    #      = 0.65 on p, B moves 0.65 on q: y_Ap = 0.65, y_Bq = 0.35;
    #      O_p = 0.9, O_q = 0.3 - 13/150 = 16/75.
    # Round 2: B sits at O_p (no side); A-C: bound_p = min(0.2/1.5 * 0.35, 0.1) = 7/150,
    #      bound_q = min(1/6, 16/75) = 1/6; dO_p = 7/150 (A reaches C's ideal, y_Ap = 1),
    #      dO_q = 7/13 * 7/150 = 49/1950; C moves 49/1950 * 1.5/0.5 = 49/650 on q:
    #      y_Cq = 1/2 - 49/650 = 138/325; O_p = 0.9 + 7/150 = 71/75,
    #      O_q = 16/75 - 49/1950 = 367/1950.
    # Round 3: O_p = 71/75 is right of B's ideal 0.9, so A and B are on the same side
    #      of p; A votes C's ideal on p; B and C are both right of O_q: the fixed point.
    one = run(*CASE2, max_rounds=1)
    np.testing.assert_allclose(
        one.voting[0], [[0.65, 0.0], [0.9, 0.35], [1.0, 0.5]], rtol=0, atol=TIGHT
    )
    np.testing.assert_allclose(one.outcome[0], [0.9, 16 / 75], rtol=0, atol=TIGHT)
    full = run(*CASE2)
    np.testing.assert_allclose(
        full.voting[0], [[1.0, 0.0], [0.9, 0.35], [1.0, 138 / 325]], rtol=0, atol=TIGHT
    )
    np.testing.assert_allclose(full.outcome[0], [71 / 75, 367 / 1950], rtol=0, atol=TIGHT)
    assert full.exchanges[0] == 2 and full.rounds[0] == 2
    # The fixed point: more rounds allowed change nothing.
    np.testing.assert_array_equal(run(*CASE2, max_rounds=2).outcome, full.outcome)


def test_the_final_state_admits_no_profitable_exchange():
    rng = np.random.default_rng(5)
    n, n_act, n_iss = 50, 5, 3
    x = rng.random((n, n_act, n_iss))
    s = rng.random((n, n_act, n_iss))
    c = rng.random((n, n_act)) + 0.1
    options = ExchangeOptions()
    result = run_exchanges(x, s, c, np.zeros((n, n_iss)), options)
    assert result.exchanges.sum() > 0
    weight = c[:, :, None] * s
    table = exchange_table(
        x,
        result.voting,
        s,
        weight,
        result.outcome,
        candidate_pairs(n_act, n_iss),
    )
    scale = s.max(axis=(1, 2)) * (x.max(axis=1) - x.min(axis=1)).max(axis=1)
    stopped = result.rounds < options.max_rounds
    assert (table.gain.max(axis=1)[stopped] <= options.tolerance * scale[stopped]).all()


def test_every_possible_exchange_gives_both_sides_the_same_positive_gain():
    rng = np.random.default_rng(11)
    n, n_act, n_iss = 200, 4, 3
    x = rng.random((n, n_act, n_iss))
    y = x + 0.1 * rng.standard_normal((n, n_act, n_iss))
    s = rng.random((n, n_act, n_iss))
    c = rng.random((n, n_act)) + 0.1
    weight = c[:, :, None] * s
    outcome = expected_outcome(y, weight, np.zeros((n, n_iss)))
    pairs = candidate_pairs(n_act, n_iss)
    table = exchange_table(x, y, s, weight, outcome, pairs)
    ok = np.isfinite(table.gain)
    assert ok.sum() > 50
    rows, cand = np.nonzero(ok)
    u, v = table.supplier_p[rows, cand], table.supplier_q[rows, cand]
    p, q = pairs[2][cand], pairs[3][cand]
    d_p, d_q = np.abs(table.shift_p[rows, cand]), np.abs(table.shift_q[rows, cand])
    gain_u = s[rows, u, q] * d_q - s[rows, u, p] * d_p
    gain_v = s[rows, v, p] * d_p - s[rows, v, q] * d_q
    np.testing.assert_allclose(gain_u, table.gain[rows, cand], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(gain_v, table.gain[rows, cand], rtol=1e-9, atol=1e-15)
    assert (table.gain[ok] > 0).all()
    # The moves shift the outcomes by exactly dO (O is linear in the votes), and never
    # past the demander's ideal.
    total = weight.sum(axis=1)
    moved = table.move_p[rows, cand] * weight[rows, u, p] / total[rows, p]
    np.testing.assert_allclose(moved, table.shift_p[rows, cand], rtol=1e-9, atol=1e-15)
    new_o_p = outcome[rows, p] + table.shift_p[rows, cand]
    side_before = np.sign(x[rows, v, p] - outcome[rows, p])
    assert (side_before * (x[rows, v, p] - new_o_p) >= -1e-12).all()


def test_no_exchange_when_saliences_are_equal_across_issues():
    # s_ip = s_iq for every actor: s_vp s_uq - s_up s_vq = 0 for every pair, no gain
    # to trade; the outcome is the weighted mean of the ideals:
    # O_p = (1*0.5*0 + 1*0.3*1 + 2*0.9*0.4) / (0.5 + 0.3 + 1.8) = 1.02 / 2.6,
    # O_q = (1*0.5*1 + 1*0.3*0 + 2*0.9*0.7) / 2.6 = 1.76 / 2.6.
    x = [[0.0, 1.0], [1.0, 0.0], [0.4, 0.7]]
    s = [[0.5, 0.5], [0.3, 0.3], [0.9, 0.9]]
    result = run(x, s, [1.0, 1.0, 2.0])
    assert result.exchanges[0] == 0
    np.testing.assert_array_equal(result.voting[0], x)
    np.testing.assert_allclose(result.outcome[0], [1.02 / 2.6, 1.76 / 2.6], rtol=0, atol=TIGHT)


def test_an_actor_without_a_stance_has_no_weight_and_does_not_trade():
    # C has no stance on q (NaN): O_q = (0.6*0 + 0.3*1) / 0.9 = 1/3 from A and B alone,
    # and C takes part in no exchange; A and B trade as in case 1 but without C on q.
    x = [[0.0, 0.0], [1.0, 1.0], [0.5, np.nan]]
    s = [[0.2, 0.6], [0.6, 0.3], [0.5, np.nan]]
    result = run(x, s, [1.0, 1.0, 2.0], max_rounds=1)
    assert np.isfinite(result.outcome).all()
    assert result.voting[0, 2, 0] == 0.5
    none = run(x, s, [1.0, 1.0, 2.0], max_rounds=1, tolerance=0.999)
    assert none.exchanges[0] == 0
    assert none.outcome[0, 1] == pytest.approx(1 / 3, abs=TIGHT)


def test_stance_mode_lets_an_actor_trade_twice_in_one_round():
    # A cares for issues 1 and 3, B only for 0 and 1, C only for 2 and 3 (weight 0
    # elsewhere, so B and C cannot supply there and cannot trade with each other).
    # O = (0.8, 0.2, 0.8, 0.2).  A-B on (0, 1): A supplies 0, B supplies 1;
    # bound_0 = min(0.2/1.0 * 1, 1 - 0.8) = 0.2, bound_1 = min(0.2/1.0 * 1, 0.2) = 0.2,
    # rate = (0.2 + 0.8) / (0.8 + 0.2) = 1, gain = 0.2 * (0.64 - 0.04) / 1 = 0.12.
    # A-C on (2, 3) is the mirror image, with the same gain (the tie goes to A-B, the
    # first pair).  The two share no stance: "stance" realises both in round 1
    # (O = (1, 0, 1, 0)), "actor" only A-B (O = (1, 0, 0.8, 0.2)).
    x = [[0, 0, 0, 0], [1, 1, 0.5, 0.5], [0.5, 0.5, 1, 1]]
    s = [[0.2, 0.8, 0.2, 0.8], [0.8, 0.2, 0, 0], [0, 0, 0.8, 0.2]]
    c = [1.0, 1.0, 1.0]
    actor = run(x, s, c, max_rounds=1, per_round="actor")
    stance = run(x, s, c, max_rounds=1, per_round="stance")
    assert actor.exchanges[0] == 1 and stance.exchanges[0] == 2
    np.testing.assert_allclose(actor.outcome[0], [1, 0, 0.8, 0.2], rtol=0, atol=TIGHT)
    np.testing.assert_allclose(stance.outcome[0], [1, 0, 1, 0], rtol=0, atol=TIGHT)


def test_restarting_each_round_from_unchanged_ideals_is_one_round():
    once = run(*CASE2, max_rounds=1)
    again = run(*CASE2, carry="ideals")
    np.testing.assert_array_equal(again.outcome, once.outcome)


def test_adoption_moves_ideals_toward_the_votes_after_each_round():
    # Case 1 after its one exchange: y_Ap = 1 (from x_Ap = 0), y_Bq = 91/243 (from 1).
    # With adoption 0.5 the ideals become halfway: x_Ap = 0.5, x_Bq = (1 + 91/243) / 2.
    half = run(*CASE1, adoption=0.5, max_rounds=1)
    expected = [[0.5, 0.0], [1.0, (1 + 91 / 243) / 2], [0.5, 0.5]]
    np.testing.assert_allclose(half.ideal[0], expected, rtol=0, atol=TIGHT)
    # With adoption 1 every actor ends wanting what it votes.
    full = run(*CASE1, adoption=1.0)
    np.testing.assert_array_equal(full.ideal, full.voting)


def test_relabelling_actors_and_issues_or_mirroring_the_scale_changes_nothing():
    rng = np.random.default_rng(23)
    n, n_act, n_iss = 40, 5, 3
    x = rng.random((n, n_act, n_iss))
    s = rng.random((n, n_act, n_iss))
    c = rng.random((n, n_act)) + 0.1
    quo = np.zeros((n, n_iss))
    base = run_exchanges(x, s, c, quo, ExchangeOptions())
    assert base.exchanges.sum() > 0
    actors, issues = rng.permutation(n_act), rng.permutation(n_iss)
    shuffled = run_exchanges(
        x[:, actors][:, :, issues],
        s[:, actors][:, :, issues],
        c[:, actors],
        quo,
        ExchangeOptions(),
    )
    np.testing.assert_allclose(shuffled.outcome, base.outcome[:, issues], rtol=0, atol=1e-12)
    mirrored = run_exchanges(1.0 - x, s, c, quo, ExchangeOptions())
    np.testing.assert_allclose(mirrored.outcome, 1.0 - base.outcome, rtol=0, atol=1e-12)


# -- through the protocol and the engines -------------------------------------------------
def _scenario(x, s, c, issues=("p", "q")) -> Scenario:
    def fixed(value: float) -> Parameter:
        return Parameter(value=float(value))

    return Scenario(
        name="exchange-case",
        title="An exchange worked by hand",
        issues=tuple(
            Issue(
                name=name,
                label=name,
                status_quo=fixed(0.5),
                categories=("low", "high"),
                cuts=(0.5,),
                rule="majority",
            )
            for name in issues
        ),
        actors=tuple(
            Actor(
                name=name,
                label=name,
                capability=fixed(c[i]),
                stances={
                    issue: Stance(position=fixed(x[i][k]), salience=fixed(s[i][k]))
                    for k, issue in enumerate(issues)
                },
            )
            for i, name in enumerate(("a", "b", "c"))
        ),
        horizon=3,
        protocol=ProtocolSettings(model="exchange"),
    )


def test_simulate_settles_every_issue_in_month_one_at_the_final_expected_outcome():
    res = basesim.simulate(_scenario(*CASE1), n_runs=3, rng=1, keep_runs=3)
    runs = res.runs
    np.testing.assert_allclose(
        runs.package, np.tile([13 / 18, 496 / 1539], (3, 1)), rtol=0, atol=TIGHT
    )
    assert runs.settled.all() and (runs.settled_round == 1).all()
    assert (runs.settled_by == -1).all() and (runs.proposals == 0).all()


def test_with_one_issue_the_model_is_the_weighted_mean():
    # O = (1*0.2*0 + 1*0.6*1 + 2*0.5*0.5) / (0.2 + 0.6 + 1.0) = 1.1 / 1.8 = 11/18.
    x, s, c = CASE1
    scn = _scenario([[v[0]] for v in x], [[v[0]] for v in s], c, issues=("p",))
    res = basesim.simulate(scn, n_runs=2, rng=1, keep_runs=2)
    np.testing.assert_allclose(res.runs.package, [[11 / 18], [11 / 18]], rtol=0, atol=TIGHT)


def test_the_mesa_engine_agrees_with_the_batch_engine_run_by_run(scenario):
    scn = scenario.replace({"protocol.model": "exchange"})
    batch = basesim.simulate(scn, n_runs=12, rng=3, keep_runs=12)
    mesa = basesim.simulate(scn, n_runs=12, rng=3, keep_runs=12, engine="mesa")
    np.testing.assert_array_equal(batch.runs.package, mesa.runs.package)
    np.testing.assert_array_equal(batch.runs.settled_round, mesa.runs.settled_round)


def test_the_mesa_model_records_month_one_with_nobody_proposing(scenario):
    scn = scenario.replace({"protocol.model": "exchange"})
    model = basesim.NegotiationModel(scn, rng=7)
    outcome = model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert model.round_index == 1 and len(frame) == 1
    assert frame["proposer"].iloc[0] is None and bool(frame["passed"].iloc[0])
    assert bool(frame["settled_basing"].iloc[0]) and frame["settlement_round_basing"].iloc[0] == 1
    assert frame["status_quo_basing"].iloc[0] == outcome.package[0, 0]
    # The agents' stances are their final votes, whose weighted mean is the outcome.
    params = model.parameters
    weight = params.capability[0, :, None] * params.salience[0]
    votes = model.stances()
    np.testing.assert_allclose(
        (weight * votes).sum(axis=0) / weight.sum(axis=0), outcome.package[0], rtol=0, atol=TIGHT
    )


def test_bad_options_raise_a_protocol_error_naming_the_option_and_value():
    scn = _scenario(*CASE1)
    from basesim.engine.compiled import compile_scenario

    compiled = compile_scenario(scn)
    with pytest.raises(basesim.ProtocolError, match=r"exchange: per_round .* \(got 'everyone'\)"):
        Exchange(ExchangeOptions(per_round="everyone")).compile(compiled)
    with pytest.raises(basesim.ProtocolError, match=r"exchange: max_rounds .* \(got 0\)"):
        Exchange(ExchangeOptions(max_rounds=0)).compile(compiled)
    with pytest.raises(basesim.ProtocolError, match=r"exchange: adoption .* \(got 1.5\)"):
        Exchange(ExchangeOptions(adoption=1.5)).compile(compiled)
    with pytest.raises(basesim.ProtocolError, match=r"exchange: carry .* \(got 'x'\)"):
        Exchange(ExchangeOptions(carry="x")).compile(compiled)
