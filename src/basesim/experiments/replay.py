"""Replays: runs of a simulation played again one by one with the Mesa model, month by month.

:func:`~basesim.simulate` keeps what each run ends with; a replay keeps what
happens on the way (each actor's stance every month), which the Mesa model's
DataCollector records.  Run ``i`` of a replay is run ``i`` of
``basesim.simulate(scenario, n_runs=..., rng=rng)``: the same random inputs,
so the same outcome.  Plots draw replays
(:func:`basesim.plotting.plot_stance_bands`); they never run them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from basesim._random import RNGLike, as_seed_sequence
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.exceptions import BasesimError
from basesim.scenario import Scenario

__all__ = ["StanceReplay", "replay_stances", "stance_paths"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StanceReplay:
    """Stances on one issue, month by month, in runs ``0 .. n_runs - 1`` of a scenario.

    Attributes
    ----------
    scenario
        The scenario replayed.
    issue
        The issue whose stances are recorded.
    paths
        Actor name -> array ``(n_runs, horizon + 1)``: column 0 the starting
        stance, column t the stance in round t, NaN after the run ended.
    ends
        ``(n_runs,)`` the last round each run played.
    settled_round
        ``(n_runs, K)`` the round in which each run settled each issue (0: never).
    """

    scenario: Scenario
    issue: str
    paths: dict[str, NDArray[np.float64]]
    ends: NDArray[np.int64]
    settled_round: NDArray[np.int64]

    @property
    def n_runs(self) -> int:
        """How many runs were replayed."""
        return int(self.ends.shape[0])


def replay_stances(
    scenario: Scenario, *, issue: str, n_runs: int, rng: RNGLike = None
) -> StanceReplay:
    """Replay runs ``0 .. n_runs - 1`` with the Mesa model, recording stances on ``issue``.

    The runs are those of ``basesim.simulate(scenario, n_runs=..., rng=rng)``.
    A run ends when every issue is settled or at the horizon.  Each run is a
    full Mesa model: keep ``n_runs`` small.

    Parameters
    ----------
    scenario
        The negotiation.
    issue
        Name of the issue whose stances are recorded.
    n_runs
        How many runs to replay.
    rng
        Seed (SPEC 7), as for :func:`basesim.simulate`.

    Returns
    -------
    StanceReplay

    Raises
    ------
    BasesimError
        If ``issue`` is not an issue of the scenario or ``n_runs`` is not a
        whole number >= 1.
    """
    from basesim.model import NegotiationModel

    names = list(scenario.issue_names)
    if issue not in names:
        raise BasesimError(f"issue must be one of {', '.join(names)} (got {issue!r})")
    k = names.index(issue)
    if isinstance(n_runs, bool) or not isinstance(n_runs, int | np.integer) or n_runs < 1:
        raise BasesimError(f"n_runs must be a whole number >= 1 (got {n_runs!r})")
    n = int(n_runs)
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, as_seed_sequence(rng), 0, n)
    horizon = scenario.horizon
    paths = {name: np.full((n, horizon + 1), np.nan) for name in scenario.actor_names}
    ends = np.zeros(n, dtype=np.int64)
    settled_round = np.zeros((n, len(scenario.issues)), dtype=np.int64)
    column = f"stance_{issue}"
    for i in range(n):
        model = NegotiationModel(
            scenario, run=i, inputs=inputs.take(slice(i, i + 1)), compiled=compiled
        )
        for agent in model.actor_agents:
            paths[agent.actor_name][i, 0] = model.parameters.position[0, agent.index, k]
        outcome = model.run()
        frame = model.datacollector.get_agent_vars_dataframe()
        rounds = model.datacollector.get_model_vars_dataframe()["round"].to_numpy(dtype=int)
        steps = list(dict.fromkeys(frame.index.get_level_values(0)))
        step_round = dict(zip(steps, rounds, strict=True))
        for step, actor, stance in zip(
            frame.index.get_level_values(0), frame["actor"], frame[column], strict=True
        ):
            paths[actor][i, step_round[step]] = stance
        ends[i] = model.round_index
        settled_round[i] = outcome.settled_round[0]
    return StanceReplay(
        scenario=scenario, issue=issue, paths=paths, ends=ends, settled_round=settled_round
    )


def stance_paths(
    scenario: Scenario, *, issue: str, n_runs: int, rng: RNGLike = None
) -> dict[str, NDArray[np.float64]]:
    """Stances on ``issue`` in runs ``0 .. n_runs - 1`` of the Mesa model, month by month.

    The runs are those of ``basesim.simulate(scenario, n_runs=..., rng=rng)``.
    A run ends when every issue is settled or at the horizon.

    Returns
    -------
    dict
        Actor name -> array ``(n_runs, horizon + 1)``: column 0 the starting
        stance, column t the stance in round t, NaN after the run ended.
    """
    return replay_stances(scenario, issue=issue, n_runs=n_runs, rng=rng).paths
