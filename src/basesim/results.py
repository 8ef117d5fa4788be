"""Simulation results: outcome probabilities with intervals, and their provenance.

A :class:`SimulationResult` is built batch by batch from a streaming
:class:`~basesim.outcomes.Tally` (counts per outcome, settled or not, as laid out by
:class:`~basesim.outcomes.OutcomeTable`; settlement months; package
statistics), so memory does not grow with the number of runs; it keeps the
full record of the first ``keep_runs`` runs for :meth:`SimulationResult.to_frame`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from basesim._checks import check_confidence_level
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ResultError, ScenarioError
from basesim.outcomes import NO_AGREEMENT, UNSETTLED, OutcomeTable, Tally, wilson_interval
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim.observations import Observation, ScoreResult

__all__ = [
    "EVERY_ISSUE",
    "NOT_FULLY_SETTLED",
    "NO_AGREEMENT",
    "UNSETTLED",
    "SimulationResult",
    "Tally",
    "load_result",
    "wilson_interval",
]

#: The month label of round 0 in :meth:`SimulationResult.agreement_rounds`.
NOT_FULLY_SETTLED = "not fully settled"
#: The ``issue`` of :meth:`SimulationResult.quantiles` rows about settling every issue.
EVERY_ISSUE = "every issue"
_FORMAT = "basesim-result"
_FORMAT_VERSION = 4
# The per-run arrays a saved result holds, and the dtype kinds each may have.
_RUN_ARRAYS = {
    "package": "f",
    "settled": "b",
    "settled_round": "iu",
    "settled_by": "i",
    "proposals": "iu",
    "sampled": "f",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Provenance:
    """Where a result comes from: enough to replay it."""

    basesim_version: str
    engine: str
    entropy: int | list[int]
    spawn_key: tuple[int, ...]
    block_size: int
    created: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        entropy = self.entropy if isinstance(self.entropy, int) else list(self.entropy)
        return {
            "basesim_version": self.basesim_version,
            "engine": self.engine,
            "entropy": str(entropy) if isinstance(entropy, int) else [str(e) for e in entropy],
            "spawn_key": list(self.spawn_key),
            "block_size": self.block_size,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationResult:
    """The outcome distribution of many simulated negotiations.

    Attributes
    ----------
    scenario
        The scenario simulated.
    n_runs
        How many runs were simulated.
    tally
        Streaming counts over all runs.
    runs
        The full record of the first ``len(runs.agreed)`` runs (a random
        sample, the runs being independent), or ``None``.
    provenance
        basesim version, engine, seed entropy and block size: enough to
        replay the result with :func:`basesim.simulate`.
    target_precision
        The interval half-width asked for with ``precision=`` (or ``None``).
    """

    scenario: Scenario
    n_runs: int
    tally: Tally
    runs: BatchOutcome | None
    provenance: Provenance
    target_precision: float | None = None

    @property
    def model(self) -> str:
        """The model (registered protocol) that produced the runs: the scenario's ``[protocol] model``."""
        return self.scenario.protocol.model

    # -- numbers -------------------------------------------------------------------
    def probabilities(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """Outcome probabilities with Wilson confidence intervals.

        Parameters
        ----------
        confidence_level
            Of the intervals, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``table``, ``outcome``, ``count``, ``probability``,
            ``ci_low``, ``ci_high``.  Each issue's table (named after the
            issue) has a row per category, counting the runs that settled the
            issue with a value in it, then a row ``"unsettled"``: the runs in
            which no agreement settled the issue (its status quo persisted),
            whatever its final value.  Table ``"joint"`` has a row per
            combination of those rows, in row-major order (the first issue
            varies slowest), named ``"a / b"``; the last, every issue
            unsettled, is ``"no agreement"``.  Above
            :data:`~basesim.outcomes.MAX_JOINT_CELLS` combinations the joint
            table is not enumerated and has three rows instead:
            ``"every issue settled"``, ``"some issues settled"`` and
            ``"no agreement"``.  Each table's probabilities sum to 1.
        """
        import pandas as pd

        confidence_level = check_confidence_level(confidence_level)
        rows: list[dict[str, Any]] = []
        n = self.n_runs
        counts = self.tally.counts()
        for table, names, columns in self.tally.table.tables():
            part = counts[columns]
            low, high = wilson_interval(part, n, confidence_level)
            for name, count, lo, hi in zip(names, part, low, high, strict=True):
                rows.append(
                    {
                        "table": table,
                        "outcome": name,
                        "count": int(count),
                        "probability": count / n,
                        "ci_low": float(lo),
                        "ci_high": float(hi),
                    }
                )
        return pd.DataFrame(rows)

    def agreement_probability(self, confidence_level: float = 0.95) -> tuple[float, float, float]:
        """Probability that every issue is settled by the horizon, with its Wilson interval.

        The probability that nothing at all is settled is the joint table's
        ``"no agreement"`` row of :meth:`probabilities`; that a given issue is
        settled, one minus its table's ``"unsettled"`` row.
        """
        count = int(self.n_runs - self.tally.rounds[0])
        low, high = wilson_interval(count, self.n_runs, confidence_level)
        return count / self.n_runs, float(low), float(high)

    def agreement_rounds(self) -> pd.DataFrame:
        """Distribution of the month of full settlement: ``round``, ``month``, ``count``, ``probability``.

        The round (month) in which the last issue was settled; round 0, month
        ``"not fully settled"``, counts the runs that left some issue
        unsettled at the horizon.  Per issue, see :meth:`settlement_months`.
        """
        import pandas as pd

        counts = self.tally.rounds
        months = [NOT_FULLY_SETTLED] + [self.month_of(t) for t in range(1, len(counts))]
        return pd.DataFrame(
            {
                "round": np.arange(len(counts)),
                "month": months,
                "count": counts,
                "probability": counts / self.n_runs,
            }
        )

    def settlement_months(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """When each issue is settled: per issue, the distribution of its settlement month.

        Parameters
        ----------
        confidence_level
            Of the Wilson intervals, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``table`` (the issue), ``round`` (0 to the horizon),
            ``month`` (:meth:`month_of` the round; ``"unsettled"`` for round
            0, the runs that never settled the issue), ``count``,
            ``probability``, ``ci_low``, ``ci_high``.  Each issue's
            probabilities sum to 1.
        """
        import pandas as pd

        confidence_level = check_confidence_level(confidence_level)
        n = self.n_runs
        counts = self.tally.settlement_rounds
        width = counts.shape[1]
        months = [UNSETTLED] + [self.month_of(t) for t in range(1, width)]
        frames = []
        for k, issue in enumerate(self.scenario.issue_names):
            low, high = wilson_interval(counts[k], n, confidence_level)
            frames.append(
                pd.DataFrame(
                    {
                        "table": issue,
                        "round": np.arange(width),
                        "month": months,
                        "count": counts[k],
                        "probability": counts[k] / n,
                        "ci_low": low,
                        "ci_high": high,
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def month_of(self, round_index: int) -> str:
        """Calendar month ``YYYY-MM`` of a round (or ``"round N"`` without a start month)."""
        start = self.scenario.start
        if start is None:
            return f"round {round_index}"
        year, month = (int(x) for x in start.split("-"))
        index = year * 12 + (month - 1) + round_index - 1
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    def package_summary(self) -> pd.DataFrame:
        """Mean and standard deviation of each issue's final value.

        Returns
        -------
        pandas.DataFrame
            Three rows per issue, told apart by column ``runs``: ``"all"``
            (every run: the agreed value of a settled issue, the status quo
            in force at the end of an unsettled one), ``"settled"`` (only the
            runs that settled the issue: agreed values) and ``"unsettled"``
            (only the runs that did not: status quo values).  Columns
            ``issue``, ``runs``, ``count`` (runs summarised), ``mean``,
            ``std``; both are NaN over no runs.
        """
        import pandas as pd

        t = self.tally
        rows = []
        for k, issue in enumerate(self.scenario.issue_names):
            n_settled = int(self.n_runs - t.settlement_rounds[k, 0])
            for runs, count, s1, s2 in (
                ("all", self.n_runs, t.package_sum[k], t.package_sumsq[k]),
                ("settled", n_settled, t.settled_package_sum[k], t.settled_package_sumsq[k]),
                (
                    "unsettled",
                    self.n_runs - n_settled,
                    t.unsettled_package_sum[k],
                    t.unsettled_package_sumsq[k],
                ),
            ):
                if count:
                    mean = float(s1) / count
                    std = max(float(s2) / count - mean * mean, 0.0) ** 0.5
                else:
                    mean = std = float("nan")
                rows.append(
                    {"issue": issue, "runs": runs, "count": count, "mean": mean, "std": std}
                )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """One row per kept run: what was drawn, and how each issue ended.

        Columns ``run`` (its index), one per uncertain parameter (the value
        drawn), then per issue ``<issue>`` (final value), ``<issue>_category``
        (its row of the issue's table: the category of a settled issue,
        ``"unsettled"`` otherwise), ``settled_<issue>``,
        ``settlement_round_<issue>`` (0 if unsettled) and
        ``settlement_month_<issue>`` (:meth:`month_of` the round, ``None`` if
        unsettled); then ``agreed`` (every issue settled), ``round`` (round of
        the last settlement if every issue was settled, else 0),
        ``proposer`` (whose proposal made that last settlement, else ``""``),
        ``outcome`` (the run's joint outcome, as in :meth:`probabilities`)
        and ``model`` (the model that produced the run: :attr:`model`, or the
        component an ``ensemble`` drew for it).

        Raises
        ------
        ResultError
            If the result kept no runs (``keep_runs=0``).
        """
        import pandas as pd

        runs = self.runs
        if runs is None or runs.n_runs == 0:
            raise ResultError(
                "this result kept no runs; simulate with keep_runs > 0 to get to_frame()"
            )
        table = self.tally.table
        data: dict[str, Any] = {"run": np.arange(runs.n_runs)}
        for p, path in enumerate(self.scenario.uncertain_parameters()):
            data[path] = runs.sampled[:, p]
        rows = table.issue_rows(self.scenario, runs)
        months = np.array(
            [None] + [self.month_of(t) for t in range(1, self.scenario.horizon + 1)], dtype=object
        )
        for k, issue in enumerate(self.scenario.issue_names):
            data[issue] = runs.package[:, k]
            data[f"{issue}_category"] = np.asarray(table.row_labels(k), dtype=object)[rows[:, k]]
            data[f"settled_{issue}"] = runs.settled[:, k]
            data[f"settlement_round_{issue}"] = runs.settled_round[:, k]
            # Object dtype, so that an unsettled issue's month is None, not NaN.
            data[f"settlement_month_{issue}"] = pd.Series(
                months[runs.settled_round[:, k]], dtype=object
            )
        data["agreed"] = runs.agreed
        data["round"] = runs.round
        names = np.asarray([*self.scenario.actor_names, ""], dtype=object)
        data["proposer"] = names[runs.proposer]
        data["outcome"] = np.asarray(table.joint_labels, dtype=object)[table.joint_rows(rows)]
        from basesim.protocols.registry import component_names

        models = np.asarray(component_names(self.model), dtype=object)
        data["model"] = models[runs.component]
        return pd.DataFrame(data)

    # -- point summaries -------------------------------------------------------------
    @property
    def precision_reached(self) -> bool | None:
        """Whether a ``precision=`` target was met (``None`` without a target).

        True when every probability's 95 % Wilson half-width is at most
        :attr:`target_precision`; False when the run cap stopped the
        simulation first.
        """
        if self.target_precision is None:
            return None
        return bool(self.tally.max_half_width() <= self.target_precision)

    def quantiles(self, q: float | Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9)) -> pd.DataFrame:
        """Quantiles of each issue's agreed and final value and of its settlement month.

        Computed from distributions the result keeps over *every* run (not
        only the kept ones), so no ``keep_runs`` is needed:

        - ``"agreed value"``: the value of the issue over the runs that settled
          it.  Final values are counted in 4,096 equal bins of [0, 1] as runs
          are simulated; the quantile interpolates linearly within its bin,
          so it is within 1/4096 of the sample quantile.
        - ``"final value"``: the same over all runs, an unsettled issue at the
          status quo it was left at.
        - ``"settlement round"``: the round (month) the issue was settled, over
          all runs, the runs that never settled it ranked after the horizon.
          Exact: the smallest round ``r`` with at least a share ``q`` of the
          runs settled by ``r`` (the inverse of the empirical distribution
          function; for ``q = 0``, the first round in which some run settled
          it).  If fewer than a share ``q`` of the runs ever settled the
          issue, the quantile is NaN and its month ``"unsettled"``.  Issue
          ``"every issue"`` gives the round in which the last issue was
          settled (runs that left some issue open ranked last).

        Parameters
        ----------
        q
            Probabilities in [0, 1].

        Returns
        -------
        pandas.DataFrame
            Columns ``issue``, ``quantity`` (``"agreed value"``,
            ``"final value"``, ``"settlement round"``), ``runs`` (how many
            runs are summarised), ``q``, ``value`` (NaN over no runs) and
            ``month`` (:meth:`month_of` a settlement round, ``"unsettled"``
            past the horizon; ``None`` for values).

        Examples
        --------
        >>> import basesim
        >>> res = basesim.simulate(basesim.load_scenario("syria-2025"), n_runs=2_000, rng=7)
        >>> qs = res.quantiles(q=0.5)
        >>> sorted(set(qs.quantity))
        ['agreed value', 'final value', 'settlement round']
        """
        import pandas as pd

        try:
            probs = np.atleast_1d(np.asarray(q, dtype=np.float64))
        except (TypeError, ValueError):
            raise ResultError(f"q must be probabilities in [0, 1] (got {q!r})") from None
        if probs.ndim != 1 or probs.size == 0 or not np.all((probs >= 0) & (probs <= 1)):
            raise ResultError(f"q must be probabilities in [0, 1] (got {q!r})")
        t = self.tally
        rows: list[dict[str, Any]] = []
        rounds = [
            (issue, t.settlement_rounds[k]) for k, issue in enumerate(self.scenario.issue_names)
        ]
        for k, issue in enumerate(self.scenario.issue_names):
            for quantity, hist in (
                ("agreed value", t.value_hist[k, 0]),
                ("final value", t.value_hist[k].sum(axis=0)),
            ):
                runs = int(hist.sum())
                for p, value in zip(probs, _histogram_quantiles(hist, probs), strict=True):
                    rows.append(
                        {
                            "issue": issue,
                            "quantity": quantity,
                            "runs": runs,
                            "q": float(p),
                            "value": value,
                            "month": None,
                        }
                    )
            rows += self._round_quantiles(issue, rounds[k][1], probs)
        rows += self._round_quantiles(EVERY_ISSUE, t.rounds, probs)
        return pd.DataFrame(rows)

    def _round_quantiles(
        self, issue: str, counts: NDArray[np.int64], probs: NDArray[np.float64]
    ) -> list[dict[str, Any]]:
        """Quantile rows of a settlement round from its counts (index 0: never settled)."""
        n = self.n_runs
        # Settled by round r, for r = 1 .. horizon; the never-settled runs rank last.
        settled_by = np.cumsum(counts[1:])
        rows = []
        for p in probs:
            # The smallest r with settled_by[r] >= p n, and at least one run.
            r = int(np.searchsorted(settled_by, max(p * n, 1), side="left")) + 1
            if r <= len(settled_by):
                value, month = float(r), self.month_of(r)
            else:
                value, month = float("nan"), UNSETTLED
            rows.append(
                {
                    "issue": issue,
                    "quantity": "settlement round",
                    "runs": n,
                    "q": float(p),
                    "value": value,
                    "month": month,
                }
            )
        return rows

    def summary(self) -> pd.DataFrame:
        """Median and 10–90 % range of each issue's agreed value, final value and settlement round.

        One row per issue and quantity of :meth:`quantiles` (plus the round in
        which every issue was settled), columns ``issue``, ``quantity``,
        ``runs``, ``share`` (of all runs: those that settled the issue for
        ``"agreed value"`` and the settlement rounds, 1 for ``"final value"``),
        ``q10``, ``median``, ``q90`` and, for settlement rounds, ``month_q10``,
        ``median_month``, ``month_q90``.
        """
        import pandas as pd

        long = self.quantiles(q=(0.1, 0.5, 0.9))
        t = self.tally
        settled = {
            issue: int(self.n_runs - t.settlement_rounds[k, 0])
            for k, issue in enumerate(self.scenario.issue_names)
        }
        settled[EVERY_ISSUE] = int(self.n_runs - t.rounds[0])
        rows = []
        for (issue, quantity), part in long.groupby(["issue", "quantity"], sort=False):
            values = part["value"].to_numpy()
            row: dict[str, Any] = {
                "issue": issue,
                "quantity": quantity,
                "runs": int(part["runs"].iloc[0]),
                "share": 1.0 if quantity == "final value" else settled[issue] / self.n_runs,
                "q10": values[0],
                "median": values[1],
                "q90": values[2],
            }
            if quantity == "settlement round":
                months = part["month"].tolist()
                row.update(month_q10=months[0], median_month=months[1], month_q90=months[2])
            rows.append(row)
        return pd.DataFrame(rows)

    # -- presentation ----------------------------------------------------------------
    def __repr__(self) -> str:
        probs = self.probabilities()
        joint = probs[probs.table == "joint"].sort_values("probability", ascending=False).head(5)
        lines = [
            f"SimulationResult(scenario={self.scenario.name!r}, model={self.model!r}, "
            f"n_runs={self.n_runs:,}, engine={self.provenance.engine!r})"
        ]
        if self.target_precision is not None:
            widest = self.tally.max_half_width()
            reached = "reached" if widest <= self.target_precision else "NOT reached (run cap)"
            lines.append(
                f"  precision {self.target_precision:g} {reached}: widest half-width "
                f"{widest:.4f} after {self.n_runs:,} runs"
            )
        for row in joint.itertuples():
            lines.append(
                f"  {row.outcome:<40} {row.probability:7.1%}  [{row.ci_low:6.1%}, {row.ci_high:6.1%}]"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        probs = self.probabilities()
        head = (
            f"<p><b>SimulationResult</b>: scenario <code>{self.scenario.name}</code>, "
            f"{self.n_runs:,} runs, engine <code>{self.provenance.engine}</code>, "
            f"basesim {self.provenance.basesim_version}</p>"
        )
        return head + str(probs.to_html(index=False, float_format=lambda x: f"{x:.4f}"))

    def score(
        self,
        observations: Sequence[Observation] | str | PathLike[str],
        *,
        n_runs: int | None = None,
        confidence_level: float = 0.95,
    ) -> ScoreResult:
        """Score this result's forecast of what was observed, on this result's own runs.

        The runs are re-simulated from the result's provenance (its root
        seed's entropy and spawn key) with the batch engine, so run ``i``
        is the result's run ``i`` (the engines agree run by run): the score
        of the first ``n_runs`` runs (default: all :attr:`n_runs`) with the
        model that produced them.  See :func:`basesim.score`.

        Examples
        --------
        >>> import basesim
        >>> res = basesim.simulate(basesim.load_scenario("syria-2025"), n_runs=300, rng=7)
        >>> obs = [basesim.Observation(by="2025-12", issue="sanctions_relief", state="substantial")]
        >>> res.score(obs).n_runs
        300
        """
        from basesim.engine.compiled import BLOCK_SIZE
        from basesim.observations import score

        if self.provenance.block_size != BLOCK_SIZE:
            raise ResultError(
                f"provenance.block_size must be {BLOCK_SIZE} to re-simulate this result's runs "
                f"(got {self.provenance.block_size})"
            )
        root = np.random.SeedSequence(self.provenance.entropy, spawn_key=self.provenance.spawn_key)
        return score(
            self.scenario,
            observations,
            n_runs=self.n_runs if n_runs is None else n_runs,
            confidence_level=confidence_level,
            rng=root,
        )

    def plot(self, *, ax: Axes | None = None, confidence_level: float = 0.95) -> Axes:
        """Bar chart of the joint outcome probabilities with interval bars; returns the Axes."""
        from basesim.plotting import plot_probabilities

        return plot_probabilities(self, ax=ax, confidence_level=confidence_level)

    # -- files -----------------------------------------------------------------------
    def save(self, path: str | PathLike[str]) -> Path:
        """Write the result to a ``.npz`` file (arrays plus JSON metadata; no pickle), atomically.

        The metadata holds the scenario's TOML with its SHA-256 and the labels
        of the outcome columns, so that :func:`load_result` can refuse a file
        whose scenario was edited after the counts were made.
        """
        from basesim._io import write_bytes_atomic

        text = self.scenario.to_toml()
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "n_runs": self.n_runs,
            "target_precision": self.target_precision,
            "provenance": self.provenance.as_dict(),
            "scenario_toml": text,
            "scenario_sha256": _sha256(text),
            "outcomes": [list(label) for label in self.tally.table.labels],
            "has_runs": self.runs is not None,
        }
        arrays = dict(self.tally.arrays())
        if self.runs is not None:
            for name in _RUN_ARRAYS:
                arrays[f"runs_{name}"] = getattr(self.runs, name)
            arrays["runs_component"] = np.asarray(self.runs.component, dtype=np.int64)
        arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub reads ** as allow_pickle
        return write_bytes_atomic(Path(path), buffer.getvalue())


def scenario_digest(scenario: Scenario) -> str:
    """SHA-256 (hex) of the scenario's canonical TOML: two scenarios differ iff it differs."""
    return _sha256(scenario.to_toml())


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- loading ------------------------------------------------------------------------------
_META_KEYS = frozenset(
    {
        "format",
        "format_version",
        "n_runs",
        "target_precision",
        "provenance",
        "scenario_toml",
        "scenario_sha256",
        "outcomes",
        "has_runs",
    }
)
_MAX_BLOCK_SIZE = 2**31
_PROVENANCE_KEYS = frozenset(
    {"basesim_version", "engine", "entropy", "spawn_key", "block_size", "created"}
)


def _whole(value: Any, low: int) -> bool:
    """Whether ``value`` is a JSON whole number (not a boolean) of at least ``low``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _text(path: Path, meta: dict[str, Any], key: str, where: str = "metadata") -> str:
    value = meta[key]
    if not isinstance(value, str) or not value:
        raise ResultError(f"{path}: {where}.{key} must be a non-empty string (got {value!r})")
    return value


def _entropy(path: Path, raw: Any) -> int | list[int]:
    """The seed entropy as saved: a decimal string, or a non-empty list of them."""

    def one(text: Any) -> int:
        if not isinstance(text, str) or not text.isdecimal() or not text.isascii():
            raise ResultError(
                f"{path}: metadata.provenance.entropy must be a whole number >= 0 written as a "
                f"decimal string, or a list of them (got {raw!r})"
            )
        try:
            return int(text)
        except ValueError:  # more digits than Python converts
            raise ResultError(
                f"{path}: metadata.provenance.entropy has too many digits ({len(text)})"
            ) from None

    if isinstance(raw, list):
        if not raw:
            raise ResultError(f"{path}: metadata.provenance.entropy must not be an empty list")
        return [one(e) for e in raw]
    return one(raw)


def _provenance_from(path: Path, meta: Any) -> Provenance:
    from basesim.engine.batch import ENGINES

    if not isinstance(meta, dict) or set(meta) != _PROVENANCE_KEYS:
        keys = sorted(meta) if isinstance(meta, dict) else meta
        raise ResultError(
            f"{path}: metadata.provenance must be an object with keys "
            f"{', '.join(sorted(_PROVENANCE_KEYS))} (got {keys!r})"
        )
    spawn_key = meta["spawn_key"]
    if not isinstance(spawn_key, list) or not all(_whole(k, 0) for k in spawn_key):
        raise ResultError(
            f"{path}: metadata.provenance.spawn_key must be a list of whole numbers >= 0 "
            f"(got {spawn_key!r})"
        )
    block_size = meta["block_size"]
    if not _whole(block_size, 1) or block_size > _MAX_BLOCK_SIZE:
        raise ResultError(
            f"{path}: metadata.provenance.block_size must be a whole number in "
            f"[1, {_MAX_BLOCK_SIZE}] (got {block_size!r})"
        )
    engine = _text(path, meta, "engine", "metadata.provenance")
    if engine not in ENGINES:
        raise ResultError(
            f"{path}: metadata.provenance.engine must be one of {', '.join(ENGINES)} "
            f"(got {engine!r})"
        )
    return Provenance(
        basesim_version=_text(path, meta, "basesim_version", "metadata.provenance"),
        engine=engine,
        entropy=_entropy(path, meta["entropy"]),
        spawn_key=tuple(spawn_key),
        block_size=block_size,
        created=_text(path, meta, "created", "metadata.provenance"),
    )


def _metadata(path: Path, arrays: dict[str, NDArray[Any]]) -> dict[str, Any]:
    """The metadata entry, parsed and checked to be this format with every key it needs."""
    from basesim._io import parse_json

    raw = arrays.pop("metadata", None)
    if raw is None:
        raise ResultError(f"{path}: not a basesim result (no metadata entry)")
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ResultError(
            f"{path}: the metadata entry must be 1-D bytes (got {raw.dtype}, shape {raw.shape})"
        )
    meta = parse_json(raw.tobytes(), error=ResultError, where=f"{path}: metadata")
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else meta
        raise ResultError(f"{path}: metadata.format must be {_FORMAT!r} (got {got!r})")
    version = meta.get("format_version")
    if version != _FORMAT_VERSION or isinstance(version, bool):
        older = ""
        if (
            isinstance(version, int)
            and not isinstance(version, bool)
            and 1 <= version < _FORMAT_VERSION
        ):
            why = {
                1: "whose results settled every issue at once and have no 'unsettled' rows",
                2: "which did not record the outcome labels and the scenario's digest",
            }.get(
                version,
                "whose results do not keep the distribution of final values that quantiles() "
                "reads",
            )
            older = (
                f"; it was written by an older basesim, {why}: simulate again to get a result "
                "in this format"
            )
        raise ResultError(
            f"{path}: metadata.format_version must be {_FORMAT_VERSION} (got {version!r}){older}"
        )
    missing = sorted(_META_KEYS - set(meta))
    extra = sorted(set(meta) - _META_KEYS)
    if missing or extra:
        parts = [f"missing {', '.join(missing)}"] if missing else []
        parts += [f"unknown {', '.join(repr(k) for k in extra)}"] if extra else []
        raise ResultError(f"{path}: metadata keys are wrong ({'; '.join(parts)})")
    return meta


def _scenario_from(path: Path, meta: dict[str, Any]) -> tuple[Scenario, OutcomeTable]:
    """The embedded scenario, checked against its digest and the saved outcome labels."""
    from basesim.scenarios.toml_io import read_scenario_text

    text = _text(path, meta, "scenario_toml")
    digest = meta["scenario_sha256"]
    if digest != _sha256(text):
        raise ResultError(
            f"{path}: the embedded scenario was edited after the result was saved (its SHA-256 "
            f"is not metadata.scenario_sha256 {digest!r}); its counts may not be this "
            "scenario's: simulate again"
        )
    try:
        scenario = read_scenario_text(text, source=f"{path} (embedded scenario)")
        table = OutcomeTable.of(scenario)
    except ScenarioError as exc:
        raise ResultError(f"{path}: the embedded scenario is not valid: {exc}") from None
    saved = meta["outcomes"]
    labels = [list(label) for label in table.labels]
    if saved != labels:
        if not isinstance(saved, list) or len(saved) != len(labels):
            detail = f"{len(labels)} columns expected"
        else:
            c = next(i for i, (a, b) in enumerate(zip(saved, labels, strict=True)) if a != b)
            detail = f"column {c} is {saved[c]!r} in the file, {labels[c]!r} in the scenario"
        raise ResultError(
            f"{path}: metadata.outcomes do not match the embedded scenario's outcome tables "
            f"({detail})"
        )
    return scenario, table


def _histogram_quantiles(hist: NDArray[np.int64], probs: NDArray[np.float64]) -> list[float]:
    """Quantiles of values counted in equal bins of [0, 1], linear within a bin (NaN if empty).

    The empirical distribution function is known exactly at the bin edges
    (the cumulative counts); between them it is taken as linear.  So the
    ``p``-quantile lies in the bin holding the ``ceil(p n)``-th smallest
    value, as the sample quantile does: they differ by less than a bin.
    """
    n = int(hist.sum())
    if n == 0:
        return [float("nan")] * len(probs)
    width = 1.0 / hist.shape[0]
    cum = np.concatenate([[0], np.cumsum(hist)])
    out = []
    for p in probs:
        target = p * n
        # The first bin whose cumulative count reaches the target (and holds runs).
        b = int(np.searchsorted(cum[1:], target, side="left"))
        b = min(max(b, int(np.flatnonzero(hist)[0])), hist.shape[0] - 1)
        within = (target - cum[b]) / hist[b] if hist[b] else 0.0
        out.append(float((b + min(max(within, 0.0), 1.0)) * width))
    return out


def load_result(path: str | PathLike[str]) -> SimulationResult:
    """Read a result written by :meth:`SimulationResult.save`, validating everything in it.

    Every metadata key and array is checked: its type, shape and range, the
    counts against ``n_runs`` and against each other, the embedded scenario
    against its SHA-256 and the outcome labels of the counts.  A file with
    anything missing, extra or inconsistent is refused, never loaded in part.

    Raises
    ------
    ResultError
        If the file is missing, not a regular file, damaged, not a basesim
        result, or inconsistent; the message names the file, the entry and
        what is wrong with it.
    """
    from basesim._io import read_npz

    path = Path(path)
    arrays = read_npz(path, error=ResultError, what="result file")
    meta = _metadata(path, arrays)
    n_runs = meta["n_runs"]
    if not _whole(n_runs, 1):
        raise ResultError(f"{path}: metadata.n_runs must be a whole number >= 1 (got {n_runs!r})")
    precision = meta["target_precision"]
    if precision is not None and (
        isinstance(precision, bool)
        or not isinstance(precision, int | float)
        or not 0 < precision < 0.5
    ):
        raise ResultError(
            f"{path}: metadata.target_precision must be null or a number in (0, 0.5) "
            f"(got {precision!r})"
        )
    has_runs = meta["has_runs"]
    if not isinstance(has_runs, bool):
        raise ResultError(f"{path}: metadata.has_runs must be true or false (got {has_runs!r})")
    provenance = _provenance_from(path, meta["provenance"])
    scenario, _ = _scenario_from(path, meta)
    expected = set(Tally.empty(scenario).arrays())
    if has_runs:
        # runs_component (which model of a mixture produced each run) is optional.
        expected |= {f"runs_{name}" for name in _RUN_ARRAYS} | {"runs_component"}
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ResultError(
            f"{path}: unexpected arrays {', '.join(repr(n) for n in extra)} "
            f"(metadata.has_runs is {'true' if has_runs else 'false'})"
        )
    tally = _tally_from(path, scenario, n_runs, arrays)
    runs = _runs_from(path, scenario, n_runs, arrays) if has_runs else None
    return SimulationResult(
        scenario=scenario,
        n_runs=n_runs,
        tally=tally,
        runs=runs,
        provenance=provenance,
        target_precision=None if precision is None else float(precision),
    )


def _array(
    path: Path, arrays: dict[str, NDArray[Any]], name: str, shape: tuple[int, ...], kinds: str
) -> NDArray[Any]:
    """``arrays[name]``, checked to have ``shape`` and one of the dtype ``kinds``."""
    if name not in arrays:
        raise ResultError(f"{path}: array {name!r} is missing")
    value = arrays[name]
    if value.shape != shape or value.dtype.kind not in kinds:
        raise ResultError(
            f"{path}: array {name!r} must have shape {shape} and dtype kind "
            f"{' or '.join(repr(k) for k in kinds)} (got {value.shape}, {value.dtype.kind!r})"
        )
    return value


def _tally_from(
    path: Path, scenario: Scenario, n_runs: int, arrays: dict[str, NDArray[Any]]
) -> Tally:
    """The saved tally, every count checked against ``n_runs`` and against the others."""
    template = Tally.empty(scenario)
    loaded: dict[str, NDArray[Any]] = {}
    for name, empty in template.arrays().items():
        kinds = "iu" if empty.dtype.kind == "i" else "f"
        value = _array(path, arrays, name, empty.shape, kinds)
        if kinds == "f" and not np.all((value >= 0) & (value <= n_runs)):
            # Sums over runs of values (or squares) in [0, 1].
            raise ResultError(
                f"{path}: array {name!r} must hold sums of values in [0, 1] over {n_runs} runs, "
                f"so numbers in [0, {n_runs}]"
            )
        if kinds == "iu" and np.any(value < 0):
            raise ResultError(f"{path}: array {name!r} holds a negative count")
        if kinds == "iu" and np.any(value > n_runs):
            raise ResultError(f"{path}: array {name!r} holds a count above n_runs = {n_runs}")
        loaded[name] = value.astype(empty.dtype)
    k = len(scenario.issues)
    tally = Tally(
        scenario=scenario,
        n_runs=n_runs,
        joint=loaded["tally_joint"],
        marginal=[loaded[f"tally_marginal_{i}"] for i in range(k)],
        rounds=loaded["tally_rounds"],
        settlement_rounds=loaded["tally_settlement_rounds"],
        package_sum=loaded["tally_package_sum"],
        package_sumsq=loaded["tally_package_sumsq"],
        package_hist=loaded["tally_package_hist"],
        settled_package_sum=loaded["tally_settled_package_sum"],
        settled_package_sumsq=loaded["tally_settled_package_sumsq"],
        unsettled_package_sum=loaded["tally_unsettled_package_sum"],
        unsettled_package_sumsq=loaded["tally_unsettled_package_sumsq"],
        value_hist=loaded["tally_value_hist"],
    )
    tables = [("tally_joint", tally.joint), ("tally_rounds", tally.rounds)]
    tables += [(f"tally_marginal_{i}", c) for i, c in enumerate(tally.marginal)]
    tables += [(f"tally_settlement_rounds[{i}]", c) for i, c in enumerate(tally.settlement_rounds)]
    tables += [(f"tally_package_hist[{i}]", c) for i, c in enumerate(tally.package_hist)]
    tables += [(f"tally_value_hist[{i}]", c) for i, c in enumerate(tally.value_hist)]
    for name, counts in tables:
        if int(counts.sum()) != n_runs:
            raise ResultError(
                f"{path}: counts of {name} do not add up to n_runs = {n_runs} (they add up to "
                f"{int(counts.sum())})"
            )
    # The tables count the same runs: each issue's table is the joint table
    # summed over the other issues, its "unsettled" row the runs it never
    # settled, and the fully settled runs those with no issue unsettled.  A
    # joint table that is not enumerated only bounds each issue's table: its
    # "no agreement" runs left every issue unsettled, its "every issue
    # settled" runs settled every issue.
    table = tally.table
    joint = tally.joint.reshape(table.shape) if table.enumerated else tally.joint
    for i, issue in enumerate(scenario.issue_names):
        if table.enumerated:
            others = tuple(j for j in range(k) if j != i)
            agrees = np.array_equal(joint.sum(axis=others), tally.marginal[i])
        else:
            unsettled = int(tally.marginal[i][-1])
            agrees = joint[-1] <= unsettled and joint[0] <= n_runs - unsettled
        if not agrees:
            raise ResultError(
                f"{path}: tally_marginal_{i} (issue {issue!r}) disagrees with the joint table"
            )
        if tally.marginal[i][-1] != tally.settlement_rounds[i, 0]:
            raise ResultError(
                f"{path}: issue {issue!r} is unsettled in {int(tally.marginal[i][-1])} runs by its "
                f"table but in {int(tally.settlement_rounds[i, 0])} by its settlement rounds"
            )
        if tally.value_hist[i, 1].sum() != tally.settlement_rounds[i, 0]:
            raise ResultError(
                f"{path}: tally_value_hist[{i}] (issue {issue!r}) counts "
                f"{int(tally.value_hist[i, 1].sum())} unsettled runs, its settlement rounds "
                f"{int(tally.settlement_rounds[i, 0])}"
            )
    for name in ("package_sum", "package_sumsq"):
        parts = getattr(tally, f"settled_{name}") + getattr(tally, f"unsettled_{name}")
        if not np.allclose(parts, getattr(tally, name), rtol=1e-9, atol=1e-9):
            raise ResultError(
                f"{path}: tally_settled_{name} and tally_unsettled_{name} do not add up to "
                f"tally_{name}"
            )
    if table.enumerated:
        full = int(joint[tuple(slice(0, s - 1) for s in table.shape)].sum())
    else:
        full = int(joint[0])
    if full != n_runs - int(tally.rounds[0]):
        raise ResultError(
            f"{path}: the joint table has {full} runs with every issue settled, tally_rounds "
            f"{n_runs - int(tally.rounds[0])}"
        )
    return tally


def _runs_from(
    path: Path, scenario: Scenario, n_runs: int, arrays: dict[str, NDArray[Any]]
) -> BatchOutcome:
    """The saved per-run record, its shapes and settlement fields checked."""
    package = arrays.get("runs_package")
    if package is None:
        raise ResultError(f"{path}: array 'runs_package' is missing")
    if package.ndim != 2:
        raise ResultError(f"{path}: array 'runs_package' must be 2-D (got shape {package.shape})")
    m = package.shape[0]
    if m > n_runs:
        raise ResultError(f"{path}: {m} runs kept, more than n_runs = {n_runs}")
    k = len(scenario.issues)
    widths = {
        "package": k,
        "settled": k,
        "settled_round": k,
        "settled_by": k,
        "proposals": len(scenario.actors),
        "sampled": len(scenario.uncertain_parameters()),
    }
    values = {
        name: _array(path, arrays, f"runs_{name}", (m, widths[name]), kinds)
        for name, kinds in _RUN_ARRAYS.items()
    }
    settled = values["settled"].astype(bool)
    settled_round = values["settled_round"].astype(np.int64)
    settled_by = values["settled_by"].astype(np.int64)
    proposals = values["proposals"].astype(np.int64)
    horizon = scenario.horizon
    if not np.all((values["package"] >= 0) & (values["package"] <= 1)):
        raise ResultError(f"{path}: runs_package must hold issue values in [0, 1]")
    if not np.all(np.isfinite(values["sampled"])):
        raise ResultError(f"{path}: runs_sampled must hold finite numbers")
    if np.any((settled_round < 0) | (settled_round > horizon)):
        raise ResultError(f"{path}: runs_settled_round must lie in [0, {horizon}] (the horizon)")
    if np.any((settled_round == 0) == settled):
        raise ResultError(
            f"{path}: runs_settled_round must be 0 exactly where runs_settled is false"
        )
    n_actors = len(scenario.actors)
    if np.any((settled_by < -2) | (settled_by >= n_actors)):
        raise ResultError(f"{path}: runs_settled_by must lie in [-2, {n_actors - 1}]")
    # An issue settled by nobody's proposal (a static model) has -1 too; by an event, -2.
    if np.any((settled_by != -1) & ~settled):
        raise ResultError(f"{path}: runs_settled_by must be -1 where runs_settled is false")
    if np.any(proposals < 0) or np.any(proposals.sum(axis=1) > horizon):
        raise ResultError(
            f"{path}: runs_proposals must be counts adding up to at most {horizon} per run"
        )
    # Which component of a mixture produced each run (absent: a single model).
    component = np.zeros(m, dtype=np.int64)
    if "runs_component" in arrays:
        from basesim.protocols.registry import component_names

        raw = _array(path, arrays, "runs_component", (m,), "iu")
        n_components = len(component_names(scenario.protocol.model))
        if np.any((raw < 0) | (raw >= n_components)):
            raise ResultError(f"{path}: runs_component must lie in [0, {n_components - 1}]")
        component = raw.astype(np.int64)
    return BatchOutcome(
        package=values["package"].astype(np.float64),
        settled=settled,
        settled_round=settled_round,
        settled_by=settled_by,
        proposals=proposals,
        sampled=values["sampled"].astype(np.float64),
        component=component,
    )
