"""Choosing a model with ``model=`` everywhere, and the static models under both engines."""

from __future__ import annotations

import numpy as np
import pytest

import basesim
from basesim.cli import main
from basesim.testing import spatial_scenario


def _pair(position_a: float = 0.2):
    # Two actors of equal weight at position_a and 0.8 on one issue split at 0.5:
    # the compromise is (position_a + 0.8) / 2, "high" iff position_a > 0.2.
    return spatial_scenario(
        positions={"a": (position_a,), "b": (0.8,)},
        saliences={"a": (1.0,), "b": (1.0,)},
        capabilities={"a": 1.0, "b": 1.0},
        status_quo=(0.0,),
    )


def _same_runs(one, other) -> None:
    for field in ("package", "settled", "settled_round", "settled_by", "proposals", "sampled"):
        np.testing.assert_array_equal(getattr(one, field), getattr(other, field), err_msg=field)


def test_the_model_keyword_overrides_the_scenario_and_the_result_names_it(scenario):
    by_keyword = basesim.simulate(scenario, n_runs=300, rng=5, model="nash")
    by_scenario = basesim.simulate(scenario.replace({"protocol.model": "nash"}), n_runs=300, rng=5)
    assert by_keyword.model == "nash" and by_keyword.scenario.protocol.model == "nash"
    _same_runs(by_keyword.runs, by_scenario.runs)
    assert "model='nash'" in repr(by_keyword)
    # None (the default) runs the scenario's own model.
    assert basesim.simulate(scenario, n_runs=10, rng=5).model == "bargaining"


def test_the_model_survives_saving_and_loading(tmp_path):
    res = basesim.simulate(_pair(), n_runs=20, rng=1, model="compromise-median")
    again = basesim.load_result(res.save(tmp_path / "r.npz"))
    assert again.model == "compromise-median"


def test_an_unknown_model_is_a_protocol_error_with_a_suggestion():
    with pytest.raises(
        basesim.ProtocolError, match=r"\(got 'compromize'\) \(did you mean 'compromise'\?\)"
    ):
        basesim.simulate(_pair(), n_runs=10, rng=1, model="compromize")
    with pytest.raises(
        basesim.ProtocolError, match=r"model must be a registered model's name \(got 3\)"
    ):
        basesim.simulate(_pair(), n_runs=10, rng=1, model=3)


def test_compare_sweep_and_sensitivity_take_the_model():
    # compare: 0.1 -> (0.1 + 0.8) / 2 = 0.45, low; 0.4 -> 0.6, high, in every run.
    cmp = basesim.compare(
        {"left": _pair(0.1), "right": _pair(0.4)}, n_runs=20, rng=1, model="compromise"
    )
    assert [r.model for r in cmp.results] == ["compromise", "compromise"]
    probs = cmp.probabilities().set_index(["scenario", "table", "outcome"]).probability
    assert probs["left", "i0", "low"] == 1.0 and probs["right", "i0", "high"] == 1.0
    # sweep: a at 0, 0.3, 0.6 gives 0.4, 0.55, 0.7: high with probability 0, 1, 1.
    swept = basesim.sweep(
        _pair(),
        {"actors.a.i0.position": (0.0, 0.6)},
        design="grid",
        n_points=3,
        n_runs=10,
        rng=1,
        model="compromise",
    )
    assert swept.scenario.protocol.model == "compromise"
    assert swept.probability("i0=high").tolist() == [0.0, 1.0, 1.0]
    sens = basesim.sensitivity(
        _pair(),
        {"actors.a.i0.position": (0.0, 0.6), "actors.b.i0.position": (0.6, 1.0)},
        outcome="i0=high",
        n=4,
        n_runs=8,
        n_resamples=9,
        rng=1,
        model="compromise",
    )
    assert sens.scenario.protocol.model == "compromise"


@pytest.mark.parametrize("model", ["compromise", "compromise-median", "nash", "nash-salience"])
def test_the_mesa_model_matches_the_batch_engine_run_by_run(model, scenario):
    batch = basesim.simulate(scenario, n_runs=6, rng=11, model=model)
    mesa = basesim.simulate(scenario, n_runs=6, rng=11, model=model, engine="mesa")
    _same_runs(batch.runs, mesa.runs)


def test_the_mesa_model_reads_a_month_without_a_proposer(scenario):
    scn = scenario.replace({"protocol.model": "nash"})
    model = basesim.NegotiationModel(scn, rng=3)
    model.run()
    assert model.round_index == 1 and model.proposer_name is None
    frame = model.datacollector.get_model_vars_dataframe()
    assert frame["proposer"].isna().all()


def test_the_command_line_takes_the_model(capsys):
    assert main(["run", "syria-2025", "--model", "compromise", "--n-runs", "20"]) == 0
    assert "model compromise" in capsys.readouterr().out
    assert main(["run", "syria-2025", "--model", "nsh", "--n-runs", "20"]) == 2
    assert "(did you mean 'nash'?)" in capsys.readouterr().err


def _four():
    # Equal weights at 0.1, 0.3, 1 and 1 on one issue split at 0.5: the mean
    # is 2.4 / 4 = 0.6 ("high"); the cumulative weight 1, 2, 3, 4 reaches half
    # of 4 at 0.3, the median ("low").
    return spatial_scenario(
        positions={"a": (0.1,), "b": (0.3,), "c": (1.0,), "d": (1.0,)},
        saliences=dict.fromkeys("abcd", (1.0,)),
        capabilities=dict.fromkeys("abcd", 1.0),
        status_quo=(0.0,),
    )


def test_compare_models_runs_each_model_on_the_same_random_numbers():
    scn = _four()
    cmp = basesim.compare_models(scn, models=["compromise", "compromise-median"], n_runs=30, rng=2)
    assert cmp.names == ("compromise", "compromise-median")
    assert [r.model for r in cmp.results] == ["compromise", "compromise-median"]
    alone = basesim.simulate(scn, n_runs=30, rng=2, model="compromise-median")
    _same_runs(cmp["compromise-median"].runs, alone.runs)
    spread = cmp.spread().set_index("outcome")
    assert spread.loc["high", "low"] == 0.0 and spread.loc["high", "high"] == 1.0
    assert spread.loc["low", "spread"] == 1.0
    assert spread.loc["low", "lowest"] == "compromise"
    assert spread.loc["low", "highest"] == "compromise-median"
    assert spread.loc["unsettled", "spread"] == 0.0
    # By default every registered model, which needs at least two.
    every = basesim.compare_models(scn, n_runs=2, rng=2)
    assert every.names == basesim.protocols.names()
    with pytest.raises(basesim.SimulationError, match="models must name two or more"):
        basesim.compare_models(scn, models=["nash"], n_runs=2, rng=2)


def test_the_spread_figure_draws_the_spread_numbers():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmp = basesim.compare_models(
        _four(), models=["compromise", "compromise-median", "nash"], n_runs=10, rng=2
    )
    ax = cmp.plot_spread()
    spread = cmp.spread()
    bars = ax.collections[0].get_segments()
    assert [(seg[0][0], seg[1][0]) for seg in bars] == list(
        zip(spread["low"], spread["high"], strict=True)
    )
    assert [line.get_label() for line in ax.lines] == list(cmp.names)
    plt.close("all")
