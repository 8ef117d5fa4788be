"""Outcome expressions: the parser on truth tables and bad input, and experiments using them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

import basesim
from basesim.experiments.executors import RootSeed
from basesim.experiments.sensitivity import _SAMPLE_STREAM, sobol_sample
from basesim.experiments.sweep import SweptParameter
from basesim.expressions import RunOutcomes, parse_outcome
from basesim.outcomes import OutcomeTable
from basesim.testing import spatial_scenario

HORIZON = 3  # spatial_scenario's horizon


def _two_issues():
    # Issues i0 and i1, each with categories "low" and "high" (cut 0.5); a
    # run's row in an issue's table is 0 (low), 1 (high) or 2 (unsettled).
    return spatial_scenario(
        positions={"a": (0.2, 0.8), "b": (0.6, 0.4)},
        saliences={"a": (1.0, 1.0), "b": (1.0, 1.0)},
        capabilities={"a": 1.0, "b": 1.0},
        status_quo=(0.0, 0.0),
    )


def _every_run():
    # Every combination of rows (3 x 3), each with two values and two rounds:
    # 36 runs.  Settled rows get round 1 or 3, unsettled ones round 0.
    rows, values, rounds = [], [], []
    for r0, r1, v0, late in itertools.product(range(3), range(3), (0.1, 0.7), (False, True)):
        rows.append((r0, r1))
        values.append((v0, 0.5))
        rounds.append(tuple(0 if r == 2 else (3 if late else 1) for r in (r0, r1)))
    return RunOutcomes(
        rows=np.array(rows, dtype=np.intp),
        values=np.array(values),
        rounds=np.array(rounds, dtype=np.int64),
        horizon=HORIZON,
    )


# Each expression with its truth table written out from the rows, values and
# rounds by hand: ``not`` binds tightest, then ``and``, then ``or``.
TRUTH = [
    ("i0=low", lambda r, v, t: r[:, 0] == 0),
    ("i0=unsettled", lambda r, v, t: r[:, 0] == 2),
    ("settled:i1", lambda r, v, t: r[:, 1] != 2),
    ("joint=low / unsettled", lambda r, v, t: (r[:, 0] == 0) & (r[:, 1] == 2)),
    ("joint=unsettled / unsettled", lambda r, v, t: (r[:, 0] == 2) & (r[:, 1] == 2)),
    ("no agreement", lambda r, v, t: (r[:, 0] == 2) & (r[:, 1] == 2)),
    ("i0=low and i1=high", lambda r, v, t: (r[:, 0] == 0) & (r[:, 1] == 1)),
    ("i0=low or not settled:i1", lambda r, v, t: (r[:, 0] == 0) | (r[:, 1] == 2)),
    ("not (i0=high or i1=high)", lambda r, v, t: (r[:, 0] != 1) & (r[:, 1] != 1)),
    ("not i0=high or i1=high", lambda r, v, t: (r[:, 0] != 1) | (r[:, 1] == 1)),
    (
        "i0=low or i0=high and i1=low",
        lambda r, v, t: (r[:, 0] == 0) | ((r[:, 0] == 1) & (r[:, 1] == 0)),
    ),
    (
        "(i0=low or i0=high) and i1=low",
        lambda r, v, t: ((r[:, 0] == 0) | (r[:, 0] == 1)) & (r[:, 1] == 0),
    ),
    ("not not i0=low", lambda r, v, t: r[:, 0] == 0),
    ("value:i0 < 0.3", lambda r, v, t: v[:, 0] < 0.3),
    ("0.3 > value:i0", lambda r, v, t: v[:, 0] < 0.3),
    ("value:i0 < 0.3 or not settled:i0", lambda r, v, t: (v[:, 0] < 0.3) | (r[:, 0] == 2)),
    # An unsettled issue's month is the horizon + 1 = 4: never <= 3, always > 3.
    ("month:i0 <= 1", lambda r, v, t: t[:, 0] == 1),
    ("month:i0 > 3", lambda r, v, t: t[:, 0] == 0),
    ("month:i0 == 3 and value:i0 >= 0.7", lambda r, v, t: (t[:, 0] == 3) & (v[:, 0] >= 0.7)),
    ("month:i0 != month:i1", lambda r, v, t: np.where(t[:, 0] > 0, t[:, 0], 4) != np.where(
        t[:, 1] > 0, t[:, 1], 4)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "truth"), TRUTH, ids=[t for t, _ in TRUTH])
def test_conditions_follow_their_truth_tables(text, truth):
    runs = _every_run()
    expr = parse_outcome(_two_issues(), text)
    assert expr.is_condition
    expected = truth(runs.rows, runs.values, runs.rounds).astype(float)
    np.testing.assert_array_equal(expr.evaluate(runs), expected)
    # The canonical spelling means the same.
    again = parse_outcome(_two_issues(), expr.text)
    assert again.text == expr.text
    np.testing.assert_array_equal(again.evaluate(runs), expected)


def test_numbers_are_final_values_and_settlement_months():
    runs = _every_run()
    value = parse_outcome(_two_issues(), "value:i0")
    month = parse_outcome(_two_issues(), " month:i1 ")
    assert not value.is_condition and not month.is_condition
    assert month.text == "month:i1"
    np.testing.assert_array_equal(value.evaluate(runs), runs.values[:, 0])
    # Rounds 1 and 3 as they are; an unsettled issue (round 0) counts as 3 + 1.
    np.testing.assert_array_equal(
        month.evaluate(runs), np.where(runs.rounds[:, 1] == 0, 4, runs.rounds[:, 1])
    )


def test_canonical_spelling():
    scn = _two_issues()
    assert parse_outcome(scn, "i0 = low  and(i1=high)").text == "i0=low and i1=high"
    assert parse_outcome(scn, "(i0=low or i1=low) and settled:i0").text == (
        "(i0=low or i1=low) and settled:i0"
    )
    assert parse_outcome(scn, "not (i0=low and i1=low)").text == "not (i0=low and i1=low)"
    assert parse_outcome(scn, "joint=low/high").text == "joint=low / high"
    assert parse_outcome(scn, "joint=no agreement").text == "no agreement"
    assert parse_outcome(scn, "value:i0>.25").text == "value:i0 > 0.25"


def test_categories_with_spaces_and_keywords_are_read_whole():
    # syria-2025's categories include "reduced presence" and "none or limited".
    scn = basesim.load_scenario("syria-2025")
    expr = parse_outcome(scn, "sanctions_relief=none or limited or basing=reduced presence")
    assert expr.text == "sanctions_relief=none or limited or basing=reduced presence"
    table = OutcomeTable.of(scn)
    rows = np.array([[1, 2], [0, 1], [0, 0], [3, 3]], dtype=np.intp)  # basing, sanctions_relief
    runs = RunOutcomes(rows=rows, values=None, rounds=None, horizon=24)
    # basing row 1 is "reduced presence", sanctions_relief row 0 "none or limited"
    # (row 3 of each is "unsettled"): true in the first and third runs only.
    np.testing.assert_array_equal(expr.evaluate(runs), [1.0, 0.0, 1.0, 0.0])
    assert table.row_labels(0)[1] == "reduced presence"
    assert table.row_labels(1)[0] == "none or limited"


def test_a_categorical_condition_is_a_union_of_joint_cells():
    # Counts by joint cell from 36 runs: the probability from counts equals
    # the share of runs in which the condition holds.
    scn = _two_issues()
    table = OutcomeTable.of(scn)
    runs = _every_run()
    counts = np.zeros(table.n_columns, dtype=np.int64)
    counts[: table.n_joint] = np.bincount(table.joint_rows(runs.rows), minlength=table.n_joint)
    for text in ("i0=low and i1=high", "not (i0=high or i1=high)", "no agreement"):
        expr = parse_outcome(scn, text)
        assert expr.is_categorical
        share = expr.evaluate(runs).mean()
        assert expr.probability(counts, 36) == pytest.approx(share, abs=1e-15)
    assert not parse_outcome(scn, "value:i0 < 0.3").is_categorical
    with pytest.raises(basesim.BasesimError, match="needs the runs themselves"):
        parse_outcome(scn, "value:i0 < 0.3").cells()


BAD = [
    ("i0=lwo and i1=high", r"unknown outcome 'i0=lwo' at position 0 \(did you mean 'i0=low'\?\)"),
    ("value:i00 > 0.5", r"unknown issue 'i00' in 'value:i00' at position 0: one of i0, i1 "
     r"\(did you mean 'i0'\?\)"),
    ("valeu:i0 > 0.5", r"unknown quantity 'valeu' .*\(did you mean 'value'\?\)"),
    ("i0=low and", "the expression ends too early"),
    ("(i0=low or i1=low", r"the '\(' at position 0 is never closed"),
    ("i0=low)", r"unexpected '\)' at position 6"),
    ("i0=low i1=low", r"unexpected 'i1=low' at position 7"),
    ("value:i0 and i0=low", r"'and' at position 9 needs a condition, and 'value:i0' is a "
     r"number \(compare it, e.g. 'value:i0 > 0.5'\)"),
    ("not month:i0", r"'not' at position 0 needs a condition"),
    ("settled:i0 < 1", r"'<' at position 11 compares numbers .* 'settled:i0' is a condition"),
    ("0.2 < 0.3", "compares two numbers"),
    ("0.2 < value:i0 < 0.3", "comparisons do not chain"),
    ("   ", "the expression is empty"),
    ("__import__('os').system('x')", r"unknown outcome"),
    ("i0=low & i1=low", r"unexpected '& i1=low' at position 7 \(combine conditions with "
     r"and, or, not\)"),
    # 5,000 levels used to raise a bare RecursionError.
    ("(" * 5000 + "i0=low" + ")" * 5000, r"nests deeper than 100 levels"),
    ("not " * 5000 + "i0=low", r"'not' at position 400 nests deeper than 100 levels"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD, ids=[t[:40] for t, _ in BAD])
def test_bad_expressions_name_the_token(text, message):
    with pytest.raises(basesim.BasesimError, match=message) as info:
        parse_outcome(_two_issues(), text)
    assert isinstance(info.value, basesim.exceptions.SimulationError)
    assert str(info.value).startswith(f"outcome {text!r}: ")


def test_a_lone_unknown_name_lists_every_outcome():
    with pytest.raises(basesim.BasesimError, match=r"outcome must be one of .*\(got 'i0=hgih'\)"):
        parse_outcome(_two_issues(), "i0=hgih")
    with pytest.raises(basesim.BasesimError, match="must be an outcome expression"):
        parse_outcome(_two_issues(), 3)


# -- sensitivity of a continuous outcome ---------------------------------------------------
def _weighted(model="compromise"):
    # Two actors on one issue, capabilities 3 and 1, saliences 1: the compromise
    # is the capability x salience weighted mean of positions,
    # (3 x_a + x_b) / 4, in every run (nothing is uncertain).
    return spatial_scenario(
        positions={"a": (0.5,), "b": (0.5,)},
        saliences={"a": (1.0,), "b": (1.0,)},
        capabilities={"a": 3.0, "b": 1.0},
        status_quo=(0.0,),
        model=model,
    )


PARAMS = {"actors.a.i0.position": (0.0, 1.0), "actors.b.i0.position": (0.0, 1.0)}


def test_sobol_indices_of_a_final_value_are_the_closed_form_ones():
    # f = (3 x_a + x_b) / 4 with x_a, x_b uniform on [0, 1] is additive:
    # V(f) = (9 + 1) / 16 / 12, V_a = 9 / 16 / 12, V_b = 1 / 16 / 12, so
    # S_a = ST_a = 0.9 and S_b = ST_b = 0.1.  Every run at a point gives the
    # same value, so the per-point mean is f itself: the estimates are the
    # Saltelli / Jansen estimators applied to f at the design's points.
    res = basesim.sensitivity(
        _weighted(), PARAMS, outcome="value:i0", n=256, n_runs=4, n_resamples=199, rng=3,
        progress=False,
    )  # fmt: skip
    assert res.outcome == "value:i0" and not res.is_probability
    assert res.noise_variance == 0.0
    params = tuple(SweptParameter(path=p, low=lo, high=hi) for p, (lo, hi) in PARAMS.items())
    stream = RootSeed.of(np.random.SeedSequence(3)).sequence(_SAMPLE_STREAM)
    a, b, ab = sobol_sample(params, 256, np.random.Generator(np.random.PCG64(stream)))

    def f(x):
        return (3 * x[..., 0, :] + x[..., 1, :]) / 4

    exact = stats.sobol_indices(
        func={"f_A": f(a)[None], "f_B": f(b)[None], "f_AB": f(ab)[:, None]}, n=256
    )
    np.testing.assert_allclose(res.first_order, exact.first_order.ravel(), atol=1e-12)
    np.testing.assert_allclose(res.total_order, exact.total_order.ravel(), atol=1e-12)
    assert res.output_variance == pytest.approx(10 / 16 / 12, rel=0.05)
    # The intervals cover the closed-form indices.
    for k, truth in enumerate((0.9, 0.1)):
        assert res.first_order_interval[k, 0] <= truth <= res.first_order_interval[k, 1]
        assert res.total_order_interval[k, 0] <= truth <= res.total_order_interval[k, 1]
    assert "per-point mean: mean" in repr(res)


def test_a_constant_settlement_month_has_no_indices():
    # The compromise model settles in month 1 at every point: nothing to share out.
    with pytest.raises(basesim.BasesimError, match=r"'month:i0' has the same mean \(1\)"):
        basesim.sensitivity(
            _weighted(), PARAMS, outcome="month:i0", n=8, n_runs=2, rng=1, progress=False
        )


def _uncertain():
    # As _weighted, with a's capability uncertain run by run, so that each
    # point's probabilities are shares of runs rather than 0 or 1.
    return _weighted().replace(
        {"actors.a.capability": basesim.Distribution(kind="uniform", low=0.5, high=5.0)}
    )


def test_conditions_read_from_runs_equal_those_read_from_counts():
    # "i0=high" is read from outcome counts; adding "or value:i0 > 2" (never
    # true: values lie in [0, 1]) changes nothing but forces the per-run path.
    # Same runs at every point: the probabilities, and so the indices, agree.
    kwargs = {"n": 16, "n_runs": 64, "n_resamples": 99, "rng": 5, "progress": False}
    counted = basesim.sensitivity(_uncertain(), PARAMS, outcome="i0=high", **kwargs)
    per_run = basesim.sensitivity(
        _uncertain(), PARAMS, outcome="i0=high or value:i0 > 2", **kwargs
    )
    assert per_run.outcome == "i0=high or value:i0 > 2" and per_run.is_probability
    np.testing.assert_array_equal(per_run.first_order, counted.first_order)
    np.testing.assert_array_equal(per_run.total_order, counted.total_order)
    assert per_run.output_mean == counted.output_mean
    assert per_run.noise_variance == pytest.approx(counted.noise_variance, rel=1e-12)
    # Per-run sums do not depend on how points are cut into tasks.
    small = basesim.sensitivity(_uncertain(), PARAMS, outcome="value:i0", batch_size=100, **kwargs)
    default = basesim.sensitivity(_uncertain(), PARAMS, outcome="value:i0", **kwargs)
    np.testing.assert_array_equal(small.first_order, default.first_order)
    assert small.output_mean == default.output_mean
    assert small.noise_variance == default.noise_variance


# -- PRIM on conditions ---------------------------------------------------------------------
def test_prim_finds_where_a_final_value_passes_a_cut_off():
    # b sits at 0 and a's position x is uniform on [0, 1]: the compromise is
    # 3 x / 4, above 0.45 exactly when x > 0.6 (a share 0.4 of the runs).
    scn = spatial_scenario(
        positions={"a": (0.5,), "b": (0.0,)},
        saliences={"a": (1.0,), "b": (1.0,)},
        capabilities={"a": 3.0, "b": 1.0},
        status_quo=(0.0,),
        model="compromise",
    ).replace({"actors.a.i0.position": basesim.Distribution(kind="uniform", low=0.0, high=1.0)})
    res = basesim.simulate(scn, n_runs=2_000, rng=2)
    found = basesim.discover(res, outcome="value:i0 > 0.45", threshold=1.0)
    assert found.outcome == "value:i0 > 0.45"
    # Base density: 0.4 within 3 binomial standard errors sqrt(0.24 / 2000).
    assert found.base_density == pytest.approx(0.4, abs=3 * np.sqrt(0.24 / 2_000))
    assert found.density == 1.0 and found.threshold_met
    box = found.box().set_index("parameter")
    # The box's low end is the first drawn x above 0.6: within a peel of it.
    assert 0.6 < box.loc["actors.a.i0.position", "low"] < 0.63
    with pytest.raises(basesim.BasesimError, match=r"is a number.*'value:i0 > 0.5'"):
        basesim.discover(res, outcome="value:i0")


def test_prim_on_a_sweep_takes_categorical_conditions_only():
    sweep = basesim.sweep(
        _uncertain(), {"actors.b.i0.position": (0.0, 1.0)}, n_points=8, n_runs=64, rng=4,
        progress=False,
    )  # fmt: skip
    found = basesim.discover(sweep, outcome="not i0=high")
    # A point's share of runs not settled high is 1 minus that of "i0=high".
    assert found.base_density == pytest.approx(1 - sweep.probability("i0=high").mean(), abs=1e-12)
    with pytest.raises(basesim.BasesimError, match="which a sweep does not keep"):
        basesim.discover(sweep, outcome="value:i0 > 0.5")


# -- the command line ---------------------------------------------------------------------
def test_the_cli_takes_expressions(capsys, tmp_path):
    from basesim.cli import main

    path = tmp_path / "weighted.toml"
    path.write_text(_weighted().to_toml(), encoding="utf-8")
    argv = ["sensitivity", str(path), "--param", "actors.a.i0.position=0:1", "--param",
            "actors.b.i0.position=0:1", "--n", "16", "--n-runs", "2", "--n-resamples", "50",
            "--rng", "3"]  # fmt: skip
    assert main([*argv, "--outcome", "value:i0"]) == 0
    out, _ = capsys.readouterr()
    assert "outcome='value:i0'" in out and "per-point mean" in out
    # A bad expression is refused before anything runs, naming the token.
    assert main([*argv, "--outcome", "value:i0 > 0.5 and i0=hihg"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(
        "basesim: error: --outcome 'value:i0 > 0.5 and i0=hihg': unknown outcome 'i0=hihg' at "
        "position 19 (did you mean 'i0=high'?)"
    )


def test_prim_on_a_frame_points_expressions_to_a_column():
    import pandas as pd

    frame = pd.DataFrame({"x": [0.1, 0.9], "outcome": ["a", "b"], "i0": [0.2, 0.8]})
    with pytest.raises(basesim.BasesimError, match=r"compute the expression as a column"):
        basesim.discover(frame, outcome="value:i0 > 0.5", parameters=["x"])


def test_a_process_pool_gives_the_serial_indices_of_a_mean():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    kwargs = {"outcome": "value:i0", "n": 8, "n_runs": 32, "n_resamples": 50, "rng": 6}
    serial = basesim.sensitivity(_uncertain(), PARAMS, progress=False, **kwargs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        pooled = basesim.sensitivity(
            _uncertain(), PARAMS, executor=pool, batch_size=64, progress=False, **kwargs
        )
    np.testing.assert_array_equal(pooled.first_order, serial.first_order)
    np.testing.assert_array_equal(pooled.total_order, serial.total_order)
    assert pooled.output_mean == serial.output_mean
