"""Monte Carlo over the negotiation model."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.engine.batch import ENGINES
from basesim.engine.compiled import BLOCK_SIZE, batch_size_for, compile_scenario
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import SimulationError
from basesim.experiments.tasks import (
    DEFAULT_BATCH,
    BlockTally,
    Task,
    TaskResult,
    batch_tasks,
    check_int,
    progress_bar,
    provenance_of,
    run_task_tally,
)
from basesim.outcomes import Tally
from basesim.protocols.registry import with_model
from basesim.results import SimulationResult
from basesim.scenario import Scenario

__all__ = ["simulate"]

_DEFAULT_CAP = 10_000_000


def simulate(
    scenario: Scenario,
    *,
    n_runs: int | None = None,
    engine: str = "batch",
    precision: float | None = None,
    confidence_level: float = 0.95,
    batch_size: int | None = None,
    keep_runs: int = 100_000,
    executor: Executor | None = None,
    progress: bool | None = None,
    model: str | None = None,
    rng: RNGLike = None,
) -> SimulationResult:
    """Simulate many negotiations and tally their outcomes.

    Each run draws its uncertain parameters, its recognition draws and its
    perception noise from its own stream: run ``i`` uses block ``i // 1024``
    of the root :class:`numpy.random.SeedSequence` made from ``rng``.  The
    same ``rng`` therefore gives the same result whatever the engine, batch
    size or executor.

    Parameters
    ----------
    scenario
        The negotiation to simulate.
    n_runs
        Number of runs.  With ``precision``, the cap on runs (default 10
        million).
    engine
        ``"batch"`` (many runs at once, the default: the compiled month),
        ``"mesa"`` (the Mesa model, run by run, with agents you can inspect)
        or ``"numpy"`` (the batch engine with the bargaining model's month
        played by its NumPy reference, slower: to check the compiled month).
        All three give the same runs.
    precision
        If given, keep adding runs until every reported probability's
        Wilson interval half-width is at most ``precision`` (or the cap is
        reached; the result's ``n_runs`` says how many it took, and its
        :attr:`~SimulationResult.precision_reached` whether the target was
        met).  The target is checked after ``1024 * 2**j`` runs (1,024,
        2,048, 4,096, ...) and at the cap, whatever ``batch_size``, so the
        result does not depend on the batch size.
    confidence_level
        Of the intervals ``precision`` refers to.
    batch_size
        Runs per batch (per task with an executor); does not change results.
        By default 16,384 (256 on the Mesa model), fewer for scenarios whose
        runs hold much memory (many actors):
        :func:`basesim.engine.compiled.batch_size_for`.
    keep_runs
        How many runs (the first ones) to keep in full for
        :meth:`SimulationResult.to_frame`; the tally covers all runs.
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or Dask's
        ``client.get_executor()``) to run batches on; serial if ``None``.
    progress
        Show a progress bar (default: only when stderr is a terminal).
    model
        The registered model (protocol) to run, overriding the scenario's
        ``[protocol] model``; ``None`` (default) runs the scenario's own.
    rng
        Seed (SPEC 7): ``Generator``, ``int``, ``SeedSequence`` or ``None``.

    Returns
    -------
    SimulationResult
        Its ``scenario`` is the one simulated, with the model that ran it
        (:attr:`SimulationResult.model`).

    Examples
    --------
    >>> import basesim
    >>> res = basesim.simulate(basesim.load_scenario("syria-2025"), n_runs=2_000, rng=7)
    >>> probs = res.probabilities()
    >>> float(probs[probs.table == "joint"].probability.sum())
    1.0
    """
    if not isinstance(scenario, Scenario):
        raise SimulationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    scenario = with_model(scenario, model)
    if engine not in ENGINES:
        raise SimulationError(f"engine must be one of {', '.join(ENGINES)} (got {engine!r})")
    if precision is not None:
        if (
            isinstance(precision, bool)
            or not isinstance(precision, float | int)
            or not 0 < precision < 0.5
        ):
            raise SimulationError(f"precision must be a number in (0, 0.5) (got {precision!r})")
        cap = _DEFAULT_CAP if n_runs is None else check_int("n_runs", n_runs, 1)
    else:
        if n_runs is None:
            raise SimulationError("n_runs is required unless precision is given (got None)")
        cap = check_int("n_runs", n_runs, 1)
    check_confidence_level(confidence_level)
    keep = check_int("keep_runs", keep_runs, 0)
    compiled = compile_scenario(scenario)
    if batch_size is None:
        size = batch_size_for(compiled, DEFAULT_BATCH[engine])
    else:
        size = check_int("batch_size", batch_size, 1)

    root = as_seed_sequence(rng)
    text = scenario.to_toml()
    tally = Tally.empty(scenario)
    # Whole blocks at a time, so that the tally's float sums do not depend on
    # the batch size (the counts never do).
    blocks = BlockTally(tally)
    kept: list[BatchOutcome] = []

    def tasks(start: int, stop: int) -> Iterator[Task]:
        # On an executor each worker plays its task on one thread: the workers share the cores.
        return batch_tasks(
            text,
            root,
            engine=engine,
            start=start,
            stop=stop,
            size=size,
            keep=keep,
            threads=0 if executor is None else 1,
        )

    def execute(batch: Iterable[Task]) -> Iterator[TaskResult]:
        # A task's whole blocks come back tallied, not as every run's record.
        if executor is None:
            return (run_task_tally(task, compiled) for task in batch)
        return executor.map(run_task_tally, list(batch))  # Dask maps over lists, not iterators

    bar = progress_bar(cap, progress, f"simulating {scenario.name}")
    done = 0
    try:
        while done < cap:
            # With a precision target, check it after 1024, 2048, 4096, ... runs
            # (BLOCK_SIZE times a power of two, whatever the batch size), so the
            # run count it stops at does not depend on how runs are batched.
            stop = cap if precision is None else min(cap, _next_check(done))
            for result in execute(tasks(done, stop)):
                blocks.add_result(result)
                if result.head.n_runs:
                    kept.append(result.head)
                if bar is not None:
                    bar.update(result.n_runs)
            done = stop
            if precision is not None and tally.max_half_width(confidence_level) <= precision:
                break
    finally:
        if bar is not None:
            bar.close()
    blocks.finish()

    runs = BatchOutcome.concatenate(kept) if kept else None
    provenance = provenance_of(root, engine)
    return SimulationResult(
        scenario=scenario,
        n_runs=done,
        tally=tally,
        runs=runs,
        provenance=provenance,
        target_precision=None if precision is None else float(precision),
    )


def _next_check(done: int) -> int:
    """The first run count after ``done`` at which ``precision=`` checks its target.

    ``BLOCK_SIZE * 2**j``: 1,024, 2,048, 4,096, ...; independent of the batch size.
    """
    check = BLOCK_SIZE
    while check <= done:
        check *= 2
    return check


def required_runs(probability: float, half_width: float, confidence_level: float = 0.95) -> int:
    """Runs needed for a normal-approximation interval of ``half_width`` around ``probability``."""
    from scipy import stats

    z = float(stats.norm.ppf(0.5 + confidence_level / 2))
    return math.ceil(z * z * probability * (1 - probability) / (half_width * half_width))
