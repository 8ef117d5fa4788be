"""Observations: validation, files, evaluation on runs, and scores with known answers."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import basesim
from basesim.cli import main
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.observations import (
    MIN_DISTANCE,
    Observation,
    ObservationError,
    observations_to_toml,
    observe,
    read_observations,
)
from basesim.testing import spatial_scenario


@pytest.fixture(scope="module")
def known() -> basesim.Scenario:
    """One actor whose position is uniform on [0, 0.5]; the compromise settles there in month 1.

    Categories low [0, 1/3), middle [1/3, 2/3), high [2/3, 1]: the outcome is
    low with probability 2/3, middle with 1/3, high never.  The status quo is
    fixed at 0 (category low).
    """
    base = spatial_scenario(
        positions={"a": (0.1,)},
        saliences={"a": (1.0,)},
        capabilities={"a": 1.0},
        status_quo=(0.0,),
        model="compromise",
    )
    issue = dataclasses.replace(
        base.issues[0], categories=("low", "middle", "high"), cuts=(1 / 3, 2 / 3)
    )
    scn = dataclasses.replace(base, issues=(issue,), horizon=4)
    return scn.replace(
        {"actors.a.i0.position": basesim.Distribution(kind="uniform", low=0.0, high=0.5)}
    )


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"by": "2025-13", "state": "low"},
            r"by must be a month written 'YYYY-MM' \(got '2025-13'\)",
        ),
        ({"by": 0, "state": "low"}, r"by must be a month number >= 1 \(got 0\)"),
        ({"by": True, "state": "low"}, r"by must be a month .* \(got True\)"),
        ({"by": 1}, r"needs a state or a range low/high \(got neither\)"),
        ({"by": 1, "state": "low", "low": 0.1}, r"state and low/high are exclusive"),
        (
            {"by": 1, "low": 0.6, "high": 0.2},
            r"low must be at most high \(got low=0.6, high=0.2\)",
        ),
        ({"by": 1, "low": 0.1}, r"high must be a number in \[0, 1\] .*\(got None\)"),
        ({"by": 1, "low": -0.1, "high": 0.2}, r"low must be a number in \[0, 1\] .*\(got -0.1\)"),
        ({"by": 1, "state": "low", "evidence": ("E1", 2)}, r"evidence must be a list of strings"),
    ],
)
def test_a_malformed_observation_is_refused_naming_field_rule_and_value(fields, message):
    with pytest.raises(ObservationError, match=message):
        Observation(issue="i0", **fields)


def test_observations_are_checked_against_the_scenario(scenario, known):
    def check(obs, scn, message):
        compiled = compile_scenario(scn)
        inputs = draw_inputs(compiled, np.random.SeedSequence(0), 0, 2)
        with pytest.raises(ObservationError, match=message):
            observe(compiled, inputs, obs)

    check(
        [Observation(by=1, issue="i0", state="low"), Observation(by=1, issue="x", state="low")],
        known,
        r"observations\[1\]\.issue must be an issue of scenario 'spatial' \(i0\) \(got 'x'\)",
    )
    check(
        [Observation(by=1, issue="i0", state="lots")],
        known,
        r"observations\[0\]\.state must be a category of issue 'i0' .*'middle'.*\(got 'lots'\)",
    )
    check(
        [Observation(by=5, issue="i0", state="low")],
        known,
        r"observations\[0\]\.by must be within the scenario's horizon, month 4 .*month 5\)",
    )
    check(
        [Observation(by="2025-03", issue="i0", state="low")],
        known,
        r"observations\[0\]\.by must be a month number: scenario 'spatial' has no start",
    )
    check(
        [Observation(by="2025-01", issue="basing", state="settled")],
        scenario,
        r"observations\[0\]\.by must not be before the scenario's start 2025-02 \(got '2025-01'\)",
    )
    check(
        [Observation(by="2027-02", issue="basing", state="settled")],
        scenario,
        r"within the scenario's horizon, month 24 \(2027-01\) \(got '2027-02', month 25\)",
    )
    assert isinstance(ObservationError("x"), basesim.BasesimError | ValueError)


# -- files -------------------------------------------------------------------------------------
def test_toml_round_trip_and_file_errors(tmp_path):
    observations = (
        Observation(by="2026-01", issue="basing", state="unsettled", evidence=("E18", "E19")),
        Observation(by="2025-12", issue="sanctions_relief", state="substantial", note='a "quote"'),
        Observation(by=7, issue="basing", low=0.25, high=0.75),
    )
    path = tmp_path / "obs.toml"
    path.write_text(observations_to_toml(observations), encoding="utf-8")
    assert read_observations(path) == observations
    assert basesim.read_observations(str(path)) == observations

    bad = tmp_path / "bad.toml"
    bad.write_text('[[observations]]\nby = 3\nissue = "i0"\nstat = "low"\n', encoding="utf-8")
    with pytest.raises(
        ObservationError, match=r"bad\.toml: observations\[0\]\.stat is not a field"
    ):
        read_observations(bad)
    bad.write_text('[[observations]]\nby = 3\nissue = "i0"\nhigh = 2\nlow = 0\n', encoding="utf-8")
    with pytest.raises(
        ObservationError, match=r"observations\[0\]\.high must be a number in \[0, 1\]"
    ):
        read_observations(bad)
    bad.write_text("[other]\n", encoding="utf-8")
    with pytest.raises(ObservationError, match=r"other is not a table of an observations file"):
        read_observations(bad)
    with pytest.raises(ObservationError, match=r"does not exist"):
        read_observations(tmp_path / "missing.toml")


# -- evaluation on runs --------------------------------------------------------------------------
def test_an_observation_month_sees_the_run_with_the_horizon_cut_there(scenario):
    # The state of a run at the end of month m is the outcome of the same run with horizon m.
    n = 64
    obs = [
        Observation(by="2025-06", issue="basing", state="retention"),
        Observation(by="2025-06", issue="sanctions_relief", state="unsettled"),
        Observation(by="2026-01", issue="basing", low=0.25, high=0.75),
        Observation(by="2026-01", issue="basing", state="settled"),
    ]
    compiled = compile_scenario(scenario)
    ro = observe(compiled, draw_inputs(compiled, np.random.SeedSequence(11), 0, n), obs)
    for month, cols in ((5, [0, 1]), (12, [2, 3])):
        short = basesim.simulate(scenario.replace(horizon=month), n_runs=n, rng=11).runs
        for j in cols:
            k = scenario.issue_names.index(obs[j].issue)
            np.testing.assert_array_equal(ro.value[:, j], short.package[:, k])
            np.testing.assert_array_equal(ro.settled[:, j], short.settled[:, k])
    full = basesim.simulate(scenario, n_runs=n, rng=11).runs
    np.testing.assert_array_equal(ro.settled_round[:, 3], full.settled_round[:, 0])
    # ... which is the prefix of the full run: what it settled by then, at the same value.
    for j, month in ((1, 5), (3, 12)):
        k = scenario.issue_names.index(obs[j].issue)
        by = (full.settled_round[:, k] > 0) & (full.settled_round[:, k] <= month)
        np.testing.assert_array_equal(ro.settled[:, j], by)
        np.testing.assert_array_equal(ro.value[by, j], full.package[by, k])
    # Met iff distance 0; unmet distances in (0, 1].
    assert ((ro.distance == 0) == ro.met).all()
    assert (ro.distance[~ro.met] > 0).all() and (ro.distance <= 1).all()
    # Settlement distances follow the documented formula.
    s = ro.settled_round[:, 3]
    expected = np.where(ro.met[:, 3], 0.0, np.where(s > 0, (s - 12) / 24, 1.0))
    np.testing.assert_allclose(ro.distance[:, 3], expected)
    s1 = full.settled_round[:, 1]
    expected = np.where(ro.met[:, 1], 0.0, (5 + 1 - s1) / 24)
    np.testing.assert_allclose(ro.distance[:, 1], expected)
    # Range distances: how far the value is from [0.25, 0.75].
    x = ro.value[:, 2]
    np.testing.assert_allclose(ro.distance[:, 2], np.maximum(np.maximum(0.25 - x, x - 0.75), 0))


def test_a_value_on_a_categorys_open_end_is_the_smallest_distance_away(known):
    fixed = known.replace({"actors.a.i0.position": basesim.Parameter.fixed(2 / 3)})
    compiled = compile_scenario(fixed)
    inputs = draw_inputs(compiled, np.random.SeedSequence(0), 0, 3)
    ro = observe(compiled, inputs, [Observation(by=1, issue="i0", state="middle")])
    assert not ro.met.any()
    assert (ro.distance == MIN_DISTANCE).all()


# -- scores ------------------------------------------------------------------------------------------
def test_brier_and_log_scores_match_the_closed_form(known):
    n = 4000
    res = basesim.score(
        known,
        [
            Observation(by=1, issue="i0", state="low"),
            Observation(by=2, issue="i0", state="high"),
            Observation(by=4, issue="i0", low=0.25, high=0.5),
            Observation(by=1, issue="i0", state="settled"),
        ],
        n_runs=n,
        rng=3,
    )
    frame = res.to_frame()
    p_low = frame.probability[0]
    se = math.sqrt(2 / 9 / n)
    assert p_low == pytest.approx(2 / 3, abs=4 * se)
    # low observed, forecast (2/3, 1/3, 0): Brier (1/3)^2 + (1/3)^2, log -ln(2/3).
    # Tolerances: 4 Monte Carlo standard errors, through the score's slope in p.
    assert frame.brier_model[0] == pytest.approx(2 / 9, abs=4 * se * 4 / 3)
    assert frame.brier_model[0] == pytest.approx(2 * (1 - p_low) ** 2)
    assert frame.log_model[0] == pytest.approx(-math.log(2 / 3), abs=4 * se / (2 / 3))
    assert frame.brier_uniform[0] == pytest.approx(2 / 3)
    assert frame.log_uniform[0] == pytest.approx(math.log(3))
    assert frame.brier_status_quo[0] == 0 and frame.log_status_quo[0] == 0
    # high: no run gets there; infinite log score, rule-of-three bound.
    assert frame["count"][1] == 0 and math.isinf(frame.log_model[1])
    assert frame.upper_bound_if_none[1] == pytest.approx(-math.log(0.05) / n)
    assert frame.ci_low[1] == 0
    assert math.isinf(frame.log_status_quo[1]) and frame.brier_status_quo[1] == 2
    # range [0.25, 0.5]: probability 1/2; Brier 2 (1/2)^2; uniform gives it 1/4.
    se = math.sqrt(0.25 / n)
    assert frame.probability[2] == pytest.approx(0.5, abs=4 * se)
    assert frame.brier_model[2] == pytest.approx(0.5, abs=4 * se * 2)
    assert frame.brier_model[2] == pytest.approx(2 * (1 - frame.probability[2]) ** 2)
    assert frame.log_uniform[2] == pytest.approx(math.log(4))
    assert frame.brier_uniform[2] == pytest.approx(2 * 0.75**2)
    # settled in month 1: certain under the model, impossible under the status quo.
    assert frame.probability[3] == 1 and frame.brier_model[3] == 0
    assert frame.brier_uniform[3] == pytest.approx(0.5)
    assert math.isinf(frame.log_status_quo[3])
    assert res.joint_count == 0 and res.joint_probability[0] == 0
    summary = res.summary()
    row = summary[(summary.issue == "i0") & (summary.baseline == "uniform")].iloc[0]
    assert not row.log_better  # both infinite: a tie
    assert "log score infinite" in repr(res) and "<table" in res._repr_html_()
    scores = res.issue_scores()
    assert list(scores.issue) == ["i0", "all"]
    assert scores.brier_model[0] == pytest.approx(frame.brier_model.mean())


def test_a_results_score_uses_its_own_runs(scenario):
    res = basesim.simulate(scenario, n_runs=300, rng=5)
    obs = [Observation(by="2027-01", issue="basing", low=0.0, high=0.5)]
    scored = res.score(obs)
    inside = (res.runs.package[:, 0] >= 0) & (res.runs.package[:, 0] <= 0.5)
    assert scored.n_runs == 300 and scored.met_count[0] == inside.sum()
    assert res.score(obs, n_runs=100).met_count[0] == inside[:100].sum()
    assert basesim.score(scenario, obs, n_runs=300, rng=5).met_count[0] == inside.sum()


def test_cli_score_prints_the_tables(tmp_path, capsys, known):
    path = tmp_path / "obs.toml"
    path.write_text(
        observations_to_toml([Observation(by=1, issue="i0", state="low")]), encoding="utf-8"
    )
    scn = tmp_path / "known.toml"
    scn.write_text(known.to_toml(), encoding="utf-8")
    assert main(["score", str(scn), str(path), "--runs", "200", "--rng", "1"]) == 0
    out = capsys.readouterr().out
    assert "i0 'low' by month 1" in out and "status quo" in out
    assert main(["score", str(scn), str(tmp_path / "none.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_score_given_earlier_observations_is_the_conditional_forecast() -> None:
    """Scoring given earlier observations counts only the runs that met them: the same
    counts as filtering the unconditioned runs by hand."""
    scn = basesim.load_scenario("syria-2025")
    early = [basesim.Observation(by=5, issue="basing", state="unsettled")]
    late = [basesim.Observation(by=12, issue="basing", low=0.25, high=1.0)]
    both = basesim.score(scn, [*early, *late], n_runs=600, rng=4)
    cond = basesim.score(scn, late, given=early, n_runs=600, rng=4)
    assert cond.n_runs == int(both.met_count[0]) < 600
    assert cond.n_simulated == 600
    assert int(cond.met_count[0]) == both.joint_count
    assert "given 1 earlier observations" in repr(cond)


def test_score_given_that_no_run_meets_is_an_error() -> None:
    scn = basesim.load_scenario("syria-2025")
    never = [basesim.Observation(by=1, issue="sanctions_relief", low=0.0, high=0.0)]
    late = [basesim.Observation(by=12, issue="basing", state="unsettled")]
    with pytest.raises(basesim.ObservationError, match="no run of 50 met every given observation"):
        basesim.score(scn, late, given=never, n_runs=50, rng=1)


# -- events ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def timed(known) -> basesim.Scenario:
    """``known`` over 6 months with an event whose month is uniform on [3, 6): 3, 4, 5 each 1/3."""
    event = basesim.Event(
        name="shock",
        kind="set",
        target="issues.i0.drift",
        month=basesim.Parameter(
            value=4.0, distribution=basesim.Distribution(kind="uniform", low=3, high=6)
        ),
        value=basesim.Parameter.fixed(0.1),
    )
    return dataclasses.replace(known, horizon=6, events=(event,))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"issue": "i0", "event": "shock", "occurred": True},
            r"issue and event are exclusive: give one of them \(got issue='i0', event='shock'\)",
        ),
        ({}, r"needs an issue or an event \(got neither\)"),
        ({"event": "shock"}, r"occurred must be true or false .*\(got None\)"),
        ({"event": "shock", "occurred": 1}, r"occurred must be true or false .*\(got 1\)"),
        (
            {"event": "shock", "occurred": True, "state": "low"},
            r"state does not belong to an event observation .*\(got state='low'\)",
        ),
        (
            {"issue": "i0", "state": "low", "occurred": False},
            r"occurred belongs to an event observation only: .*occurred=False\)",
        ),
        ({"event": "", "occurred": True}, r"event must be a non-empty string \(got ''\)"),
    ],
)
def test_a_malformed_event_observation_is_refused(fields, message):
    with pytest.raises(ObservationError, match=message):
        Observation(by=1, **fields)


def test_an_unknown_event_is_refused_naming_the_scenarios_events(timed, known):
    obs = [Observation(by=4, event="shok", occurred=True)]
    with pytest.raises(
        ObservationError,
        match=r"observations\[0\]\.event must be an event of scenario 'spatial' \(shock\) "
        r"\(got 'shok'\) \(did you mean 'shock'\?\)",
    ):
        basesim.score(timed, obs, n_runs=2, rng=0)
    with pytest.raises(ObservationError, match=r"\(it has none\) \(got 'shok'\)"):
        basesim.score(known, [Observation(by=1, event="shok", occurred=False)], n_runs=2)


def test_an_event_observation_is_met_by_the_runs_whose_event_came_by_its_month(timed):
    from basesim.engine.events import event_months

    compiled = compile_scenario(timed)
    inputs = draw_inputs(compiled, np.random.SeedSequence(4), 0, 600)
    obs = [
        Observation(by=4, event="shock", occurred=True),
        Observation(by=4, event="shock", occurred=False),
        Observation(by=2, issue="i0", state="low"),
    ]
    ro = observe(compiled, inputs, obs)
    e = event_months(compiled, compiled.parameters(inputs.quantiles))[:, 0]
    assert set(e.tolist()) == {3, 4, 5}
    np.testing.assert_array_equal(ro.event_month[:, 0], e)
    np.testing.assert_array_equal(ro.met[:, 0], e <= 4)
    np.testing.assert_array_equal(ro.met[:, 1], e > 4)
    # Distances: 0 iff met; else (e - m) / horizon, or (m + 1 - e) / horizon.
    assert ((ro.distance == 0) == ro.met).all()
    assert (ro.distance[~ro.met] > 0).all() and (ro.distance <= 1).all()
    np.testing.assert_allclose(ro.distance[:, 0], np.where(e <= 4, 0.0, (e - 4) / 6))
    np.testing.assert_allclose(ro.distance[:, 1], np.where(e > 4, 0.0, (5 - e) / 6))
    assert np.isnan(ro.value[:, :2]).all() and (ro.category[:, :2] == -1).all()
    assert not ro.settled[:, :2].any() and not ro.settled_round[:, :2].any()
    # The issue's observation is evaluated as before; its event_month column is 0.
    assert not np.isnan(ro.value[:, 2]).any() and not ro.event_month[:, 2].any()


def test_event_scores_match_the_closed_form_and_the_baselines_are_exact(timed):
    n = 4000
    obs = [
        Observation(by=4, event="shock", occurred=True),
        Observation(by=4, event="shock", occurred=False),
        Observation(by=1, issue="i0", state="low"),
    ]
    res = basesim.score(timed, obs, n_runs=n, rng=3)
    frame = res.to_frame()
    p = frame.probability[0]
    se = math.sqrt(2 / 9 / n)
    assert p == pytest.approx(2 / 3, abs=4 * se)
    assert frame.probability[1] == pytest.approx(1 - p)
    # occurred observed, forecast (2/3, 1/3): Brier 2 (1/3)^2, log -ln(2/3).
    assert frame.brier_model[0] == pytest.approx(2 / 9, abs=4 * se * 4 / 3)
    assert frame.brier_model[0] == pytest.approx(2 * (1 - p) ** 2)
    assert frame.log_model[0] == pytest.approx(-math.log(2 / 3), abs=4 * se / (2 / 3))
    assert frame.log_model[0] == pytest.approx(-math.log(p))
    # Baselines: uniform 1/2 each; the status quo says nothing happens.
    for j in (0, 1):
        assert frame.brier_uniform[j] == 0.5 and frame.log_uniform[j] == pytest.approx(math.log(2))
    assert frame.brier_status_quo[0] == 2 and math.isinf(frame.log_status_quo[0])
    assert frame.brier_status_quo[1] == 0 and frame.log_status_quo[1] == 0
    assert res.forecasts(0)["status quo"].tolist() == [0.0, 1.0]
    assert list(res.counts[0]) == [res.met_count[0], n - res.met_count[0]]
    # Grouped under "event <name>" in the issue column.
    assert list(frame.kind) == ["event", "event", "category"]
    assert list(frame.issue) == ["event shock", "event shock", "i0"]
    assert frame.observation[0] == "event shock occurred by month 4"
    assert frame.observation[1] == "event shock did not occur by month 4"
    scores = res.issue_scores()
    assert list(scores.issue) == ["event shock", "i0", "all"]
    assert list(scores.observations) == [2, 1, 3]


def test_event_observations_round_trip_through_toml(tmp_path):
    observations = (
        Observation(by="2025-06", event="west_lifts_economic_sanctions", occurred=True),
        Observation(by=3, event="shock", occurred=False, evidence=("E1",), note="n"),
        Observation(by=7, issue="basing", low=0.25, high=0.75),
    )
    text = observations_to_toml(observations)
    assert 'event = "shock"\noccurred = false' in text
    path = tmp_path / "obs.toml"
    path.write_text(text, encoding="utf-8")
    assert read_observations(path) == observations
    path.write_text('[[observations]]\nby = 3\nevent = "shock"\n', encoding="utf-8")
    with pytest.raises(ObservationError, match=r"observations\[0\]\.occurred must be true or"):
        read_observations(path)
    path.write_text("[[observations]]\nby = 3\noccurred = true\n", encoding="utf-8")
    with pytest.raises(ObservationError, match=r"observations\[0\]\.issue or .*event is required"):
        read_observations(path)
