"""Running experiments in batches: tasks that pickle, the functions workers run, and outcomes.

Every experiment (:func:`~basesim.compare`, :func:`~basesim.sweep`,
:func:`~basesim.sensitivity`) cuts its work into tasks of many runs each and
hands them to a :class:`concurrent.futures.Executor` (or runs them in this
process).  A task carries the scenario as TOML text and the root seed as plain
numbers, so it pickles cheaply and runs the same in a process pool, on Dask or
here; a worker function is module-level so that other processes can import it.

The tasks of :func:`~basesim.simulate` and :func:`~basesim.compare` (run
ranges), their seeds and provenance live in :mod:`basesim.experiments.tasks`
(:class:`RootSeed`, :class:`BlockTally` and :func:`provenance_of` are
re-exported here); this module holds the design-point tasks of sweeps and
sensitivity, and the loops that hand tasks to an executor.

Outcomes are counted into one layout of *outcome columns*, that of
:class:`~basesim.outcomes.OutcomeTable` (re-exported here): the joint table
(every combination of each issue's categories and ``"unsettled"``, the last
cell ``"no agreement"``), then each issue's categories and ``"unsettled"``, the
same tables as :meth:`basesim.SimulationResult.probabilities`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from basesim.engine.batch import run_batch
from basesim.engine.compiled import (
    CompiledScenario,
    RandomInputs,
    RunParameters,
    batch_size_for,
    compile_scenario,
    draw_inputs,
    sampled_values,
)
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import BasesimError, SimulationError
from basesim.experiments.tasks import (
    DEFAULT_BATCH,
    POINTS_BATCH,
    BlockTally,
    RootSeed,
    compiled_from_toml,
    compiled_threads,
    provenance_of,
)
from basesim.expressions import RunOutcomes, parse_outcome
from basesim.outcomes import OutcomeTable, Tally
from basesim.scenario import Scenario

__all__ = [
    "MAX_PENDING",
    "BlockTally",
    "OutcomeTable",
    "PointsOutcome",
    "PointsTask",
    "RootSeed",
    "check_executor",
    "chunk_points",
    "points_batch",
    "provenance_of",
    "run_ordered",
    "run_points_task",
    "run_unordered",
    "tally_counts",
]

T = TypeVar("T")
R = TypeVar("R")

#: Most tasks handed to an executor at once; more are sent as these finish, so a
#: sweep of a million points does not queue a million tasks up front.
MAX_PENDING = 1024

#: Most runs simulated at once inside a task, the default batch of
#: :func:`~basesim.simulate`; fewer for scenarios whose runs hold much memory
#: (:func:`~basesim.engine.compiled.batch_size_for`), to bound a worker's memory.
_RUNS_PER_CALL = 16_384


# -- outcome columns ------------------------------------------------------------------
def tally_counts(tally: Tally) -> NDArray[np.int64]:
    """A tally's counts in the column layout of :class:`~basesim.outcomes.OutcomeTable`."""
    return tally.counts()


# -- design points ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PointsTask:
    """Simulate ``n_runs`` runs at each of several design points (for sweeps and sensitivity).

    Each point is the scenario with the ``paths`` fixed at the point's values.
    Every point uses runs ``0 .. n_runs - 1`` of the same root seed, so points
    share their random numbers (common random numbers).
    """

    scenario_toml: str
    seed: RootSeed
    paths: tuple[str, ...]
    points: tuple[int, ...]  # indices of the points in the whole design
    values: NDArray[np.float64]  # (len(points), len(paths))
    n_runs: int
    #: An outcome expression (:func:`basesim.expressions.parse_outcome`) whose
    #: per-run values are summed at each point, or ``None``.
    outcome: str | None = None
    #: Threads of the compiled month while the task runs (0: as the process has
    #: them).  Tasks sent to an executor run with 1: its workers share the cores.
    threads: int = 0


@dataclass(frozen=True, slots=True)
class PointsOutcome:
    """What a :class:`PointsTask` returns: outcome counts, and the points that failed."""

    points: tuple[int, ...]
    counts: NDArray[np.int64]  # (len(points), n_columns); zero rows for failed points
    failures: tuple[tuple[int, str, str], ...]  # (point, error type, message)
    #: (len(points), 2) sum and sum of squares over runs of the task's outcome
    #: expression (if it had one); zero rows for failed points
    sums: NDArray[np.float64] | None = None


def run_points_task(task: PointsTask) -> PointsOutcome:
    """Simulate every point of ``task``; a point that fails is recorded, not raised.

    Module-level so that executors can send it to other processes or machines.
    """
    with compiled_threads(task.threads):
        return _run_points(task)


def _run_points(task: PointsTask) -> PointsOutcome:
    base = compiled_from_toml(task.scenario_toml)
    table = OutcomeTable.of(base.scenario)
    root = task.seed.sequence()
    m = len(task.points)
    counts = np.zeros((m, table.n_columns), dtype=np.int64)
    expression = None if task.outcome is None else parse_outcome(table, task.outcome)
    sums = np.zeros((m, 2), dtype=np.float64)
    failures: dict[int, tuple[str, str]] = {}
    variants: list[tuple[int, CompiledScenario]] = []
    for j in range(m):
        try:
            variants.append((j, _compile_variant(base.scenario, task.paths, task.values[j])))
        except Exception as exc:  # recorded as a structured failure, never dropped
            failures[j] = _failure(exc)

    # Runs per engine call: as many as simulate plays at once (each call has a
    # fixed cost, and threads share small calls less well), within memory.
    runs_per_call = batch_size_for(base, _RUNS_PER_CALL)
    for lo in range(0, task.n_runs, runs_per_call):
        hi = min(lo + runs_per_call, task.n_runs)
        alive = [(j, compiled) for j, compiled in variants if j not in failures]
        if not alive:
            break
        shared = draw_inputs(base, root, lo, hi)
        per_call = max(1, runs_per_call // (hi - lo))
        for g in range(0, len(alive), per_call):
            group = alive[g : g + per_call]
            try:
                outcomes = _run_stacked(base, group, shared, root, lo, hi)
            except Exception:
                # Find out which point fails by running the group's points one by one.
                outcomes = []
                for j, compiled in group:
                    try:
                        outcomes.extend(_run_stacked(base, [(j, compiled)], shared, root, lo, hi))
                    except Exception as exc:  # recorded as a structured failure, never dropped
                        failures[j] = _failure(exc)
                        counts[j] = 0
                        sums[j] = 0.0
                        outcomes.append(None)
            for (j, compiled), outcome in zip(group, outcomes, strict=True):
                if outcome is not None:
                    counts[j] += table.counts(table.codes(compiled.scenario, outcome))
                    if expression is not None:
                        v = expression.evaluate(RunOutcomes.of(compiled.scenario, outcome))
                        sums[j] += (v.sum(), (v * v).sum())
    return PointsOutcome(
        points=task.points,
        counts=counts,
        sums=None if expression is None else sums,
        failures=tuple((task.points[j], *failures[j]) for j in sorted(failures)),
    )


def _run_stacked(
    base: CompiledScenario,
    group: list[tuple[int, CompiledScenario]],
    shared: RandomInputs,
    root: np.random.SeedSequence,
    lo: int,
    hi: int,
) -> list[BatchOutcome | None]:
    """Simulate runs ``lo .. hi - 1`` of several variants in one engine call.

    The variants differ only in parameter values (not in actors, issues,
    vetoes or protocol), so their runs can be stacked into one batch, each
    run with its own parameters; the engine treats runs independently, so
    every run's outcome is what a separate call would give, and one call
    saves the engine's fixed cost per call, large beside a few hundred runs.
    A variant's uncertain parameters are the base's minus the fixed ones and
    each parameter path has its own random stream, so the base's draws,
    column by column, are the variant's draws.
    """
    base_columns = {path: p for p, path in enumerate(base.uncertain_paths)}
    base_values: NDArray[np.float64] | None = None
    parts: list[RunParameters] = []
    for _, compiled in group:
        columns = [base_columns.get(path, -1) for path in compiled.uncertain_paths]
        if -1 in columns:
            parts.append(compiled.parameters(draw_inputs(compiled, root, lo, hi).quantiles))
        elif _same_distributions(base, compiled, columns):
            # The variant's values are the base's, column by column: map the
            # quantiles once for the whole group, not once per variant (each
            # distribution's quantile function has a fixed cost per call).
            if base_values is None:
                base_values = sampled_values(base, shared.quantiles)
            parts.append(compiled.parameters_from_values(base_values[:, columns]))
        else:
            parts.append(compiled.parameters(shared.quantiles[:, columns]))
    n = hi - lo
    stacked = RunParameters(
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in RunParameters.__slots__
        }
    )
    # No uncertain parameters left to draw: every run's parameters are given.
    engine_input = dataclasses.replace(
        base, uncertain_paths=(), uncertain_distributions=(), uncertain_slots=()
    )
    inputs = RandomInputs(
        quantiles=np.empty((n * len(group), 0)),
        recognition=np.concatenate([shared.recognition] * len(group)),
        noise=np.concatenate([shared.noise] * len(group)),
    )
    outcome = run_batch(engine_input, inputs, parameters=stacked)
    return [outcome.take(slice(i * n, (i + 1) * n)) for i in range(len(group))]


def _same_distributions(
    base: CompiledScenario, variant: CompiledScenario, columns: list[int]
) -> bool:
    """Whether ``variant``'s uncertain parameters are ``base``'s ``columns``, drawn alike.

    Then the base's sampled values, column by column, are the variant's.  Not
    with a posterior, whose particles set some columns' values.
    """
    if base.scenario.posterior is not None or variant.scenario.posterior is not None:
        return False
    return all(
        dist == base.uncertain_distributions[c]
        for dist, c in zip(variant.uncertain_distributions, columns, strict=True)
    )


def _compile_variant(
    scenario: Scenario, paths: tuple[str, ...], values: NDArray[np.float64]
) -> CompiledScenario:
    variant = scenario.replace({path: float(v) for path, v in zip(paths, values, strict=True)})
    return compile_scenario(variant)


def _failure(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, BasesimError):
        return type(exc).__name__, str(exc)
    return type(exc).__name__, f"{type(exc).__name__}: {exc}"


def points_batch(scenario_toml: str, executor: Executor | None) -> int:
    """The default runs per task (in whole points) of sweeps and sensitivity.

    Serially, as many as :func:`~basesim.simulate` plays at once (16,384, fewer
    for scenarios whose runs hold much memory): a task's points are stacked into
    engine calls of that many runs, whose chunks of runs the compiled month
    shares among all its threads (a call of 4,096 runs has 16 chunks, fewer
    than some machines have threads).  On an executor,
    :data:`~basesim.experiments.tasks.POINTS_BATCH`: each task plays on one
    thread, where the size of a call hardly matters, and more tasks keep more
    workers busy to the end.  Results do not depend on it.
    """
    if executor is not None:
        return POINTS_BATCH
    return batch_size_for(compiled_from_toml(scenario_toml), DEFAULT_BATCH["batch"])


def chunk_points(
    indices: Sequence[int], values: NDArray[np.float64], *, n_runs: int, batch_size: int
) -> Iterator[tuple[tuple[int, ...], NDArray[np.float64]]]:
    """Cut design points into tasks of about ``batch_size`` runs (whole points)."""
    size = max(1, batch_size // n_runs)
    for lo in range(0, len(indices), size):
        chunk = tuple(int(i) for i in indices[lo : lo + size])
        yield chunk, np.ascontiguousarray(values[list(chunk)])


# -- executing ----------------------------------------------------------------------------
def run_ordered(
    fn: Callable[[T], R], tasks: Iterable[T], executor: Executor | None
) -> Iterator[R]:
    """``fn`` over ``tasks``, results in task order, at most :data:`MAX_PENDING` in flight.

    Serial in this process if ``executor`` is ``None``.
    """
    if executor is None:
        for task in tasks:
            yield fn(task)
        return
    pending: deque[Future[R]] = deque()
    it = iter(tasks)
    try:
        for task in itertools.islice(it, MAX_PENDING):
            pending.append(executor.submit(fn, task))
        while pending:
            result = pending.popleft().result()
            for task in itertools.islice(it, 1):
                pending.append(executor.submit(fn, task))
            yield result
    finally:
        for future in pending:
            future.cancel()


def run_unordered(
    fn: Callable[[T], R], tasks: Iterable[T], executor: Executor | None
) -> Iterator[R]:
    """``fn`` over ``tasks``, each result when ready, at most :data:`MAX_PENDING` in flight.

    Serial (and in order) in this process if ``executor`` is ``None``.
    """
    if executor is None:
        for task in tasks:
            yield fn(task)
        return
    it = iter(tasks)
    pending: set[Future[R]] = {
        executor.submit(fn, task) for task in itertools.islice(it, MAX_PENDING)
    }
    try:
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                result = future.result()
                for task in itertools.islice(it, 1):
                    pending.add(executor.submit(fn, task))
                yield result
    finally:
        for future in pending:
            future.cancel()


def check_executor(executor: Any) -> Executor | None:
    """``executor`` if it is ``None`` or a :class:`concurrent.futures.Executor`, else an error."""
    if executor is not None and not isinstance(executor, Executor):
        raise SimulationError(
            "executor must be a concurrent.futures.Executor (a process pool, or Dask's "
            f"client.get_executor()) or None (got {type(executor).__name__})"
        )
    return executor
