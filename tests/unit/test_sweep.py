"""basesim.sweep: designs, variants on common random numbers, failures, checkpoints."""

from __future__ import annotations

import importlib
import json

import numpy as np
import pytest

import basesim
from basesim.exceptions import CheckpointError
from basesim.experiments.executors import OutcomeTable, tally_counts

POSITION = "actors.syria.basing.position"
TURKEY = "actors.turkey.influence.syria"


@pytest.fixture(scope="module")
def grid(scenario):
    return basesim.sweep(
        scenario,
        {POSITION: (0.0, 0.6), TURKEY: (0.0, 0.9)},
        design="grid",
        n_points=3,
        n_runs=150,
        batch_size=400,
        rng=4,
        progress=False,
    )


def test_grid_is_the_full_factorial_with_ends(grid):
    # 3 values per axis, ends included: 0, 0.3, 0.6 and 0, 0.45, 0.9; 9 points.
    design = grid.design
    assert len(design) == 9
    assert sorted(set(design[POSITION])) == pytest.approx([0.0, 0.3, 0.6])
    assert sorted(set(design[TURKEY])) == pytest.approx([0.0, 0.45, 0.9])
    pairs = set(zip(design[POSITION].round(6), design[TURKEY].round(6), strict=True))
    assert len(pairs) == 9


def test_invalid_points_are_recorded_and_the_sweep_goes_on(grid):
    # Investors pull on Syria with up to 0.3, so Turkey's 0.9 makes 1.2 > 1: the
    # three points with Turkey at 0.9 are invalid scenarios; 0.45 + 0.3 is fine.
    failed = sorted(f.point for f in grid.failures)
    expected = np.flatnonzero(np.isclose(grid.points[:, 1], 0.9)).tolist()
    assert failed == expected
    for failure in grid.failures:
        assert failure.error == "ScenarioError"
        assert "influence weights on actors.syria must sum to at most 1" in failure.message
        assert failure.values[TURKEY] == pytest.approx(0.9)
    assert not grid.ok[failed].any()
    assert np.isnan(grid.probability("basing=retention")[failed]).all()
    assert (grid.counts[failed] == 0).all()
    # Every simulated point counted all its runs in every table.
    table = OutcomeTable.of(grid.scenario)
    ok = grid.counts[grid.ok]
    for _, _, columns in table.tables():
        assert (ok[:, columns].sum(axis=1) == grid.n_runs).all()
    assert "3 point(s) failed" in repr(grid)


def test_each_point_is_what_simulate_gives_for_its_variant(scenario, grid):
    # Every point runs runs 0 .. n_runs - 1 of the same seed as simulate would.
    for point in (0, 4):
        values = dict(zip(grid.parameter_names, grid.points[point], strict=True))
        variant = scenario.replace({k: float(v) for k, v in values.items()})
        alone = basesim.simulate(variant, n_runs=grid.n_runs, rng=4, progress=False)
        np.testing.assert_array_equal(grid.counts[point], tally_counts(alone.tally))


def test_unsettled_outcomes_are_columns_like_any_other(grid):
    # Each issue's table ends with "unsettled", the joint table with "no agreement".
    assert grid.outcomes == OutcomeTable.of(grid.scenario).labels
    assert ("basing", "unsettled") in grid.outcomes
    assert ("joint", "withdrawal / unsettled") in grid.outcomes
    assert grid.outcomes[15] == ("joint", "no agreement")
    columns = {
        "basing=unsettled": grid.outcomes.index(("basing", "unsettled")),
        "joint=withdrawal / unsettled": grid.outcomes.index(("joint", "withdrawal / unsettled")),
        "no agreement": 15,
        "joint=unsettled / unsettled": 15,
    }
    for name, column in columns.items():
        p = grid.probability(name)
        np.testing.assert_array_equal(p[grid.ok], grid.counts[grid.ok, column] / grid.n_runs)
        assert np.isnan(p[~grid.ok]).all()
    # An issue is unsettled exactly when it is in no category of its table.
    for issue in grid.scenario.issues:
        categories = [grid.outcomes.index((issue.name, c)) for c in issue.categories]
        settled = grid.counts[:, categories].sum(axis=1) / grid.n_runs
        unsettled = grid.probability(f"{issue.name}=unsettled")
        np.testing.assert_allclose((settled + unsettled)[grid.ok], 1.0)
    frame = grid.to_frame()
    assert set(frame[frame.table == "basing"].outcome) == {
        "withdrawal", "reduced presence", "retention", "unsettled"
    }  # fmt: skip
    summary = grid.summary()
    assert summary.outcome.tolist() == [o for _, o in grid.outcomes]


def test_to_frame_is_tidy(grid):
    frame = grid.to_frame()
    n_ok = int(grid.ok.sum())
    assert len(frame) == n_ok * len(grid.outcomes)
    assert list(frame.columns) == [
        "point",
        POSITION,
        TURKEY,
        "table",
        "outcome",
        "count",
        "probability",
        "ci_low",
        "ci_high",
    ]
    sums = frame.groupby(["point", "table"]).probability.sum()
    assert sums.to_numpy() == pytest.approx(np.ones(len(sums)))
    # Wilson intervals hold the estimate (up to rounding at p = 0 and p = 1).
    assert (frame.ci_low <= frame.probability + 1e-12).all()
    assert (frame.probability <= frame.ci_high + 1e-12).all()
    assert set(frame.point) == set(np.flatnonzero(grid.ok))
    assert "<table" in grid._repr_html_()


def test_lhs_design_has_one_point_per_stratum(scenario):
    res = basesim.sweep(
        scenario,
        {POSITION: (0.0, 0.6), "actors.syria.basing.salience": (0.2, 0.8)},
        design="lhs",
        n_points=8,
        n_runs=20,
        rng=2,
        progress=False,
    )
    lows = np.array([0.0, 0.2])
    unit = (res.points - lows) / 0.6
    for k in range(2):
        assert sorted(np.floor(unit[:, k] * 8).astype(int)) == list(range(8))


def test_designs_are_seeded_by_rng(scenario):
    params = {POSITION: (0.0, 0.6)}
    kwargs = {"design": "sobol", "n_points": 4, "n_runs": 10, "progress": False}
    a = basesim.sweep(scenario, params, rng=1, **kwargs)
    b = basesim.sweep(scenario, params, rng=1, **kwargs)
    c = basesim.sweep(scenario, params, rng=2, **kwargs)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert not np.array_equal(a.points, c.points)


def test_distribution_ranges_go_through_the_quantile_function(scenario):
    dist = basesim.Distribution(kind="triangular", low=0.1, mode=0.1, high=0.5)
    res = basesim.sweep(
        scenario, {POSITION: dist}, design="grid", n_points=3, n_runs=10, rng=1, progress=False
    )
    # Grid quantiles 0, 0.5, 1 of the triangular(0.1, 0.1, 0.5): 0.1, the median
    # 0.5 - 0.4 * sqrt(0.5), and 0.5.
    assert res.points[:, 0] == pytest.approx([0.1, 0.5 - 0.4 * np.sqrt(0.5), 0.5])
    assert "triangular(0.1, 0.1, 0.5)" in repr(res)


def test_bad_arguments(scenario):
    def sweep(params, **kwargs):
        args = {"n_points": 4, "n_runs": 10, "rng": 1, "progress": False, **kwargs}
        return basesim.sweep(scenario, params, **args)

    with pytest.raises(basesim.BasesimError, match=r"no actor 'syri' \(did you mean 'syria'\?\)"):
        sweep({"actors.syri.basing.position": (0, 1)})
    with pytest.raises(basesim.BasesimError, match=r"parameters\['horizon'\] must name a numeric"):
        sweep({"horizon": (12, 24)})
    with pytest.raises(
        basesim.BasesimError, match=r"must be a \(low, high\) range .* \(got \(0.6, 0.1\)\)"
    ):
        sweep({POSITION: (0.6, 0.1)})
    with pytest.raises(basesim.BasesimError, match="parameters must map field paths"):
        sweep({})
    with pytest.raises(
        basesim.BasesimError, match=r"design must be one of lhs, sobol, grid \(got 'random'\)"
    ):
        sweep({POSITION: (0, 1)}, design="random")
    with pytest.raises(basesim.BasesimError, match=r"n_points must be a power of 2 .* \(got 6\)"):
        sweep({POSITION: (0, 1)}, design="sobol", n_points=6)
    with pytest.raises(basesim.BasesimError, match="checkpoint needs a reproducible rng"):
        sweep({POSITION: (0, 1)}, checkpoint="anywhere", rng=None)
    with pytest.raises(
        basesim.BasesimError, match=r"n_runs must be a whole number >= 1 \(got 0\)"
    ):
        sweep({POSITION: (0, 1)}, n_runs=0)
    with pytest.raises(basesim.BasesimError, match=r"outcome must be one of .*'basing=retention'"):
        basesim.sweep(scenario, {POSITION: (0, 1)}, n_points=2, n_runs=5, rng=1).probability(
            "retention"
        )


# -- checkpoints ---------------------------------------------------------------------------
SMALL = {POSITION: (0.0, 0.6), TURKEY: (0.0, 0.9)}


def _small(scenario, checkpoint=None, **kwargs):
    args = {
        "design": "lhs",
        "n_points": 12,
        "n_runs": 40,
        "batch_size": 80,  # two points per chunk
        "rng": 9,
        "progress": False,
        **kwargs,
    }
    return basesim.sweep(scenario, SMALL, checkpoint=checkpoint, **args)


def _assert_same(a, b):
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.failures == b.failures


def test_checkpoint_resumes_only_what_is_missing(scenario, tmp_path):
    plain = _small(scenario)
    full = _small(scenario, checkpoint=tmp_path)
    _assert_same(plain, full)
    chunks = sorted(tmp_path.glob("chunk-*.npz"))
    assert len(chunks) == 6
    manifest = json.loads((tmp_path / "sweep.json").read_text())
    assert manifest["n_runs"] == 40
    # The checkpoint records the layout of its counts, unsettled rows included.
    assert manifest["outcomes"] == list(OutcomeTable.of(scenario).names)
    assert "basing=unsettled" in manifest["outcomes"]
    # Lose two chunks (four points); the rerun simulates just those.
    chunks[1].unlink()
    chunks[4].unlink()
    kept = {p: p.stat().st_mtime_ns for p in tmp_path.glob("chunk-*.npz")}
    again = _small(scenario, checkpoint=tmp_path, batch_size=40)  # another chunking: still fine
    _assert_same(plain, again)
    assert again.resumed_points == 8
    assert {p: p.stat().st_mtime_ns for p in kept} == kept
    # Everything is there now: a third run simulates nothing.
    assert _small(scenario, checkpoint=tmp_path).resumed_points == 12


def test_checkpoint_of_another_sweep_is_refused(scenario, tmp_path):
    _small(scenario, checkpoint=tmp_path)
    with pytest.raises(CheckpointError, match=r"n_runs differs \(checkpoint 40, now 41\)"):
        _small(scenario, checkpoint=tmp_path, n_runs=41)
    with pytest.raises(CheckpointError, match="rng entropy differs"):
        _small(scenario, checkpoint=tmp_path, rng=10)
    with pytest.raises(CheckpointError, match="scenario differs"):
        _small(scenario.replace(horizon=12), checkpoint=tmp_path)
    with pytest.raises(CheckpointError, match="design differs"):
        _small(scenario, checkpoint=tmp_path, design="sobol", n_points=16)
    assert issubclass(CheckpointError, basesim.BasesimError)


def test_damaged_chunk_is_reported(scenario, tmp_path):
    _small(scenario, checkpoint=tmp_path)
    chunk = sorted(tmp_path.glob("chunk-*.npz"))[0]
    chunk.write_bytes(b"not an npz file")
    with pytest.raises(
        CheckpointError, match=r"not a readable checkpoint chunk .* delete the file"
    ):
        _small(scenario, checkpoint=tmp_path)


def test_a_range_outside_the_fields_domain_is_refused_before_any_run(scenario, monkeypatch):
    # A capability range [-1, 0] used to run every point, fail them all and
    # exit 0 with an empty table.
    sweep_module = importlib.import_module("basesim.experiments.sweep")

    def no_runs(*args, **kwargs):
        raise AssertionError("a run was started")

    monkeypatch.setattr(sweep_module, "evaluate_points", no_runs)
    with pytest.raises(
        basesim.SimulationError,
        match=r"parameters\['actors.syria.capability'\] range \[-1, 0\] leaves the field's "
        r"domain: actors.syria.capability must be > 0 \(got -1\)",
    ):
        basesim.sweep(
            scenario,
            {"actors.syria.capability": (-1, 0)},
            design="grid",
            n_points=3,
            n_runs=5,
            rng=1,
        )
    with pytest.raises(basesim.SimulationError, match=r"salience must be in \[0, 1\] \(got 1.5\)"):
        basesim.sweep(
            scenario, {"actors.syria.basing.salience": (0.5, 1.5)}, n_points=2, n_runs=5, rng=1
        )


# -- tasks: threads and engine calls -----------------------------------------------------
def _points_task(scenario, **kwargs):
    from basesim.experiments.executors import PointsTask, RootSeed

    values = np.array([[0.0, 0.2], [0.3, 0.45], [0.6, 0.9]])  # the last point is invalid
    return PointsTask(
        scenario_toml=scenario.to_toml(),
        seed=RootSeed.of(np.random.SeedSequence(4)),
        paths=(POSITION, TURKEY),
        points=(0, 1, 2),
        values=values,
        n_runs=150,
        outcome="value:basing",
        **kwargs,
    )


def test_a_task_on_one_thread_gives_the_same_counts_and_restores_the_threads(
    scenario, monkeypatch
):
    from basesim.experiments import executors

    seen = []
    real = executors._run_stacked

    def watched(*args):
        seen.append(basesim.get_threads())
        return real(*args)

    before = basesim.get_threads()
    every = executors.run_points_task(_points_task(scenario))
    monkeypatch.setattr(executors, "_run_stacked", watched)
    one = executors.run_points_task(_points_task(scenario, threads=1))
    assert seen and set(seen) == {1}
    assert basesim.get_threads() == before
    np.testing.assert_array_equal(every.counts, one.counts)
    np.testing.assert_array_equal(every.sums, one.sums)
    assert every.failures == one.failures
    assert [point for point, _, _ in one.failures] == [2]
    assert every.counts[:2].sum() > 0


def test_a_task_split_into_many_engine_calls_gives_the_same_counts(scenario, monkeypatch):
    # Engine calls of 70 runs (64 is batch_size_for's floor): each point's 150
    # runs are cut 70, 70, 10, one point a call, the draws starting mid-block.
    from basesim.experiments import executors

    whole = executors.run_points_task(_points_task(scenario))
    monkeypatch.setattr(executors, "_RUNS_PER_CALL", 70)
    split = executors.run_points_task(_points_task(scenario))
    np.testing.assert_array_equal(whole.counts, split.counts)
    # The sums are added call by call, so their last bits follow the calls'
    # size; that size depends on the scenario alone, never on the batch size.
    np.testing.assert_allclose(whole.sums, split.sums, rtol=1e-12)
    assert whole.failures == split.failures


def test_tasks_sent_to_an_executor_play_on_one_thread(scenario):
    from concurrent.futures import Executor, Future

    class Recording(Executor):
        """Runs each task here, at once, and records it."""

        def __init__(self):
            self.tasks = []

        def submit(self, fn, /, *args, **kwargs):
            self.tasks.extend(args)
            future = Future()
            future.set_result(fn(*args, **kwargs))
            return future

    executor = Recording()
    kwargs = {"design": "grid", "n_points": 2, "n_runs": 40, "rng": 4, "progress": False}
    serial = basesim.sweep(scenario, {POSITION: (0.0, 0.6)}, **kwargs)
    sent = basesim.sweep(scenario, {POSITION: (0.0, 0.6)}, executor=executor, **kwargs)
    assert executor.tasks and all(task.threads == 1 for task in executor.tasks)
    np.testing.assert_array_equal(serial.counts, sent.counts)


def test_stacked_variants_get_the_parameters_they_would_get_alone(scenario, monkeypatch):
    # The base's sampled values are shared by the variants of an engine call;
    # each run's parameters must be, to the bit, those the variant maps alone.
    from basesim.engine.compiled import compile_scenario
    from basesim.experiments import executors

    base = compile_scenario(scenario)
    group = [
        (0, executors._compile_variant(scenario, (POSITION,), np.array([0.1]))),
        (1, executors._compile_variant(scenario, (TURKEY,), np.array([0.3]))),
    ]
    root = np.random.SeedSequence(3)
    shared = executors.draw_inputs(base, root, 700, 2100)  # starts inside a block
    given = []
    real = executors.run_batch

    def capture(engine_input, inputs, parameters=None):
        given.append(parameters)
        return real(engine_input, inputs, parameters=parameters)

    monkeypatch.setattr(executors, "run_batch", capture)
    executors._run_stacked(base, group, shared, root, 700, 2100)
    for (_, variant), lo in zip(group, (0, 1400), strict=True):
        alone = variant.parameters(executors.draw_inputs(variant, root, 700, 2100).quantiles)
        for name in type(alone).__slots__:
            stacked = getattr(given[0], name)[lo : lo + 1400]
            np.testing.assert_array_equal(stacked, getattr(alone, name), err_msg=name, strict=True)
