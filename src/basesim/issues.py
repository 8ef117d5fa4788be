"""Issues: the dimensions a negotiation is about."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from basesim.parameters import Evidence, Parameter

__all__ = ["Budget", "Issue"]


def _no_drift() -> Parameter:
    return Parameter(
        value=0.0,
        evidence=Evidence(
            rationale="Format default: the status quo holds while the issue is unsettled "
            "(no drift toward the breakdown value).",
            confidence="low",
            assumption=True,
        ),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Issue:
    """One issue under negotiation: a continuous scale on [0, 1].

    Parameters
    ----------
    name
        Identifier used in field paths and tables (``"basing"``).
    label
        Human-readable name.
    anchors
        What 0, 0.5 and 1 mean in words, so that numbers on the scale mean
        something.
    status_quo
        Where the issue stands when the negotiation starts.
    breakdown
        Where the issue ends up if talks end for good, and the value its
        status quo drifts toward while it is unsettled (defaults to the
        status quo).
    drift
        The monthly share, in [0, 1], of the gap between the status quo and
        the breakdown value that closes while the issue is unsettled.
    rule
        How the issue is decided: ``"unanimity"``, ``"qualified"``,
        ``"majority"`` or ``"unilateral"``.  ``None`` (legacy): unanimity
        among the actors whose ``veto`` names the issue.
    voters
        The actors whose acceptance counts under ``rule`` (``None``: every
        actor).
    threshold
        For ``"qualified"``: the share, in (0, 1], of the voters' votes that
        must accept.
    min_voter_share
        For ``"qualified"`` (optional): the share, in (0, 1], of the voters
        themselves that must accept as well (a double majority).
    authority
        For ``"unilateral"``: the actor who decides alone.
    categories, cuts
        Named outcome categories: a value ``x`` falls in ``categories[i]``
        where ``i`` is the number of cut points ``<= x``.  ``len(cuts)`` must be
        ``len(categories) - 1``, strictly increasing inside (0, 1).
    description
        Free text.
    evidence
        What the scale and its anchors rest on.

    Examples
    --------
    >>> issue = Issue(name="basing", label="Basing", anchors=("none", "some", "all"),
    ...               status_quo=Parameter.fixed(1.0), categories=("low", "mid", "high"),
    ...               cuts=(0.25, 0.75))
    >>> issue.categorize([0.1, 0.25, 0.9]).tolist()
    ['low', 'mid', 'high']
    """

    name: str
    label: str
    anchors: tuple[str, str, str] = ("", "", "")
    status_quo: Parameter
    breakdown: Parameter | None = None
    categories: tuple[str, ...] = ("low", "middle", "high")
    cuts: tuple[float, ...] = (1 / 3, 2 / 3)
    description: str = ""
    evidence: Evidence = field(default_factory=Evidence)
    drift: Parameter = field(default_factory=_no_drift)
    rule: str | None = None
    voters: tuple[str, ...] | None = None
    threshold: float | None = None
    min_voter_share: float | None = None
    authority: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.voters, list):
            object.__setattr__(self, "voters", tuple(self.voters))

    @property
    def breakdown_parameter(self) -> Parameter:
        """The breakdown value as a parameter (the status quo if none was given)."""
        return self.status_quo if self.breakdown is None else self.breakdown

    def category_index(self, values: ArrayLike) -> NDArray[np.intp]:
        """Index into :attr:`categories` of each value."""
        return np.searchsorted(
            np.asarray(self.cuts, dtype=float), np.asarray(values, dtype=float), side="right"
        )

    def categorize(self, values: ArrayLike) -> NDArray[np.str_]:
        """The category name of each value."""
        return np.asarray(self.categories)[self.category_index(values)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """A group of issues whose values must sum to at most a total.

    A package may settle some or all of a budget's issues only if the
    settled values and the status quo of the budget's other issues add up to
    at most ``total`` (the shares of one pie: divide-the-dollar).

    Parameters
    ----------
    name
        Identifier used in field paths (``"pie"``: ``budgets.pie.total``).
    issues
        The names of the issues in the budget; an issue belongs to at most
        one budget.
    total
        The most the budget's issues may add up to, in (0, number of issues].
    description
        Free text.

    Examples
    --------
    >>> Budget(name="pie", issues=("a", "b", "c"), total=1.0).issues
    ('a', 'b', 'c')
    """

    name: str
    issues: tuple[str, ...]
    total: float
    description: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.issues, list):
            object.__setattr__(self, "issues", tuple(self.issues))
