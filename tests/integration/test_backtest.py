"""Backtests on a hand-built DEU file, with every score derived by hand.

A test protocol, ``standstill``, never settles anything: every run ends at the
status quo, so its predictions are the status quos and its scores can be
worked out on paper.  The file has four scored issues of three proposals
(three actors: com, de, fr; GDP 1, 2, 1):

=====  ========  ==============  ============  ======  =======  ====  ====  ======
issue  proposal  positions       saliences     status  outcome  wm    cwm   median
=====  ========  ==============  ============  ======  =======  ====  ====  ======
A      P1 (QMV)  100, 0, 50      50, 50, 100   0       40       50    40    50
B      P1 (QMV)  100, 100, 0     100, 50, 50   100     70       75    80    100
C      P2 (Unan) 0, 50, 100      100, 50, 100  20      50       50    50    50
D      P3 (Unan) 20, 80, 60      50, 50, 0     (80)    60       50    60    60
=====  ========  ==============  ============  ======  =======  ====  ====  ======

wm = sum s x / sum s; cwm = sum c s x / sum c s with c the GDP; D has no
reference point, so its status quo is the position farthest from the
Commission's (de at 80).  E.g. A: wm = (50*100 + 0 + 100*50) / 200 = 50,
cwm = (50*100 + 100*0 + 100*50) / 250 = 40.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import basesim
from basesim.cli import main
from basesim.data import read_deu
from basesim.engine.outcome import BatchOutcome
from basesim.experiments.backtest import crps_sample, kfold_by_proposal
from basesim.exports import read_table
from basesim.protocols import register, unregister
from basesim.protocols.bargaining import RoundRecord

matplotlib.use("Agg")

COLUMNS = ["prnr", "isnr", "proc", "counvte", "intro", "finact"]
ACTORS = ("com", "de", "fr")
ROWS = [
    # prnr, isnr, proc, counvte, positions, saliences, rp, out
    ("P1", "A", "COD", "QMV", (100, 0, 50), (50, 50, 100), 0, 40),
    ("P1", "B", "COD", "QMV", (100, 100, 0), (100, 50, 50), 100, 70),
    ("P2", "C", "CNS", "Unan", (0, 50, 100), (100, 50, 100), 20, 50),
    ("P3", "D", "CNS", "Unan", (20, 80, 60), (50, 50, 0), "", 60),
    ("P3", "E", "CNS", "Unan", (20, 80, 60), (50, 50, 0), "", ""),  # no outcome: skipped
]
OBSERVED = np.array([40.0, 70.0, 50.0, 60.0])
STANDSTILL = np.array([0.0, 100.0, 20.0, 80.0])
WEIGHTED = np.array([50.0, 75.0, 50.0, 50.0])
CAPABILITY = np.array([40.0, 80.0, 50.0, 60.0])
MEDIAN = np.array([50.0, 100.0, 50.0, 60.0])


def write_file(path: Path, rows=ROWS) -> Path:
    header = [*COLUMNS, *(f"p{a}" for a in ACTORS), *(f"s{a}" for a in ACTORS), "rp", "out"]
    gdp = ["", "", "", "", "", "", "1", "2", "1", "", "", "", "", ""]
    lines = ["\t".join(header), "\t".join(gdp)]
    for prnr, isnr, proc, vote, pos, sal, rp, out in rows:
        cells = [prnr, isnr, proc, vote, "01-02-99", "17-07-00", *pos, *sal, rp, out]
        lines.append("\t".join(str(c) for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(slots=True, kw_only=True)
class _State:
    stances: np.ndarray
    proposals: np.ndarray
    status_quo: np.ndarray

    def take(self, rows):
        return _State(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows, part):
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


@dataclass(frozen=True, slots=True)
class Standstill:
    """Nothing is ever proposed or settled: every run ends at the status quo (month 1)."""

    name: str = field(default="standstill")

    def compile(self, compiled):
        return None

    def start(self, compiled, params):
        n = params.n_runs
        return _State(
            stances=params.position.copy(),
            proposals=np.zeros((n, compiled.n_actors), dtype=np.int64),
            status_quo=params.status_quo.copy(),
        )

    def play_round(self, compiled, tables, params, state, month, recognition, noise):
        n, n_act = state.proposals.shape
        k = state.status_quo.shape[1]
        return RoundRecord(
            proposer=np.full(n, -1, dtype=np.intp),
            package=state.status_quo.copy(),
            settles=np.zeros((n, k), dtype=bool),
            offered=np.zeros(n, dtype=bool),
            accepted=np.zeros((n, n_act), dtype=bool),
            passed=np.zeros(n, dtype=bool),
            reservation=np.full((n, n_act), np.nan),
            disagreement=np.full((n, n_act), np.nan),
        )

    def finished(self, state):
        return np.ones(state.proposals.shape[0], dtype=bool)

    def outcome(self, state, sampled):
        n, k = state.status_quo.shape
        return BatchOutcome(
            package=state.status_quo.copy(),
            settled=np.zeros((n, k), dtype=bool),
            settled_round=np.zeros((n, k), dtype=np.int64),
            settled_by=np.full((n, k), -1, dtype=np.int64),
            proposals=state.proposals.copy(),
            sampled=sampled,
        )


@pytest.fixture(scope="module")
def standstill():
    register("standstill", Standstill)
    yield "standstill"
    unregister("standstill")


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return read_deu(write_file(tmp_path_factory.mktemp("deu") / "deu.tsv"))


@pytest.fixture(scope="module")
def result(cases, standstill):
    return basesim.backtest(cases, models=[standstill], n_runs=20, n_boot=400, rng=5)


def test_the_cases_are_the_four_scored_issues(cases):
    assert [c.issue_id for c in cases] == ["A", "B", "C", "D"]
    assert [c.status_quo_source for c in cases] == ["rp", "rp", "rp", "imputed"]


def test_predictions_are_the_status_quo_and_the_baselines(result):
    frame = result.predictions_frame().set_index(["model", "statistic"])
    for statistic in ("mean", "median"):
        got = frame.loc[("standstill", statistic), "prediction"].to_numpy()
        np.testing.assert_allclose(got, STANDSTILL)
    for name, expected in [
        ("weighted_mean", WEIGHTED),
        ("capability_weighted_mean", CAPABILITY),
        ("median_of_positions", MEDIAN),
    ]:
        np.testing.assert_allclose(frame.loc[(name, "point"), "prediction"].to_numpy(), expected)


def test_scores_match_the_hand_derivation(result):
    table = result.to_frame().set_index(["model", "statistic"])
    row = table.loc[("standstill", "mean")]
    # Errors |0-40|, |100-70|, |20-50|, |80-60| = 40, 30, 30, 20.
    assert row["n"] == 4
    assert row["mae"] == pytest.approx(30.0)
    assert row["rmse"] == pytest.approx(np.sqrt((1600 + 900 + 900 + 400) / 4))
    assert row["median_ae"] == pytest.approx(30.0)
    # Deviations from the means (50 and 55): (-50, 50, -30, 30) and (-15, 15, -5, 5):
    # r = 1800 / sqrt(6800 * 500).
    assert row["r"] == pytest.approx(1800 / np.sqrt(6800 * 500))
    # The weighted mean's errors are 10, 5, 0, 10: the standstill is never closer.
    assert row["beats_weighted_mean"] == 0.0
    assert row["mae_vs_weighted_mean"] == pytest.approx(30.0 - 6.25)
    # One value per case: the CRPS is the absolute error.
    assert row["crps"] == pytest.approx(30.0)
    wm = table.loc[("weighted_mean", "point")]
    assert wm["mae"] == pytest.approx(6.25) and np.isnan(wm["crps"])
    cwm = table.loc[("capability_weighted_mean", "point")]
    # Errors 0, 10, 0, 0; strictly closer than the weighted mean on A and D only.
    assert cwm["mae"] == pytest.approx(2.5)
    assert cwm["beats_weighted_mean"] == pytest.approx(0.5)
    med = table.loc[("median_of_positions", "point")]
    # Errors 10, 30, 0, 0; strictly closer only on D.
    assert med["mae"] == pytest.approx(10.0) and med["beats_weighted_mean"] == pytest.approx(0.25)


def test_intervals_resample_proposals(result):
    table = result.to_frame().set_index(["model", "statistic"])
    # A resample's MAE is a ratio of per-proposal sums, so it lies between the smallest
    # and the largest per-proposal mean error: weighted mean P1 7.5, P2 0, P3 10.
    wm = table.loc[("weighted_mean", "point")]
    assert 0.0 <= wm["mae_low"] <= wm["mae"] <= wm["mae_high"] <= 10.0
    # Standstill: P1 35, P2 30, P3 20.
    ss = table.loc[("standstill", "mean")]
    assert 20.0 <= ss["mae_low"] <= ss["mae"] <= ss["mae_high"] <= 35.0
    assert ss["mae_low"] < ss["mae_high"]


def test_breakdowns_by_rule_and_procedure(result):
    by_rule = result.breakdown("voting_rule").set_index(["voting_rule", "model", "statistic"])
    # QMV: A and B (40, 30); Unan: C and D (30, 20).
    assert by_rule.loc[("QMV", "standstill", "mean"), "mae"] == pytest.approx(35.0)
    assert by_rule.loc[("Unan", "standstill", "mean"), "mae"] == pytest.approx(25.0)
    by_proc = result.breakdown("procedure").set_index(["procedure", "model", "statistic"])
    assert by_proc.loc[("COD", "weighted_mean", "point"), "mae"] == pytest.approx(7.5)
    with pytest.raises(basesim.ResultError, match="by must be one of"):
        result.breakdown("council")


def test_same_rng_same_result_and_the_result_is_frozen(cases, result, standstill):
    again = basesim.backtest(cases, models=[standstill], n_runs=20, n_boot=400, rng=5)
    np.testing.assert_array_equal(again.predictions, result.predictions)
    assert again.to_frame().equals(result.to_frame())
    with pytest.raises(AttributeError):
        result.n_runs = 3
    assert "4 cases of 3 proposals" in repr(result)


def test_an_executor_gives_the_same_result(cases, result, standstill):
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = basesim.backtest(
            cases, models=[standstill], n_runs=20, n_boot=400, executor=pool, rng=5
        )
    np.testing.assert_array_equal(again.predictions, result.predictions)
    with pytest.raises(basesim.SimulationError, match="executor must be"):
        basesim.backtest(cases, models=[standstill], n_runs=2, executor="pool")


def test_bargaining_settles_where_every_actor_stands(tmp_path):
    # Every actor wants 100 and the status quo is 0: the Commission proposes 100 in
    # month 1, which gives every actor its ideal, so all accept.  Mean, median: 100.
    rows = [("P1", "A", "COD", "QMV", (100, 100, 100), (50, 80, 20), 0, 90)]
    cases = read_deu(write_file(tmp_path / "one.tsv", rows))
    res = basesim.backtest(cases, models=["bargaining"], n_runs=10, n_boot=10, rng=1)
    np.testing.assert_allclose(res.predictions[:2, 0], [100.0, 100.0])
    assert res.crps[0, 0] == pytest.approx(10.0)


def test_bad_arguments(cases):
    with pytest.raises(basesim.ProtocolError, match="model must be one of"):
        basesim.backtest(cases, models=["no-such-model"], n_runs=2)
    with pytest.raises(basesim.SimulationError, match="at least one case"):
        basesim.backtest([], n_runs=2)
    with pytest.raises(basesim.SimulationError, match="n_runs must be a whole number"):
        basesim.backtest(cases, models=["bargaining"], n_runs=0)


def test_crps_of_a_sample():
    # Values 0, 0, 1, 1 and y = 1: E|X - y| = 1/2; E|X - X'| = 8/16 = 1/2; CRPS 1/4.
    assert crps_sample([0, 0, 1, 1], 1.0) == pytest.approx(0.25)
    # A point mass: the absolute error.
    assert crps_sample([3.0, 3.0], 1.0) == pytest.approx(2.0)


def test_kfold_keeps_each_proposal_in_one_fold(cases):
    proposals = [c.proposal for c in cases]
    folds = kfold_by_proposal(proposals, k=3, rng=0)
    tests = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(tests, np.arange(len(cases)))
    for train, test in folds:
        assert {proposals[i] for i in train}.isdisjoint({proposals[i] for i in test})
    with pytest.raises(basesim.SimulationError, match="k must be a whole number from 2"):
        kfold_by_proposal(proposals, k=4)


def test_plot_draws_the_table(result):
    from basesim.plotting import backtest_errors

    rows = backtest_errors(result)
    assert rows["label"].tolist() == [
        "standstill (mean)",
        "salience-weighted mean",
        "capability x salience weighted mean",
        "median of positions",
    ]
    ax = result.plot()
    widths = [bar.get_width() for bar in ax.patches]
    np.testing.assert_allclose(widths, rows["mae"].to_numpy())
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_the_command_prints_the_table(tmp_path, capsys, standstill):
    path = write_file(tmp_path / "deu.tsv")
    out_csv = tmp_path / "pred.csv"
    status = main(
        [
            "backtest",
            str(path),
            "--models",
            "standstill",
            "--n-runs",
            "5",
            "--n-boot",
            "50",
            "--by",
            "voting_rule",
            "--out",
            str(out_csv),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "4 cases of 3 proposals" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("standstill"))
    assert line.split()[:4] == ["standstill", "mean", "4", "30.00"]
    assert "by voting_rule:" in out and out_csv.is_file()
    # The predictions carry their provenance: the data file (name and SHA-256) stands
    # where a simulation's scenario would.
    assert err == f"wrote {out_csv}\n"
    provenance = read_table(out_csv).attrs["provenance"]
    assert provenance["data"] == str(path)
    assert provenance["data_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (provenance["rng"], provenance["n_runs"], provenance["n_boot"]) == ("1", 5, 50)
    assert provenance["model"][0] == "standstill"


def test_the_command_scores_a_cross_validated_ensemble(tmp_path, capsys, standstill):
    path = write_file(tmp_path / "deu.tsv")
    argv = ["backtest", str(path), "--models", "standstill,compromise", "--n-runs", "3"]
    status = main([*argv, "--n-boot", "20", "--ensemble", "2"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert any(x.strip().startswith("ensemble-cv") for x in out.splitlines())
    assert "out of sample" in out
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("ensemble-cv:"))
    weights = {x.split()[0]: float(x.split()[1]) for x in lines[start + 1 : start + 3]}
    # The printed weights are those of the API's fit on the same backtest (rng 1).
    result = basesim.backtest(
        read_deu(path), models=["standstill", "compromise"], n_runs=3, n_boot=20, rng=1
    )
    fit = basesim.cross_validate_ensemble(result, k=2, rng=1)
    assert weights == {m: round(w, 3) for m, w in zip(fit.models, fit.weights, strict=True)}
    row = fit.to_frame().query("model == 'ensemble-cv'").iloc[0]
    printed = next(x for x in lines if x.strip().startswith("ensemble-cv") and "mean" in x)
    assert f"{row['mae']:.2f}" in printed.split()


def test_the_command_names_a_bad_row(tmp_path, capsys):
    rows = [("P1", "A", "COD", "QMV", (100, 0, 50), (50, "", 100), 0, 40)]
    status = main(["backtest", str(write_file(tmp_path / "bad.tsv", rows))])
    _, err = capsys.readouterr()
    assert status == 2
    assert "line 3 (issue A), column sde" in err and "--missing-salience drop" in err
