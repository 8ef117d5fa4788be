"""basesim.compare: scenarios on common random numbers, paired differences."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import basesim
from basesim.experiments.executors import OutcomeTable, tally_counts


@pytest.fixture(scope="module")
def nudged(scenario):
    # A small change: the mode of Russia's concession exponent moves from 1.5 to
    # 1.7.  The parameter keeps its path, so both scenarios share its draws.
    return scenario.replace(
        {
            "actors.russia.concession": basesim.Distribution(
                kind="triangular", low=0.6, mode=1.7, high=3.0
            )
        }
    )


@pytest.fixture(scope="module")
def comparison(scenario, nudged):
    return basesim.compare(
        {"report": scenario, "nudged": nudged},
        n_runs=3_000,
        keep_runs=3_000,
        rng=11,
        progress=False,
    )


def _counts(result):
    return tally_counts(result.tally)


def test_each_scenario_is_what_simulate_gives(scenario, nudged, comparison):
    # Same root seed, same run range: compare adds no randomness of its own.
    for name, scn in (("report", scenario), ("nudged", nudged)):
        alone = basesim.simulate(scn, n_runs=3_000, rng=11, progress=False)
        np.testing.assert_array_equal(_counts(comparison[name]), _counts(alone))
        np.testing.assert_array_equal(comparison[name].tally.rounds, alone.tally.rounds)


def test_paired_sums_match_the_runs(comparison):
    # Recount D_r = 1[scenario run r in column] - 1[reference run r in column]
    # from the kept runs (all 3,000 were kept) and sum D_r and D_r^2 directly.
    table = OutcomeTable.of(comparison["report"].scenario)
    ref = comparison["report"]
    alt = comparison["nudged"]
    ref_codes = table.codes(ref.scenario, ref.runs)
    alt_codes = table.codes(alt.scenario, alt.runs)
    columns = np.arange(table.n_columns)
    ind_ref = (ref_codes[:, :, None] == columns).any(axis=1).astype(np.int64)
    ind_alt = (alt_codes[:, :, None] == columns).any(axis=1).astype(np.int64)
    d = ind_alt - ind_ref
    s = comparison.names.index("nudged")
    np.testing.assert_array_equal(comparison.paired_sum[s], d.sum(axis=0))
    np.testing.assert_array_equal(comparison.paired_sumsq[s], (d * d).sum(axis=0))
    np.testing.assert_array_equal(comparison.paired_sum[comparison.names.index("report")], 0)


def test_unsettled_rows_are_outcome_columns(comparison):
    table = OutcomeTable.of(comparison["report"].scenario)
    assert comparison.outcomes == table.labels
    assert ("basing", "unsettled") in comparison.outcomes
    assert comparison.outcomes[table.n_joint - 1] == ("joint", "no agreement")
    # Each run is in exactly one column of each table in both scenarios, so
    # within a table the per-run differences D_r sum to 0, run by run.
    s = comparison.names.index("nudged")
    for _, _, columns in table.tables():
        assert comparison.paired_sum[s, columns].sum() == 0
    diffs = comparison.differences()
    for (_, _), group in diffs.groupby(["scenario", "table"]):
        assert group.difference.sum() == pytest.approx(0.0, abs=1e-12)
    unsettled = diffs[(diffs.table == "basing") & (diffs.outcome == "unsettled")]
    assert len(unsettled) == 1


def test_differences_are_means_of_paired_indicator_differences(comparison):
    diffs = comparison.differences()
    n = comparison.n_runs
    z = stats.norm.ppf(0.975)
    s = comparison.names.index("nudged")
    for c, row in enumerate(diffs.itertuples()):
        # Mean of D equals the difference of the two probabilities ...
        assert row.difference == pytest.approx(
            row.probability - row.reference_probability, abs=1e-15
        )
        # ... and the interval is mean +- z sd(D) / sqrt(n), sd with n - 1.
        total, total_sq = comparison.paired_sum[s, c], comparison.paired_sumsq[s, c]
        sd = np.sqrt(max(total_sq - total**2 / n, 0.0) / (n - 1))
        assert row.ci_high - row.difference == pytest.approx(
            z * sd / np.sqrt(n), rel=1e-12, abs=1e-15
        )
        assert row.difference - row.ci_low == pytest.approx(
            z * sd / np.sqrt(n), rel=1e-12, abs=1e-15
        )


def test_paired_interval_is_narrower_than_an_unpaired_one(scenario, nudged, comparison):
    diffs = comparison.differences()
    row = diffs[(diffs.table == "basing") & (diffs.outcome == "withdrawal")].iloc[0]
    paired_half = (row.ci_high - row.ci_low) / 2
    # The same difference from two independent samples of the same size
    # (different seeds): Wald interval of a difference of two proportions.
    n = comparison.n_runs
    a = basesim.simulate(scenario, n_runs=n, rng=101, progress=False).probabilities()
    b = basesim.simulate(nudged, n_runs=n, rng=202, progress=False).probabilities()
    pa = a[(a.table == "basing") & (a.outcome == "withdrawal")].probability.iloc[0]
    pb = b[(b.table == "basing") & (b.outcome == "withdrawal")].probability.iloc[0]
    unpaired_half = stats.norm.ppf(0.975) * np.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n)
    # A small change moves few runs: the paired sd of D is far below the unpaired one.
    assert paired_half < 0.5 * unpaired_half
    assert row.se < 0.5 * row.se_independent


def test_paired_standard_error_matches_the_spread_over_seeds(scenario, nudged):
    # Replicate the comparison with 24 independent seeds: the spread of the
    # estimated differences is what the reported standard error claims.  With
    # 24 replicates the sample sd has relative error about 1 / sqrt(2 * 23) = 15 %;
    # the bounds are about 3.5 such errors wide on each side.
    estimates, reported = [], []
    for seed in range(24):
        cmp = basesim.compare(
            {"report": scenario, "nudged": nudged},
            n_runs=400,
            keep_runs=0,
            rng=seed,
            progress=False,
        )
        d = cmp.differences()
        row = d[(d.table == "basing") & (d.outcome == "withdrawal")].iloc[0]
        estimates.append(row.difference)
        reported.append(row.se)
    ratio = np.std(estimates, ddof=1) / np.sqrt(np.mean(np.square(reported)))
    assert 0.5 < ratio < 1.6


def test_identical_scenarios_differ_by_exactly_zero(scenario):
    cmp = basesim.compare(
        {"a": scenario, "b": scenario}, n_runs=500, keep_runs=0, rng=3, progress=False
    )
    d = cmp.differences()
    assert (d.difference == 0).all()
    assert (d.ci_low == 0).all() and (d.ci_high == 0).all()


def test_mesa_engine_gives_the_same_counts(scenario, nudged):
    # Both engines play the same protocol on the same random inputs, run by run.
    kwargs = {"n_runs": 20, "keep_runs": 0, "rng": 8, "progress": False}
    mesa = basesim.compare({"r": scenario, "n": nudged}, engine="mesa", **kwargs)
    batch = basesim.compare({"r": scenario, "n": nudged}, engine="batch", **kwargs)
    assert mesa.provenance.engine == "mesa"
    np.testing.assert_array_equal(mesa.paired_sum, batch.paired_sum)
    np.testing.assert_array_equal(mesa.paired_sumsq, batch.paired_sumsq)
    for x, y in zip(mesa.results, batch.results, strict=True):
        np.testing.assert_array_equal(_counts(x), _counts(y))


def test_reference_and_frames(comparison):
    frame = comparison.to_frame()
    assert list(frame.columns) == [
        "scenario",
        "table",
        "outcome",
        "count",
        "probability",
        "ci_low",
        "ci_high",
        "difference",
        "difference_ci_low",
        "difference_ci_high",
    ]
    ref_rows = frame[frame.scenario == "report"]
    assert (ref_rows.difference == 0).all()
    for (_, _), group in frame.groupby(["scenario", "table"]):
        assert group.probability.sum() == pytest.approx(1.0)
    other = basesim.compare(
        {"report": comparison["report"].scenario, "nudged": comparison["nudged"].scenario},
        n_runs=300,
        reference="nudged",
        keep_runs=0,
        rng=1,
        progress=False,
    )
    assert other.reference == "nudged"
    assert set(other.differences().scenario) == {"report"}
    text = repr(comparison)
    assert text.startswith("ComparisonResult(reference='report', scenarios=2, n_runs=3,000")
    assert "withdrawal / substantial" in text and "nudged" in text
    assert "paired difference from 'report'" in text
    assert "<table" in comparison._repr_html_()
    with pytest.raises(KeyError, match="no scenario 'other'"):
        comparison["other"]


def test_bad_arguments(scenario):
    with pytest.raises(basesim.BasesimError, match="at least two names"):
        basesim.compare({"only": scenario}, n_runs=10)
    with pytest.raises(
        basesim.BasesimError, match=r"reference must be one of 'a', 'b' \(got 'c'\)"
    ):
        basesim.compare({"a": scenario, "b": scenario}, n_runs=10, reference="c")
    with pytest.raises(basesim.BasesimError, match=r"scenarios\['b'\] must be a basesim.Scenario"):
        basesim.compare({"a": scenario, "b": "syria-2025"}, n_runs=10)
    with pytest.raises(
        basesim.BasesimError, match=r"n_runs must be a whole number >= 2 \(got 1\)"
    ):
        basesim.compare({"a": scenario, "b": scenario}, n_runs=1)
    with pytest.raises(basesim.BasesimError, match="engine must be one of batch, mesa, numpy"):
        basesim.compare({"a": scenario, "b": scenario}, n_runs=10, engine="fast")
    with pytest.raises(
        basesim.BasesimError, match=r"executor must be a concurrent\.futures\.Executor"
    ):
        basesim.compare({"a": scenario, "b": scenario}, n_runs=10, executor=4)
    both = scenario.replace(
        {
            "issues.basing.categories": ("out", "in"),
            "issues.basing.cuts": (0.5,),
            "issues.sanctions_relief.categories": ("no", "yes"),
            "issues.sanctions_relief.cuts": (0.5,),
        }
    )
    with pytest.raises(
        basesim.BasesimError,
        match=r"the scenarios share no outcome table .*: joint \(the scenarios' issues or "
        r"categories differ\); basing \(its categories differ between the scenarios\); "
        r"sanctions_relief \(its categories differ",
    ):
        basesim.compare({"a": scenario, "b": both}, n_runs=10)


def _repr_blocks(text):
    """The tables of a comparison's repr: {header: [(label, [cells])]}, cells split on 2+ spaces."""
    blocks = {}
    for block in text.split("\n\n")[1:]:
        lines = [line for line in block.splitlines() if not line.startswith("  (")]
        if not lines or lines[0].startswith("  not compared"):
            continue
        header = re.split(r"\s{2,}", lines[0].strip())
        rows = [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]
        blocks[header[0]] = (header[1:], rows)
    return blocks


def test_repr_shows_every_outcome_any_scenario_reaches(comparison):
    # Every outcome with a run in any scenario is a row, in every table, so the
    # printed probabilities of each scenario add up to 100 % (each rounded to
    # 0.1 %: the sum is within 0.05 % per row of 100 %); the table's last row
    # ("no agreement", "unsettled") is always shown.
    blocks = _repr_blocks(repr(comparison))
    frame = comparison.to_frame()
    assert list(blocks) == ["joint outcome", "issue basing", "issue sanctions_relief"]
    for header, table in zip(blocks, ("joint", "basing", "sanctions_relief"), strict=True):
        names, rows = blocks[header]
        assert names == ["report", "nudged"]
        part = frame[frame.table == table]
        reached = part.groupby("outcome", sort=False)["count"].max()
        expected = [o for o, c in reached.items() if c > 0 or o == reached.index[-1]]
        assert [row[0] for row in rows] == expected
        for j in range(len(names)):
            total = sum(float(row[1 + j].split("%")[0]) for row in rows)
            assert total == pytest.approx(100.0, abs=0.05 * len(rows))
    assert blocks["joint outcome"][1][-1][0] == "no agreement"
    hidden = int((frame.groupby(["table", "outcome"], sort=False)["count"].max() == 0).sum())
    hidden -= sum(
        int(frame[(frame.table == t)].groupby("outcome", sort=False)["count"].max().iloc[-1] == 0)
        for t in ("joint", "basing", "sanctions_relief")
    )
    if hidden:
        assert f"({hidden} outcome" in repr(comparison)


@pytest.fixture(scope="module")
def extra_issue(scenario):
    # The report scenario's two issues and a third, russian_package.
    return basesim.load_scenario("syria-2025-russian-offer")


def test_scenarios_with_different_issues_compare_the_tables_they_share(scenario, extra_issue):
    n = 200
    cmp = basesim.compare(
        {"report": scenario, "offer": extra_issue}, n_runs=n, keep_runs=n, rng=3, progress=False
    )
    assert cmp.tables == ("basing", "sanctions_relief")
    assert cmp.left_out == (
        "joint (the scenarios' issues or categories differ)",
        "russian_package (only in 'offer')",
    )
    assert set(cmp.to_frame().table) == {"basing", "sanctions_relief"}
    assert "not compared: joint (the scenarios' issues or categories differ); russian_package" in (
        repr(cmp)
    )
    # Each scenario's numbers are its own simulation's, table by table.
    for name, scn in (("report", scenario), ("offer", extra_issue)):
        alone = basesim.simulate(scn, n_runs=n, rng=3, progress=False).probabilities()
        mine = cmp.probabilities()
        mine = mine[mine.scenario == name].drop(columns="scenario").reset_index(drop=True)
        alone = alone[alone.table.isin(cmp.tables)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone)
    # The paired sums, recounted run by run from the kept runs: D_r per column.
    s = cmp.names.index("offer")
    for table in cmp.tables:
        ref_rows = _issue_rows(cmp["report"], table)
        alt_rows = _issue_rows(cmp["offer"], table)
        columns = [c for c, (t, _) in enumerate(cmp.outcomes) if t == table]
        for j, c in enumerate(columns):
            d = (alt_rows == j).astype(int) - (ref_rows == j).astype(int)
            assert cmp.paired_sum[s, c] == d.sum()
            assert cmp.paired_sumsq[s, c] == (d * d).sum()


def _issue_rows(result, issue):
    table = OutcomeTable.of(result.scenario)
    rows = table.issue_rows(result.scenario, result.runs)
    return rows[:, result.scenario.issue_names.index(issue)]


def test_compare_leaves_out_an_issue_whose_categories_differ(scenario):
    other = scenario.replace(
        {"issues.basing.categories": ("out", "in"), "issues.basing.cuts": (0.5,)}
    )
    cmp = basesim.compare({"a": scenario, "b": other}, n_runs=20, rng=1, progress=False)
    assert cmp.tables == ("sanctions_relief",)
    assert cmp.left_out == (
        "joint (the scenarios' issues or categories differ)",
        "basing (its categories differ between the scenarios)",
    )
