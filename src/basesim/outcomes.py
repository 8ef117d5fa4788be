"""Outcome tables and tallies: how runs are counted into outcomes, and what they are called.

An agreement settles only the issues it changes; the others stay at their
status quo and may be settled later, or never.  So each issue's table has a row
per category of the issue, for runs that settled it in that category, and a
last row ``"unsettled"`` for runs that never settled it (whatever its final
value, the status quo that persisted).  The *joint* table is the product over
issues of these rows, in row-major order (the first issue varies slowest); its
last cell, every issue unsettled, is ``"no agreement"``.

The joint table has a cell per combination, so its size grows exponentially
with the number of issues (``3 ** K`` cells for ``K`` issues of two categories
each).  When it would have more than :data:`MAX_JOINT_CELLS` cells it is not
enumerated: it then has three cells, ``"every issue settled"``, ``"some issues
settled"`` and ``"no agreement"``, which still partition the runs, and each
issue's own table is unchanged.  Conditions that combine issues are then
evaluated run by run rather than read from the joint table's counts.

Every table of :meth:`basesim.SimulationResult.probabilities`, every outcome
column of a comparison, sweep or sensitivity analysis and every outcome name
an experiment accepts comes from :class:`OutcomeTable`.  A :class:`Tally`
counts runs into these tables batch by batch (with settlement months and
statistics of the final values), and :func:`wilson_interval` gives the
intervals of every probability reported.

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
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from basesim.exceptions import ScenarioError, SimulationError
from basesim.scenario import Scenario, suggest

if TYPE_CHECKING:
    from basesim.engine.outcome import BatchOutcome

__all__ = [
    "COUNT_FIELDS",
    "EVERY_SETTLED",
    "HIST_BINS",
    "MAX_JOINT_CELLS",
    "NO_AGREEMENT",
    "SOME_SETTLED",
    "SUM_FIELDS",
    "UNSETTLED",
    "VALUE_BINS",
    "OutcomeTable",
    "Tally",
    "TallyPart",
    "outcome_name",
    "wilson_interval",
]

#: The joint outcome in which no issue was settled.
NO_AGREEMENT = "no agreement"
#: The row of an issue's table for runs that never settled the issue.
UNSETTLED = "unsettled"
#: The cell of a joint table that is not enumerated for runs that settled every issue.
EVERY_SETTLED = "every issue settled"
#: The cell of a joint table that is not enumerated for runs that settled some issues only.
SOME_SETTLED = "some issues settled"
_RESERVED = (UNSETTLED, NO_AGREEMENT)
#: The most cells a joint table is enumerated with: above it (the product over
#: issues of categories plus one exceeds it), the joint table has the three
#: cells ``EVERY_SETTLED``, ``SOME_SETTLED`` and ``NO_AGREEMENT``.  Six issues of
#: three categories (``4 ** 6``) are enumerated, seven are not.
MAX_JOINT_CELLS = 4096
#: Bins of [0, 1] for a tally's histogram of each issue's final value.
HIST_BINS = 50
#: Bins of [0, 1] for the quantiles of final values: they are exact to 1 / 4096.
VALUE_BINS = 4096


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
    then ``"unsettled"``).  A joint table of more than :data:`MAX_JOINT_CELLS`
    combinations is not enumerated (:attr:`enumerated` is false): it has the
    cells ``"every issue settled"``, ``"some issues settled"`` and
    ``"no agreement"`` instead.  Outcome *names*, as the experiments take them, are
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
        if math.prod(len(r) for r in rows) <= MAX_JOINT_CELLS:
            joint = [("joint", " / ".join(combo)) for combo in itertools.product(*rows)]
            joint[-1] = ("joint", NO_AGREEMENT)
        else:
            joint = [("joint", name) for name in (EVERY_SETTLED, SOME_SETTLED, NO_AGREEMENT)]
        marginal = [
            (issue.name, r) for issue, r_k in zip(scenario.issues, rows, strict=True) for r in r_k
        ]
        return cls(issues=scenario.issue_names, categories=cats, labels=(*joint, *marginal))

    # -- layout ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Each issue's rows (categories plus ``"unsettled"``): the shape of an enumerated joint table."""
        return tuple(len(c) + 1 for c in self.categories)

    @property
    def enumerated(self) -> bool:
        """Whether the joint table has a cell per combination (at most :data:`MAX_JOINT_CELLS`).

        If not, its cells are ``"every issue settled"``, ``"some issues
        settled"`` and ``"no agreement"``.
        """
        return math.prod(self.shape) <= MAX_JOINT_CELLS

    @property
    def n_joint(self) -> int:
        """How many cells the joint table has (``"no agreement"`` included)."""
        return math.prod(self.shape) if self.enumerated else 3

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
        """``(n,)`` each run's cell of the joint table, from :meth:`issue_rows`.

        A joint table that is not enumerated has cell 0 for the runs that
        settled every issue, 1 for those that settled some, 2 for none.
        """
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.intp)
        if not self.enumerated:
            unsettled = np.asarray(rows == np.asarray(self.shape) - 1)
            cell = np.where(unsettled.any(axis=1), 1, 0)
            return np.asarray(np.where(unsettled.all(axis=1), 2, cell), dtype=np.intp)
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


# -- tallies ---------------------------------------------------------------------------
def wilson_interval(
    count: NDArray[np.int64] | int, n: int, confidence_level: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Wilson score interval for binomial proportions ``count / n``.

    Agrees with ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``,
    vectorised over ``count``.
    """
    k = np.asarray(count, dtype=np.float64)
    z = float(stats.norm.ppf(0.5 + confidence_level / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # The interval of k = 0 starts at 0, that of k = n ends at 1, exactly.
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


#: The count arrays of a :class:`Tally` (besides ``marginal``); integers, added in any order.
COUNT_FIELDS = ("joint", "rounds", "settlement_rounds", "package_hist", "value_hist")
#: The float sums of a :class:`Tally`, added a whole block of runs at a time.
SUM_FIELDS = (
    "package_sum",
    "package_sumsq",
    "settled_package_sum",
    "settled_package_sumsq",
    "unsettled_package_sum",
    "unsettled_package_sumsq",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class TallyPart:
    """Some runs' counts and each of their blocks' float sums (:meth:`Tally.part_of`).

    Plain arrays, without the scenario, so that it pickles small: what a
    worker sends back instead of its runs' records when only the tally is
    needed.
    """

    n_runs: int
    #: :data:`COUNT_FIELDS` and ``marginal_<k>`` per issue.
    counts: dict[str, NDArray[np.int64]]
    #: ``(blocks, len(SUM_FIELDS), K)`` each block's sums.
    sums: NDArray[np.float64]


@dataclass(slots=True, kw_only=True)
class Tally:
    """Streaming aggregate of run outcomes (mutable while a simulation runs).

    Attributes
    ----------
    scenario
        The scenario whose runs are counted.
    n_runs
        How many runs have been counted.
    joint
        Runs per cell of the joint table (see :class:`~basesim.outcomes.OutcomeTable`),
        ``"no agreement"`` last: a cell per combination of each issue's rows,
        or, above :data:`MAX_JOINT_CELLS` combinations, the three cells
        ``"every issue settled"``, ``"some issues settled"`` and ``"no agreement"``.
    marginal
        Per issue, runs per row of its table: its categories, then ``"unsettled"``.
    rounds
        ``(horizon + 1,)`` runs per round in which the last issue was settled;
        index 0 counts the runs that did not settle every issue.
    settlement_rounds
        ``(K, horizon + 1)`` per issue, runs per round in which it was settled;
        index 0 counts the runs that never settled it.
    package_sum, package_sumsq, package_hist
        Per issue, sum and sum of squares of the final value over all runs,
        and its histogram over 50 equal bins of [0, 1].
    settled_package_sum, settled_package_sumsq
        Per issue, sum and sum of squares of the final value over the runs
        that settled the issue.
    unsettled_package_sum, unsettled_package_sumsq
        The same over the runs that did not.
    value_hist
        ``(K, 2, 4096)`` per issue, histograms of the final value over 4,096
        equal bins of [0, 1]: row 0 over the runs that settled the issue
        (agreed values), row 1 over the runs that did not (status quo
        values).  :meth:`~basesim.SimulationResult.quantiles` reads them.
    """

    scenario: Scenario
    n_runs: int = 0
    joint: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    marginal: list[NDArray[np.int64]] = field(default_factory=list)
    rounds: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    settlement_rounds: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((0, 0), dtype=np.int64)
    )
    package_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    package_sumsq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    package_hist: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    settled_package_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    settled_package_sumsq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    unsettled_package_sum: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    unsettled_package_sumsq: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    value_hist: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros((0, 2, VALUE_BINS), dtype=np.int64)
    )
    table: OutcomeTable = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.table = OutcomeTable.of(self.scenario)

    @classmethod
    def empty(cls, scenario: Scenario) -> Tally:
        """A tally of no runs."""
        table = OutcomeTable.of(scenario)
        k = len(scenario.issues)
        return cls(
            scenario=scenario,
            joint=np.zeros(table.n_joint, dtype=np.int64),
            marginal=[np.zeros(s, dtype=np.int64) for s in table.shape],
            rounds=np.zeros(scenario.horizon + 1, dtype=np.int64),
            settlement_rounds=np.zeros((k, scenario.horizon + 1), dtype=np.int64),
            package_sum=np.zeros(k),
            package_sumsq=np.zeros(k),
            package_hist=np.zeros((k, HIST_BINS), dtype=np.int64),
            settled_package_sum=np.zeros(k),
            settled_package_sumsq=np.zeros(k),
            unsettled_package_sum=np.zeros(k),
            unsettled_package_sumsq=np.zeros(k),
            value_hist=np.zeros((k, 2, VALUE_BINS), dtype=np.int64),
        )

    def add(self, outcome: BatchOutcome) -> None:
        """Count a batch of outcomes in."""
        self._add_counts(outcome)
        self._add_sums(self.sums_of(outcome))

    def _add_counts(self, outcome: BatchOutcome) -> None:
        table = self.table
        rows = table.issue_rows(self.scenario, outcome)
        self.joint += np.bincount(table.joint_rows(rows), minlength=table.n_joint)
        for k, size in enumerate(table.shape):
            self.marginal[k] += np.bincount(rows[:, k], minlength=size)
        width = self.rounds.shape[0]
        self.rounds += np.bincount(outcome.round, minlength=width)
        for k in range(self.settlement_rounds.shape[0]):
            self.settlement_rounds[k] += np.bincount(outcome.settled_round[:, k], minlength=width)
        pkg = outcome.package
        bins = np.minimum((pkg * HIST_BINS).astype(np.intp), HIST_BINS - 1)
        for k in range(pkg.shape[1]):
            self.package_hist[k] += np.bincount(bins[:, k], minlength=HIST_BINS)
        fine = np.clip((pkg * VALUE_BINS).astype(np.intp), 0, VALUE_BINS - 1)
        for k in range(pkg.shape[1]):
            # Index 0 for the settled runs, 1 for the others.
            where = fine[:, k] + VALUE_BINS * (~outcome.settled[:, k])
            self.value_hist[k] += np.bincount(where, minlength=2 * VALUE_BINS).reshape(2, -1)
        self.n_runs += outcome.n_runs

    @staticmethod
    def sums_of(outcome: BatchOutcome) -> NDArray[np.float64]:
        """``(6, K)`` the float sums a batch adds, in the order of :data:`SUM_FIELDS`."""
        pkg = outcome.package
        settled_pkg = np.where(outcome.settled, pkg, 0.0)
        unsettled_pkg = np.where(outcome.settled, 0.0, pkg)
        return np.stack(
            [
                pkg.sum(axis=0),
                (pkg * pkg).sum(axis=0),
                settled_pkg.sum(axis=0),
                (settled_pkg * settled_pkg).sum(axis=0),
                unsettled_pkg.sum(axis=0),
                (unsettled_pkg * unsettled_pkg).sum(axis=0),
            ]
        )

    def _add_sums(self, sums: NDArray[np.float64]) -> None:
        for name, row in zip(SUM_FIELDS, sums, strict=True):
            getattr(self, name)[...] += row

    @classmethod
    def part_of(cls, scenario: Scenario, blocks: Sequence[BatchOutcome]) -> TallyPart:
        """The counts of ``blocks`` of ``scenario``'s runs and each block's float sums.

        Adding the part to a tally (:meth:`add_part`) gives the same bits as
        adding each block in turn with :meth:`add`; the part is plain arrays,
        small beside the runs' records, so a worker can send it instead of
        them.
        """
        counts = cls.empty(scenario)
        sums = np.zeros((len(blocks), len(SUM_FIELDS), len(scenario.issues)))
        for b, block in enumerate(blocks):
            counts._add_counts(block)
            sums[b] = cls.sums_of(block)
        arrays = {name: getattr(counts, name) for name in COUNT_FIELDS}
        for k, marginal in enumerate(counts.marginal):
            arrays[f"marginal_{k}"] = marginal
        return TallyPart(n_runs=counts.n_runs, counts=arrays, sums=sums)

    def add_part(self, part: TallyPart) -> None:
        """Add what :meth:`part_of` made: the counts, then each block's sums in order."""
        for name in COUNT_FIELDS:
            getattr(self, name)[...] += part.counts[name]
        for k, marginal in enumerate(self.marginal):
            marginal += part.counts[f"marginal_{k}"]
        self.n_runs += part.n_runs
        for sums in part.sums:
            self._add_sums(sums)

    def counts(self) -> NDArray[np.int64]:
        """The counts in the column layout of :class:`~basesim.outcomes.OutcomeTable`."""
        return np.concatenate([self.joint, *self.marginal]).astype(np.int64)

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The tally as named arrays (for saving)."""
        out: dict[str, NDArray[Any]] = {
            "tally_joint": self.joint,
            "tally_rounds": self.rounds,
            "tally_settlement_rounds": self.settlement_rounds,
            "tally_package_sum": self.package_sum,
            "tally_package_sumsq": self.package_sumsq,
            "tally_package_hist": self.package_hist,
            "tally_settled_package_sum": self.settled_package_sum,
            "tally_settled_package_sumsq": self.settled_package_sumsq,
            "tally_unsettled_package_sum": self.unsettled_package_sum,
            "tally_unsettled_package_sumsq": self.unsettled_package_sumsq,
            "tally_value_hist": self.value_hist,
        }
        for k, counts in enumerate(self.marginal):
            out[f"tally_marginal_{k}"] = counts
        return out

    def max_half_width(self, confidence_level: float = 0.95) -> float:
        """The widest Wilson half-width among the outcome tables' probabilities."""
        if self.n_runs == 0:
            return float("inf")
        widest = 0.0
        for counts in (self.joint, *self.marginal):
            low, high = wilson_interval(counts, self.n_runs, confidence_level)
            widest = max(widest, float(np.max(high - low)) / 2)
        return widest
