"""Batch tasks and provenance, shared by every experiment.

:func:`~basesim.simulate`, :func:`~basesim.compare`, :func:`~basesim.sweep`,
:func:`~basesim.sensitivity` and :func:`~basesim.backtest` cut their work into
tasks of many runs each.  A :class:`Task` carries the scenario as TOML text
and the root seed as plain numbers, so it pickles cheaply and runs the same in
a process pool, on Dask or in this process; :func:`run_task` is module-level so
that other processes can import it.  Outcomes are added to a tally a whole
:data:`~basesim.engine.compiled.BLOCK_SIZE` block at a time
(:class:`BlockTally`), so the tally's sums do not depend on the batch size.
:func:`provenance_of` records what a result needs to be replayed.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.batch import ENGINES, run_batch, run_mesa, run_reference
from basesim.engine.compiled import BLOCK_SIZE, CompiledScenario, compile_scenario, draw_inputs
from basesim.engine.kernel.threads import limited_threads as compiled_threads
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import SimulationError
from basesim.outcomes import OutcomeTable, Tally, TallyPart
from basesim.results import Provenance

__all__ = [
    "DEFAULT_BATCH",
    "ENGINES",
    "POINTS_BATCH",
    "BlockTally",
    "RootSeed",
    "Task",
    "TaskResult",
    "batch_tasks",
    "check_int",
    "compiled_from_toml",
    "compiled_threads",
    "progress_bar",
    "provenance_of",
    "qmc_rng",
    "run_task",
    "run_task_tally",
]

#: Default runs per task for :func:`~basesim.simulate` and :func:`~basesim.compare`, per engine.
DEFAULT_BATCH = {"batch": 16_384, "mesa": 256, "numpy": 16_384}
#: Default runs per task (whole design points) for sweeps and sensitivity on an
#: executor: small enough to keep every worker busy to the end
#: (:func:`~basesim.experiments.executors.points_batch`).
POINTS_BATCH = 4096


# -- checks and progress ---------------------------------------------------------------
def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= minimum``, else a :class:`SimulationError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise SimulationError(f"{name} must be a whole number >= {minimum} (got {value!r})")
    return int(value)


def progress_bar(total: int, enabled: bool | None, desc: str) -> Any:
    """A progress bar over ``total`` runs, or ``None`` (default: only when stderr is a terminal)."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", unit_scale=True)


# -- seeds and provenance --------------------------------------------------------------
def provenance_of(root: np.random.SeedSequence, engine: str = "batch") -> Provenance:
    """The provenance of a computation seeded by ``root``: version, engine, entropy, time."""
    from basesim import __version__

    raw: Any = root.entropy
    entropy: int | list[int] = (
        int(raw) if isinstance(raw, int | np.integer) else [int(e) for e in raw]
    )
    return Provenance(
        basesim_version=__version__,
        engine=engine,
        entropy=entropy,
        spawn_key=tuple(int(k) for k in root.spawn_key),
        block_size=BLOCK_SIZE,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )


@dataclass(frozen=True, slots=True)
class RootSeed:
    """A root :class:`numpy.random.SeedSequence` as plain numbers (pickles anywhere)."""

    entropy: Any
    spawn_key: tuple[int, ...]
    pool_size: int

    @classmethod
    def of(cls, root: np.random.SeedSequence) -> RootSeed:
        """The plain form of ``root``."""
        return cls(root.entropy, tuple(int(k) for k in root.spawn_key), root.pool_size)

    def sequence(self, *key: int) -> np.random.SeedSequence:
        """The root seed sequence, or its descendant at ``spawn_key + key``."""
        return np.random.SeedSequence(
            self.entropy, spawn_key=(*self.spawn_key, *key), pool_size=self.pool_size
        )

    def entropy_text(self) -> str | list[str]:
        """The entropy as JSON-safe text (it may exceed 64 bits)."""
        if isinstance(self.entropy, int | np.integer):
            return str(int(self.entropy))
        return [str(int(e)) for e in self.entropy]


def qmc_rng(engine: Any, rng: np.random.Generator) -> dict[str, Any]:
    """The keyword that seeds a :mod:`scipy.stats.qmc` ``engine`` with ``rng``.

    SciPy >= 1.15 calls the argument ``rng``; older releases ``seed``.
    """
    return {"rng": rng} if "rng" in inspect.signature(engine).parameters else {"seed": rng}


# -- run-range tasks -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Task:
    """One batch of runs, in a form that pickles cheaply (for process pools and Dask)."""

    scenario_toml: str
    entropy: Any
    spawn_key: tuple[int, ...]
    pool_size: int
    start: int
    stop: int
    engine: str
    keep: int  # how many leading runs of the batch to return in full
    # Threads of the compiled month while the task runs (0: as the process has them).
    # Tasks sent to an executor run with 1: the executor's workers share the cores.
    threads: int = 0


@lru_cache(maxsize=8)
def compiled_from_toml(text: str) -> CompiledScenario:
    """The compiled scenario written as TOML ``text`` (the last few are cached)."""
    from basesim.scenarios.toml_io import read_scenario_text

    return compile_scenario(read_scenario_text(text))


def run_task(
    task: Task, compiled: CompiledScenario | None = None
) -> tuple[BatchOutcome, BatchOutcome]:
    """Simulate one batch: returns (all outcomes, the kept leading runs).

    Module-level so that executors can send it to other processes or machines.
    """
    if compiled is None:
        compiled = compiled_from_toml(task.scenario_toml)
    root = np.random.SeedSequence(task.entropy, spawn_key=task.spawn_key, pool_size=task.pool_size)
    inputs = draw_inputs(compiled, root, task.start, task.stop)
    protocol = None  # the protocol the scenario names
    runner = {"batch": run_batch, "mesa": run_mesa, "numpy": run_reference}[task.engine]
    with compiled_threads(task.threads):
        outcome = runner(compiled, inputs, protocol)
    return outcome, outcome.take(slice(0, task.keep))


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskResult:
    """What a task sends back for a tally: its whole blocks tallied, the odd runs as records.

    A task's runs are cut at the :data:`BLOCK_SIZE` boundaries: the runs
    before its first boundary (the end of a block an earlier task began,
    ``lead``), its whole blocks (``part``, counted and summed in the worker)
    and the runs after its last boundary (the start of a block the next task
    ends, ``trail``).  With the default batch sizes every task is whole
    blocks, and it sends back about a hundred kilobytes (mostly histograms:
    132 KiB for 16,384 runs of ``syria-2025``) rather than every run's record
    (7 MiB).  The odd runs' records leave out the
    sampled parameter values, which a tally does not read.
    """

    n_runs: int
    lead: BatchOutcome | None
    part: TallyPart | None
    trail: BatchOutcome | None
    #: The task's kept leading runs, in full.
    head: BatchOutcome
    #: ``(n_runs, 1 + K)`` each run's outcome columns
    #: (:meth:`~basesim.outcomes.OutcomeTable.codes`), if asked for.
    codes: NDArray[np.integer[Any]] | None = None


def run_task_tally(
    task: Task, compiled: CompiledScenario | None = None, *, codes: bool = False
) -> TaskResult:
    """Simulate one batch and tally its whole blocks here (:class:`TaskResult`).

    With ``codes``, each run's outcome columns come back too (for paired
    comparisons).  Module-level so that executors can send it to other
    processes or machines.
    """
    if compiled is None:
        compiled = compiled_from_toml(task.scenario_toml)
    outcome, head = run_task(task, compiled)
    first = -(-task.start // BLOCK_SIZE) * BLOCK_SIZE - task.start
    last = task.stop // BLOCK_SIZE * BLOCK_SIZE - task.start
    if first >= last:  # no whole block in the task
        first = last = outcome.n_runs
    blocks = [outcome.take(slice(lo, lo + BLOCK_SIZE)) for lo in range(first, last, BLOCK_SIZE)]
    run_codes = None
    if codes:
        table = OutcomeTable.of(compiled.scenario)
        full = table.codes(compiled.scenario, outcome)
        run_codes = full.astype(np.min_scalar_type(table.n_columns))
    return TaskResult(
        n_runs=outcome.n_runs,
        lead=_records(outcome, 0, first),
        part=Tally.part_of(compiled.scenario, blocks) if blocks else None,
        trail=_records(outcome, last, outcome.n_runs),
        head=head,
        codes=run_codes,
    )


def _records(outcome: BatchOutcome, lo: int, hi: int) -> BatchOutcome | None:
    """Runs ``lo .. hi - 1`` without their sampled values, or ``None`` if there are none."""
    if hi <= lo:
        return None
    part = outcome.take(slice(lo, hi))
    return dataclasses.replace(part, sampled=np.empty((hi - lo, 0)))


def batch_tasks(
    scenario_toml: str,
    root: np.random.SeedSequence,
    *,
    engine: str,
    start: int,
    stop: int,
    size: int,
    keep: int,
    threads: int = 0,
) -> Iterator[Task]:
    """The tasks simulating runs ``start`` to ``stop - 1`` in batches of ``size``.

    The first ``keep`` runs of the whole computation come back in full;
    ``threads`` is each task's number of compiled-month threads (0: the
    process's own).
    """
    for lo in range(start, stop, size):
        hi = min(lo + size, stop)
        yield Task(
            scenario_toml=scenario_toml,
            entropy=root.entropy,
            spawn_key=tuple(root.spawn_key or ()),
            pool_size=root.pool_size,
            start=lo,
            stop=hi,
            engine=engine,
            keep=max(0, min(keep - lo, hi - lo)),
            threads=threads,
        )


class BlockTally:
    """Adds consecutive runs (from run 0 on) to a tally a whole :data:`BLOCK_SIZE` block at a time.

    Counts do not care how runs are batched, but the tally's floating-point sums
    do; adding whole blocks makes them the same bits whatever the batch size.
    Call :meth:`finish` after the last batch.
    """

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self._pending: list[BatchOutcome] = []
        self._n_pending = 0

    def add(self, outcome: BatchOutcome) -> None:
        """Add the next batch of runs."""
        lo = 0
        while lo < outcome.n_runs:
            take = min(outcome.n_runs - lo, BLOCK_SIZE - self._n_pending)
            self._pending.append(outcome.take(slice(lo, lo + take)))
            self._n_pending += take
            lo += take
            if self._n_pending == BLOCK_SIZE:
                self.finish()

    def add_result(self, result: TaskResult) -> None:
        """Add the next task's runs, as :func:`run_task_tally` sent them."""
        if result.lead is not None:
            self.add(result.lead)
        if result.part is not None:
            if self._n_pending:
                raise SimulationError(
                    f"a task's whole blocks came with {self._n_pending} runs of an earlier "
                    "block still pending: tasks must come in order"
                )
            self.tally.add_part(result.part)
        if result.trail is not None:
            self.add(result.trail)

    def finish(self) -> Tally:
        """Add the runs still pending (an incomplete last block); returns the tally."""
        if self._pending:
            parts = self._pending
            self.tally.add(parts[0] if len(parts) == 1 else BatchOutcome.concatenate(parts))
            self._pending = []
            self._n_pending = 0
        return self.tally
