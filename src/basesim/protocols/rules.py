"""Decision rules: who must accept for a package to settle an issue.

Each issue has its own rule (``docs/model.md``, "Decision rules"):

* ``unanimity``: every voter accepts;
* ``qualified``: the accepting voters hold at least ``threshold`` of the
  voters' votes and, optionally, are at least ``min_voter_share`` of the voters
  by head count (the EU's double majority);
* ``majority``: the accepting voters hold more than half of the votes;
* ``unilateral``: the issue's ``authority`` accepts.

A package passes when the rule of every issue it settles is met.  Everything
here is vectorised over any leading axes, with the actor axis last.

References
----------
.. [1] Krehbiel, K. (1998). *Pivotal Politics: A Theory of U.S. Lawmaking*.
   University of Chicago Press.
.. [2] Council of the European Union, voting system (Treaty on European Union,
   art. 16(4)): 55 % of member states representing 65 % of the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from basesim.scenario import Scenario

__all__ = ["RULE_CODES", "RuleTable", "issue_rule_met", "rule_met", "rule_table"]

#: Integer code of each decision rule in a :class:`RuleTable`.
RULE_CODES = {"unanimity": 0, "qualified": 1, "majority": 2, "unilateral": 3}

#: Tolerance on vote shares (relative to the voters' total).
_SHARE_TOL = 1e-12

BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTable:
    """Every issue's decision rule as arrays (``N`` actors, ``K`` issues)."""

    code: NDArray[np.intp]  # (K,) RULE_CODES
    voters: BoolArray  # (N, K)
    votes: FloatArray  # (N, K) voting weight of each voter, 0 for non-voters
    total_votes: FloatArray  # (K,)
    n_voters: NDArray[np.intp]  # (K,)
    threshold: FloatArray  # (K,) share of votes needed
    min_voter_share: FloatArray  # (K,) share of voters needed (0: no such condition)
    authority: NDArray[np.intp]  # (K,) actor index, -1 unless unilateral

    @property
    def forced(self) -> BoolArray:
        """``(N, K)``: actors whose acceptance an issue's rule always needs.

        Every voter of a unanimity issue, the authority of a unilateral one.
        """
        out: BoolArray = np.array(self.voters & (self.code == RULE_CODES["unanimity"])[None, :])
        for k, who in enumerate(self.authority):
            if who >= 0:
                out[who, k] = True
        return out

    @property
    def optional(self) -> BoolArray:
        """``(N, K)``: voters of qualified and majority issues (any of whom may be left out)."""
        weighted = np.isin(self.code, (RULE_CODES["qualified"], RULE_CODES["majority"]))
        result: BoolArray = self.voters & weighted[None, :]
        return result


def rule_table(scenario: Scenario) -> RuleTable:
    """The :class:`RuleTable` of a scenario's issues."""
    actors = scenario.actor_names
    index = {name: i for i, name in enumerate(actors)}
    n_act, n_iss = len(actors), len(scenario.issues)
    code = np.zeros(n_iss, dtype=np.intp)
    voters = np.zeros((n_act, n_iss), dtype=bool)
    votes = np.zeros((n_act, n_iss))
    threshold = np.ones(n_iss)
    min_share = np.zeros(n_iss)
    authority = np.full(n_iss, -1, dtype=np.intp)
    for k, issue in enumerate(scenario.issues):
        rule = scenario.decision_rule(issue.name)
        code[k] = RULE_CODES[rule.rule]
        for name in rule.voters:
            voters[index[name], k] = True
            votes[index[name], k] = float(scenario.actors[index[name]].votes)
        threshold[k] = rule.threshold
        min_share[k] = rule.min_voter_share
        if rule.authority is not None:
            authority[k] = index[rule.authority]
    for arr in (code, voters, votes, threshold, min_share, authority):
        arr.setflags(write=False)
    total = votes.sum(axis=0)
    counted = voters.sum(axis=0).astype(np.intp)
    total.setflags(write=False)
    counted.setflags(write=False)
    return RuleTable(
        code=code,
        voters=voters,
        votes=votes,
        total_votes=total,
        n_voters=counted,
        threshold=threshold,
        min_voter_share=min_share,
        authority=authority,
    )


def rule_met(table: RuleTable, accepted: BoolArray) -> BoolArray:
    """Whether each issue's rule is met by the actors who accept.

    Parameters
    ----------
    table
        The decision rules.
    accepted
        ``(..., N)``: which actors accept.

    Returns
    -------
    numpy.ndarray
        ``(..., K)``: whether the acceptors satisfy each issue's rule.

    Examples
    --------
    Three voters with 1, 1 and 2 votes under a two-thirds qualified majority:
    the heavy voter and one other hold 3 of 4 votes, enough; the two light
    voters hold half, not enough.

    >>> import numpy as np
    >>> t = RuleTable(code=np.array([1]), voters=np.ones((3, 1), bool),
    ...               votes=np.array([[1.0], [1.0], [2.0]]), total_votes=np.array([4.0]),
    ...               n_voters=np.array([3]), threshold=np.array([2 / 3]),
    ...               min_voter_share=np.array([0.0]), authority=np.array([-1]))
    >>> rule_met(t, np.array([[True, False, True], [True, True, False]]))[:, 0].tolist()
    [True, False]
    """
    shape = (*accepted.shape[:-1], table.code.shape[0])
    result = np.zeros(shape, dtype=bool)
    for k in range(shape[-1]):
        result[..., k] = issue_rule_met(table, accepted, k)
    return result


def issue_rule_met(table: RuleTable, accepted: BoolArray, k: int) -> BoolArray:
    """Whether issue ``k``'s rule is met by the actors who accept ``(...)``."""
    code = int(table.code[k])
    voters = np.flatnonzero(table.voters[:, k])
    if code == RULE_CODES["unilateral"]:
        result: BoolArray = accepted[..., int(table.authority[k])].copy()
        return result
    if code == RULE_CODES["unanimity"]:
        result = np.ones(accepted.shape[:-1], dtype=bool)
        for v in voters:
            result &= accepted[..., v]
        return result
    # Weighted rules: sums over voters in index order (bit-identical whatever the batch).
    votes = np.zeros(accepted.shape[:-1])
    heads = np.zeros(accepted.shape[:-1])
    for v in voters:
        votes += np.where(accepted[..., v], table.votes[v, k], 0.0)
        heads += accepted[..., v]
    total = float(table.total_votes[k])
    share = votes / total if total > 0 else np.zeros_like(votes)
    if code == RULE_CODES["majority"]:
        result = share > 0.5 + _SHARE_TOL
        return result
    head_share = heads / max(int(table.n_voters[k]), 1)
    result = (share >= table.threshold[k] - _SHARE_TOL) & (
        head_share >= table.min_voter_share[k] - _SHARE_TOL
    )
    return result
