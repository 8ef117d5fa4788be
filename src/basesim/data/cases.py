"""Cases: a scenario together with what actually happened."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from basesim.exceptions import DataError
from basesim.scenario import Scenario

__all__ = ["Case"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One observed decision: the scenario before it and the outcome it had.

    Parameters
    ----------
    scenario
        The negotiation as it stood before the decision.
    outcome
        The observed outcome on the scored issue, on the scenario's [0, 1] scale.
    proposal
        Identifier of the proposal (the unit of resampling and of
        cross-validation folds: issues of one proposal are decided together
        and are not independent).
    issue_id
        Identifier of the issue in the data.
    issue
        The name of the scored issue in ``scenario`` (``None``: its only issue).
    procedure, voting_rule
        How the decision was taken, as the data code it (``"COD"``,
        ``"QMV"`` ...); used to break scores down.
    date
        The date of the decision, if known.
    scale
        Data units per unit of the scenario's scale (100 for data on 0-100),
        so that errors are reported in the data's units.
    status_quo_source
        Where the status quo came from (``"rp"``: the data's reference
        point; ``"imputed"``: the documented rule for a missing one).
    """

    scenario: Scenario
    outcome: float
    proposal: str
    issue_id: str
    issue: str | None = None
    procedure: str = ""
    voting_rule: str = ""
    date: dt.date | None = None
    scale: float = 1.0
    status_quo_source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.scenario, Scenario):
            raise DataError(
                f"case {self.issue_id!r}: scenario must be a basesim.Scenario "
                f"(got {type(self.scenario).__name__})"
            )
        if self.issue is None:
            if len(self.scenario.issues) != 1:
                raise DataError(
                    f"case {self.issue_id!r}: name the scored issue (issue=...); the scenario "
                    f"has {len(self.scenario.issues)} issues"
                )
        elif self.issue not in self.scenario.issue_names:
            raise DataError(
                f"case {self.issue_id!r}: issue {self.issue!r} is not an issue of the scenario "
                f"(issues are {', '.join(self.scenario.issue_names)})"
            )
        if not (isinstance(self.outcome, int | float) and 0.0 <= self.outcome <= 1.0):
            raise DataError(
                f"case {self.issue_id!r}: outcome must be in [0, 1], the scenario's scale "
                f"(got {self.outcome!r})"
            )
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise DataError(f"case {self.issue_id!r}: scale must be > 0 (got {self.scale!r})")

    @property
    def issue_name(self) -> str:
        """The name of the scored issue."""
        return self.scenario.issue_names[0] if self.issue is None else self.issue

    @property
    def issue_index(self) -> int:
        """The index of the scored issue among the scenario's issues."""
        return self.scenario.issue_names.index(self.issue_name)
