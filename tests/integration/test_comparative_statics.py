"""Comparative statics on syria-2025, with tolerances from the Monte Carlo standard error.

Each comparison runs two variants on common random numbers (the same rng), so
run i of both sees the same draws of every shared parameter, the same proposer
and the same noise; the paired difference of an outcome indicator then has a
small standard error, estimated from the runs themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

import basesim

N_RUNS = 6_000
Z = 3.0  # about a 0.1 % one-sided false-alarm rate per check


def _runs(scn: basesim.Scenario, rng: int = 11, n_runs: int = N_RUNS):
    return basesim.simulate(scn, n_runs=n_runs, rng=rng, keep_runs=n_runs).runs


def _keeps_bases(scn: basesim.Scenario, rng: int = 11) -> np.ndarray:
    """Per-run indicator: basing settled with a Russian presence (not 'withdrawal')."""
    runs = _runs(scn, rng)
    basing = scn.issue("basing")
    settled = runs.settled[:, 0]
    kept = basing.category_index(runs.package[:, 0]) > 0
    return (settled & kept).astype(float)


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    diff = b - a
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(diff.size))


def _basing_table(scn: basesim.Scenario, rng: int) -> np.ndarray:
    """Per-run basing outcome code: category index, or len(categories) if unsettled."""
    runs = _runs(scn, rng)
    basing = scn.issue("basing")
    codes = basing.category_index(runs.package[:, 0])
    return np.where(runs.settled[:, 0], codes, len(basing.categories))


def test_stronger_turkish_pull_does_not_raise_russian_presence(scenario):
    weak = scenario.replace({"actors.turkey.influence.syria": 0.0})
    strong = scenario.replace({"actors.turkey.influence.syria": 0.3})
    mean, se = _paired(_keeps_bases(weak), _keeps_bases(strong))
    # "Does not raise": the paired difference may be zero or negative, never
    # significantly positive.
    assert mean <= Z * se, (mean, se)


def test_syria_valuing_russian_presence_raises_it(scenario):
    hedging = scenario.replace({"actors.syria.basing.position": 0.6})
    mean, se = _paired(_keeps_bases(scenario), _keeps_bases(hedging))
    assert se > 0
    assert mean > Z * se, (mean, se)


def test_the_status_quo_moves_the_basing_outcome(scenario):
    # Fixing the basing status quo at 0.2 instead of 0.8 (same rng: paired
    # runs) must change the basing table by many standard errors.
    low = _basing_table(scenario.replace({"issues.basing.status_quo": 0.2}), 5)
    high = _basing_table(scenario.replace({"issues.basing.status_quo": 0.8}), 5)
    zs = []
    for code in range(4):
        mean, se = _paired((low == code).astype(float), (high == code).astype(float))
        if se > 0:
            zs.append(abs(mean) / se)
    assert max(zs) > 10, zs


def test_removing_syrias_vote_changes_the_outcome(scenario):
    # Russia alone deciding basing (Syria no longer a voter).
    russia_alone = scenario.replace({"issues.basing.voters": ("russia",)})
    a = _basing_table(scenario, 5)
    b = _basing_table(russia_alone, 5)
    mean, se = _paired((a == 2).astype(float), (b == 2).astype(float))  # retention
    assert mean > Z * se, (mean, se)


def test_a_run_can_settle_one_issue_and_leave_the_other_open(scenario):
    res = basesim.simulate(scenario, n_runs=2_000, rng=3, keep_runs=2_000)
    settled = res.runs.settled
    partial = settled.any(axis=1) & ~settled.all(axis=1)
    assert partial.any()
    probs = res.probabilities()
    basing = probs[probs.table == "basing"].set_index("outcome")
    assert "unsettled" in basing.index
    assert basing.loc["unsettled", "count"] == int((~settled[:, 0]).sum())


def test_actors_not_at_the_table_never_propose(scenario):
    res = basesim.simulate(scenario, n_runs=5_000, rng=8, keep_runs=5_000)
    names = scenario.actor_names
    for i, actor in enumerate(scenario.actors):
        if not actor.proposer:
            assert res.runs.proposals[:, i].max() == 0, names[i]
            assert not (res.runs.settled_by == i).any(), names[i]
    assert res.runs.proposals.sum(axis=1).min() >= 1


def test_what_happens_by_month_12_does_not_depend_on_the_horizon(scenario):
    # Calendar time: concession runs in months and the draws of month t do not
    # depend on the horizon, so with the same rng every run is the same up to
    # month 12 whether the scenario looks 24 or 60 months ahead.  The
    # equilibrium form looks ahead a fixed number of months, not to the horizon.
    n = 4_000
    short = _runs(scenario, 4, n)
    long = _runs(scenario.replace({"horizon": 60}), 4, n)
    by_12_short = short.settled[:, 0] & (short.settled_round[:, 0] <= 12)
    by_12_long = long.settled[:, 0] & (long.settled_round[:, 0] <= 12)
    mean, se = _paired(by_12_short.astype(float), by_12_long.astype(float))
    assert abs(mean) <= Z * max(se, 1 / n), (mean, se)
    # Stronger than the Monte Carlo check: run by run, the same.
    np.testing.assert_array_equal(by_12_short, by_12_long)


def test_same_rng_same_result_to_the_bit(scenario):
    a = basesim.simulate(scenario, n_runs=3_000, rng=123)
    b = basesim.simulate(scenario, n_runs=3_000, rng=123)
    assert np.array_equal(a.runs.package, b.runs.package)
    assert np.array_equal(a.runs.settled_round, b.runs.settled_round)
    assert np.array_equal(a.runs.sampled, b.runs.sampled)
    assert np.array_equal(a.tally.joint, b.tally.joint)


def test_different_rng_different_runs(scenario):
    a = basesim.simulate(scenario, n_runs=500, rng=1)
    b = basesim.simulate(scenario, n_runs=500, rng=2)
    assert not np.array_equal(a.runs.sampled, b.runs.sampled)
    assert not np.array_equal(a.runs.package, b.runs.package)


def test_single_model_is_run_zero_of_simulate(scenario):
    model = basesim.NegotiationModel(scenario, rng=42)
    outcome = model.run()
    res = basesim.simulate(scenario, n_runs=2, rng=42)
    assert np.array_equal(outcome.package[0], res.runs.package[0])
    assert np.array_equal(outcome.settled_round[0], res.runs.settled_round[0])


def test_requested_probabilities_sum_to_one(scenario):
    res = basesim.simulate(scenario, n_runs=20_000, rng=1)
    probs = res.probabilities()
    for _, table in probs.groupby("table"):
        assert table.probability.sum() == pytest.approx(1.0, abs=1e-12)
        assert (table.ci_low <= table.probability).all()
        assert (table.probability <= table.ci_high).all()
