"""Budgets in play: no run ever ends with a budget's issues above its total."""

from __future__ import annotations

import numpy as np

import basesim
from basesim import Actor, Budget, Distribution, Issue, Parameter, ProtocolSettings, Stance
from basesim.engine.linear import BUDGET_TOL


def _uniform(low: float, high: float) -> Parameter:
    return Parameter(
        value=(low + high) / 2, distribution=Distribution(kind="uniform", low=low, high=high)
    )


def _random_budgeted_scenario(seed: int) -> basesim.Scenario:
    """Four actors, four issues; three of them share a budget of 0.9.

    Positions, saliences, capabilities, noise and the budget issues' status quo
    are drawn per run; the budget's status quo (at most 3 x 0.3) fits the
    total, and one issue drifts down toward its breakdown value.  Rules mix
    majority, unanimity and a qualified majority.
    """
    rng = np.random.default_rng(seed)
    names = ("a", "b", "c", "d")
    rules = (
        {"rule": "majority"},
        {"rule": "unanimity", "voters": ("p1", "p2")},
        {"rule": "qualified", "threshold": 0.75},
        {"rule": "majority"},
    )
    issues = []
    for name, rule in zip(names, rules, strict=True):
        budgeted = name != "d"
        extra = {}
        if name == "a":
            extra = {"breakdown": Parameter(value=0.0), "drift": Parameter(value=0.2)}
        issues.append(
            Issue(
                name=name,
                label=name.upper(),
                status_quo=_uniform(0.0, 0.3) if budgeted else _uniform(0.2, 0.8),
                **rule,
                **extra,
            )
        )
    actors = []
    for i in range(4):
        stances = {}
        for name in names:
            centre = float(rng.random())
            stances[name] = Stance(
                position=_uniform(max(0.0, centre - 0.2), min(1.0, centre + 0.2)),
                salience=_uniform(0.1, 1.0),
            )
        actors.append(
            Actor(
                name=f"p{i + 1}",
                label=f"P{i + 1}",
                capability=_uniform(0.5, 2.0),
                noise=_uniform(0.0, 0.1),
                stances=stances,
            )
        )
    return basesim.Scenario(
        name="random-budget",
        issues=tuple(issues),
        actors=tuple(actors),
        horizon=6,
        budgets=(Budget(name="spending", issues=("a", "b", "c"), total=0.9),),
        protocol=ProtocolSettings(
            utility_exponent=1,
            lookahead=2,
            reservation=Parameter(
                value=0.0, distribution=Distribution(kind="choice", weights=(0.7, 0.3))
            ),
        ),
    )


def test_no_run_breaks_its_budget():
    for seed in (1, 2):
        scn = _random_budgeted_scenario(seed)
        runs = basesim.simulate(scn, n_runs=40, rng=seed).runs
        spent = runs.package[:, 0] + runs.package[:, 1] + runs.package[:, 2]
        assert np.all(spent <= 0.9 + BUDGET_TOL)
        # Not vacuous: in some runs the budget binds.
        assert np.any(spent > 0.9 - 1e-6)
        # The budget's issues are settled together or not at all.
        together = runs.settled[:, :3]
        assert np.all(together.all(axis=1) | ~together.any(axis=1))
        # Not a vacuous check: some runs settle the budget's issues.
        assert together.all(axis=1).any()


def test_budgeted_runs_are_the_same_on_both_engines():
    scn = _random_budgeted_scenario(1)
    batch = basesim.simulate(scn, n_runs=3, rng=7).runs
    # NegotiationModel(scn, rng=s) is run 0 of simulate(scn, rng=s).
    single = basesim.NegotiationModel(scn, rng=7).run()
    np.testing.assert_array_equal(single.settled[0], batch.settled[0])
    np.testing.assert_array_equal(single.settled_round[0], batch.settled_round[0])
    np.testing.assert_allclose(single.package[0], batch.package[0], rtol=0, atol=1e-9)
