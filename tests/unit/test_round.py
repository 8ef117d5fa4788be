"""Each step of a month, against values worked out by hand from docs/model.md.

The engines both call :func:`basesim.protocols.bargaining.play_round`; these
oracles check its steps one by one, independently of either engine.
"""

from __future__ import annotations

import numpy as np
import pytest

from basesim.engine.compiled import RunParameters
from basesim.protocols.bargaining import (
    BargainingTables,
    RunState,
    accepts,
    concession_reservation,
    disagreement_values,
    drift_status_quo,
    influence,
    mixing_matrix,
    play_round,
    recognise,
    recognition_weights,
)
from basesim.protocols.proposer import best_packages, issue_subsets
from basesim.protocols.rules import RULE_CODES, RuleTable, rule_met


def params(n_actors: int, n_issues: int, **given: object) -> RunParameters:
    """One run's parameters: neutral defaults, overridden by ``given`` (without the run axis)."""
    base: dict[str, np.ndarray] = {
        "position": np.zeros((n_actors, n_issues)),
        "salience": np.ones((n_actors, n_issues)),
        "capability": np.ones(n_actors),
        "anchoring": np.zeros(n_actors),
        "discount": np.full(n_actors, 0.9),
        "concession": np.ones(n_actors),
        "noise": np.zeros(n_actors),
        "opening": np.ones(n_actors),
        "concession_months": np.full(n_actors, 12.0),
        "disagreement": np.full(n_actors, np.nan),
        "influence": np.zeros((n_actors, n_actors)),
        "status_quo": np.zeros(n_issues),
        "breakdown": np.zeros(n_issues),
        "drift": np.zeros(n_issues),
        "reservation_form": np.zeros(()),
    }
    for name, value in given.items():
        base[name] = np.asarray(value, dtype=np.float64)
    return RunParameters(**{name: value[None] for name, value in base.items()})


def rules(code: str, voters: list[list[bool]], votes=None, threshold=1.0, share=0.0, authority=-1):
    """A one-issue rule table."""
    v = np.array(voters, dtype=bool)
    w = np.array(votes, dtype=float) if votes is not None else v.astype(float)
    return RuleTable(
        code=np.array([RULE_CODES[code]]),
        voters=v,
        votes=w,
        total_votes=w.sum(axis=0),
        n_voters=v.sum(axis=0),
        threshold=np.array([threshold]),
        min_voter_share=np.array([share]),
        authority=np.array([authority]),
    )


# -- 1. influence ---------------------------------------------------------------------------
def test_influence_is_friedkin_johnsen_for_pulled_actors_only():
    # Actor 0 is pulled by actor 1 with weight 0.25 and anchored at 0.5:
    # (1 - 0.5) * (0.75 * 0.2 + 0.25 * 1.0) + 0.5 * 0.0 = 0.5 * 0.4 = 0.2.
    stances = np.array([[[0.2], [1.0]]])
    initial = np.array([[[0.0], [1.0]]])
    weights = np.array([[[0.0, 0.25], [0.0, 0.0]]])
    out = influence(
        stances, initial, mixing_matrix(weights), np.array([[0.5, 0.5]]), np.array([True, False])
    )
    assert out[0, 0, 0] == pytest.approx(0.2)
    assert out[0, 1, 0] == 1.0  # nobody pulls actor 1: unchanged, exactly


# -- 2. drift -------------------------------------------------------------------------------
def test_open_issues_drift_toward_breakdown_settled_ones_stay():
    # q = 0.5, b = 0, drift 0.2: 0 + 0.5 * 0.8 = 0.4; the settled issue keeps 0.7.
    out = drift_status_quo(
        np.array([[0.5, 0.7]]),
        np.array([[0.0, 0.0]]),
        np.array([[0.2, 0.2]]),
        np.array([[True, False]]),
    )
    assert out.tolist() == [[pytest.approx(0.4), 0.7]]


# -- 3. values ------------------------------------------------------------------------------
def test_disagreement_value_is_the_utility_of_the_status_quo():
    # Ideal (0.2, 1.0), saliences (0.5, 1.0), q = (0.6, 0.0):
    # -(0.5 * 0.4**2 + 1.0 * 1.0**2) = -(0.08 + 1) = -1.08.
    p = params(1, 2, position=[[0.2, 1.0]], salience=[[0.5, 1.0]])
    d = disagreement_values(p, p.position, np.array([[0.6, 0.0]]), 2)
    assert d[0, 0] == pytest.approx(-1.08)


def test_concession_curve_runs_in_calendar_months():
    # d = -1, best = 0, opening 0.5: A = -0.5.  Month 6 of M = 12, e = 1:
    # r = -1 + 0.5 * (1 - 6/12) = -0.75.  Month 12 and later: r = d = -1.
    p = params(1, 1, opening=[0.5], concession_months=[12.0])
    d, best = np.array([[-1.0]]), np.array([[0.0]])
    assert concession_reservation(p, d, best, 6)[0, 0] == pytest.approx(-0.75)
    assert concession_reservation(p, d, best, 12)[0, 0] == pytest.approx(-1.0)
    assert concession_reservation(p, d, best, 40)[0, 0] == pytest.approx(-1.0)
    # Boulware e = 0.5: (6/12)**2 = 0.25 conceded, r = -0.5 - 0.5 * 0.25 ... i.e.
    # -1 + 0.5 * (1 - 0.25) = -0.625.
    p2 = params(1, 1, opening=[0.5], concession_months=[12.0], concession=[0.5])
    assert concession_reservation(p2, d, best, 6)[0, 0] == pytest.approx(-0.625)


# -- 4. recognition -------------------------------------------------------------------------
class _Compiled:
    """The few fields of a compiled scenario that recognition reads."""

    def __init__(self, can_propose, recognition="weighted", rotation=()):
        self.can_propose = np.array(can_propose, dtype=bool)
        self.recognition = recognition
        self.rotation = np.array(rotation, dtype=np.intp)


def test_only_actors_at_the_table_are_recognised_and_only_ratios_matter():
    # Capabilities at the float maximum: weights 1/3 each, no overflow.
    p = params(3, 1, capability=[1e308, 1e308, 1e308])
    w = recognition_weights(_Compiled([True, True, True]), p, 1)
    assert w[0].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    # Actor 1 is not at the table: 2 and 6 share the draws 1 : 3.
    p = params(3, 1, capability=[2.0, 50.0, 6.0])
    w = recognition_weights(_Compiled([True, False, True]), p, 1)
    assert w[0].tolist() == pytest.approx([0.25, 0.0, 0.75])
    draws = np.array([0.1, 0.2499, 0.25, 0.9999999999999999])
    assert recognise(np.repeat(w, 4, axis=0), draws).tolist() == [0, 0, 2, 2]


# -- decision rules -------------------------------------------------------------------------
def test_each_rule_by_hand():
    five = [[True]] * 5
    acc = np.array(
        [
            [True, True, True, False, False],  # 3 of 5
            [True, True, True, True, True],  # all
            [False, False, True, True, False],  # 2 of 5
        ]
    )
    assert rule_met(rules("unanimity", five), acc)[:, 0].tolist() == [False, True, False]
    assert rule_met(rules("majority", five), acc)[:, 0].tolist() == [True, True, False]
    # Votes 1, 1, 1, 4, 3 (total 10); threshold 0.65: rows hold 3, 10, 5 votes.
    qmv = rules("qualified", five, votes=[[1], [1], [1], [4], [3]], threshold=0.65)
    assert rule_met(qmv, acc)[:, 0].tolist() == [False, True, False]
    # Double majority: 70 % of votes and 55 % of heads.  Row 0 of the next
    # batch: actors 3, 4 and 0 hold 8 of 10 votes but are 3 of 5 heads (60 %): passes;
    # row 1: actors 3, 4 hold 7 votes (70 %) but 2 heads (40 %): fails.
    double = rules("qualified", five, votes=[[1], [1], [1], [4], [3]], threshold=0.7, share=0.55)
    acc2 = np.array([[True, False, False, True, True], [False, False, False, True, True]])
    assert rule_met(double, acc2)[:, 0].tolist() == [True, False]
    # Exactly half is not a majority.
    four = rules("majority", [[True]] * 4)
    assert not rule_met(four, np.array([[True, True, False, False]]))[0, 0]
    # Unilateral: only the authority's response counts.
    uni = rules("unilateral", [[False], [True], [False]], authority=1)
    assert rule_met(uni, np.array([[True, False, True], [False, True, False]]))[:, 0].tolist() == [
        False,
        True,
    ]


# -- 5. proposal ----------------------------------------------------------------------------
def _tables(rule_table: RuleTable, n_issues: int = 1) -> BargainingTables:
    n = rule_table.voters.shape[0]
    return BargainingTables(
        rules=rule_table, influenced=np.zeros(n, dtype=bool), subsets=issue_subsets(n_issues)
    )


def test_setter_with_a_majority_gets_its_ideal_clipped_by_the_pivot():
    # Setter 0 (ideal 0.0, not a voter); voters at 0.3, 0.5, 0.7; q = 0.9; each
    # voter accepts x iff |x - theta_v| <= |q - theta_v| (reservation = u(q)).
    # Acceptance intervals: [-0.3, 0.9], [0.1, 0.9], [0.5, 0.9].  Two of three
    # voters are needed; moving left from q, the second voter (0.5) is pivotal:
    # the setter gets 2 * 0.5 - 0.9 = 0.1 (the pivotal-politics closed form).
    p = params(4, 1, position=[[0.0], [0.3], [0.5], [0.7]])
    quo = np.array([[0.9]])
    r = disagreement_values(p, p.position, quo, 2)

    def setter_choice(table: RuleTable):
        return best_packages(
            _tables(table),
            p,
            proposer=np.array([0]),
            stances=p.position,
            status_quo=quo,
            open_=np.array([[True]]),
            believed=r,
            spread=np.zeros((1, 4)),
            own_reservation=r[:, 0],
            own_disagreement=r[:, 0],
            exponent=2,
        )

    choice = setter_choice(rules("majority", [[False], [True], [True], [True]]))
    assert choice.offered[0]
    assert choice.package[0, 0] == pytest.approx(0.1)
    # Under unanimity the voter at 0.7 is pivotal: 2 * 0.7 - 0.9 = 0.5.
    choice = setter_choice(rules("unanimity", [[False], [True], [True], [True]]))
    assert choice.package[0, 0] == pytest.approx(0.5)


def test_a_partial_agreement_settles_its_issue_and_leaves_the_other_open():
    # Two issues, two actors, both voters on both (unanimity).  Issue 0: the
    # proposer wants 1.0 (q = 0), the responder does not care (salience 0): the
    # proposer settles it at 1.0.  Issue 1: they want 0.0 and 1.0 with q
    # between them, so any change of issue 1 hurts one of them, and the
    # responder gains nothing on issue 0 to be traded for it: issue 1 stays
    # open.  Before the proposal its status quo drifted 10 % of the way to
    # breakdown 0: 0.5 -> 0.45.  (With a salience on issue 0 the responder
    # would accept a bundle that moves issue 1 its way less than it gains on
    # issue 0: that trade is the point of packages.)
    n_act, n_iss = 2, 2
    table = RuleTable(
        code=np.array([0, 0]),
        voters=np.ones((n_act, n_iss), dtype=bool),
        votes=np.ones((n_act, n_iss)),
        total_votes=np.array([2.0, 2.0]),
        n_voters=np.array([2, 2]),
        threshold=np.ones(2),
        min_voter_share=np.zeros(2),
        authority=np.array([-1, -1]),
    )
    tables = BargainingTables(
        rules=table, influenced=np.zeros(n_act, dtype=bool), subsets=issue_subsets(n_iss)
    )
    p = params(
        n_act,
        n_iss,
        position=[[1.0, 0.0], [1.0, 1.0]],
        salience=[[1.0, 1.0], [0.0, 1.0]],
        capability=[1.0, 0.0],
        opening=[0.0, 0.0],
        status_quo=[0.0, 0.5],
        drift=[0.0, 0.1],
    )

    class C:
        exponent = 2
        recognition = "weighted"
        can_propose = np.array([True, True])
        rotation = np.zeros(0, dtype=np.intp)
        lookahead = 5

    state = RunState(
        stances=p.position.copy(),
        status_quo=p.status_quo.copy(),
        open=np.ones((1, n_iss), dtype=bool),
        settled_round=np.zeros((1, n_iss), dtype=np.int64),
        settled_by=np.full((1, n_iss), -1, dtype=np.int64),
        proposals=np.zeros((1, n_act), dtype=np.int64),
        table=np.zeros((1, 1, 1)),
        table_start=np.zeros(1, dtype=np.int64),
    )
    record = play_round(C(), tables, p, state, 3, np.array([0.5]), np.zeros((1, n_act)))
    assert record.proposer[0] == 0 and record.passed[0]
    assert state.open.tolist() == [[False, True]]
    assert state.settled_round.tolist() == [[3, 0]]
    assert state.settled_by.tolist() == [[0, -1]]
    assert state.status_quo[0, 0] == pytest.approx(1.0)
    assert state.status_quo[0, 1] == pytest.approx(0.45)  # 0 + 0.5 * 0.9


def test_acceptance_is_against_true_reservation_values():
    p = params(2, 1, position=[[0.0], [1.0]])
    pkg = np.array([[0.5]])
    # u = -0.25 for both; reservations -0.2 and -0.3.
    assert accepts(p, p.position, pkg, np.array([[-0.2, -0.3]]), 2).tolist() == [[False, True]]
