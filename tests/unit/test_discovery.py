"""basesim.discover: PRIM peeling on synthetic data with known boxes, and on results."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import basesim
from basesim.experiments.discovery import prim_peel


def test_hand_worked_one_dimensional_peel():
    # x = 0, 1, ..., 19; y = 1 for x >= 15 (5 of 20).  With peel_alpha = 0.05 a
    # peel removes int(0.05 * m) = 0 -> at least 1 point; cutting the low end
    # raises the mean (5/19, 5/18, ...), cutting the high end lowers it, so
    # PRIM takes the lowest point each step.  min_mass = 0.25 keeps >= 5 points:
    # 15 peels, ending with the box [15, 19] of density 1.
    x = np.arange(20.0)[:, None]
    y = (x[:, 0] >= 15).astype(float)
    t = prim_peel(x, y, peel_alpha=0.05, min_mass=0.25)
    assert len(t.density) == 16
    assert t.peeled == tuple((0, "low") for _ in range(15))
    np.testing.assert_allclose(t.density, 5 / np.arange(20, 4, -1))
    np.testing.assert_allclose(t.mass, np.arange(20, 4, -1) / 20)
    np.testing.assert_allclose(t.coverage, 1.0)
    np.testing.assert_array_equal(t.limits[-1, 0], [15.0, 19.0])


def test_tied_values_are_peeled_a_whole_level_at_a_time():
    # A grid: 5 levels of 10 points each.  A 5 % peel of 50 points (2 points)
    # would cut inside a level, so the whole lowest level goes instead.  Boxes
    # keep at least 0.3 * 50 = 15 points, so peeling stops at levels 3 and 4.
    x = np.repeat(np.arange(5.0), 10)[:, None]
    y = (x[:, 0] >= 3).astype(float)
    t = prim_peel(x, y, peel_alpha=0.05, min_mass=0.3)
    np.testing.assert_array_equal(t.count, [50, 40, 30, 20])
    np.testing.assert_array_equal(t.limits[-1, 0], [3.0, 4.0])


def _known_box_frame(noisy: bool, n: int = 4_000, seed: int = 0) -> pd.DataFrame:
    # Three uniform inputs; the cases of interest are a > 0.6 and b < 0.3 (mass
    # 0.12); c does not matter.
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3))
    inside = (x[:, 0] > 0.6) & (x[:, 1] < 0.3)
    y = np.where(inside, rng.random(n) < 0.9, rng.random(n) < 0.05) if noisy else inside
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["y"] = y
    return frame


def test_finds_a_known_box_exactly_labelled():
    res = basesim.discover(_known_box_frame(noisy=False), outcome="y", parameters=["a", "b", "c"])
    # The densest box reaches density 1 first when it just fits inside the true
    # box: its limits sit within a peel (about 5 % of the remaining points) of
    # the true ones, and c is never cut.
    assert res.density == 1.0
    assert res.restricted == ("a", "b")
    box = res.box().set_index("parameter")
    assert 0.6 <= box.loc["a", "low"] < 0.64
    assert 0.27 < box.loc["b", "high"] <= 0.3
    assert res.coverage > 0.85
    assert not box.loc["c", "restricted"]


def test_finds_a_known_box_in_noisy_data():
    # Density 0.9 inside, 0.05 outside: base density 0.12 * 0.9 + 0.88 * 0.05 = 0.152.
    frame = _known_box_frame(noisy=True)
    res = basesim.discover(frame, outcome="y", parameters=["a", "b", "c"], threshold=0.85)
    assert res.threshold_met
    assert res.base_density == pytest.approx(0.152, abs=3 * np.sqrt(0.152 * 0.848 / 4_000))
    assert res.density >= 0.85
    assert {"a", "b"} <= set(res.restricted)
    box = res.box().set_index("parameter")
    assert abs(box.loc["a", "low"] - 0.6) < 0.05
    assert abs(box.loc["b", "high"] - 0.3) < 0.05
    # c may be trimmed at the edges by chance, but not cut into.
    assert box.loc["c", "high"] - box.loc["c", "low"] > 0.8


def test_trajectory_invariants_and_selection():
    res = basesim.discover(_known_box_frame(noisy=True), outcome="y", parameters=["a", "b", "c"])
    steps = res.peeling()
    assert steps.step.tolist() == list(range(len(steps)))
    assert (np.diff(steps.mass) < 0).all()
    assert (np.diff(steps.coverage) <= 1e-12).all()
    assert steps.mass.iloc[-1] >= 0.05
    assert steps.coverage.iloc[0] == 1.0
    assert steps.density.iloc[0] == pytest.approx(res.base_density)
    assert res.density == steps.density.max()
    first = res.select(0)
    assert first.restricted == () and first.coverage == 1.0
    with pytest.raises(basesim.BasesimError, match=r"step must be a whole number in \[0, "):
        res.select(len(steps))
    tidy = res.to_frame()
    assert len(tidy) == len(steps) * 3
    assert tidy[tidy.chosen].step.unique().tolist() == [res.step]
    assert "<table" in res._repr_html_()
    assert repr(res).startswith("DiscoveryResult(outcome='y', points=4,000")
    ax = res.plot_tradeoff()
    np.testing.assert_allclose(ax.lines[0].get_xdata(), steps.coverage)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), steps.density)


def test_unreachable_threshold_is_said_not_hidden():
    res = basesim.discover(
        _known_box_frame(noisy=True), outcome="y", parameters=["a", "b", "c"], threshold=0.999
    )
    assert not res.threshold_met
    assert "no box reaches density 0.999" in repr(res)


@pytest.fixture(scope="module")
def syria_runs(scenario):
    return basesim.simulate(scenario, n_runs=3_000, rng=2, progress=False)


def test_on_simulated_runs(syria_runs):
    res = basesim.discover(syria_runs, outcome="basing=reduced presence", threshold=0.6)
    assert res.parameters == syria_runs.scenario.uncertain_parameters()
    assert res.n_points == 3_000
    frame = syria_runs.to_frame()
    assert res.base_density == pytest.approx((frame.basing_category == "reduced presence").mean())
    # Reduced presence needs a Damascus that will tolerate some presence.
    assert "actors.syria.basing.position" in res.restricted
    low = res.box().set_index("parameter").loc["actors.syria.basing.position", "low"]
    assert low > frame["actors.syria.basing.position"].min()
    # The same from the frame itself, by outcome name or by column.
    by_frame = basesim.discover(frame, outcome="basing=reduced presence", threshold=0.6)
    np.testing.assert_array_equal(by_frame.trajectory.limits, res.trajectory.limits)
    joint = basesim.discover(frame, outcome="joint=reduced presence / substantial")
    assert joint.outcome == "joint=reduced presence / substantial"
    assert joint.base_density == pytest.approx(
        (frame.outcome == "reduced presence / substantial").mean()
    )


def test_on_a_sweep(scenario):
    scn = scenario
    res = basesim.sweep(
        scn,
        {"actors.syria.basing.position": (0.0, 0.6), "actors.turkey.basing.salience": (0.4, 0.9)},
        n_points=32,
        n_runs=60,
        rng=1,
        progress=False,
    )
    found = basesim.discover(res, outcome="basing=withdrawal", min_mass=0.2)
    assert found.parameters == res.parameter_names
    assert found.n_points == 32
    # Withdrawal is likeliest where Damascus wants the Russians out most.
    box = found.box().set_index("parameter")
    assert box.loc["actors.syria.basing.position", "high"] < 0.6
    assert found.density > found.base_density


def test_unsettled_outcomes_in_a_frame():
    # Basing stays unsettled where a > 0.7; the whole negotiation fails (no
    # agreement) where also b > 0.5; the relief is settled everywhere.
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((2_000, 2)), columns=["a", "b"])
    open_basing = frame.a > 0.7
    frame["basing_category"] = np.where(open_basing, "unsettled", "withdrawal")
    frame["settled_basing"] = ~open_basing
    frame["outcome"] = np.where(
        open_basing & (frame.b > 0.5),
        "no agreement",
        np.where(open_basing, "unsettled / partial", "withdrawal / partial"),
    )
    res = basesim.discover(frame, outcome="basing=unsettled", parameters=["a", "b"])
    assert res.outcome == "basing=unsettled"
    assert res.density == 1.0 and res.restricted == ("a",)
    assert 0.7 <= res.box().set_index("parameter").loc["a", "low"] < 0.72
    # A boolean column of the frame is an outcome too: settled is the complement.
    settled = basesim.discover(frame, outcome="settled_basing", parameters=["a", "b"])
    assert settled.box().set_index("parameter").loc["a", "high"] <= 0.7
    joint = basesim.discover(frame, outcome="joint=unsettled / partial", parameters=["a", "b"])
    assert joint.base_density == pytest.approx((frame.outcome == "unsettled / partial").mean())
    none = basesim.discover(frame, outcome="no agreement", parameters=["a", "b"], threshold=0.95)
    box = none.box().set_index("parameter")
    assert none.restricted == ("a", "b")
    assert abs(box.loc["a", "low"] - 0.7) < 0.05 and abs(box.loc["b", "low"] - 0.5) < 0.05


def test_unsettled_outcome_over_kept_runs(scenario):
    # Five hand-made runs of syria-2025; basing is unsettled in runs 2 and 3, the
    # runs with the two largest values of the first uncertain parameter.  Each
    # peel removes one run, the lowest (its mean rises: 2/4, 2/3, 2/2): the
    # densest box is the first of density 1, from 0.8 to 0.9.
    from basesim.engine.outcome import BatchOutcome
    from basesim.results import Provenance, Tally

    scn = scenario
    sampled = np.full((5, len(scn.uncertain_parameters())), 0.5)
    sampled[:, 0] = [0.1, 0.2, 0.8, 0.9, 0.3]
    outcome = BatchOutcome(
        package=np.array([[0.1, 0.9], [0.5, 0.9], [0.1, 0.5], [0.8, 0.1], [0.9, 0.1]]),
        settled=np.array([[1, 1], [1, 0], [0, 1], [0, 0], [1, 1]], dtype=bool),
        settled_round=np.array([[2, 2], [1, 0], [0, 5], [0, 0], [3, 7]]),
        settled_by=np.array([[0, 0], [1, -1], [-1, 2], [-1, -1], [3, 1]]),
        proposals=np.zeros((5, 4), dtype=np.int64),
        sampled=sampled,
    )
    tally = Tally.empty(scn)
    tally.add(outcome)
    provenance = Provenance(
        basesim_version="0", engine="batch", entropy=1, spawn_key=(), block_size=1024, created=""
    )
    result = basesim.SimulationResult(
        scenario=scn, n_runs=5, tally=tally, runs=outcome, provenance=provenance
    )
    path = scn.uncertain_parameters()[0]
    res = basesim.discover(result, outcome="basing=unsettled", parameters=[path])
    assert res.base_density == pytest.approx(2 / 5)
    assert res.density == 1.0
    assert res.box().set_index("parameter").loc[path, ["low", "high"]].tolist() == [0.8, 0.9]
    # The all-unsettled run 3 is "no agreement", by either name.
    for name in ("no agreement", "joint=unsettled / unsettled"):
        res = basesim.discover(result, outcome=name, parameters=[path])
        assert res.outcome == "no agreement"
        assert res.base_density == pytest.approx(1 / 5)


def test_bad_arguments(syria_runs):
    frame = pd.DataFrame({"a": [0.0, 1.0], "y": [0, 1]})
    with pytest.raises(basesim.BasesimError, match=r"peel_alpha must be a number in \(0, 0.5\)"):
        basesim.discover(frame, outcome="y", parameters=["a"], peel_alpha=0.5)
    with pytest.raises(basesim.BasesimError, match=r"min_mass must be a number in \(0, 1\)"):
        basesim.discover(frame, outcome="y", parameters=["a"], min_mass=0)
    with pytest.raises(basesim.BasesimError, match="never occurs"):
        basesim.discover(frame.assign(y=0), outcome="y", parameters=["a"])
    with pytest.raises(basesim.BasesimError, match=r"must take values in \[0, 1\]"):
        basesim.discover(frame.assign(y=[0, 2]), outcome="y", parameters=["a"])
    with pytest.raises(basesim.BasesimError, match="no numeric column named by a field path"):
        basesim.discover(frame, outcome="y")
    with pytest.raises(basesim.BasesimError, match="got 'b', not a column"):
        basesim.discover(frame, outcome="y", parameters=["b"])
    with pytest.raises(basesim.BasesimError, match="data must be a SimulationResult"):
        basesim.discover([1, 2], outcome="y")
    with pytest.raises(
        basesim.BasesimError, match=r"outcome must be one of .*\(got 'basing=kept'\)"
    ):
        basesim.discover(syria_runs, outcome="basing=kept")
