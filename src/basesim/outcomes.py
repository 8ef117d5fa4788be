"""Outcome tables: how runs are counted into outcomes, and what the outcomes are called.

An agreement settles only the issues it changes; the others stay at their
status quo and may be settled later, or never.  So each issue's table has a row
per category of the issue, for runs that settled it in that category, and a
last row ``"unsettled"`` for runs that never settled it (whatever its final
value, the status quo that persisted).  The *joint* table is the product over
issues of these rows, in row-major order (the first issue varies slowest); its
last cell, every issue unsettled, is ``"no agreement"``.

Every table of :meth:`basesim.SimulationResult.probabilities`, every outcome
column of a comparison, sweep or sensitivity analysis and every outcome name
an experiment accepts comes from :class:`OutcomeTable`.

Examples
--------
>>> import basesim
>>> table = OutcomeTable.of(basesim.load_scenario("syria-2025"))
>>> table.row_labels(0)
('withdrawal', 'reduced presence', 'retention', 'unsettled')
>>> table.shape, table.n_joint
((4, 4), 16)
>>> table.names[table.n_joint - 1], table.names[3], table.names[-1]
('no agreement', 'joint=withdrawal / unsettled', 'sanctions_relief=unsettled')
>>> table.names[table.index("basing=unsettled")]
'basing=unsettled'
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from basesim.exceptions import ScenarioError, SimulationError
from basesim.scenario import Scenario, suggest

if TYPE_CHECKING:
    from basesim.engine.outcome import BatchOutcome

__all__ = ["NO_AGREEMENT", "UNSETTLED", "OutcomeTable", "outcome_name"]

#: The joint outcome in which no issue was settled.
NO_AGREEMENT = "no agreement"
#: The row of an issue's table for runs that never settled the issue.
UNSETTLED = "unsettled"
_RESERVED = (UNSETTLED, NO_AGREEMENT)


def outcome_name(table: str, outcome: str) -> str:
    """The name experiments take for ``outcome`` of ``table``.

    ``"basing=retention"`` for an issue's table, ``"joint=a / b"`` for a joint
    outcome, and plain ``"no agreement"``.
    """
    if table == "joint":
        return outcome if outcome == NO_AGREEMENT else f"joint={outcome}"
    return f"{table}={outcome}"


@dataclass(frozen=True, slots=True)
class OutcomeTable:
    """The outcome tables of a scenario, laid out as one row of *outcome columns*.

    Column ``c`` is ``labels[c] = (table, outcome)``: first the joint table
    (``n_joint`` cells, combinations of each issue's rows in row-major order,
    the last one ``"no agreement"``), then each issue's table (its categories,
    then ``"unsettled"``).  Outcome *names*, as the experiments take them, are
    ``"issue=category"`` (``"basing=retention"``, ``"basing=unsettled"``),
    ``"joint=a / b"`` (``"joint=withdrawal / unsettled"``) and
    ``"no agreement"``.

    Attributes
    ----------
    issues
        The issue names, in scenario order.
    categories
        Each issue's categories (without ``"unsettled"``).
    labels
        ``(table, outcome)`` of every column.
    """

    issues: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    labels: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, scenario: Scenario) -> OutcomeTable:
        """The outcome tables of ``scenario``.

        Raises
        ------
        ScenarioError
            If an issue has a category called ``"unsettled"`` or
            ``"no agreement"``, names the tables keep for themselves.
        """
        cats = tuple(tuple(issue.categories) for issue in scenario.issues)
        for issue, names in zip(scenario.issues, cats, strict=True):
            for i, name in enumerate(names):
                if name in _RESERVED:
                    raise ScenarioError(
                        f"issues.{issue.name}.categories[{i}] must not be {name!r}: outcome "
                        f"tables use {UNSETTLED!r} and {NO_AGREEMENT!r} themselves "
                        f"(got {list(names)})"
                    )
        rows = [(*c, UNSETTLED) for c in cats]
        joint = [("joint", " / ".join(combo)) for combo in itertools.product(*rows)]
        joint[-1] = ("joint", NO_AGREEMENT)
        marginal = [
            (issue.name, r) for issue, r_k in zip(scenario.issues, rows, strict=True) for r in r_k
        ]
        return cls(issues=scenario.issue_names, categories=cats, labels=(*joint, *marginal))

    # -- layout ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the joint table: each issue's categories plus ``"unsettled"``."""
        return tuple(len(c) + 1 for c in self.categories)

    @property
    def n_joint(self) -> int:
        """How many cells the joint table has (``"no agreement"`` included)."""
        return int(np.prod(self.shape))

    @property
    def n_columns(self) -> int:
        """How many outcome columns there are."""
        return len(self.labels)

    @property
    def names(self) -> tuple[str, ...]:
        """Every column's outcome name, as :meth:`index` accepts it."""
        return tuple(outcome_name(table, outcome) for table, outcome in self.labels)

    @property
    def joint_labels(self) -> tuple[str, ...]:
        """The joint table's outcomes, ``"no agreement"`` last."""
        return tuple(outcome for _, outcome in self.labels[: self.n_joint])

    def row_labels(self, k: int) -> tuple[str, ...]:
        """The rows of issue ``k``'s table: its categories, then ``"unsettled"``."""
        return (*self.categories[k], UNSETTLED)

    def tables(self) -> Iterator[tuple[str, tuple[str, ...], slice]]:
        """Each table in column order: ``(name, outcomes, columns)``, the joint table first."""
        yield "joint", self.joint_labels, slice(0, self.n_joint)
        start = self.n_joint
        for k, issue in enumerate(self.issues):
            rows = self.row_labels(k)
            yield issue, rows, slice(start, start + len(rows))
            start += len(rows)

    # -- names ---------------------------------------------------------------------------
    def index(self, outcome: str, *, argument: str = "outcome") -> int:
        """The column of an outcome name; unknown names raise a :class:`SimulationError`.

        ``"joint=no agreement"`` and the joint cell with every issue
        ``"unsettled"`` are accepted for ``"no agreement"``.
        """
        if not isinstance(outcome, str):
            raise SimulationError(
                f"{argument} must be an outcome name such as {NO_AGREEMENT!r} "
                f"(got {type(outcome).__name__}: {outcome!r})"
            )
        text = outcome.strip()
        if "=" in text:
            table, _, label = text.partition("=")
            key = (table.strip(), label.strip())
        else:
            key = ("joint", text)
        if key in self.labels:
            return self.labels.index(key)
        if key[0] == "joint":
            # Spacing around "/" aside, and every issue unsettled is no agreement.
            parts = [p.strip() for p in key[1].split("/")]
            if len(parts) == len(self.issues) and all(p == UNSETTLED for p in parts):
                return self.n_joint - 1
            spaced = ("joint", " / ".join(parts))
            if spaced in self.labels:
                return self.labels.index(spaced)
        names = self.names
        raise SimulationError(
            f"{argument} must be one of {', '.join(repr(n) for n in names)} (got {outcome!r})"
            f"{suggest(outcome, names)}"
        )

    # -- counting ------------------------------------------------------------------------
    def issue_rows(self, scenario: Scenario, outcome: BatchOutcome) -> NDArray[np.intp]:
        """``(n, K)`` each run's row in each issue's table.

        A settled issue's row is the category of its value; an unsettled
        issue's is the last row, ``"unsettled"``, whatever its value.
        """
        n = outcome.n_runs
        out = np.empty((n, len(self.issues)), dtype=np.intp)
        for k, issue in enumerate(scenario.issues):
            category = issue.category_index(outcome.package[:, k])
            out[:, k] = np.where(outcome.settled[:, k], category, len(self.categories[k]))
        return out

    def joint_rows(self, rows: NDArray[np.intp]) -> NDArray[np.intp]:
        """``(n,)`` each run's cell of the joint table, from :meth:`issue_rows`."""
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        return np.asarray(np.ravel_multi_index(tuple(rows.T), self.shape), dtype=np.intp)

    def codes(self, scenario: Scenario, outcome: BatchOutcome) -> NDArray[np.int64]:
        """Each run's columns ``(n, 1 + K)``: its joint column, then one per issue.

        ``scenario`` gives the cut points that categorise values; it must have
        this table's issues and categories (cut points may differ).
        """
        rows = self.issue_rows(scenario, outcome)
        out = np.empty((outcome.n_runs, 1 + len(self.issues)), dtype=np.int64)
        out[:, 0] = self.joint_rows(rows)
        offset = self.n_joint
        for k, size in enumerate(self.shape):
            out[:, 1 + k] = rows[:, k] + offset
            offset += size
        return out

    def counts(self, codes: NDArray[np.int64]) -> NDArray[np.int64]:
        """How many runs fall in each column, from :meth:`codes`."""
        return np.bincount(codes.ravel(), minlength=self.n_columns).astype(np.int64)
