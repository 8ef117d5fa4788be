"""SimulationResult: probabilities, intervals, frames, saving and loading."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from scipy import stats

import basesim
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import BasesimError, ResultError, ScenarioError, SimulationError
from basesim.expressions import RunOutcomes, parse_outcome
from basesim.outcomes import (
    EVERY_SETTLED,
    MAX_JOINT_CELLS,
    NO_AGREEMENT,
    SOME_SETTLED,
    UNSETTLED,
    OutcomeTable,
)
from basesim.results import Provenance, SimulationResult, Tally, wilson_interval
from basesim.testing import many_issues_scenario


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
    assert list(dict.fromkeys(probs.table)) == ["joint", *scenario.issue_names]
    # Each issue's table: its categories, then "unsettled".
    for issue in scenario.issues:
        rows = probs[probs.table == issue.name].outcome.tolist()
        assert rows == [*issue.categories, "unsettled"]
    # The joint table: (3 categories + unsettled) x (3 + unsettled) = 16 cells in
    # row-major order, the last (both unsettled) named "no agreement".
    joint = probs[probs.table == "joint"].outcome.tolist()
    basing, relief = ([*i.categories, "unsettled"] for i in scenario.issues)
    expected = [f"{a} / {b}" for a in basing for b in relief]
    expected[-1] = "no agreement"
    assert joint == expected
    assert "withdrawal / unsettled" in joint and "unsettled / substantial" in joint
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
        basesim.BasesimError, match=r"confidence_level must be a number in \(0, 1\) \(got 1.5\)"
    ):
        result.probabilities(confidence_level=1.5)


def test_to_frame_columns(result, scenario):
    frame = result.to_frame()
    assert len(frame) == 1_000
    assert frame.columns[0] == "run" and frame.run.tolist() == list(range(1_000))
    for path in scenario.uncertain_parameters():
        assert path in frame.columns
    settled_all = np.ones(len(frame), dtype=bool)
    for issue in scenario.issues:
        name = issue.name
        assert frame[name].between(0, 1).all()
        settled = frame[f"settled_{name}"]
        assert settled.dtype == bool
        rounds = frame[f"settlement_round_{name}"]
        months = frame[f"settlement_month_{name}"]
        category = frame[f"{name}_category"]
        # Unsettled exactly where the round is 0, the month None and the row "unsettled".
        assert ((rounds == 0) == ~settled).all()
        assert rounds.between(0, scenario.horizon).all()
        assert months[~settled].isna().all()
        assert (months[settled] == rounds[settled].map(result.month_of)).all()
        assert ((category == "unsettled") == ~settled).all()
        assert (category[settled] == issue.categorize(frame[name][settled])).all()
        settled_all &= settled.to_numpy()
    assert (frame.agreed == settled_all).all()
    assert set(frame.proposer[frame.agreed]) <= set(scenario.actor_names)
    assert (frame.proposer[~frame.agreed] == "").all()
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
    assert rounds.month.iloc[0] == "not fully settled"
    assert rounds.month.iloc[1] == "2025-02"
    assert rounds.month.iloc[12] == "2026-01"
    p, _, _ = result.agreement_probability()
    assert p == pytest.approx(1 - rounds.probability.iloc[0])


def test_settlement_months_per_issue(result, scenario):
    months = result.settlement_months()
    assert list(months.columns) == [
        "table", "round", "month", "count", "probability", "ci_low", "ci_high"
    ]  # fmt: skip
    assert list(dict.fromkeys(months.table)) == list(scenario.issue_names)
    probs = result.probabilities()
    for issue, rows in months.groupby("table", sort=False):
        assert rows["round"].tolist() == list(range(scenario.horizon + 1))
        assert rows.month.iloc[0] == "unsettled" and rows.month.iloc[1] == "2025-02"
        assert rows["count"].sum() == result.n_runs
        assert rows.probability.sum() == pytest.approx(1.0, abs=1e-12)
        # Round 0 is the issue's "unsettled" row of probabilities().
        unsettled = probs[(probs.table == issue) & (probs.outcome == "unsettled")]
        assert rows["count"].iloc[0] == unsettled["count"].iloc[0]
    with pytest.raises(
        basesim.BasesimError, match=r"confidence_level must be a number in \(0, 1\)"
    ):
        result.settlement_months(confidence_level=0)


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
    assert loaded.settlement_months().equals(result.settlement_months())
    assert loaded.package_summary().equals(result.package_summary())
    assert loaded.to_frame().equals(result.to_frame())
    assert not list(tmp_path.glob("*.tmp")), "no temporary file left behind"


def test_load_rejects_bad_files(result, tmp_path):
    with pytest.raises(ResultError, match="does not exist"):
        basesim.load_result(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip file")
    with pytest.raises(
        ResultError, match=r"not a readable result file \(a damaged \.npz file: BadZipFile"
    ):
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
    with pytest.raises(ResultError, match="format_version must be 4"):
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
    assert res.precision_reached is False
    assert "NOT reached (run cap)" in repr(res)
    assert basesim.simulate(scenario, n_runs=10, rng=4).precision_reached is None


def test_adaptive_precision_stops_where_it_would_with_any_batch_size(scenario):
    # The target is checked after 1024 * 2**j runs, whatever the batch size: so
    # batches of 1,000 (which do not divide 1,024) and the default 16,384 stop at
    # the same run count with the same result.
    default = basesim.simulate(scenario, precision=0.02, rng=6)
    small = basesim.simulate(scenario, precision=0.02, batch_size=1_000, rng=6)
    assert default.n_runs == small.n_runs
    assert default.precision_reached and small.precision_reached
    np.testing.assert_array_equal(default.tally.counts(), small.tally.counts())
    np.testing.assert_array_equal(default.tally.package_sum, small.tally.package_sum)
    assert default.probabilities().equals(small.probabilities())
    # It stopped at the first check that meets the target.
    checks = [1024 * 2**j for j in range(12)]
    assert default.n_runs in checks
    if default.n_runs > 1024:
        before = basesim.simulate(scenario, n_runs=default.n_runs // 2, rng=6)
        assert before.tally.max_half_width() > 0.02


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_runs": 0}, r"n_runs must be a whole number >= 1 \(got 0\)"),
        ({"n_runs": 2.5}, r"n_runs must be a whole number >= 1 \(got 2.5\)"),
        ({}, r"n_runs is required unless precision is given"),
        (
            {"n_runs": 10, "engine": "fast"},
            r"engine must be one of batch, mesa, numpy \(got 'fast'\)",
        ),
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


# -- partial settlements, by hand -----------------------------------------------------------
# Five runs of syria-2025 (issues basing and sanctions_relief, both cut at 0.25
# and 0.75; horizon 24 rounds from February 2025; actors syria, russia, turkey,
# investors), some settling one issue and not the other:
#
# run  basing                        sanctions_relief               joint
# 0    0.1 settled round 2 by syria  0.9 settled round 2 by syria   withdrawal / substantial
# 1    0.5 settled round 1 by russia 0.9 unsettled                  reduced presence / unsettled
# 2    0.1 unsettled                 0.5 settled round 5 by turkey  unsettled / partial
# 3    0.8 unsettled                 0.1 unsettled                  no agreement
# 4    0.9 settled round 3 by inv.   0.1 settled round 7 by russia  retention / none or limited
#
# Unsettled issues keep their (status quo) value but count as "unsettled",
# whatever category that value would fall in (run 1's relief 0.9, run 2's basing
# 0.1, run 3's 0.8 and 0.1).
_PACKAGE = [[0.1, 0.9], [0.5, 0.9], [0.1, 0.5], [0.8, 0.1], [0.9, 0.1]]
_SETTLED = [[True, True], [True, False], [False, True], [False, False], [True, True]]
_ROUND = [[2, 2], [1, 0], [0, 5], [0, 0], [3, 7]]
_BY = [[0, 0], [1, -1], [-1, 2], [-1, -1], [3, 1]]


@pytest.fixture(scope="module")
def partial(scenario) -> SimulationResult:
    rng = np.random.default_rng(0)
    n_params = len(scenario.uncertain_parameters())
    outcome = BatchOutcome(
        package=np.array(_PACKAGE),
        settled=np.array(_SETTLED),
        settled_round=np.array(_ROUND, dtype=np.int64),
        settled_by=np.array(_BY, dtype=np.int64),
        proposals=np.array([[1, 1, 0, 0], [1, 1, 1, 0]] + [[2, 3, 4, 5]] * 3, dtype=np.int64),
        sampled=rng.random((5, n_params)),
    )
    tally = Tally.empty(scenario)
    # Two batches: counts do not care how runs are batched.
    tally.add(outcome.take(slice(0, 2)))
    tally.add(outcome.take(slice(2, 5)))
    provenance = Provenance(
        basesim_version=basesim.__version__,
        engine="batch",
        entropy=1,
        spawn_key=(),
        block_size=1024,
        created="2025-01-01T00:00:00+00:00",
    )
    return SimulationResult(
        scenario=scenario, n_runs=5, tally=tally, runs=outcome, provenance=provenance
    )


def test_outcome_properties_of_partial_settlements(partial):
    runs = partial.runs
    # Only runs 0 and 4 settled both issues: in round 2 (by syria), and in round 7
    # (the later of 3 and 7, by russia, who settled the relief in round 7).
    assert runs.agreed.tolist() == [True, False, False, False, True]
    assert runs.any_agreed.tolist() == [True, True, True, False, True]
    assert runs.round.tolist() == [2, 0, 0, 0, 7]
    assert runs.proposer.tolist() == [0, -1, -1, -1, 1]


def test_partial_settlements_tally_by_hand(partial):
    probs = partial.probabilities().set_index(["table", "outcome"])["count"]
    # basing: withdrawal run 0; reduced presence run 1; retention run 4;
    # unsettled runs 2 and 3 (run 2's 0.1 is not a withdrawal: nothing settled it).
    assert probs["basing"].to_dict() == {
        "withdrawal": 1,
        "reduced presence": 1,
        "retention": 1,
        "unsettled": 2,
    }
    # sanctions_relief: none or limited run 4; partial run 2; substantial run 0;
    # unsettled runs 1 and 3 (run 1's 0.9 is not "substantial").
    assert probs["sanctions_relief"].to_dict() == {
        "none or limited": 1,
        "partial": 1,
        "substantial": 1,
        "unsettled": 2,
    }
    # joint: one run in each of five cells, the all-unsettled run 3 in "no agreement".
    joint = probs["joint"]
    assert len(joint) == 16
    assert joint[joint > 0].to_dict() == {
        "withdrawal / substantial": 1,  # run 0
        "reduced presence / unsettled": 1,  # run 1
        "retention / none or limited": 1,  # run 4
        "unsettled / partial": 1,  # run 2
        "no agreement": 1,  # run 3
    }
    assert joint.index[-1] == NO_AGREEMENT
    frame = partial.probabilities()
    for _, table in frame.groupby("table"):
        assert table["count"].sum() == 5
        assert table.probability.sum() == pytest.approx(1.0, abs=1e-12)
    row = frame[(frame.table == "basing") & (frame.outcome == "unsettled")].iloc[0]
    low, high = wilson_interval(2, 5)
    assert (row.probability, row.ci_low, row.ci_high) == (
        0.4,
        pytest.approx(low),
        pytest.approx(high),
    )
    # Every issue settled in runs 0 and 4 only: 2 of 5.
    assert partial.agreement_probability()[0] == pytest.approx(0.4)


def test_settlement_months_by_hand(partial):
    months = partial.settlement_months()
    nonzero = months[months["count"] > 0]
    got = {(r.table, r.round, r.month): (r.count, r.probability) for r in nonzero.itertuples()}
    assert got == {
        # basing: unsettled in runs 2, 3; settled in round 1 (run 1), 2 (run 0), 3 (run 4).
        ("basing", 0, "unsettled"): (2, 0.4),
        ("basing", 1, "2025-02"): (1, 0.2),
        ("basing", 2, "2025-03"): (1, 0.2),
        ("basing", 3, "2025-04"): (1, 0.2),
        # relief: unsettled in runs 1, 3; settled in round 2 (run 0), 5 (run 2), 7 (run 4).
        ("sanctions_relief", 0, "unsettled"): (2, 0.4),
        ("sanctions_relief", 2, "2025-03"): (1, 0.2),
        ("sanctions_relief", 5, "2025-06"): (1, 0.2),
        ("sanctions_relief", 7, "2025-08"): (1, 0.2),
    }
    assert len(months) == 2 * 25
    low, high = wilson_interval(months["count"].to_numpy(), 5)
    np.testing.assert_allclose(months.ci_low, low)
    np.testing.assert_allclose(months.ci_high, high)
    # Full settlement: runs 1, 2, 3 never; run 0 in round 2, run 4 in round 7.
    rounds = partial.agreement_rounds()
    assert rounds["count"].to_dict() == {t: {0: 3, 2: 1, 7: 1}.get(t, 0) for t in range(25)}
    assert rounds.month.iloc[0] == "not fully settled"


def test_package_summary_by_hand(partial):
    summary = partial.package_summary().set_index(["issue", "runs"])
    assert summary.index.tolist() == [
        (issue, runs)
        for issue in ("basing", "sanctions_relief")
        for runs in ("all", "settled", "unsettled")
    ]
    # basing: all 0.1, 0.5, 0.1, 0.8, 0.9 (mean 0.48); settled runs 0, 1, 4:
    # 0.1, 0.5, 0.9 (mean 0.5, population sd sqrt(0.32 / 3)); unsettled runs 2, 3:
    # 0.1, 0.8 (mean 0.45, sd 0.35).
    # relief: all 0.9, 0.9, 0.5, 0.1, 0.1 (mean 0.5, sd sqrt(0.16 * 4 / 5)); settled
    # runs 0, 2, 4: 0.9, 0.5, 0.1 (mean 0.5, sd sqrt(0.32 / 3)); unsettled runs 1, 3:
    # 0.9, 0.1 (mean 0.5, sd 0.4).
    expected = {
        ("basing", "all"): (5, 0.48, np.std([0.1, 0.5, 0.1, 0.8, 0.9])),
        ("basing", "settled"): (3, 0.5, np.sqrt(0.32 / 3)),
        ("basing", "unsettled"): (2, 0.45, 0.35),
        ("sanctions_relief", "all"): (5, 0.5, np.sqrt(0.16 * 4 / 5)),
        ("sanctions_relief", "settled"): (3, 0.5, np.sqrt(0.32 / 3)),
        ("sanctions_relief", "unsettled"): (2, 0.5, 0.4),
    }
    for key, (count, mean, std) in expected.items():
        row = summary.loc[key]
        assert row["count"] == count, key
        assert row["mean"] == pytest.approx(mean, abs=1e-12), key
        assert row["std"] == pytest.approx(std, abs=1e-7), key


def test_to_frame_of_partial_settlements(partial, scenario):
    frame = partial.to_frame()
    assert frame.run.tolist() == [0, 1, 2, 3, 4]
    assert frame.basing.tolist() == [0.1, 0.5, 0.1, 0.8, 0.9]
    assert frame.basing_category.tolist() == [
        "withdrawal", "reduced presence", "unsettled", "unsettled", "retention"
    ]  # fmt: skip
    assert frame.sanctions_relief_category.tolist() == [
        "substantial", "unsettled", "partial", "unsettled", "none or limited"
    ]  # fmt: skip
    assert frame.settled_basing.tolist() == [True, True, False, False, True]
    assert frame.settled_sanctions_relief.tolist() == [True, False, True, False, True]
    assert frame.settlement_round_basing.tolist() == [2, 1, 0, 0, 3]
    assert frame.settlement_round_sanctions_relief.tolist() == [2, 0, 5, 0, 7]
    assert frame.settlement_month_basing.tolist() == ["2025-03", "2025-02", None, None, "2025-04"]
    assert frame.settlement_month_sanctions_relief.tolist() == [
        "2025-03", None, "2025-06", None, "2025-08"
    ]  # fmt: skip
    assert frame.agreed.tolist() == [True, False, False, False, True]
    assert frame["round"].tolist() == [2, 0, 0, 0, 7]
    assert frame.proposer.tolist() == ["syria", "", "", "", "russia"]
    assert frame.outcome.tolist() == [
        "withdrawal / substantial",
        "reduced presence / unsettled",
        "unsettled / partial",
        "no agreement",
        "retention / none or limited",
    ]
    np.testing.assert_array_equal(
        frame[list(scenario.uncertain_parameters())].to_numpy(), partial.runs.sampled
    )
    # The frame's outcomes are what the tables count.
    probs = partial.probabilities()
    joint = probs[probs.table == "joint"].set_index("outcome")["count"]
    for name, count in frame.outcome.value_counts().items():
        assert joint[name] == count


def test_outcome_table_names_and_codes(partial, scenario):
    table = OutcomeTable.of(scenario)
    assert table.shape == (4, 4) and table.n_joint == 16 and table.n_columns == 16 + 4 + 4
    assert table.row_labels(1) == ("none or limited", "partial", "substantial", UNSETTLED)
    assert table.names[15] == "no agreement"
    assert table.names[3] == "joint=withdrawal / unsettled"
    assert table.names[-1] == "sanctions_relief=unsettled"
    for name in table.names:
        assert table.names[table.index(name)] == name
    # Aliases of no agreement, and loose spacing.
    assert table.index("joint=unsettled / unsettled") == 15
    assert table.index("joint=no agreement") == 15
    assert table.index(" joint = withdrawal/unsettled ") == 3
    with pytest.raises(SimulationError, match=r"did you mean 'basing=unsettled'"):
        table.index("basing=unsettle")
    codes = table.codes(scenario, partial.runs)
    # Joint cells in row-major order over (4, 4): run 0 (0, 2) = 2, run 1 (1, 3) = 7,
    # run 2 (3, 1) = 13, run 3 (3, 3) = 15, run 4 (2, 0) = 8; then the issues'
    # columns start at 16 and 20.
    assert codes.tolist() == [
        [2, 16, 22],
        [7, 17, 23],
        [13, 19, 21],
        [15, 19, 23],
        [8, 18, 20],
    ]
    np.testing.assert_array_equal(table.counts(codes), partial.tally.counts())
    with pytest.raises(ScenarioError, match="must not be 'unsettled'"):
        other = scenario.replace(
            {"issues.basing.categories": ("out", "unsettled"), "issues.basing.cuts": (0.5,)}
        )
        OutcomeTable.of(other)


# -- saving partial settlements, and refusing inconsistent files ----------------------------
def _arrays(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _write(path, arrays, **meta_changes):
    if meta_changes:
        meta = json.loads(arrays["metadata"].tobytes())
        meta.update(meta_changes)
        arrays = {**arrays, "metadata": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    np.savez(path, **arrays)
    return path


def test_partial_settlements_round_trip(partial, tmp_path):
    loaded = basesim.load_result(partial.save(tmp_path / "partial.npz"))
    for name in ("package", "settled", "settled_round", "settled_by", "proposals", "sampled"):
        np.testing.assert_array_equal(getattr(loaded.runs, name), getattr(partial.runs, name))
    for name, array in partial.tally.arrays().items():
        np.testing.assert_array_equal(loaded.tally.arrays()[name], array, err_msg=name)
    assert loaded.probabilities().equals(partial.probabilities())
    assert loaded.settlement_months().equals(partial.settlement_months())
    assert loaded.to_frame().equals(partial.to_frame())


def _shift(array, index, to):
    """``array`` with one count moved from ``index`` to ``to`` (the total unchanged)."""
    out = array.copy()
    out[index] -= 1
    out[to] += 1
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # Counts that do not add up to n_runs, table by table.
        (
            lambda a: {"tally_joint": a["tally_joint"] + 1},
            r"tally_joint do not add up to n_runs = 5",
        ),
        (
            lambda a: {"tally_marginal_1": a["tally_marginal_1"] * 2},
            r"tally_marginal_1 do not add up",
        ),
        (lambda a: {"tally_rounds": a["tally_rounds"] * 0}, r"tally_rounds do not add up"),
        (
            lambda a: {"tally_settlement_rounds": a["tally_settlement_rounds"] * 2},
            r"tally_settlement_rounds\[0\] do not add up",
        ),
        (
            lambda a: {"tally_package_hist": a["tally_package_hist"] * 2},
            r"tally_package_hist\[0\] do not add up",
        ),
        (
            lambda a: {"tally_value_hist": a["tally_value_hist"] * 2},
            r"tally_value_hist\[0\] do not add up",
        ),
        # basing's unsettled run 2 (0.1, bin 409) moved among the settled values.
        (
            lambda a: {
                "tally_value_hist": _shift(a["tally_value_hist"], (0, 1, 409), (0, 0, 409))
            },
            r"tally_value_hist\[0\] \(issue 'basing'\) counts 1 unsettled runs, its "
            r"settlement rounds 2",
        ),
        (
            lambda a: {"tally_joint": _shift(a["tally_joint"], 2, 0) - 2 * (np.arange(16) == 1)},
            "negative count",
        ),
        # Counts that add up but disagree with each other.
        (
            lambda a: {"tally_marginal_0": _shift(a["tally_marginal_0"], 1, 0)},
            r"tally_marginal_0 \(issue 'basing'\) disagrees with the joint table",
        ),
        (
            lambda a: {
                "tally_settlement_rounds": _shift(a["tally_settlement_rounds"], (0, 0), (0, 9))
            },
            r"issue 'basing' is unsettled in 2 runs by its table but in 1",
        ),
        (
            lambda a: {"tally_rounds": _shift(a["tally_rounds"], 0, 4)},
            "the joint table has 2 runs with every issue settled, tally_rounds 3",
        ),
        (
            lambda a: {"tally_unsettled_package_sum": a["tally_unsettled_package_sum"] + 0.1},
            "tally_settled_package_sum and tally_unsettled_package_sum do not add up",
        ),
        # Per-run settlement fields.
        (
            lambda a: {"runs_settled_round": _set(a["runs_settled_round"], (0, 0), 25)},
            r"runs_settled_round must lie in \[0, 24\]",
        ),
        (
            lambda a: {"runs_settled_round": _set(a["runs_settled_round"], (0, 0), -1)},
            r"runs_settled_round must lie in \[0, 24\]",
        ),
        (
            lambda a: {"runs_settled_round": _set(a["runs_settled_round"], (2, 0), 4)},
            "runs_settled_round must be 0 exactly where runs_settled is false",
        ),
        (
            lambda a: {"runs_settled_round": _set(a["runs_settled_round"], (0, 1), 0)},
            "runs_settled_round must be 0 exactly where runs_settled is false",
        ),
        (
            # Run 2's first issue is unsettled: nobody can have settled it.
            lambda a: {"runs_settled_by": _set(a["runs_settled_by"], (2, 0), 1)},
            "runs_settled_by must be -1 where runs_settled is false",
        ),
        (
            lambda a: {"runs_settled_by": _set(a["runs_settled_by"], (0, 0), 4)},
            r"runs_settled_by must lie in \[-2, 3\]",
        ),
        (
            lambda a: {"runs_proposals": _set(a["runs_proposals"], (0, 0), 30)},
            "runs_proposals must be counts adding up to at most 24",
        ),
        # Wrong shapes and types, and missing arrays.
        (
            lambda a: {"runs_settled": np.ones((5, 3), dtype=bool)},
            r"'runs_settled' must have shape \(5, 2\)",
        ),
        (
            lambda a: {"runs_settled_round": a["runs_settled_round"][:4]},
            r"'runs_settled_round' must have shape \(5, 2\)",
        ),
        (
            lambda a: {"runs_settled": a["runs_settled"].astype(float)},
            r"'runs_settled' must have shape \(5, 2\) and dtype kind 'b' \(got \(5, 2\), 'f'\)",
        ),
        (
            lambda a: {"runs_sampled": a["runs_sampled"][:, :3]},
            r"'runs_sampled' must have shape \(5, \d+\) and dtype kind 'f' \(got \(5, 3\), 'f'\)",
        ),
        (lambda a: {"runs_package": a["runs_package"][0]}, "'runs_package' must be 2-D"),
        (
            lambda a: {"tally_settlement_rounds": a["tally_settlement_rounds"][:, :24]},
            r"'tally_settlement_rounds' must have shape \(2, 25\)",
        ),
        (
            # The layout of format 1: three rows per issue, no "unsettled".
            lambda a: {"tally_marginal_0": a["tally_marginal_0"][:3]},
            r"'tally_marginal_0' must have shape \(4,\)",
        ),
        (
            lambda a: {"tally_joint": a["tally_joint"].astype(float)},
            r"'tally_joint' must have shape \(16,\) and dtype kind 'i' or 'u'",
        ),
        (lambda a: {"runs_settled_by": None}, "array 'runs_settled_by' is missing"),
        (
            lambda a: {"tally_settlement_rounds": None},
            "array 'tally_settlement_rounds' is missing",
        ),
    ],
)
def test_inconsistent_files_are_refused(partial, tmp_path, change, message):
    arrays = _arrays(partial.save(tmp_path / "good.npz"))
    basesim.load_result(_write(tmp_path / "same.npz", arrays))  # unchanged: loads
    for name, value in change(arrays).items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    with pytest.raises(ResultError, match=message):
        basesim.load_result(_write(tmp_path / "bad.npz", arrays))


def _set(array, index, value):
    out = array.copy()
    out[index] = value
    return out


def test_bad_metadata_and_old_formats_are_refused(partial, tmp_path):
    arrays = _arrays(partial.save(tmp_path / "good.npz"))
    with pytest.raises(ResultError, match=r"format_version must be 4 \(got 1\); .*settled every"):
        basesim.load_result(_write(tmp_path / "old.npz", arrays, format_version=1))
    with pytest.raises(ResultError, match=r"format_version must be 4 \(got 2\); .*outcome labels"):
        basesim.load_result(_write(tmp_path / "v2.npz", arrays, format_version=2))
    with pytest.raises(
        ResultError, match=r"format_version must be 4 \(got 3\); .*distribution of final values"
    ):
        basesim.load_result(_write(tmp_path / "v3.npz", arrays, format_version=3))
    with pytest.raises(ResultError, match=r"n_runs must be a whole number >= 1 \(got 0\)"):
        basesim.load_result(_write(tmp_path / "zero.npz", arrays, n_runs=0))
    with pytest.raises(ResultError, match="tally_joint do not add up to n_runs = 4"):
        basesim.load_result(_write(tmp_path / "fewer.npz", arrays, n_runs=4))


def test_a_bad_confidence_level_raises_one_error_everywhere(scenario):
    # It used to be a BasesimError from results, a ResultError from compare and
    # sweep results and a SimulationError from the experiments.
    res = basesim.simulate(scenario, n_runs=20, rng=1)
    variant = scenario.replace({"actors.syria.basing.position": 0.5})
    cmp = basesim.compare({"a": scenario, "b": variant}, n_runs=20, rng=1)
    sw = basesim.sweep(
        scenario,
        {"actors.syria.basing.position": (0, 1)},
        n_points=2,
        n_runs=5,
        rng=1,
        progress=False,
    )
    calls = [
        lambda: res.probabilities(confidence_level=1.5),
        lambda: cmp.to_frame(confidence_level=1.5),
        lambda: sw.to_frame(confidence_level=1.5),
        lambda: basesim.simulate(scenario, n_runs=5, rng=1, confidence_level=1.5),
    ]
    for call in calls:
        with pytest.raises(basesim.SimulationError, match=r"a number in \(0, 1\) \(got 1.5\)"):
            call()


def test_quantiles_by_hand(partial):
    # Values are counted in 4,096 bins of [0, 1]; a quantile interpolates in its
    # bin.  basing's agreed values (runs 0, 1, 4) are 0.1, 0.5, 0.9, in bins 409
    # (0.1 * 4096 = 409.6), 2048 and 3686.  q = 0.5: 1.5 of the 3 runs, the
    # second run's bin (2048), half way through it: (2048 + 0.5) / 4096.  q = 0.1:
    # 0.3 of a run into bin 409: (409 + 0.3) / 4096.
    qs = partial.quantiles(q=[0.1, 0.5, 0.8, 1.0])
    assert list(qs.columns) == ["issue", "quantity", "runs", "q", "value", "month"]
    got = {(r.issue, r.quantity, r.q): (r.runs, r.value, r.month) for r in qs.itertuples()}
    agreed = [got[("basing", "agreed value", q)] for q in (0.1, 0.5, 1.0)]
    assert [a[0] for a in agreed] == [3, 3, 3]
    assert [a[1] for a in agreed] == pytest.approx([409.3 / 4096, 2048.5 / 4096, 3687 / 4096])
    # Final values over all 5 runs: 0.1, 0.1, 0.5, 0.8, 0.9; q = 0.5 is 2.5 runs:
    # bin 409 holds 2, so half way through bin 2048.
    assert got[("basing", "final value", 0.5)][:2] == (5, pytest.approx(2048.5 / 4096))
    # Within a bin of the sample quantile (the ceil(q n)-th smallest value).
    for issue in ("basing", "sanctions_relief"):
        k = partial.scenario.issue_names.index(issue)
        values = partial.runs.package[:, k]
        for q in (0.1, 0.5, 0.8, 1.0):
            sample = np.quantile(values, q, method="inverted_cdf")
            assert abs(got[(issue, "final value", q)][1] - sample) <= 1 / 4096
    # Settlement rounds of basing: 1 (run 1), 2 (run 0), 3 (run 4), never (runs 2,
    # 3).  q = 0.5 needs 2.5 runs settled: by round 3 (2025-04); q = 0.8 needs 4,
    # but only 3 ever settle: unsettled.  q = 0.1: 0.5 runs, round 1.
    assert got[("basing", "settlement round", 0.1)] == (5, 1.0, "2025-02")
    assert got[("basing", "settlement round", 0.5)] == (5, 3.0, "2025-04")
    round_08 = got[("basing", "settlement round", 0.8)]
    assert np.isnan(round_08[1]) and round_08[2] == "unsettled"
    # Relief settled in rounds 2, 5, 7 (runs 0, 2, 4): the median, 2.5 runs, is 7.
    assert got[("sanctions_relief", "settlement round", 0.5)] == (5, 7.0, "2025-08")
    # Every issue settled: run 0 in round 2, run 4 in round 7; 3 runs never.
    every = partial.quantiles(q=[0.2, 0.4, 0.5])
    every = every[every.issue == "every issue"].set_index("q")
    assert every.value.loc[0.2] == 2.0 and every.value.loc[0.4] == 7.0
    assert np.isnan(every.value.loc[0.5]) and every.month.loc[0.5] == "unsettled"


def test_summary_by_hand(partial):
    summary = partial.summary().set_index(["issue", "quantity"])
    assert summary.index.tolist() == [
        (issue, quantity)
        for issue in ("basing", "sanctions_relief")
        for quantity in ("agreed value", "final value", "settlement round")
    ] + [("every issue", "settlement round")]
    # basing: settled in 3 of 5 runs; its median settlement round is 3 (see above).
    row = summary.loc[("basing", "settlement round")]
    assert (row["share"], row["median"], row["median_month"]) == (0.6, 3.0, "2025-04")
    assert summary.loc[("basing", "agreed value"), "median"] == pytest.approx(2048.5 / 4096)
    assert summary.loc[("basing", "final value"), "share"] == 1.0
    assert summary.loc[("every issue", "settlement round"), "share"] == 0.4


def test_quantiles_of_a_simulation_match_its_runs(result):
    # All runs kept here: the tally's quantiles against the per-run values.
    res = basesim.simulate(result.scenario, n_runs=2_000, keep_runs=2_000, rng=9)
    qs = res.quantiles(q=[0.05, 0.5, 0.95])
    for k, issue in enumerate(res.scenario.issue_names):
        settled = res.runs.settled[:, k]
        part = qs[qs.issue == issue].set_index(["quantity", "q"])
        for q in (0.05, 0.5, 0.95):
            agreed = np.quantile(res.runs.package[settled, k], q, method="inverted_cdf")
            assert abs(part.value.loc[("agreed value", q)] - agreed) <= 1 / 4096
            rounds = np.where(settled, res.runs.settled_round[:, k], res.scenario.horizon + 1)
            expected = np.quantile(rounds, q, method="inverted_cdf")
            got = part.value.loc[("settlement round", q)]
            assert got == expected if expected <= res.scenario.horizon else np.isnan(got)


def test_quantiles_reject_bad_probabilities(partial):
    with pytest.raises(ResultError, match=r"q must be probabilities in \[0, 1\] \(got 1.5\)"):
        partial.quantiles(q=1.5)
    with pytest.raises(ResultError, match=r"q must be probabilities in \[0, 1\] \(got 'half'\)"):
        partial.quantiles(q="half")
    with pytest.raises(ResultError, match=r"q must be probabilities in \[0, 1\] \(got \[\]\)"):
        partial.quantiles(q=[])


# -- many issues: the joint table above MAX_JOINT_CELLS ----------------------------------------
def _three_categories(scenario, issues):
    """``scenario`` with the named issues cut into three categories instead of two."""
    changes = {}
    for name in issues:
        changes[f"issues.{name}.categories"] = ("low", "mid", "high")
        changes[f"issues.{name}.cuts"] = (0.25, 0.75)
    return scenario.replace(changes)


def test_the_joint_table_is_enumerated_up_to_its_bound():
    assert MAX_JOINT_CELLS == 4096
    # Six issues of three categories: exactly 4 ** 6 = 4096 cells, enumerated.
    at = OutcomeTable.of(
        _three_categories(many_issues_scenario(n_issues=6), ["i0", "i1", "i2", "i3", "i4", "i5"])
    )
    assert at.enumerated and at.n_joint == 4096 and at.n_columns == 4096 + 6 * 4
    assert at.joint_labels[0] == " / ".join(["low"] * 6)
    assert at.joint_labels[-2] == " / ".join([UNSETTLED] * 5 + ["high"])
    assert at.joint_labels[-1] == NO_AGREEMENT
    # One more issue of two categories: 3 * 4096 cells, not enumerated.
    above = OutcomeTable.of(
        _three_categories(many_issues_scenario(n_issues=7), ["i0", "i1", "i2", "i3", "i4", "i5"])
    )
    assert not above.enumerated and above.n_joint == 3
    assert above.joint_labels == (EVERY_SETTLED, SOME_SETTLED, NO_AGREEMENT)
    assert above.n_columns == 3 + 6 * 4 + 3
    assert above.labels[3:7] == (("i0", "low"), ("i0", "mid"), ("i0", "high"), ("i0", UNSETTLED))
    # Seven issues of two categories: 3 ** 7 = 2187 cells, enumerated; eight are not.
    assert OutcomeTable.of(many_issues_scenario(n_issues=7)).n_joint == 3**7
    assert OutcomeTable.of(many_issues_scenario(n_issues=8)).n_joint == 3


def test_a_table_that_is_not_enumerated_counts_every_some_and_no_settlement():
    table = OutcomeTable.of(many_issues_scenario(n_issues=16))
    assert not table.enumerated and table.shape == (3,) * 16
    # Rows: 0 low, 1 high, 2 unsettled.
    rows = np.array([[0] * 16, [1] * 15 + [2], [2] * 16, [2] * 15 + [0], [1] * 16], dtype=np.intp)
    assert table.joint_rows(rows).tolist() == [0, 1, 2, 1, 0]
    assert table.joint_rows(rows[:0]).tolist() == []
    assert table.index("every issue settled") == 0
    assert table.index("joint=some issues settled") == 1
    assert table.index("no agreement") == 2
    assert table.index("joint=" + " / ".join([UNSETTLED] * 16)) == 2
    assert table.index("i3=high") == 3 + 3 * 3 + 1
    with pytest.raises(SimulationError, match="outcome must be one of"):
        table.index("joint=" + " / ".join(["low"] * 16))


@pytest.fixture(scope="module")
def many_issues():
    """Sixteen issues, four actors: 300 runs, and the tracemalloc peak of simulating them."""
    scenario = many_issues_scenario(n_issues=16, n_actors=4)
    # Compile (or load from the cache) first, so the peak is the simulation's alone.
    basesim.simulate(scenario, n_runs=10, rng=0)
    tracemalloc.start()
    try:
        result = basesim.simulate(scenario, n_runs=300, rng=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_sixteen_issues_simulate_in_bounded_memory(many_issues):
    result, peak = many_issues
    # Bound: the tally's arrays are O(K * 4096) (value_hist: 16 * 2 * 4096 * 8 B = 1 MiB),
    # the runs' O(n * K * actors) (well under 1 MiB for 300 runs), the engine's
    # per-batch work a few MiB; 64 MiB leaves room for them all.  An enumerated joint
    # table of 3 ** 16 = 43,046,721 cells would need 328 MiB for its counts alone.
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    table = result.tally.table
    assert not table.enumerated and table.n_columns == 3 + 16 * 3
    probs = result.probabilities()
    assert list(dict.fromkeys(probs["table"])) == ["joint", *result.scenario.issue_names]
    sums = probs.groupby("table", sort=False)["probability"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=0, atol=1e-12)
    assert ((probs["probability"] >= 0) & (probs["probability"] <= 1)).all()
    assert (probs["ci_low"] <= probs["probability"]).all()
    assert (probs["probability"] <= probs["ci_high"]).all()
    # The joint cells agree with the kept runs, and with each issue's table.
    runs = result.runs
    assert runs is not None and runs.n_runs == 300
    joint = probs[probs["table"] == "joint"].set_index("outcome")["count"]
    assert joint[EVERY_SETTLED] == int(runs.agreed.sum()) == 300 - result.tally.rounds[0]
    assert joint[NO_AGREEMENT] == int((~runs.any_agreed).sum())
    assert joint[SOME_SETTLED] == int((runs.any_agreed & ~runs.agreed).sum())
    for k, issue in enumerate(result.scenario.issue_names):
        assert result.tally.marginal[k][-1] == int((~runs.settled[:, k]).sum()), issue
    # The outcomes are not all alike: some issue ends in each of its categories.
    assert 0 < joint[EVERY_SETTLED] < 300
    frame = result.to_frame()
    assert set(frame["outcome"]) <= {EVERY_SETTLED, SOME_SETTLED, NO_AGREEMENT}
    assert (frame["outcome"] == EVERY_SETTLED).sum() == joint[EVERY_SETTLED]


def test_sixteen_issues_round_trip(many_issues, tmp_path):
    result, _ = many_issues
    loaded = basesim.load_result(result.save(tmp_path / "many.npz"))
    assert loaded.scenario == result.scenario and loaded.n_runs == 300
    for name, array in result.tally.arrays().items():
        np.testing.assert_array_equal(loaded.tally.arrays()[name], array, err_msg=name)
    assert loaded.probabilities().equals(result.probabilities())
    assert loaded.to_frame().equals(result.to_frame())
    # The loader still checks the joint table against each issue's table.
    arrays = _arrays(tmp_path / "many.npz")
    joint = arrays["tally_joint"]
    unsettled = arrays["tally_marginal_0"][-1]
    arrays["tally_joint"] = np.array(
        [joint[0] + joint[1] + joint[2] - unsettled - 1, 0, unsettled + 1]
    )
    with pytest.raises(ResultError, match=r"tally_marginal_0 \(issue 'i0'\) disagrees"):
        basesim.load_result(_write(tmp_path / "bad.npz", arrays))


def test_conditions_across_issues_need_the_runs_above_the_bound(many_issues):
    result, _ = many_issues
    both = parse_outcome(result.scenario, "i0=low and i1=high")
    assert both.is_categorical and not both.from_counts
    with pytest.raises(SimulationError, match=r"MAX_JOINT_CELLS = 4096 .* 43046721 combinations"):
        both.probability(result.tally.counts(), result.n_runs)
    single = parse_outcome(result.scenario, "no agreement")
    assert single.from_counts
    counts = result.tally.counts()
    assert single.probability(counts, 300) == counts[2] / 300
    runs = RunOutcomes.of(result.scenario, result.runs)
    hits = both.evaluate(runs)
    rows = result.tally.table.issue_rows(result.scenario, result.runs)
    np.testing.assert_array_equal(hits, (rows[:, 0] == 0) & (rows[:, 1] == 1))
    assert single.evaluate(runs).sum() == counts[2]


def test_plot_joint_needs_an_enumerated_joint_table(many_issues):
    from basesim import plotting

    result, _ = many_issues
    with pytest.raises(BasesimError, match=r"plot_joint needs the joint table.*MAX_JOINT_CELLS"):
        plotting.plot_joint(result)
