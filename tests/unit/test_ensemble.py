"""The ensemble: each run is one component's run, drawn from the run's own month-1 draw."""

from __future__ import annotations

import math

import numpy as np
import pytest

import basesim
from basesim.protocols import register, unregister
from basesim.protocols.ensemble import DEFAULT_COMPONENTS, choose_components, mixture
from basesim.testing import spatial_scenario


def test_the_draw_picks_the_component_and_is_stretched_back_to_the_unit_interval():
    # Weights 0.2, 0.3, 0.5: cumulative 0.2, 0.5, 1.  u = 0.1 -> component 0,
    # (0.1 - 0) / 0.2 = 0.5; u = 0.2 -> component 1, 0; u = 0.35 -> 1,
    # 0.15 / 0.3 = 0.5; u = 0.75 -> 2, 0.25 / 0.5 = 0.5.
    chosen, stretched = choose_components(
        np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.2, 0.35, 0.75])
    )
    assert chosen.tolist() == [0, 1, 1, 2]
    assert stretched == pytest.approx([0.5, 0.0, 0.5, 0.5], abs=1e-15)


def _pair():
    # Equal weights at 0.1 and 0.3 from a status quo of 0 (one issue, cut 0.5).
    # compromise: 0.2.  nash (w = 1, 1): (x - 0)(0.2 - x) and x (0.6 - x); the
    # first-order condition 4 u**2 - 3 * 0.8 u + 2 * 0.12 = 0 gives
    # u = (2.4 - sqrt(5.76 - 3.84)) / 8 = (2.4 - sqrt(1.92)) / 8.
    return spatial_scenario(
        positions={"a": (0.1,), "b": (0.3,)},
        saliences={"a": (1.0,), "b": (1.0,)},
        capabilities={"a": 1.0, "b": 1.0},
        status_quo=(0.0,),
    )


@pytest.fixture
def heavy():
    register("nash-heavy", lambda: mixture({"compromise": 1.0, "nash": 3.0}, name="nash-heavy"))
    yield "nash-heavy"
    unregister("nash-heavy")


def test_each_run_is_one_components_run_in_proportion_to_the_weights(heavy):
    n = 4000
    res = basesim.simulate(_pair(), n_runs=n, rng=8, model=heavy)
    component = res.runs.component
    # Weight 3 / 4 on nash: the share of its runs is binomial, sd sqrt(0.75 * 0.25 / n).
    share = float(np.mean(component == 1))
    assert abs(share - 0.75) < 4 * math.sqrt(0.75 * 0.25 / n)
    expected = np.where(component == 0, 0.2, (2.4 - math.sqrt(1.92)) / 8)
    np.testing.assert_allclose(res.runs.package[:, 0], expected, rtol=0, atol=1e-12)
    frame = res.to_frame()
    assert frame["model"].tolist() == [("compromise", "nash")[c] for c in component[: len(frame)]]


def test_a_static_components_runs_are_that_models_runs_on_the_same_rng(scenario):
    mixed = basesim.simulate(scenario, n_runs=400, rng=4, model="ensemble").runs
    assert set(np.unique(mixed.component)) == set(range(len(DEFAULT_COMPONENTS)))
    for c, name in enumerate(DEFAULT_COMPONENTS):
        if name == "bargaining":  # its month-1 draw is the stretched one: a different run
            continue
        alone = basesim.simulate(scenario, n_runs=400, rng=4, model=name).runs
        rows = mixed.component == c
        np.testing.assert_array_equal(mixed.package[rows], alone.package[rows])
        np.testing.assert_array_equal(mixed.settled[rows], alone.settled[rows])


def test_the_ensemble_is_the_same_in_any_batch_and_under_the_mesa_model(scenario):
    whole = basesim.simulate(scenario, n_runs=40, rng=9, model="ensemble").runs
    chunked = basesim.simulate(scenario, n_runs=40, rng=9, model="ensemble", batch_size=7).runs
    mesa = basesim.simulate(scenario, n_runs=12, rng=9, model="ensemble", engine="mesa").runs
    for field in ("package", "settled", "settled_round", "settled_by", "proposals", "component"):
        np.testing.assert_array_equal(getattr(whole, field), getattr(chunked, field))
        np.testing.assert_array_equal(getattr(whole, field)[:12], getattr(mesa, field))


def test_the_component_survives_saving_and_loading(heavy, tmp_path):
    res = basesim.simulate(_pair(), n_runs=50, rng=8, model=heavy)
    again = basesim.load_result(res.save(tmp_path / "mix.npz"))
    np.testing.assert_array_equal(again.runs.component, res.runs.component)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"nash": 0.0}, r"weights.nash must be a positive number \(got 0.0\)"),
        ({"nash": float("nan")}, r"weights.nash must be a positive number \(got nan\)"),
        ({}, r"weights must name at least one model \(got none\)"),
        ({"ensemble": 1.0}, r"components must be single models, not mixtures \(got 'ensemble'\)"),
        ({"nsh": 1.0}, r"\(did you mean 'nash'\?\)"),
    ],
)
def test_bad_weights_are_refused_when_compiled(weights, message):
    from basesim.engine.compiled import compile_scenario

    with pytest.raises(basesim.ProtocolError, match=message):
        mixture(weights, name="bad").compile(compile_scenario(_pair()))
