"""Comparing scenarios on common random numbers, with paired differences."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.engine.compiled import batch_size_for, compile_scenario
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import SimulationError
from basesim.experiments.executors import check_executor, run_ordered, tally_counts
from basesim.experiments.tasks import (
    DEFAULT_BATCH,
    ENGINES,
    BlockTally,
    Task,
    TaskResult,
    batch_tasks,
    check_int,
    progress_bar,
    provenance_of,
    run_task_tally,
)
from basesim.outcomes import OutcomeTable, Tally
from basesim.protocols.registry import with_model
from basesim.results import Provenance, SimulationResult
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["ComparisonResult", "compare", "compare_models"]


def run_compare_task(tasks: tuple[Task, ...]) -> list[TaskResult]:
    """One run range of every scenario, tallied, with each run's outcome columns.

    Module-level so that executors can send it to other processes or machines.
    """
    return [run_task_tally(task, codes=True) for task in tasks]


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonResult:
    """Scenarios simulated on the same random numbers, and their paired differences.

    Attributes
    ----------
    names
        The scenarios' names, as given to :func:`compare`.
    reference
        The name differences are taken from.
    results
        One :class:`~basesim.SimulationResult` per scenario, in ``names`` order
        (also ``comparison[name]``).
    n_runs
        Runs per scenario.
    outcomes
        ``(table, outcome)`` of each outcome column the scenarios share, as
        laid out by :class:`~basesim.outcomes.OutcomeTable`: the joint table
        (its last cell ``"no agreement"``), then each issue's categories and
        ``"unsettled"``.  A table is shared when every scenario has it with
        the same rows (the joint table: the same issues and categories).
    paired_sum, paired_sumsq
        ``(scenarios, columns)``: over runs ``r``, the sums of
        ``D_r = 1[run r of the scenario is in the column] - 1[run r of the
        reference is]`` and of ``D_r ** 2`` (zero rows for the reference).
    confidence_level
        Default level of the intervals.
    provenance
        basesim version, engine and seed entropy, shared by all scenarios.
    left_out
        The tables not compared, each with the reason (``"russian_package
        (only in 'offer')"``); empty when the scenarios have the same issues
        and categories.
    """

    names: tuple[str, ...]
    reference: str
    results: tuple[SimulationResult, ...]
    n_runs: int
    outcomes: tuple[tuple[str, str], ...]
    paired_sum: NDArray[np.int64]
    paired_sumsq: NDArray[np.int64]
    confidence_level: float
    provenance: Provenance
    left_out: tuple[str, ...] = ()

    def __getitem__(self, name: str) -> SimulationResult:
        if name not in self.names:
            raise KeyError(
                f"no scenario {name!r} in this comparison; scenarios are {', '.join(self.names)}"
            )
        return self.results[self.names.index(name)]

    def _level(self, confidence_level: float | None) -> float:
        level = self.confidence_level if confidence_level is None else confidence_level
        level = check_confidence_level(level)
        return level

    def _counts(self, s: int) -> NDArray[np.int64]:
        """Scenario ``s``'s counts in the columns of :attr:`outcomes`."""
        labels = self.results[s].tally.table.labels
        counts = tally_counts(self.results[s].tally)
        return counts[[labels.index(label) for label in self.outcomes]]

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables compared (those the scenarios share), in column order."""
        return tuple(dict.fromkeys(table for table, _ in self.outcomes))

    def probabilities(self, confidence_level: float | None = None) -> pd.DataFrame:
        """Each scenario's outcome probabilities with Wilson intervals, in the shared tables.

        Columns ``scenario``, then those of
        :meth:`basesim.SimulationResult.probabilities`; only the tables in
        :attr:`tables` (every table of one scenario is in ``comparison[name]``).
        """
        import pandas as pd

        level = self._level(confidence_level)
        frames = []
        for name, result in zip(self.names, self.results, strict=True):
            frame = result.probabilities(level)
            frame = frame[frame["table"].isin(self.tables)].reset_index(drop=True)
            frame.insert(0, "scenario", name)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def differences(self, confidence_level: float | None = None) -> pd.DataFrame:
        """Paired differences from the reference, per outcome.

        For each scenario other than the reference and each outcome column,
        ``difference`` is the mean of the per-run differences ``D_r`` of the
        outcome indicators (which equals the difference of the two
        probabilities), with the interval ``difference ± z * sd(D) / sqrt(n)``.
        Because both scenarios ran on the same random numbers, ``D_r`` is zero
        for most runs and this interval is much narrower than one for
        independent samples; ``se_independent`` is what the standard error
        would be without the pairing, ``sqrt((p (1 - p) + p0 (1 - p0)) / n)``.

        Returns
        -------
        pandas.DataFrame
            Columns ``scenario``, ``reference``, ``table``, ``outcome``,
            ``probability``, ``reference_probability``, ``difference``,
            ``ci_low``, ``ci_high``, ``se``, ``se_independent``.
        """
        import pandas as pd

        level = self._level(confidence_level)
        z = float(stats.norm.ppf(0.5 + level / 2))
        n = self.n_runs
        ref = self.names.index(self.reference)
        p0 = self._counts(ref) / n
        rows = []
        for s, name in enumerate(self.names):
            if s == ref:
                continue
            p = self._counts(s) / n
            mean, se = _paired_moments(self.paired_sum[s], self.paired_sumsq[s], n)
            se_ind = np.sqrt((p * (1 - p) + p0 * (1 - p0)) / n)
            for c, (table, outcome) in enumerate(self.outcomes):
                rows.append(
                    {
                        "scenario": name,
                        "reference": self.reference,
                        "table": table,
                        "outcome": outcome,
                        "probability": p[c],
                        "reference_probability": p0[c],
                        "difference": mean[c],
                        "ci_low": mean[c] - z * se[c],
                        "ci_high": mean[c] + z * se[c],
                        "se": se[c],
                        "se_independent": se_ind[c],
                    }
                )
        return pd.DataFrame(rows)

    def to_frame(self, confidence_level: float | None = None) -> pd.DataFrame:
        """Tidy long form: one row per scenario and outcome.

        Columns ``scenario``, ``table``, ``outcome``, ``count``,
        ``probability``, ``ci_low``, ``ci_high`` (Wilson), ``difference``,
        ``difference_ci_low``, ``difference_ci_high`` (paired, from the
        reference; exactly 0 for the reference itself).
        """
        level = self._level(confidence_level)
        frame = self.probabilities(level)
        diffs = self.differences(level)
        keys = ["scenario", "table", "outcome"]
        diffs = diffs[[*keys, "difference", "ci_low", "ci_high"]].rename(
            columns={"ci_low": "difference_ci_low", "ci_high": "difference_ci_high"}
        )
        frame = frame.merge(diffs, on=keys, how="left", sort=False)
        is_ref = frame["scenario"] == self.reference
        for column in ("difference", "difference_ci_low", "difference_ci_high"):
            frame.loc[is_ref, column] = 0.0
        return frame

    def __repr__(self) -> str:
        level = self.confidence_level
        frame = self.to_frame(level)
        lines = [
            f"ComparisonResult(reference={self.reference!r}, scenarios={len(self.names)}, "
            f"n_runs={self.n_runs:,}, engine={self.provenance.engine!r})",
            f"  probability (paired difference from {self.reference!r} ± {level:.0%} "
            "half-width, percentage points)",
        ]
        hidden = 0
        for table in self.tables:
            part = frame[frame["table"] == table]
            # Every outcome some scenario reaches, so that each column sums to 1;
            # and always the table's last row ("no agreement", "unsettled").
            reached = part.groupby("outcome", sort=False)["count"].max()
            shown = np.array(reached > 0, dtype=bool)
            shown[-1] = True
            hidden += int((~shown).sum())
            outcomes = list(reached.index[shown])
            columns: list[list[str]] = []
            for name in self.names:
                rows = part[part["scenario"] == name].set_index("outcome")
                cells = [name]
                for outcome in outcomes:
                    row = rows.loc[outcome]
                    cell = f"{row.probability:.1%}"
                    if name != self.reference:
                        half = (row.difference_ci_high - row.difference_ci_low) / 2
                        cell += f" ({100 * row.difference:+.1f} ± {100 * half:.1f})"
                    cells.append(cell)
                columns.append(cells)
            widths = [max(len(c) for c in column) for column in columns]
            lines.append("")
            labels = ["joint outcome" if table == "joint" else f"issue {table}", *outcomes]
            width = max(len(label) for label in labels)
            for i, label in enumerate(labels):
                row_text = "  ".join(
                    f"{column[i]:>{w}}" for column, w in zip(columns, widths, strict=True)
                )
                lines.append(f"  {label:<{width}}  {row_text}")
        if hidden:
            lines.append(
                f"  ({hidden} {'outcome' if hidden == 1 else 'outcomes'} with probability 0 "
                "in every scenario not shown)"
            )
        if self.left_out:
            lines.append("")
            lines.append(f"  not compared: {'; '.join(self.left_out)}")
        return "\n".join(lines)

    def spread(self) -> pd.DataFrame:
        """How far apart the scenarios (or models) put each issue's category probabilities.

        One row per issue and outcome (its categories and ``"unsettled"``):
        ``table``, ``outcome``, ``low`` and ``high`` (the smallest and largest
        probability over the scenarios), ``spread`` (``high - low``),
        ``lowest`` and ``highest`` (the scenarios that give them, the first
        in ``names`` order on ties).
        """
        import pandas as pd

        frame = self.probabilities()
        frame = frame[frame["table"] != "joint"]
        rows = []
        for (table, outcome), group in frame.groupby(["table", "outcome"], sort=False):
            p = group["probability"].to_numpy(dtype=float)
            lo, hi = int(np.argmin(p)), int(np.argmax(p))
            rows.append(
                {
                    "table": table,
                    "outcome": outcome,
                    "low": float(p[lo]),
                    "high": float(p[hi]),
                    "spread": float(p[hi] - p[lo]),
                    "lowest": str(group["scenario"].iloc[lo]),
                    "highest": str(group["scenario"].iloc[hi]),
                }
            )
        return pd.DataFrame(rows)

    def plot_spread(self, *, ax: Axes | None = None) -> Axes:
        """Each issue's category probabilities under every scenario (or model), and their range."""
        from basesim.plotting import plot_spread

        return plot_spread(self, ax=ax)

    def plot(self, *, ax: Axes | None = None, table: str = "joint") -> Axes:
        """Paired differences from the reference as a forest plot; returns the Axes."""
        from basesim.plotting import plot_differences

        return plot_differences(self, ax=ax, table=table)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>ComparisonResult</b>: {len(self.names)} scenarios "
            f"({', '.join(f'<code>{html.escape(n)}</code>' for n in self.names)}), reference "
            f"<code>{html.escape(self.reference)}</code>, {self.n_runs:,} runs each on common "
            f"random numbers, engine <code>{self.provenance.engine}</code>, basesim "
            f"{self.provenance.basesim_version}</p>"
        )
        if self.left_out:
            head += f"<p>Not compared: {html.escape('; '.join(self.left_out))}</p>"
        return head + str(self.to_frame().to_html(index=False, float_format=lambda x: f"{x:.4f}"))


def compare_models(
    scenario: Scenario,
    *,
    models: Sequence[str] | None = None,
    n_runs: int,
    reference: str | None = None,
    confidence_level: float = 0.95,
    engine: str = "batch",
    keep_runs: int = 10_000,
    batch_size: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    rng: RNGLike = None,
) -> ComparisonResult:
    """One scenario under several models, on the same random numbers.

    :func:`compare` of the scenario run by each model (named by the model):
    every model gets the same runs' uncertain parameters and random inputs
    (common random numbers), so the differences between models come from the
    models, not from the luck of the draw.
    :meth:`ComparisonResult.plot_spread` shows how far apart the models put
    each issue's outcomes, :meth:`ComparisonResult.spread` gives the numbers.

    Parameters
    ----------
    scenario
        The negotiation.
    models
        Two or more registered model names; default: every registered model.
    n_runs, reference, confidence_level, engine, keep_runs, batch_size, executor, progress
        As for :func:`compare` (``reference`` names a model; default the first).
    rng
        Seed (SPEC 7), shared by all models.

    Returns
    -------
    ComparisonResult
        With one result per model, named by the model.

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> cmp = basesim.compare_models(scn, models=["compromise", "nash"], n_runs=200, rng=7)
    >>> [r.model for r in cmp.results]
    ['compromise', 'nash']
    """
    from basesim.protocols.registry import names as registered

    if not isinstance(scenario, Scenario):
        raise SimulationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    chosen = tuple(registered()) if models is None else tuple(models)
    if isinstance(models, str) or len(chosen) < 2 or len(set(chosen)) < len(chosen):
        raise SimulationError(f"models must name two or more different models (got {models!r})")
    variants = {name: with_model(scenario, name) for name in chosen}
    return compare(
        variants,
        n_runs=n_runs,
        reference=reference,
        confidence_level=confidence_level,
        engine=engine,
        keep_runs=keep_runs,
        batch_size=batch_size,
        executor=executor,
        progress=progress,
        rng=rng,
    )


def _paired_moments(
    total: NDArray[np.int64], total_sq: NDArray[np.int64], n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean of the per-run differences and its standard error, from their sums."""
    mean = total / n
    var = np.maximum(total_sq - total.astype(np.float64) ** 2 / n, 0.0) / (n - 1)
    return mean, np.sqrt(var / n)


def compare(
    scenarios: Mapping[str, Scenario],
    *,
    n_runs: int,
    reference: str | None = None,
    confidence_level: float = 0.95,
    engine: str = "batch",
    keep_runs: int = 10_000,
    batch_size: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    model: str | None = None,
    rng: RNGLike = None,
) -> ComparisonResult:
    """Simulate several scenarios on the same random numbers and compare their outcomes.

    Every scenario runs runs ``0 .. n_runs - 1`` of the same root seed, batch
    by batch together: run ``r`` of each scenario gets the same recognition
    draws, the same perception noise and, for every uncertain parameter the
    scenarios share (same field path), the same draw (common random numbers).
    So a change of one assumption moves only the runs it affects, and the
    difference between two scenarios is estimated from paired runs, far more
    precisely than from independent samples.  Each scenario's own result
    equals ``basesim.simulate(scenario, n_runs=n_runs, rng=rng)``.

    Parameters
    ----------
    scenarios
        Name -> scenario.  At least two.  The tables compared are those every
        scenario has with the same rows: an issue's table when every scenario
        has the issue with the same categories (cut points may differ), the
        joint table when the scenarios have the same issues and categories.
        The others are named in the result's ``left_out``; scenarios sharing
        no table raise a :class:`~basesim.exceptions.SimulationError`.
    n_runs
        Runs per scenario (at least 2).
    reference
        The scenario differences are taken from (default: the first).
    confidence_level
        Default level of the result's intervals.
    engine
        ``"batch"`` (default) or ``"mesa"``, as for :func:`basesim.simulate`.
    keep_runs
        How many leading runs of each scenario to keep in full (for
        :meth:`SimulationResult.to_frame`).
    batch_size
        Runs per task, for every scenario at once; does not change results.
        By default 16,384, fewer for scenarios whose runs hold much memory
        (many actors): :func:`basesim.engine.compiled.batch_size_for`.
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or Dask's
        ``client.get_executor()``); serial if ``None``.
    progress
        Show a progress bar (default: only when stderr is a terminal).
    model
        The registered model (protocol) to run every scenario with,
        overriding their ``[protocol] model``; ``None`` (default) runs each
        scenario's own.
    rng
        Seed (SPEC 7), shared by all scenarios.

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> import basesim
    >>> base = basesim.load_scenario("syria-2025")
    >>> quiet = base.replace({"actors.turkey.influence.syria": 0.0})
    >>> cmp = basesim.compare({"report": base, "no turkish pull": quiet}, n_runs=2_000, rng=7)
    >>> d = cmp.differences()
    >>> row = d[d.outcome == "withdrawal"].iloc[0]
    >>> bool(row.se < row.se_independent)
    True
    """
    if not isinstance(scenarios, Mapping) or len(scenarios) < 2:
        raise SimulationError(
            "scenarios must map at least two names to scenarios (got "
            f"{len(scenarios) if isinstance(scenarios, Mapping) else type(scenarios).__name__})"
        )
    names = tuple(scenarios)
    for name in names:
        if not isinstance(name, str):
            raise SimulationError(f"scenarios keys must be names (strings) (got {name!r})")
        if not isinstance(scenarios[name], Scenario):
            raise SimulationError(
                f"scenarios[{name!r}] must be a basesim.Scenario "
                f"(got {type(scenarios[name]).__name__})"
            )
    ref_name = names[0] if reference is None else reference
    if ref_name not in names:
        raise SimulationError(
            f"reference must be one of {', '.join(map(repr, names))} (got {reference!r})"
        )
    scns = [with_model(scenarios[name], model) for name in names]
    ref = names.index(ref_name)
    own = [OutcomeTable.of(scn) for scn in scns]
    shared, left_out = _shared_tables(names, own, ref)
    if not shared:
        raise SimulationError(
            "the scenarios share no outcome table (an issue with the same categories in "
            f"every scenario): {'; '.join(left_out)}"
        )
    runs = check_int("n_runs", n_runs, 2)
    if engine not in ENGINES:
        raise SimulationError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    check_confidence_level(confidence_level)
    keep = check_int("keep_runs", keep_runs, 0)
    if batch_size is None:
        size = min(batch_size_for(compile_scenario(s), DEFAULT_BATCH[engine]) for s in scns)
    else:
        size = check_int("batch_size", batch_size, 1)
    executor = check_executor(executor)

    root = as_seed_sequence(rng)
    texts = [scn.to_toml() for scn in scns]
    tallies = [BlockTally(Tally.empty(scn)) for scn in scns]
    heads: list[list[BatchOutcome]] = [[] for _ in scns]
    labels = tuple((table, row) for table, rows in shared for row in rows)
    n_columns = len(labels)
    # Per scenario: which of its per-run codes (joint, then one per issue) are
    # shared tables, and each of its own columns' place among the shared ones.
    code_columns = []
    to_shared = []
    for table in own:
        code_columns.append(
            [0 if name == "joint" else 1 + table.issues.index(name) for name, _ in shared]
        )
        place = np.full(table.n_columns, -1, dtype=np.int64)
        for c, label in enumerate(labels):
            place[table.labels.index(label)] = c
        to_shared.append(place)

    def shared_codes(s: int, result: TaskResult) -> NDArray[np.int64]:
        codes = cast("NDArray[np.intp]", result.codes)  # run_compare_task asks for them
        shared_columns: NDArray[np.int64] = to_shared[s][codes[:, code_columns[s]]]
        return shared_columns

    same = np.zeros((len(scns), n_columns), dtype=np.int64)

    def tasks() -> Iterator[tuple[Task, ...]]:
        per_scenario = [
            batch_tasks(
                text,
                root,
                engine=engine,
                start=0,
                stop=runs,
                size=size,
                keep=keep,
                threads=0 if executor is None else 1,
            )
            for text in texts
        ]
        # The same run range of every scenario goes together.
        return zip(*per_scenario, strict=True)

    bar = progress_bar(runs, progress, f"comparing {len(scns)} scenarios")
    try:
        for batch in run_ordered(run_compare_task, tasks(), executor):
            ref_codes = shared_codes(ref, batch[ref])
            for s, result in enumerate(batch):
                tallies[s].add_result(result)
                if result.head.n_runs:
                    heads[s].append(result.head)
                codes = shared_codes(s, result)
                # Runs where both land in the same column: D_r = 0 there.
                both = codes[codes == ref_codes]
                same[s] += np.bincount(both, minlength=n_columns)
            if bar is not None:
                bar.update(batch[0].n_runs)
    finally:
        if bar is not None:
            bar.close()

    provenance = provenance_of(root, engine)
    finished = [t.finish() for t in tallies]
    counts = np.stack(
        [
            tally_counts(t)[[table.labels.index(label) for label in labels]]
            for t, table in zip(finished, own, strict=True)
        ]
    )
    # Sum of D_r: count - reference count.  Sum of D_r^2 = runs in the column in
    # exactly one of the two = count + reference count - 2 * runs in it in both.
    paired_sum = counts - counts[ref]
    paired_sumsq = counts + counts[ref] - 2 * same
    paired_sum[ref] = 0
    paired_sumsq[ref] = 0
    results = tuple(
        SimulationResult(
            scenario=scn,
            n_runs=runs,
            tally=tally,
            runs=BatchOutcome.concatenate(kept) if kept else None,
            provenance=provenance,
        )
        for scn, tally, kept in zip(scns, finished, heads, strict=True)
    )
    return ComparisonResult(
        names=names,
        reference=ref_name,
        results=results,
        n_runs=runs,
        outcomes=labels,
        paired_sum=paired_sum,
        paired_sumsq=paired_sumsq,
        confidence_level=float(confidence_level),
        provenance=provenance,
        left_out=left_out,
    )


def _shared_tables(
    names: tuple[str, ...], tables: list[OutcomeTable], ref: int
) -> tuple[list[tuple[str, tuple[str, ...]]], tuple[str, ...]]:
    """The outcome tables every scenario has with the same rows, and the others with a reason.

    Returns ``([(table, rows), ...], left_out)``, tables in the reference's
    order (the joint table first), then any table of the other scenarios.
    """

    def rows_of(table: OutcomeTable) -> dict[str, tuple[str, ...]]:
        out = {"joint": table.joint_labels}
        out.update((issue, table.row_labels(k)) for k, issue in enumerate(table.issues))
        return out

    each = [rows_of(table) for table in tables]
    order = list(each[ref])
    for rows in each:
        order += [name for name in rows if name not in order]
    shared: list[tuple[str, tuple[str, ...]]] = []
    left_out: list[str] = []
    for name in order:
        having = [names[s] for s, rows in enumerate(each) if name in rows]
        if name == "joint":
            if all(t.labels == tables[ref].labels for t in tables):
                shared.append((name, each[ref][name]))
            else:
                left_out.append("joint (the scenarios' issues or categories differ)")
        elif len(having) < len(names):
            left_out.append(f"{name} (only in {', '.join(map(repr, having))})")
        elif any(rows[name] != each[ref][name] for rows in each):
            left_out.append(f"{name} (its categories differ between the scenarios)")
        else:
            shared.append((name, each[ref][name]))
    return shared, tuple(left_out)
