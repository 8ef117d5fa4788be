"""The proposer's search against brute force, on generated cases with up to 8 actors.

Brute force tries every set of open issues and every coalition of actors
(with the proposer) that meets the rule of each issue in the set, solves the
proposer's problem under that coalition's constraints, and keeps the best
package worth offering.  The proposer's search (exact one-issue intervals;
minimal winning coalitions on several issues) must reach the same utility.
Beliefs are exact here (no perception noise), so the expected gain is the
gain itself.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basesim.engine.compiled import RunParameters
from basesim.engine.solver import solve_package, utility
from basesim.protocols.bargaining import BargainingTables
from basesim.protocols.proposer import best_packages, issue_subsets
from basesim.protocols.rules import RULE_CODES, RuleTable, rule_met

TOL = 1e-7


@st.composite
def cases(draw):
    n_act = draw(st.integers(2, 8))
    n_iss = draw(st.integers(1, 3))
    unit = st.floats(0.0, 1.0, allow_nan=False)
    position = np.array([[draw(unit) for _ in range(n_iss)] for _ in range(n_act)])
    salience = np.array([[draw(st.floats(0.05, 1.0)) for _ in range(n_iss)] for _ in range(n_act)])
    quo = np.array([draw(unit) for _ in range(n_iss)])
    code = np.zeros(n_iss, dtype=np.intp)
    voters = np.zeros((n_act, n_iss), dtype=bool)
    votes = np.zeros((n_act, n_iss))
    threshold = np.ones(n_iss)
    authority = np.full(n_iss, -1, dtype=np.intp)
    weight = np.array([draw(st.sampled_from([1.0, 2.0, 3.0])) for _ in range(n_act)])
    for k in range(n_iss):
        rule = draw(st.sampled_from(list(RULE_CODES)))
        code[k] = RULE_CODES[rule]
        who = draw(st.lists(st.integers(0, n_act - 1), min_size=1, unique=True))
        if rule == "unilateral":
            authority[k] = who[0]
            who = who[:1]
        voters[who, k] = True
        votes[who, k] = weight[who]
        if rule == "qualified":
            threshold[k] = draw(st.floats(0.4, 1.0))
    table = RuleTable(
        code=code,
        voters=voters,
        votes=votes,
        total_votes=votes.sum(axis=0),
        n_voters=voters.sum(axis=0),
        threshold=threshold,
        min_voter_share=np.zeros(n_iss),
        authority=authority,
    )
    proposer = draw(st.integers(0, n_act - 1))
    open_ = np.array([draw(st.booleans()) for _ in range(n_iss)])
    open_[draw(st.integers(0, n_iss - 1))] = True
    # Reservation values: the status quo's utility less a slack of up to 30 %
    # of the actor's scale (or more than it: some actors demand a gain).
    u_quo = utility(position, salience, quo[None, :])
    slack = np.array([draw(st.floats(-0.2, 0.3)) for _ in range(n_act)])
    reservation = u_quo - slack * salience.sum(axis=1)
    return table, position, salience, quo, open_, proposer, reservation


def _brute_force(table, position, salience, quo, open_, proposer, reservation):
    n_act, n_iss = position.shape
    open_issues = np.flatnonzero(open_)
    best = -np.inf
    d_j = utility(position[proposer], salience[proposer], quo)
    for size in range(1, open_issues.size + 1):
        for issues in combinations(open_issues, size):
            free = np.zeros(n_iss, dtype=bool)
            free[list(issues)] = True
            for mask in range(1 << n_act):
                coalition = np.array([(mask >> v) & 1 for v in range(n_act)], dtype=bool)
                if not coalition[proposer]:
                    continue
                if not rule_met(table, coalition[None])[0, free].all():
                    continue
                active = coalition.copy()
                active[proposer] = False
                x, ok = solve_package(
                    position[proposer][None],
                    salience[proposer][None],
                    position[None],
                    salience[None],
                    reservation[None],
                    active[None],
                    free[None],
                    quo[None],
                )
                if not ok[0]:
                    continue
                gain = utility(position[proposer], salience[proposer], x[0])
                scale = max(1.0, salience[proposer].sum())
                if gain >= reservation[proposer] - 1e-9 * scale and gain > d_j + 1e-9 * scale:
                    best = max(best, float(gain))
    return best


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_the_proposer_finds_the_brute_force_optimum(case):
    table, position, salience, quo, open_, proposer, reservation = case
    n_act, n_iss = position.shape
    tables = BargainingTables(
        rules=table, influenced=np.zeros(n_act, dtype=bool), subsets=issue_subsets(n_iss)
    )
    params = RunParameters(
        position=position[None],
        salience=salience[None],
        **{
            name: np.zeros((1, n_act))
            for name in (
                "capability",
                "anchoring",
                "discount",
                "concession",
                "noise",
                "opening",
                "concession_months",
            )
        },
        disagreement=np.full((1, n_act), np.nan),
        influence=np.zeros((1, n_act, n_act)),
        status_quo=quo[None],
        breakdown=quo[None],
        drift=np.zeros((1, n_iss)),
        reservation_form=np.zeros(1),
    )
    d = utility(position, salience, quo[None, :])
    choice = best_packages(
        tables,
        params,
        proposer=np.array([proposer]),
        stances=position[None],
        status_quo=quo[None],
        open_=open_[None],
        believed=reservation[None],
        spread=np.zeros((1, n_act)),
        own_reservation=reservation[proposer : proposer + 1],
        own_disagreement=d[proposer : proposer + 1],
        exponent=2,
    )
    expected = _brute_force(table, position, salience, quo, open_, proposer, reservation)
    if expected == -np.inf:
        assert not choice.offered[0]
        return
    assert choice.offered[0]
    gain = float(utility(position[proposer], salience[proposer], choice.package[0]))
    assert gain == pytest.approx(expected, abs=TOL)
    # The package settles open issues only and passes every rule it needs.
    assert not (choice.settles[0] & ~open_).any()
    accepted = utility(position, salience, choice.package) >= reservation - 1e-9 * np.maximum(
        1.0, salience.sum(axis=1)
    )
    assert rule_met(table, accepted[None])[0, choice.settles[0]].all()
