"""Parameter sweeps: a scenario at many design points, on common random numbers."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.exceptions import ScenarioError, SimulationError
from basesim.experiments.executors import (
    PointsTask,
    RootSeed,
    check_executor,
    chunk_points,
    points_batch,
    provenance_of,
    run_points_task,
    run_unordered,
)
from basesim.experiments.tasks import check_int, progress_bar, qmc_rng
from basesim.outcomes import OutcomeTable, wilson_interval
from basesim.parameters import Distribution, Parameter
from basesim.protocols.registry import with_model
from basesim.results import Provenance
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from basesim.experiments.checkpoints import SweepCheckpoint

__all__ = ["DESIGNS", "SweepFailure", "SweepResult", "SweptParameter", "sweep"]

DESIGNS = ("lhs", "sobol", "grid")
#: Spawn-key word of the design's random stream; run blocks use small words.
_DESIGN_STREAM = 2**32 - 1
_MAX_GRID = 1_000_000


# -- what is swept ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class SweptParameter:
    """A swept parameter: its field path and the range (or distribution) of its values.

    Parameters
    ----------
    path
        Field path of a numeric parameter (``"actors.turkey.influence.syria"``).
    low, high
        The range of values.
    distribution
        If given, design points follow it (through its quantile function);
        otherwise they spread uniformly over ``[low, high]``.
    """

    path: str
    low: float
    high: float
    distribution: Distribution | None = None

    def ppf(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Map points of the unit interval to values of the parameter."""
        if self.distribution is not None:
            return self.distribution.ppf(unit)
        return np.asarray(self.low + unit * (self.high - self.low), dtype=np.float64)

    @property
    def frozen(self) -> Any:
        """The values' distribution as a frozen :mod:`scipy.stats` distribution."""
        from scipy import stats

        if self.distribution is not None:
            return self.distribution.frozen
        return stats.uniform(loc=self.low, scale=self.high - self.low)

    def describe(self) -> str:
        """``[low, high]``, or the distribution's description."""
        if self.distribution is not None:
            return self.distribution.describe()
        return f"[{self.low:g}, {self.high:g}]"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for checkpoint fingerprints)."""
        dist = None
        if self.distribution is not None:
            d = self.distribution
            dist = {
                k: getattr(d, k)
                for k in ("kind", "low", "high", "mode", "a", "b", "mean", "sd", "weights")
            }
        return {"path": self.path, "low": self.low, "high": self.high, "distribution": dist}


def swept_parameters(scenario: Scenario, parameters: Any) -> tuple[SweptParameter, ...]:
    """Check and normalise a ``parameters`` argument: field path -> range or Distribution."""
    from basesim.paths import get_value

    if not isinstance(parameters, Mapping) or not parameters:
        raise SimulationError(
            "parameters must map field paths to (low, high) ranges or basesim.Distribution "
            f"objects (got {parameters!r})"
        )
    out = []
    for path, spec in parameters.items():
        if not isinstance(path, str):
            raise SimulationError(f"parameters keys must be field paths (strings) (got {path!r})")
        try:
            current = get_value(scenario, path)
        except ScenarioError as exc:
            raise SimulationError(f"parameters: {exc.field_message}") from None
        if current is not None and not isinstance(current, Parameter):
            raise SimulationError(
                f"parameters[{path!r}] must name a numeric parameter (got a field holding "
                f"{type(current).__name__}: {current!r})"
            )
        if isinstance(spec, Distribution):
            problems = spec.check()
            if problems:
                name, what, bad = problems[0]
                raise SimulationError(f"parameters[{path!r}].{name} {what} (got {bad!r})")
            out.append(SweptParameter(path=path, low=spec.low, high=spec.high, distribution=spec))
            continue
        ok = isinstance(spec, tuple | list) and len(spec) == 2
        ok = ok and all(
            isinstance(v, int | float | np.floating | np.integer) and not isinstance(v, bool)
            for v in spec
        )
        ok = ok and all(math.isfinite(float(v)) for v in spec) and float(spec[0]) < float(spec[1])
        if not ok:
            raise SimulationError(
                f"parameters[{path!r}] must be a (low, high) range of finite numbers with "
                f"low < high, or a basesim.Distribution (got {spec!r})"
            )
        out.append(SweptParameter(path=path, low=float(spec[0]), high=float(spec[1])))
    for swept in out:
        _check_domain(scenario, swept)
    return tuple(out)


def _check_domain(scenario: Scenario, swept: SweptParameter) -> None:
    """Refuse a range whose finite ends the field cannot take (before any run is spent).

    Only the field's own rule is checked here; a rule that ties several fields
    (influence weights summing to at most 1) is left to each point, which
    fails alone and is recorded as a failure.
    """
    for end in (swept.low, swept.high):
        if not math.isfinite(end):
            continue
        try:
            scenario.replace({swept.path: end})
        except ScenarioError as exc:
            if not exc.field_message.startswith(swept.path):
                continue
            raise SimulationError(
                f"parameters[{swept.path!r}] range [{swept.low:g}, {swept.high:g}] leaves the "
                f"field's domain: {exc.field_message}"
            ) from None


def design_unit(
    design: str, d: int, n_points: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Design points in the unit cube ``[0, 1]^d``.

    ``"lhs"``: a Latin hypercube of ``n_points`` points; ``"sobol"``: the first
    ``n_points`` (a power of 2) points of a scrambled Sobol' sequence;
    ``"grid"``: the full grid of ``n_points`` evenly spaced values per axis,
    ends included (``n_points ** d`` points; one point per axis sits at 0.5).
    """
    from scipy.stats import qmc

    if design == "lhs":
        return np.asarray(
            qmc.LatinHypercube(d, **qmc_rng(qmc.LatinHypercube, rng)).random(n_points)
        )
    if design == "sobol":
        return np.asarray(qmc.Sobol(d, scramble=True, **qmc_rng(qmc.Sobol, rng)).random(n_points))
    axis = np.linspace(0.0, 1.0, n_points) if n_points > 1 else np.array([0.5])
    # Row-major: the first parameter varies slowest, as in itertools.product.
    return np.stack(np.meshgrid(*[axis] * d, indexing="ij"), axis=-1).reshape(-1, d)


def _check_design(design: Any, n_points: Any, d: int) -> int:
    if design not in DESIGNS:
        raise SimulationError(f"design must be one of {', '.join(DESIGNS)} (got {design!r})")
    n = check_int("n_points", n_points, 1)
    if design == "sobol" and n & (n - 1):
        raise SimulationError(
            "n_points must be a power of 2 for design='sobol' (the sequence's balance needs "
            f"it) (got {n})"
        )
    if design == "grid" and n**d > _MAX_GRID:
        raise SimulationError(
            f"design='grid' makes n_points ** {d} = {n**d:,} points, more than {_MAX_GRID:,}; "
            f"lower n_points (got {n}) or use design='lhs' or 'sobol'"
        )
    return n


# -- running points -------------------------------------------------------------------
def evaluate_points(
    scenario_toml: str,
    seed: RootSeed,
    parameters: tuple[SweptParameter, ...],
    values: NDArray[np.float64],
    *,
    n_columns: int,
    n_runs: int,
    batch_size: int,
    executor: Executor | None,
    progress: bool | None,
    desc: str,
    store: SweepCheckpoint | None = None,
) -> tuple[NDArray[np.int64], dict[int, tuple[str, str]], int]:
    """Outcome counts at each design point: ``(counts, failures, points read back)``.

    Points read back come from the checkpoint ``store``; the others are
    simulated in tasks of about ``batch_size`` runs, saved to ``store`` as
    each task finishes.
    """
    m = values.shape[0]
    counts = np.zeros((m, n_columns), dtype=np.int64)
    failures: dict[int, tuple[str, str]] = {}
    done: set[int] = set()
    if store is not None:
        saved, saved_failures = store.load()
        for point, row in saved.items():
            counts[point] = row
        done = set(saved)
        failures.update(saved_failures)
    remaining = [i for i in range(m) if i not in done]
    paths = tuple(p.path for p in parameters)
    tasks = (
        PointsTask(
            scenario_toml=scenario_toml,
            seed=seed,
            paths=paths,
            points=chunk,
            values=vals,
            n_runs=n_runs,
            # On an executor each worker plays its task on one thread: the workers share the cores.
            threads=0 if executor is None else 1,
        )
        for chunk, vals in chunk_points(remaining, values, n_runs=n_runs, batch_size=batch_size)
    )
    bar = progress_bar(m * n_runs, progress, desc)
    if bar is not None and done:
        bar.update(len(done) * n_runs)
    try:
        for out in run_unordered(run_points_task, tasks, executor):
            if store is not None:
                store.save(out.points, out.counts, out.failures)
            counts[list(out.points)] = out.counts
            for point, error, message in out.failures:
                failures[point] = (error, message)
            if bar is not None:
                bar.update(len(out.points) * n_runs)
    finally:
        if bar is not None:
            bar.close()
    return counts, failures, len(done)


# -- results ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class SweepFailure:
    """A design point that could not be simulated, and why.

    Attributes
    ----------
    point
        Index of the point in the design.
    values
        The point's value of each swept parameter.
    error
        Name of the error's type (``"ScenarioError"`` for an invalid variant).
    message
        The error message.
    """

    point: int
    values: dict[str, float]
    error: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepResult:
    """Outcome probabilities at each point of a design over scenario parameters.

    Attributes
    ----------
    scenario
        The scenario swept.
    parameters
        The swept parameters and their ranges.
    design_kind
        ``"lhs"``, ``"sobol"`` or ``"grid"``.
    n_points
        The ``n_points`` argument (for a grid, points per axis).
    points
        The design, ``(number of points, number of parameters)``.
    n_runs
        Runs simulated at each point.
    outcomes
        ``(table, outcome)`` of each column of :attr:`counts`, as laid out by
        :class:`~basesim.outcomes.OutcomeTable` (each issue's table ends with
        ``"unsettled"``, the joint table with ``"no agreement"``).
    counts
        Runs per outcome at each point (zero rows for failed points).
    failures
        The points that failed, with their error messages.
    resumed_points
        How many points were read from a checkpoint rather than simulated.
    provenance
        basesim version and seed entropy.
    """

    scenario: Scenario
    parameters: tuple[SweptParameter, ...]
    design_kind: str
    n_points: int
    points: NDArray[np.float64]
    n_runs: int
    outcomes: tuple[tuple[str, str], ...]
    counts: NDArray[np.int64]
    failures: tuple[SweepFailure, ...]
    resumed_points: int
    provenance: Provenance

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The swept field paths, in design column order."""
        return tuple(p.path for p in self.parameters)

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Which points were simulated (``False`` for failed points)."""
        mask = np.ones(len(self.points), dtype=bool)
        mask[[f.point for f in self.failures]] = False
        return mask

    @property
    def design(self) -> pd.DataFrame:
        """The design as a frame: ``point``, then one column per swept parameter, then ``ok``."""
        import pandas as pd

        frame = pd.DataFrame(self.points, columns=list(self.parameter_names))
        frame.insert(0, "point", np.arange(len(self.points)))
        frame["ok"] = self.ok
        return frame

    def probability(self, outcome: str) -> NDArray[np.float64]:
        """The probability of ``outcome`` at each point (NaN at failed points).

        ``outcome`` is ``"issue=category"`` (``"basing=retention"``), or
        ``"issue=unsettled"`` for the runs that never settled the issue,
        ``"joint=a / b"`` (``"joint=withdrawal / unsettled"``) or
        ``"no agreement"`` (no issue settled).
        """
        column = OutcomeTable.of(self.scenario).index(outcome)
        p = self.counts[:, column] / self.n_runs
        p[~self.ok] = np.nan
        return np.asarray(p, dtype=np.float64)

    def to_frame(self, confidence_level: float = 0.95) -> pd.DataFrame:
        """Tidy long form: one row per simulated point and outcome.

        Columns ``point``, one per swept parameter, ``table``, ``outcome``,
        ``count``, ``probability``, ``ci_low``, ``ci_high`` (Wilson intervals
        over the point's runs).  Failed points have no rows: see
        :attr:`failures`.
        """
        import pandas as pd

        confidence_level = check_confidence_level(confidence_level)
        ok = np.flatnonzero(self.ok)
        c = len(self.outcomes)
        counts = self.counts[ok].ravel()
        low, high = wilson_interval(counts, self.n_runs, confidence_level)
        data: dict[str, Any] = {"point": np.repeat(ok, c)}
        for k, name in enumerate(self.parameter_names):
            data[name] = np.repeat(self.points[ok, k], c)
        data["table"] = np.tile(np.array([t for t, _ in self.outcomes], dtype=object), len(ok))
        data["outcome"] = np.tile(np.array([o for _, o in self.outcomes], dtype=object), len(ok))
        data["count"] = counts
        data["probability"] = counts / self.n_runs
        data["ci_low"] = low
        data["ci_high"] = high
        return pd.DataFrame(data)

    def summary(self) -> pd.DataFrame:
        """Each outcome's probability across the simulated points: mean, min and max."""
        import pandas as pd

        p = self.counts[self.ok] / self.n_runs
        empty = p.shape[0] == 0
        return pd.DataFrame(
            {
                "table": [t for t, _ in self.outcomes],
                "outcome": [o for _, o in self.outcomes],
                "mean": np.full(len(self.outcomes), np.nan) if empty else p.mean(axis=0),
                "min": np.full(len(self.outcomes), np.nan) if empty else p.min(axis=0),
                "max": np.full(len(self.outcomes), np.nan) if empty else p.max(axis=0),
            }
        )

    def __repr__(self) -> str:
        lines = [
            f"SweepResult(scenario={self.scenario.name!r}, design={self.design_kind!r}, "
            f"points={len(self.points):,}, n_runs={self.n_runs:,}, failed={len(self.failures):,})"
        ]
        width = max(len(p.path) for p in self.parameters)
        for p in self.parameters:
            lines.append(f"  {p.path:<{width}}  {p.describe()}")
        summary = self.summary()
        joint = summary[(summary.table == "joint") & (summary["mean"] >= 0.005)]
        if len(joint):
            lines.append("  joint outcome probability over the points: mean [min, max]")
            for row in joint.sort_values("mean", ascending=False).itertuples():
                lines.append(
                    f"    {row.outcome:<38} {row.mean:7.1%}  [{row.min:6.1%}, {row.max:6.1%}]"
                )
        if self.failures:
            lines.append(
                f"  {len(self.failures)} point(s) failed; first: point {self.failures[0].point}: "
                f"{self.failures[0].message}"
            )
        return "\n".join(lines)

    def plot(self, *, x: str, outcome: str, y: str | None = None, ax: Axes | None = None) -> Axes:
        """The probability of ``outcome`` over ``x`` (and ``y``); returns the Axes.

        Without ``y``, a line against ``x`` with its interval band
        (:func:`~basesim.plotting.plot_sweep_line`, for a sweep over ``x``
        alone); with ``y``, a surface
        (:func:`~basesim.plotting.plot_sweep_surface`).
        """
        from basesim.plotting import plot_sweep_line, plot_sweep_surface

        if y is None:
            return plot_sweep_line(self, x=x, outcome=outcome, ax=ax)
        return plot_sweep_surface(self, x=x, y=y, outcome=outcome, ax=ax)

    def _repr_html_(self) -> str:
        import html

        import pandas as pd

        head = (
            f"<p><b>SweepResult</b>: scenario <code>{html.escape(self.scenario.name)}</code>, "
            f"design <code>{self.design_kind}</code>, {len(self.points):,} points × "
            f"{self.n_runs:,} runs, {len(self.failures):,} failed, "
            f"basesim {self.provenance.basesim_version}</p>"
        )
        params = pd.DataFrame(
            {"parameter": self.parameter_names, "range": [p.describe() for p in self.parameters]}
        )
        parts = [
            head,
            params.to_html(index=False),
            self.summary().to_html(index=False, float_format=lambda x: f"{x:.4f}"),
        ]
        if self.failures:
            fails = pd.DataFrame(
                [{"point": f.point, "error": f.error, "message": f.message} for f in self.failures]
            )
            parts.append(fails.to_html(index=False))
        return "".join(parts)


# -- the front door -----------------------------------------------------------------------
def sweep(
    scenario: Scenario,
    parameters: Mapping[str, tuple[float, float] | Distribution],
    *,
    design: str = "lhs",
    n_points: int,
    n_runs: int,
    batch_size: int | None = None,
    checkpoint: str | PathLike[str] | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    model: str | None = None,
    rng: RNGLike = None,
) -> SweepResult:
    """Simulate the scenario at many points of a design over some of its parameters.

    Each design point is a variant of ``scenario`` with every swept parameter
    *fixed* at the point's value (a number set at a path makes the parameter
    fixed, even if it was uncertain); the other uncertain parameters are
    still drawn run by run.  Every point is simulated on runs ``0 .. n_runs -
    1`` of the same seed, so points share their random numbers (common random
    numbers): differences between points come from the swept parameters, not
    from the luck of the draw, and point ``j`` gives exactly what
    ``basesim.simulate(variant_j, n_runs=n_runs, rng=rng)`` gives.

    A point whose variant is invalid (say, influence weights summing above 1)
    or fails to simulate is recorded in :attr:`SweepResult.failures` with its
    error message, and the sweep goes on.

    Parameters
    ----------
    scenario
        The scenario to vary.
    parameters
        Field path -> ``(low, high)`` (values spread uniformly) or a
        :class:`~basesim.Distribution` (values follow it).
    design
        ``"lhs"`` (Latin hypercube, :class:`scipy.stats.qmc.LatinHypercube`),
        ``"sobol"`` (scrambled Sobol' sequence, :class:`scipy.stats.qmc.Sobol`;
        ``n_points`` must be a power of 2) or ``"grid"`` (``n_points`` evenly
        spaced values per parameter, ends included: ``n_points ** d`` points).
    n_points
        Number of design points (for ``"grid"``, per parameter).
    n_runs
        Runs per point.  Each point's probabilities have Monte Carlo error
        about ``sqrt(p (1 - p) / n_runs)``.
    batch_size
        Runs per task, in whole points.  By default, on an executor 4,096
        (each task on one thread); in this process as many as
        :func:`~basesim.simulate` plays at once (16,384, fewer for scenarios
        whose runs hold much memory).  Does not change results.
    checkpoint
        A folder to save finished chunks of points in as they finish.  A sweep
        started again with the same arguments reads them and simulates only the
        rest; a folder holding a different sweep raises
        :class:`~basesim.exceptions.CheckpointError`.  Needs a reproducible
        ``rng`` (not ``None``).
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or Dask's
        ``client.get_executor()``) to run tasks on; serial if ``None``.
    progress
        Show a progress bar (default: only when stderr is a terminal).
    model
        The registered model (protocol) to run, overriding the scenario's
        ``[protocol] model``; ``None`` (default) runs the scenario's own.
    rng
        Seed (SPEC 7) of both the design and the simulations.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> res = basesim.sweep(scn, {"actors.syria.basing.position": (0.0, 0.6)},
    ...                     design="grid", n_points=3, n_runs=200, rng=7)
    >>> res.design["actors.syria.basing.position"].tolist()
    [0.0, 0.3, 0.6]
    >>> bool(res.probability("basing=withdrawal")[0] > res.probability("basing=withdrawal")[2])
    True
    """
    if not isinstance(scenario, Scenario):
        raise SimulationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    scenario = with_model(scenario, model)
    params = swept_parameters(scenario, parameters)
    n_design = _check_design(design, n_points, len(params))
    runs = check_int("n_runs", n_runs, 1)
    size = None if batch_size is None else check_int("batch_size", batch_size, 1)
    executor = check_executor(executor)
    if checkpoint is not None and rng is None:
        raise SimulationError(
            "checkpoint needs a reproducible rng to resume with: pass an int or a SeedSequence "
            "(got None)"
        )

    root = as_seed_sequence(rng)
    seed = RootSeed.of(root)
    design_rng = np.random.Generator(np.random.PCG64(seed.sequence(_DESIGN_STREAM)))
    unit = design_unit(design, len(params), n_design, design_rng)
    values = np.column_stack([p.ppf(unit[:, k]) for k, p in enumerate(params)])
    table = OutcomeTable.of(scenario)
    text = scenario.to_toml()
    if size is None:
        size = points_batch(text, executor)

    store = None
    if checkpoint is not None:
        from basesim import __version__
        from basesim.experiments.checkpoints import SweepCheckpoint

        fingerprint = {
            "basesim_version": __version__,
            "scenario_toml": text,
            "parameters": [p.as_dict() for p in params],
            "design": design,
            "n_points": n_design,
            "n_runs": runs,
            "entropy": seed.entropy_text(),
            "spawn_key": list(seed.spawn_key),
            "points_sha256": hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest(),
            # The layout of the saved counts: a checkpoint with other columns is another sweep's.
            "outcomes": list(table.names),
        }
        store = SweepCheckpoint.open(
            checkpoint, fingerprint, n_points=len(values), n_runs=runs, table=table
        )

    try:
        counts, failed, resumed = evaluate_points(
            text,
            seed,
            params,
            values,
            n_columns=table.n_columns,
            n_runs=runs,
            batch_size=size,
            executor=executor,
            progress=progress,
            desc=f"sweeping {scenario.name}",
            store=store,
        )
    finally:
        if store is not None:
            store.close()  # release the folder's lock
    failures = tuple(
        SweepFailure(
            point=point,
            values={p.path: float(values[point, k]) for k, p in enumerate(params)},
            error=error,
            message=message,
        )
        for point, (error, message) in sorted(failed.items())
    )
    return SweepResult(
        scenario=scenario,
        parameters=params,
        design_kind=design,
        n_points=n_design,
        points=values,
        n_runs=runs,
        outcomes=table.labels,
        counts=counts,
        failures=failures,
        resumed_points=resumed,
        provenance=provenance_of(root),
    )
