"""Bueno de Mesquita's expected-utility model: both readings against their own published runs.

The car-emission case (Bueno de Mesquita 1994; Scholz, Calbert and Smith
2011, Journal of Theoretical Politics 23(4)): one issue, years until the
European emission standard for small cars applies, on a scale from 4 to 10.
Reading 1's golden run (weighted mean for rounds 0-10, round-1 moves, the
risk exponents of round 10, final positions) and reading 2's round-1 risk
exponents, round-1 moves and oscillation are those published with the two
public replications.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import basesim
from basesim.actors import Actor, Stance
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.protocols import get, names, unregister
from basesim.protocols.bdm import (
    CAPITULATION,
    COMPROMISE,
    CONFRONTATION,
    NO_MOVE,
    Bdm,
    BdmOptions,
    contest_utilities,
    expected_utility,
    run_bdm,
    status_quo_utility,
)
from basesim.scenario import ProtocolSettings, Scenario

ACTORS = ("NL", "BE", "LU", "DE", "FR", "IT", "UK", "IE", "DK", "GR")
CAPABILITY = np.array([0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08])
POSITION = np.array([4.0, 7.0, 4.0, 4.0, 10.0, 10.0, 10.0, 7.0, 4.0, 7.0])
SALIENCE = np.array([0.8, 0.4, 0.2, 0.8, 0.6, 0.6, 0.9, 0.1, 1.0, 0.7])
A = {name: i for i, name in enumerate(ACTORS)}

READING1_MEAN = [7.390, 7.461, 7.553, 7.590, 7.358, 7.349, 7.415, 7.510, 7.572, 7.325, 7.242]
READING1_RISK = [1.412, 0.736, 0.578, 1.412, 0.996, 0.996, 1.514, 0.5, 2.0, 1.132]
READING2_RISK = [1.127, 0.781, 0.5, 1.127, 1.078, 1.078, 2.0, 0.525, 1.472, 1.140]


def car_emission(options: BdmOptions):
    return run_bdm(POSITION, CAPABILITY, SALIENCE, options=options)


def moves(run, round_index: int) -> dict[str, tuple[int, str, float]]:
    """Who moved in a round: actor -> (kind, partner, new position)."""
    kind = run.kind[round_index - 1, 0]
    partner = run.partner[round_index - 1, 0]
    position = run.position[round_index, 0]
    return {
        ACTORS[i]: (int(kind[i]), ACTORS[partner[i]], float(position[i]))
        for i in range(len(ACTORS))
        if kind[i] != NO_MOVE
    }


# -- the inputs --------------------------------------------------------------------------
def test_the_car_emission_case_starts_at_the_published_mean_and_median():
    # Weights c s: .064 .032 .006 .128 .096 .096 .144 .005 .05 .056 (total .677);
    # sum c s x = 5.003, mean 5.003 / .677 = 7.390.  Sorted, the weight at 4 is
    # .248 < .3385 (half) and reaches .341 at 7: the median is 7.
    run = run_bdm(POSITION, CAPABILITY, SALIENCE, options=BdmOptions(rounds=1))
    assert run.weighted_mean()[0, 0] == pytest.approx(7.390, abs=1e-3)
    assert run.weighted_median()[0, 0] == 7.0


# -- reading 1 ---------------------------------------------------------------------------
def test_reading1_reproduces_the_golden_weighted_mean_for_rounds_0_to_10():
    run = car_emission(BdmOptions.reading1())
    assert run.weighted_mean()[:, 0] == pytest.approx(READING1_MEAN, abs=1e-3)
    assert run.outcome()[0] == pytest.approx(READING1_MEAN[-1], abs=1e-3)


def test_reading1_round_one_moves():
    # Belgium compromises with France (to 8.416), Luxembourg loses a
    # confrontation to Belgium (to 7), Ireland loses one to Luxembourg (to 4).
    got = moves(car_emission(BdmOptions.reading1()), 1)
    assert set(got) == {"BE", "LU", "IE"}
    assert got["BE"][:2] == (COMPROMISE, "FR")
    assert got["BE"][2] == pytest.approx(8.416, abs=1e-3)
    assert got["LU"] == (CONFRONTATION, "BE", 7.0)
    assert got["IE"] == (CONFRONTATION, "LU", 4.0)


def test_reading1_final_risk_exponents_and_positions():
    run = car_emission(BdmOptions.reading1())
    # The exponents round 10 was played with.
    assert run.risk[9, 0] == pytest.approx(READING1_RISK, abs=1e-3)
    final = run.position[-1, 0]
    # Published to two decimals: BE 4.29, LU 4.14, IE 4.14.
    assert final[[A["BE"], A["LU"], A["IE"]]] == pytest.approx([4.29, 4.14, 4.14], abs=5e-3)
    others = [A[n] for n in ("NL", "DE", "FR", "IT", "UK", "DK", "GR")]
    assert (final[others] == POSITION[others]).all()
    assert run.rounds.tolist() == [10]


def test_reading1_never_capitulates_and_the_compromise_rule_matters():
    # Reading 1's capitulation test can never hold; on this case allowing it
    # changes nothing (no receiver's best offer is a capitulation) ...
    allowed = car_emission(BdmOptions(capitulation=True))
    assert allowed.weighted_mean()[:, 0] == pytest.approx(READING1_MEAN, abs=1e-3)
    # ... whereas taking the compromise that moves least departs from round 4
    # on: Belgium's round-4 compromise decides where the run goes.
    # In round 4 Belgium (at 9.96) compromises with the Netherlands, down to
    # 4.80, under reading 1, and with France (to 9.9996) otherwise.
    assert moves(car_emission(BdmOptions.reading1()), 4)["BE"][:2] == (COMPROMISE, "NL")
    least = car_emission(BdmOptions(compromise_choice="smallest_move"))
    assert moves(least, 4)["BE"][:2] == (COMPROMISE, "FR")
    assert moves(least, 4)["BE"][2] > 9.99
    means = least.weighted_mean()[:, 0]
    assert means[:4] == pytest.approx(READING1_MEAN[:4], abs=1e-3)
    assert abs(means[4] - READING1_MEAN[4]) > 0.1


# -- reading 2 ---------------------------------------------------------------------------
def test_reading2_round_one_risk_exponents():
    run = car_emission(BdmOptions.reading2())
    assert run.risk[0, 0] == pytest.approx(READING2_RISK, abs=1e-3)


def test_reading2_round_one_moves():
    # Luxembourg loses a confrontation to France, Ireland compromises with France.
    got = moves(car_emission(BdmOptions.reading2()), 1)
    assert set(got) == {"LU", "IE"}
    assert got["LU"] == (CONFRONTATION, "FR", 10.0)
    assert got["IE"][:2] == (COMPROMISE, "FR")
    assert 7.0 < got["IE"][2] < 10.0


def test_reading2_oscillates_between_the_documented_means():
    # Published: the weighted mean then oscillates between 7.443 and 7.391.
    # Luxembourg (weight .006 of .677) swings between 10 and 4, which moves the
    # mean by .006 * 6 / .677 = .0532 each round; Ireland (.005) compromises
    # within 6.9-7.3, which moves it by at most .005 * .4 / .677 = .003 more.
    run = car_emission(BdmOptions.reading2())
    means = run.weighted_mean()[1:, 0]
    assert means[0::2] == pytest.approx([7.443] * 5, abs=3e-3)  # rounds 1, 3, ..., 9
    assert means[1::2] == pytest.approx([7.391] * 5, abs=3e-3)  # rounds 2, 4, ..., 10
    lu = run.position[1:, 0, A["LU"]]
    assert lu.tolist() == [10.0, 4.0] * 5
    assert (run.kind[:, 0, A["LU"]] == CONFRONTATION).all()


# -- hand-worked cases -------------------------------------------------------------------
def test_two_actors_reading2_capitulation_by_hand():
    # x = (0, 1), w = c s = (.5, 2.7), R = 1.  Net linear votes: P(0 over 1) = 0,
    # P(1 over 0) = (2.7 - .5) / 3.2 = .6875.  Risk-neutral EU = 2d (1 - 2 s_j (1 - P)):
    # D_0 = EU_1(1 -> 0) = 2 (1 - .3125) = 1.375, D_1 = 2 (1 - 1.8) = -1.6, so
    # R = (1, -1) and r = (.5, 2).  With d = 1, U_s = 2, U_f = -2, U_sq = 2 - 4 (.5)^r:
    # EU_0(0 -> 1) = .9 (-2) + .1 (2) - (2 - 2 sqrt 2) = -.7716 (r = .5);
    # EU_1(1 -> 0) = .5 (.75) + .5 (2) - 1 = .375 (r = 2).  |-.7716| > .375:
    # actor 0 capitulates to 1; actor 1 is not challenged.  Round 2: no one moves.
    run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=BdmOptions.reading2())
    assert run.risk[0, 0] == pytest.approx([0.5, 2.0])
    assert run.kind[0, 0].tolist() == [CAPITULATION, NO_MOVE]
    assert run.position[1, 0].tolist() == [1.0, 1.0]
    assert run.rounds.tolist() == [2]
    # Without capitulation, nobody moves.
    no_capitulation = replace(BdmOptions.reading2(), capitulation=False, rounds=1)
    run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=no_capitulation)
    assert run.kind[0, 0].tolist() == [NO_MOVE, NO_MOVE]


def test_two_actors_reading1_compromise_by_hand():
    # Same actors.  Global denominator: every voter k casts |v_k| = w_k on each
    # of the two ordered pairs: 2 (.5 + 2.7) = 6.4; P(0 over 1) = .5 / 6.4 =
    # .078125, P(1 over 0) = 2.7 / 6.4 = .421875.  D_0 = 2 (1 - 2 (.5)(.578125))
    # = .84375, D_1 = 2 (1 - 2 (.9)(.921875)) = -1.31875: r = (.5, 2) again.
    # Actor 0 values both sides with r = .5 (U_sq = 2 - 2 sqrt 2):
    # a = EU_0(0 -> 1) = .9 (.15625 - 1.84375) + .2 - U_sq = -.4903229,
    # b = EU_1(1 -> 0) = .5 (.84375 - 1.15625) + 1 - U_sq = 1.6721771:
    # a < 0 < b, |a| < b, a compromise to |a| / b = .2932242.  Actor 1 (r = 2,
    # U_sq = 1) sees EU_0(0 -> 1) = .9 (-1.6875) + .2 - 1 < 0: not challenged.
    u_sq = 2.0 - 2.0 * np.sqrt(2.0)
    a = 0.9 * (0.15625 - 1.84375) + 0.2 - u_sq
    b = 0.5 * (0.84375 - 1.15625) + 1.0 - u_sq
    run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=BdmOptions(rounds=1))
    assert run.risk[0, 0] == pytest.approx([0.5, 2.0])
    assert run.kind[0, 0].tolist() == [COMPROMISE, NO_MOVE]
    assert run.position[1, 0, 0] == pytest.approx(abs(a) / b, rel=1e-12)
    assert abs(a) / b == pytest.approx(0.2932242, abs=1e-7)


def test_the_stopping_rule_freezes_a_run_once_moves_are_small():
    # Round 1 moves actor 0 by .293 (previous test) <= .5 R: the run stops there.
    run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=BdmOptions(tolerance=0.5, rounds=5))
    assert run.rounds.tolist() == [1]
    assert (run.position[2:] == run.position[1]).all()
    assert (run.kind[1:] == NO_MOVE).all()


def test_the_weighted_median_outcome():
    # Reading 1 ends at NL DE DK 4 (.242), LU IE 4.14 (.011), BE 4.29 (.032),
    # GR 7 (.056): the cumulative weight first reaches .3385 at 7.
    run = car_emission(BdmOptions(outcome="median"))
    assert run.outcome().tolist() == [7.0]


def test_runs_are_rows_and_actor_order_does_not_matter():
    # A batch of rows gives each row's own answer; relabelling the actors
    # permutes them and changes nothing else.
    rng = np.random.default_rng(5)
    order = rng.permutation(len(ACTORS))
    rows = np.stack([POSITION, POSITION[order], 14.0 - POSITION])
    caps = np.stack([CAPABILITY, CAPABILITY[order], CAPABILITY])
    sals = np.stack([SALIENCE, SALIENCE[order], SALIENCE])
    for options in (BdmOptions.reading1(), BdmOptions.reading2()):
        batch = run_bdm(rows, caps, sals, options=options)
        alone = car_emission(options)
        np.testing.assert_allclose(batch.position[:, 0], alone.position[:, 0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            batch.position[:, 1], alone.position[:, 0][:, order], rtol=0, atol=1e-12
        )
    # Mirroring the scale mirrors reading 2 (no rule of it prefers a direction).
    mirrored = run_bdm(rows[2], caps[2], sals[2], options=BdmOptions.reading2())
    np.testing.assert_allclose(
        mirrored.position, 14.0 - car_emission(BdmOptions.reading2()).position, atol=1e-12
    )
    # Reading 1 takes the compromise whose EU-weighted point is lowest on the
    # scale, so mirroring changes its run (from Belgium's round-4 compromise).
    mirrored = run_bdm(rows[2], caps[2], sals[2], options=BdmOptions.reading1())
    means = 14.0 - mirrored.weighted_mean()[:, 0]
    assert means[:4] == pytest.approx(READING1_MEAN[:4], abs=1e-3)
    assert abs(means[4] - READING1_MEAN[4]) > 0.1


def test_the_status_quo_expectation_at_r_1_by_hand():
    # r = 1: U_s = 2d, U_f = -2d, U_sq = 0, U_b = m + d, U_w = -(m + d), so
    # EU = 2d (1 - 2 s (1 - P)) - (1 - Q)(2T - 1)(m + d).  d = .5, m = .2,
    # s = P = .5: .5 - (1 - Q)(2T - 1)(.7); Q = .5, T = 1: .5 - .35 = .15;
    # Q = .5, T = 0: .5 + .35 = .85; Q = 1: .5 whatever T.
    d, m = np.array(0.5), np.array(0.2)
    success, failure = contest_utilities(d, 1.0)
    for q, t, expected in ((0.5, 1.0, 0.15), (0.5, 0.0, 0.85), (1.0, 0.0, 0.5)):
        options = BdmOptions(status_quo_probability=q, improvement_probability=t)
        quo = status_quo_utility(d, m, 1.0, options)
        eu = expected_utility(np.array(0.5), np.array(0.5), success, failure, quo)
        assert float(eu) == pytest.approx(expected, abs=1e-12)


def test_one_pass_differs_from_two_only_after_round_1():
    # In round 1 the previous exponents are all 1, so one pass is two passes;
    # from round 2 the security levels are valued with round 1's exponents.
    for reading in (BdmOptions.reading1(), BdmOptions.reading2()):
        two = car_emission(reading)
        one = car_emission(replace(reading, passes=1))
        np.testing.assert_array_equal(one.risk[0], two.risk[0])
        np.testing.assert_array_equal(one.position[1], two.position[1])
        assert np.abs(one.risk[1] - two.risk[1]).max() > 0.01


def test_risk_and_scale_options():
    run = car_emission(BdmOptions(risk="neutral"))
    assert (run.risk == 1.0).all()
    run = car_emission(BdmOptions(risk="first_round"))
    assert (run.risk == run.risk[0]).all()
    assert run.risk[0, 0] == pytest.approx(car_emission(BdmOptions()).risk[0, 0], abs=1e-15)
    # On [0, 1] positions spanning the whole scale, R is 1 either way.
    unit = (POSITION - 4.0) / 6.0
    a = run_bdm(unit, CAPABILITY, SALIENCE, options=BdmOptions(scale="unit"))
    b = run_bdm(unit, CAPABILITY, SALIENCE)
    np.testing.assert_array_equal(a.position, b.position)
    assert (a.weighted_mean()[:, 0] * 6.0 + 4.0) == pytest.approx(READING1_MEAN, abs=1e-3)


@pytest.mark.parametrize("reading", [BdmOptions.reading1(), BdmOptions.reading2()])
def test_a_rows_numbers_do_not_depend_on_its_batch(reading):
    # 400 rows of 12 actors span several blocks of the vote tensor; every row
    # gives bit for bit what it gives alone (runs agree across engines and batches).
    rng = np.random.default_rng(11)
    x, c, s = rng.random((400, 12)), rng.random((400, 12)), rng.random((400, 12))
    batch = run_bdm(x, c, s, options=reading)
    for row in (0, 150, 151, 152, 399):
        alone = run_bdm(x[row], c[row], s[row], options=reading)
        np.testing.assert_array_equal(batch.position[:, row], alone.position[:, 0])
        np.testing.assert_array_equal(batch.risk[:, row], alone.risk[:, 0])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"denominator": "local"}, "bdm option denominator must be one of 'global', 'pairwise'"),
        ({"rounds": 0}, r"bdm option rounds must be a whole number >= 1 \(got 0\)"),
        ({"status_quo_probability": 1.5}, r"status_quo_probability must be in \[0, 1\]"),
        ({"capitulation": "yes"}, "capitulation must be true or false"),
        ({"tolerance": -1.0}, "tolerance must be a number >= 0"),
        ({"passes": 3}, r"bdm option passes must be 1 or 2 \(got 3\)"),
    ],
)
def test_bad_options_name_the_option_and_the_value(changes, message):
    with pytest.raises(basesim.ProtocolError, match=message):
        BdmOptions(**changes)


def test_bad_inputs_raise_protocol_errors():
    with pytest.raises(
        basesim.ProtocolError, match=r"bdm salience must be in \[0, 1\] \(got 1.5\)"
    ):
        run_bdm([0.0, 1.0], [1.0, 1.0], [0.5, 1.5])
    with pytest.raises(basesim.ProtocolError, match="bdm capability must have shape"):
        run_bdm([0.0, 1.0], [1.0, 1.0, 1.0], [0.5, 0.5])


# -- the protocol ------------------------------------------------------------------------
def _fixed(value: float) -> Parameter:
    return Parameter(value=float(value))


def car_scenario(model: str, *, uncertain_salience: bool = False) -> Scenario:
    """The car-emission case on basesim's [0, 1] scale (years 4-10 -> (x - 4) / 6).

    A second issue, ``other``, on which the actors' positions are mirrored,
    shows that issues are modelled independently.
    """
    issues = tuple(
        Issue(
            name=name,
            label=name,
            status_quo=_fixed(0.5),
            categories=("early", "late"),
            cuts=(0.5,),
            rule="majority",
        )
        for name in ("years", "other")
    )
    actors = []
    for i, name in enumerate(ACTORS):
        salience: Parameter = _fixed(SALIENCE[i])
        if uncertain_salience and name == "LU":
            salience = Parameter(
                value=0.2, distribution=Distribution(kind="uniform", low=0.05, high=0.6)
            )
        x = (POSITION[i] - 4.0) / 6.0
        actors.append(
            Actor(
                name=name.lower(),
                label=name,
                capability=_fixed(CAPABILITY[i]),
                stances={
                    "years": Stance(position=_fixed(x), salience=salience),
                    "other": Stance(position=_fixed(1.0 - x), salience=_fixed(SALIENCE[i])),
                },
            )
        )
    return Scenario(
        name="car-emission",
        title="Car emission standard",
        issues=issues,
        actors=tuple(actors),
        horizon=3,
        protocol=ProtocolSettings(model=model),
    )


def test_both_readings_are_registered_models():
    assert {"bdm", "bdm-reading2"} <= set(names())
    assert get("bdm").options == BdmOptions.reading1()
    assert get("bdm-reading2").options == BdmOptions.reading2()
    unregister("bdm")  # built-in models stay
    assert isinstance(get("bdm"), Bdm)


@pytest.mark.parametrize(
    ("model", "options"), [("bdm", BdmOptions.reading1()), ("bdm-reading2", BdmOptions.reading2())]
)
def test_the_scenario_runs_each_issue_in_month_1(model, options):
    result = basesim.simulate(car_scenario(model), n_runs=4, rng=1)
    runs = result.runs
    assert runs.settled.all() and (runs.settled_round == 1).all()
    assert (runs.settled_by == -1).all() and (runs.proposals == 0).all()
    # The model is invariant to affine rescaling of the scale (R rescales
    # distances): outcome = (weighted mean in years - 4) / 6.
    years = (car_emission(options).outcome()[0] - 4.0) / 6.0
    assert runs.package[:, 0] == pytest.approx([years] * 4, abs=1e-12)
    # The mirrored issue is run on its own and gives the mirrored outcome
    # under reading 2; reading 1's compromise rule prefers low values.
    other = run_bdm(1.0 - (POSITION - 4.0) / 6.0, CAPABILITY, SALIENCE, options=options)
    assert runs.package[:, 1] == pytest.approx([other.outcome()[0]] * 4, abs=1e-12)
    if model == "bdm-reading2":
        assert runs.package[0, 1] == pytest.approx(1.0 - years, abs=1e-12)


def test_monte_carlo_runs_are_the_model_on_each_runs_draws_and_mesa_agrees():
    scn = car_scenario("bdm", uncertain_salience=True)
    batch = basesim.simulate(scn, n_runs=40, rng=7).runs
    drawn = batch.sampled[:, 0]  # Luxembourg's salience on "years", per run
    assert np.ptp(drawn) > 0.2
    sal = np.tile(SALIENCE, (40, 1))
    sal[:, A["LU"]] = drawn
    expected = run_bdm(np.tile((POSITION - 4.0) / 6.0, (40, 1)), np.tile(CAPABILITY, (40, 1)), sal)
    np.testing.assert_allclose(batch.package[:, 0], expected.outcome(), rtol=0, atol=1e-12)
    assert np.unique(batch.package[:, 0].round(9)).size > 1
    model = basesim.NegotiationModel(scn, rng=7)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["proposer"].isna().all() and frame["passed"].tolist() == [True]
    mesa = basesim.simulate(scn, n_runs=3, rng=7, engine="mesa").runs
    np.testing.assert_array_equal(mesa.package, batch.package[:3])
    np.testing.assert_array_equal(mesa.settled_round, batch.settled_round[:3])
