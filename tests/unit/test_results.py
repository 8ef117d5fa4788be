"""SimulationResult: probabilities, intervals, frames, saving and loading."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import basesim
from basesim.exceptions import ResultError, SimulationError
from basesim.results import wilson_interval


@pytest.fixture(scope="module")
def scenario() -> basesim.Scenario:
    return basesim.load_scenario("syria-2025")


@pytest.fixture(scope="module")
def result(scenario) -> basesim.SimulationResult:
    return basesim.simulate(scenario, n_runs=3_000, rng=3, keep_runs=1_000)


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (37, 1_000), (999, 1_000)]
)
@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
def test_wilson_interval_matches_scipy(k, n, level):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    low, high = wilson_interval(k, n, level)
    assert float(low) == pytest.approx(ci.low, abs=1e-12)
    assert float(high) == pytest.approx(ci.high, abs=1e-12)


def test_probability_tables(result, scenario):
    probs = result.probabilities()
    assert list(probs.columns) == ["table", "outcome", "count", "probability", "ci_low", "ci_high"]
    tables = set(probs.table)
    assert tables == {"joint", *scenario.issue_names}
    joint = probs[probs.table == "joint"]
    # 3 x 3 categories plus "no agreement"
    assert len(joint) == 10 and joint.outcome.iloc[-1] == "no agreement"
    for _, table in probs.groupby("table"):
        assert table["count"].sum() == result.n_runs
        assert table.probability.sum() == pytest.approx(1.0, abs=1e-12)


def test_probabilities_agree_with_the_kept_runs(scenario):
    res = basesim.simulate(scenario, n_runs=2_500, rng=9, keep_runs=2_500)
    frame = res.to_frame()
    probs = res.probabilities()
    basing = probs[probs.table == "basing"].set_index("outcome")["count"]
    counted = frame.basing_category.value_counts()
    for name, count in basing.items():
        assert counted.get(name, 0) == count
    joint = probs[probs.table == "joint"].set_index("outcome")["count"]
    for name, count in frame.outcome.value_counts().items():
        assert joint[name] == count


def test_confidence_level_widens_intervals(result):
    narrow = result.probabilities(confidence_level=0.8)
    wide = result.probabilities(confidence_level=0.99)
    assert (wide.ci_high - wide.ci_low >= narrow.ci_high - narrow.ci_low - 1e-15).all()
    with pytest.raises(
        basesim.BasesimError, match=r"confidence_level must be in \(0, 1\) \(got 1.5\)"
    ):
        result.probabilities(confidence_level=1.5)


def test_to_frame_columns(result, scenario):
    frame = result.to_frame()
    assert len(frame) == 1_000
    for path in scenario.uncertain_parameters():
        assert path in frame.columns
    for issue in scenario.issue_names:
        assert frame[issue].between(0, 1).all()
        assert f"{issue}_category" in frame.columns
    assert set(frame.proposer[frame.agreed]) <= set(scenario.actor_names)
    assert (frame["round"][~frame.agreed] == 0).all()
    assert (frame["round"][frame.agreed] >= 1).all()


def test_sampled_parameters_lie_in_their_ranges(result, scenario):
    frame = result.to_frame()
    for path, param in scenario.parameters():
        if param.is_uncertain:
            low, high = param.support
            assert frame[path].between(low, high).all(), path


def test_to_frame_without_runs(scenario):
    res = basesim.simulate(scenario, n_runs=100, rng=1, keep_runs=0)
    assert res.runs is None
    with pytest.raises(ResultError, match="kept no runs"):
        res.to_frame()
    assert res.probabilities()["count"].sum() == 3 * 100  # joint + two marginals


def test_agreement_rounds_calendar(result):
    rounds = result.agreement_rounds()
    assert rounds["count"].sum() == result.n_runs
    assert rounds.month.iloc[0] == "no agreement"
    assert rounds.month.iloc[1] == "2025-02"
    assert rounds.month.iloc[12] == "2026-01"


def test_repr_and_html(result):
    text = repr(result)
    assert "syria-2025" in text and "3,000" in text
    html = result._repr_html_()
    assert "<table" in html and "syria-2025" in html


def test_provenance_replays_the_result(result, scenario):
    entropy = result.provenance.entropy
    assert entropy == 3
    again = basesim.simulate(
        scenario, n_runs=3_000, rng=np.random.SeedSequence(entropy), keep_runs=1_000
    )
    assert np.array_equal(again.tally.joint, result.tally.joint)


def test_save_load_round_trip(result, tmp_path):
    path = result.save(tmp_path / "res.npz")
    loaded = basesim.load_result(path)
    assert loaded.scenario == result.scenario
    assert loaded.n_runs == result.n_runs
    assert loaded.provenance == result.provenance
    assert loaded.probabilities().equals(result.probabilities())
    assert loaded.to_frame().equals(result.to_frame())
    assert not list(tmp_path.glob("*.tmp")), "no temporary file left behind"


def test_load_rejects_bad_files(result, tmp_path):
    with pytest.raises(ResultError, match="does not exist"):
        basesim.load_result(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(ResultError, match=r"not a readable \.npz"):
        basesim.load_result(junk)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(ResultError, match="no metadata"):
        basesim.load_result(other)
    # A tampered count: the tally must add up to n_runs.
    good = result.save(tmp_path / "good.npz")
    with np.load(good) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["tally_joint"] = arrays["tally_joint"] + 1
    bad = tmp_path / "bad.npz"
    np.savez(bad, **arrays)
    with pytest.raises(ResultError, match="do not add up"):
        basesim.load_result(bad)
    meta = json.loads(arrays["metadata"].tobytes())
    meta["format_version"] = 99
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    arrays["tally_joint"] = arrays["tally_joint"] - 1
    np.savez(bad, **arrays)
    with pytest.raises(ResultError, match="format_version must be 1"):
        basesim.load_result(bad)


def test_adaptive_precision_reaches_its_target(scenario):
    res = basesim.simulate(scenario, precision=0.01, rng=4)
    assert res.target_precision == 0.01
    assert res.tally.max_half_width() <= 0.01
    assert "precision 0.01 reached: widest half-width" in repr(res)
    assert f"after {res.n_runs:,} runs" in repr(res)
    # A fixed-size run of half as many runs would not have reached it.
    half = basesim.simulate(scenario, n_runs=res.n_runs // 4, rng=4)
    assert half.tally.max_half_width() > 0.01


def test_adaptive_precision_respects_the_cap(scenario):
    res = basesim.simulate(scenario, precision=0.0001, n_runs=5_000, rng=4)
    assert res.n_runs == 5_000
    assert res.tally.max_half_width() > 0.0001
    assert "NOT reached (run cap)" in repr(res)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_runs": 0}, r"n_runs must be a whole number >= 1 \(got 0\)"),
        ({"n_runs": 2.5}, r"n_runs must be a whole number >= 1 \(got 2.5\)"),
        ({}, r"n_runs is required unless precision is given"),
        ({"n_runs": 10, "engine": "fast"}, r"engine must be one of batch, mesa \(got 'fast'\)"),
        ({"n_runs": 10, "batch_size": 0}, r"batch_size must be a whole number >= 1 \(got 0\)"),
        ({"n_runs": 10, "keep_runs": -1}, r"keep_runs must be a whole number >= 0 \(got -1\)"),
        ({"precision": 0.7}, r"precision must be a number in \(0, 0.5\) \(got 0.7\)"),
    ],
)
def test_simulate_rejects_bad_arguments(scenario, kwargs, message):
    with pytest.raises(SimulationError, match=message):
        basesim.simulate(scenario, rng=1, **kwargs)


def test_simulate_rejects_a_non_scenario():
    with pytest.raises(SimulationError, match=r"scenario must be a basesim\.Scenario"):
        basesim.simulate("syria-2025", n_runs=10, rng=1)


def test_batch_size_does_not_change_results(scenario):
    a = basesim.simulate(scenario, n_runs=2_100, rng=8, batch_size=2_100)
    b = basesim.simulate(scenario, n_runs=2_100, rng=8, batch_size=333)
    assert np.array_equal(a.runs.package, b.runs.package)
    assert np.array_equal(a.runs.round, b.runs.round)
    assert np.array_equal(a.tally.joint, b.tally.joint)
    # The float sums behind package_summary() too, to the bit.
    assert np.array_equal(a.tally.package_sum, b.tally.package_sum)
    assert np.array_equal(a.tally.package_sumsq, b.tally.package_sumsq)
    assert a.package_summary().equals(b.package_summary())
