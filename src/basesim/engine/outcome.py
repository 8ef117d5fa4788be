"""How runs ended: the per-run record every engine and protocol returns.

An agreement settles the issues it changes and nothing else, so a run ends
with some issues settled (each in its own month) and the others unsettled,
left at their status quo.  :class:`BatchOutcome` holds that per issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchOutcome"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOutcome:
    """Outcomes of a batch of runs (leading axis: run).

    Attributes
    ----------
    package
        ``(n, K)`` each issue's final value: the agreed value of a settled
        issue, the status quo in force at the end for an unsettled one.
    settled
        ``(n, K)`` whether each issue was settled by an agreement.
    settled_round
        ``(n, K)`` the round (1-based month) in which each issue was settled,
        0 if it was not.
    settled_by
        ``(n, K)`` index of the actor whose proposal settled each issue, -1 if
        none (unsettled, or decided by a model without proposals), -2 if an
        event settled it (:data:`basesim.events.SETTLED_BY_EVENT`).
    proposals
        ``(n, N)`` how many rounds each actor was recognised to propose in.
    sampled
        ``(n, P)`` values of the uncertain parameters.
    component
        ``(n,)`` which component of a mixture of models produced each run
        (an index into the ``ensemble`` model's components); 0 for a single
        model (the default).
    """

    package: NDArray[np.float64]
    settled: NDArray[np.bool_]
    settled_round: NDArray[np.int64]
    settled_by: NDArray[np.int64]
    proposals: NDArray[np.int64]
    sampled: NDArray[np.float64]
    component: NDArray[np.int64] | None = None

    def __post_init__(self) -> None:
        if self.component is None:
            object.__setattr__(self, "component", np.zeros(self.package.shape[0], dtype=np.int64))

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.package.shape[0])

    @property
    def agreed(self) -> NDArray[np.bool_]:
        """``(n,)`` whether every issue was settled."""
        result: NDArray[np.bool_] = np.asarray(self.settled.all(axis=1))
        return result

    @property
    def any_agreed(self) -> NDArray[np.bool_]:
        """``(n,)`` whether at least one issue was settled."""
        result: NDArray[np.bool_] = np.asarray(self.settled.any(axis=1))
        return result

    @property
    def round(self) -> NDArray[np.int64]:
        """``(n,)`` the round in which the last issue was settled, 0 unless every issue was."""
        last = self.settled_round.max(axis=1, initial=0)
        result: NDArray[np.int64] = np.where(self.agreed, last, 0).astype(np.int64)
        return result

    @property
    def proposer(self) -> NDArray[np.int64]:
        """``(n,)`` the proposer of the last agreement of a fully settled run, -1 otherwise.

        -1 too where the last settlement was nobody's proposal (a static
        model's decision, or an event).
        """
        n, k = self.settled_round.shape
        if k == 0:
            return np.full(n, -1, dtype=np.int64)
        last = np.argmax(self.settled_round, axis=1)
        who = self.settled_by[np.arange(n), last]
        result: NDArray[np.int64] = np.where(self.agreed & (who >= 0), who, -1).astype(np.int64)
        return result

    def take(self, rows: NDArray[np.intp] | slice) -> BatchOutcome:
        """The outcomes of a subset of runs."""
        return BatchOutcome(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @staticmethod
    def concatenate(parts: Sequence[BatchOutcome]) -> BatchOutcome:
        """Join the outcomes of consecutive batches."""
        return BatchOutcome(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(BatchOutcome)
            }
        )
