"""Agreed packages are not Pareto-dominated for the actors whose consent they needed.

The first version of the model could end a run with a package that every
actor whose consent was needed would have traded for another (an issue locked
at its breakdown value by a deal on the other).  Now an agreement settles only
the issues it covers, and the proposer's package is optimal for it given what
it believes the others accept, so no feasible change of the settled issues can
make the proposer and every needed actor strictly better off.  Checked on a
sample of Mesa runs with an independent optimiser (SciPy's SLSQP).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

import basesim
from basesim.engine.solver import utility


def _needed(scenario: basesim.Scenario, settles: np.ndarray, proposer: int) -> set[int]:
    """Actors whose acceptance the settled issues' rules always need, and the proposer."""
    index = {name: i for i, name in enumerate(scenario.actor_names)}
    needed = {proposer}
    for k, issue in enumerate(scenario.issues):
        if not settles[k]:
            continue
        rule = scenario.decision_rule(issue.name)
        assert rule.rule in ("unanimity", "unilateral")  # the sample scenario's rules
        needed |= {index[v] for v in rule.voters}
    return needed


def _best_common_gain(stances, salience, package, settles, needed) -> float:
    """max t such that some y (changing only the settled issues) gives every needed actor u(x) + t."""
    free = np.flatnonzero(settles)
    who = sorted(needed)
    base = utility(stances[who], salience[who], package[None, :])

    def values(z: np.ndarray) -> np.ndarray:
        y = package.copy()
        y[free] = z[:-1]
        return utility(stances[who], salience[who], y[None, :]) - base - z[-1]

    start = np.concatenate([package[free], [0.0]])
    res = minimize(
        lambda z: -z[-1],
        start,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * free.size + [(None, None)],
        constraints=[{"type": "ineq", "fun": values}],
        options={"ftol": 1e-12, "maxiter": 200},
    )
    return float(res.x[-1]) if res.success else 0.0


def test_no_agreed_package_is_dominated_for_the_actors_it_needed(scenario):
    checked = 0
    for seed in range(40):
        model = basesim.NegotiationModel(scenario, rng=seed)
        while model.running:
            model.step()
            record = model.record
            if not bool(record.passed[0]):
                continue
            settles = record.settles[0]
            proposer = int(record.proposer[0])
            needed = _needed(scenario, settles, proposer)
            gain = _best_common_gain(
                model.state.stances[0],
                model.parameters.salience[0],
                record.package[0],
                settles,
                needed,
            )
            assert gain <= 1e-7, (seed, model.round_index, gain)
            checked += 1
    assert checked >= 40
