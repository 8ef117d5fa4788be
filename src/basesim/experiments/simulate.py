"""Monte Carlo over the negotiation model."""

from __future__ import annotations

import datetime as _dt
import math
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.engine.batch import run_batch, run_mesa
from basesim.engine.compiled import BLOCK_SIZE, CompiledScenario, compile_scenario, draw_inputs
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import SimulationError
from basesim.protocols.registry import with_model
from basesim.results import Provenance, SimulationResult, Tally
from basesim.scenario import Scenario

__all__ = ["simulate"]

ENGINES = ("batch", "mesa")
_DEFAULT_BATCH = {"batch": 16_384, "mesa": 256}
_DEFAULT_CAP = 10_000_000


@dataclass(frozen=True, slots=True)
class _Task:
    """One batch of runs, in a form that pickles cheaply (for process pools and Dask)."""

    scenario_toml: str
    entropy: Any
    spawn_key: tuple[int, ...]
    pool_size: int
    start: int
    stop: int
    engine: str
    keep: int  # how many leading runs of the batch to return in full


@lru_cache(maxsize=8)
def _compiled_from_toml(text: str) -> CompiledScenario:
    from basesim.scenarios.toml_io import read_scenario_text

    return compile_scenario(read_scenario_text(text))


def run_task(
    task: _Task, compiled: CompiledScenario | None = None
) -> tuple[BatchOutcome, BatchOutcome]:
    """Simulate one batch: returns (all outcomes, the kept leading runs).

    Module-level so that executors can send it to other processes or machines.
    """
    if compiled is None:
        compiled = _compiled_from_toml(task.scenario_toml)
    root = np.random.SeedSequence(task.entropy, spawn_key=task.spawn_key, pool_size=task.pool_size)
    inputs = draw_inputs(compiled, root, task.start, task.stop)
    protocol = None  # the protocol the scenario names
    runner = run_batch if task.engine == "batch" else run_mesa
    outcome = runner(compiled, inputs, protocol)
    return outcome, _take(outcome, slice(0, task.keep))


def _take(outcome: BatchOutcome, rows: slice) -> BatchOutcome:
    return outcome.take(rows)


def batch_tasks(
    scenario_toml: str,
    root: np.random.SeedSequence,
    *,
    engine: str,
    start: int,
    stop: int,
    size: int,
    keep: int,
) -> Iterator[_Task]:
    """The tasks simulating runs ``start`` to ``stop - 1`` in batches of ``size``.

    The first ``keep`` runs of the whole computation come back in full.
    """
    for lo in range(start, stop, size):
        hi = min(lo + size, stop)
        yield _Task(
            scenario_toml=scenario_toml,
            entropy=root.entropy,
            spawn_key=tuple(root.spawn_key or ()),
            pool_size=root.pool_size,
            start=lo,
            stop=hi,
            engine=engine,
            keep=max(0, min(keep - lo, hi - lo)),
        )


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SimulationError(f"{name} must be a whole number >= {minimum} (got {value!r})")
    return int(value)


def _progress_bar(total: int, enabled: bool | None, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", unit_scale=True)


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
        ``"batch"`` (vectorised, the default) or ``"mesa"`` (the Mesa model,
        run by run: the reference, slower).
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
        cap = _DEFAULT_CAP if n_runs is None else _check_int("n_runs", n_runs, 1)
    else:
        if n_runs is None:
            raise SimulationError("n_runs is required unless precision is given (got None)")
        cap = _check_int("n_runs", n_runs, 1)
    check_confidence_level(confidence_level)
    size = (
        _DEFAULT_BATCH[engine] if batch_size is None else _check_int("batch_size", batch_size, 1)
    )
    keep = _check_int("keep_runs", keep_runs, 0)

    root = as_seed_sequence(rng)
    compiled = compile_scenario(scenario)
    text = scenario.to_toml()
    tally = Tally.empty(scenario)
    # Whole blocks at a time, so that the tally's float sums do not depend on
    # the batch size (the counts never do).
    from basesim.experiments.executors import BlockTally

    blocks = BlockTally(tally)
    kept: list[BatchOutcome] = []

    def tasks(start: int, stop: int) -> Iterator[_Task]:
        return batch_tasks(text, root, engine=engine, start=start, stop=stop, size=size, keep=keep)

    def execute(batch: Iterable[_Task]) -> Iterator[tuple[BatchOutcome, BatchOutcome]]:
        if executor is None:
            return (run_task(task, compiled) for task in batch)
        return executor.map(run_task, list(batch))  # Dask maps over lists, not iterators

    bar = _progress_bar(cap, progress, f"simulating {scenario.name}")
    done = 0
    try:
        while done < cap:
            # With a precision target, check it after 1024, 2048, 4096, ... runs
            # (BLOCK_SIZE times a power of two, whatever the batch size), so the
            # run count it stops at does not depend on how runs are batched.
            stop = cap if precision is None else min(cap, _next_check(done))
            for outcome, head in execute(tasks(done, stop)):
                blocks.add(outcome)
                if head.n_runs:
                    kept.append(head)
                if bar is not None:
                    bar.update(outcome.n_runs)
            done = stop
            if precision is not None and tally.max_half_width(confidence_level) <= precision:
                break
    finally:
        if bar is not None:
            bar.close()
    blocks.finish()

    runs = BatchOutcome.concatenate(kept) if kept else None
    from basesim import __version__

    provenance = Provenance(
        basesim_version=__version__,
        engine=engine,
        entropy=root.entropy
        if isinstance(root.entropy, int)
        else [int(e) for e in root.entropy or ()],
        spawn_key=tuple(int(k) for k in (root.spawn_key or ())),
        block_size=BLOCK_SIZE,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
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
