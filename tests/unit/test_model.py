"""NegotiationModel: one run as a Mesa model, and Mesa's batch runner over it."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest

import basesim
from basesim.exceptions import BasesimError

SCN = "syria-2025"


@pytest.fixture(scope="module")
def simulated(scenario) -> basesim.SimulationResult:
    return basesim.simulate(scenario, n_runs=3, keep_runs=3, rng=7, progress=False)


def test_a_model_plays_the_run_it_is_given(scenario, simulated):
    # NegotiationModel(s, run=i, rng=7) is run i of simulate(s, rng=7), by name too.
    for i in range(3):
        for spec in (scenario, SCN):
            outcome = basesim.NegotiationModel(spec, run=i, rng=7).run()
            np.testing.assert_array_equal(outcome.package[0], simulated.runs.package[i])
            np.testing.assert_array_equal(
                outcome.settled_round[0], simulated.runs.settled_round[i]
            )


def test_frames_carry_the_run_and_the_scenario(scenario):
    model = basesim.NegotiationModel(scenario, run=2, rng=7)
    model.run()
    months = model.datacollector.get_model_vars_dataframe()
    agents = model.datacollector.get_agent_vars_dataframe()
    assert list(months.columns[:3]) == ["scenario", "run", "round"]
    assert (months["scenario"] == SCN).all() and (months["run"] == 2).all()
    assert list(agents.columns[:2]) == ["run", "actor"]
    assert (agents["run"] == 2).all()


def test_batch_run_rows_name_the_scenario_and_the_run(simulated):
    # Mesa 3.5 seeds through batch_run's own rng argument (it overwrites an
    # "rng" parameter with it); Mesa 3.3 takes the seed as a parameter.
    parameters: dict[str, object] = {"scenario": SCN, "run": [0, 1, 2]}
    seed: dict[str, object] = {}
    if "rng" in inspect.signature(mesa.batch_run).parameters:
        seed["rng"] = 7
    else:
        parameters["rng"] = 7
    rows = mesa.batch_run(
        basesim.NegotiationModel, parameters=parameters, display_progress=False, **seed
    )
    # One row per actor at the last month of each run; every cell a short
    # scalar: the scenario by its name, never the whole Scenario.
    assert {row["run"] for row in rows} == {0, 1, 2}
    assert {row["scenario"] for row in rows} == {SCN}
    for row in rows:
        for value in row.values():
            assert not isinstance(value, basesim.Scenario)
            assert len(str(value)) < 100
    # Each run's last month: when its last issue was settled, else the horizon.
    last = {row["run"]: row["round"] for row in rows}
    runs = simulated.runs
    expected = np.where(runs.agreed, runs.round, simulated.scenario.horizon)
    assert [last[i] for i in range(3)] == expected.tolist()


def test_bad_scenario_and_run():
    with pytest.raises(BasesimError, match=r"run must be a whole number >= 0 \(got -1\)"):
        basesim.NegotiationModel(SCN, run=-1, rng=1)
    with pytest.raises(BasesimError, match="no bundled scenario called 'nowhere'"):
        basesim.NegotiationModel("nowhere", rng=1)
    with pytest.raises(BasesimError, match=r"scenario must be a basesim.Scenario.*\(got int\)"):
        basesim.NegotiationModel(3, rng=1)
