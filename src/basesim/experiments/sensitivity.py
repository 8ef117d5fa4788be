"""Global sensitivity: first- and total-order Sobol' indices of an outcome probability or mean."""

from __future__ import annotations

import html
import inspect
import warnings
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.exceptions import SimulationError
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
from basesim.experiments.sweep import SweptParameter, evaluate_points, swept_parameters
from basesim.experiments.tasks import check_int, progress_bar, qmc_rng
from basesim.expressions import parse_outcome
from basesim.parameters import Distribution
from basesim.protocols.registry import with_model
from basesim.results import Provenance
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["SensitivityResult", "sensitivity"]

#: Spawn-key words of the sample's and the bootstrap's random streams.
_SAMPLE_STREAM = 2**32 - 2
_BOOTSTRAP_STREAM = 2**32 - 3


@dataclass(frozen=True, slots=True, kw_only=True)
class SensitivityResult:
    """Sobol' indices of one outcome's probability (or mean) over some scenario parameters.

    Attributes
    ----------
    scenario
        The scenario analysed.
    parameters
        The varied parameters and their ranges (or distributions).
    outcome
        The outcome expression analysed (``"basing=retention"``,
        ``"value:basing"``), in canonical spelling.
    is_probability
        Whether the outcome is a condition, whose per-point output is its
        probability; if not (``"value:basing"``, ``"month:basing"``), the
        output is the per-point mean of the number over the runs.
    n
        Base sample size (a power of 2); the model was evaluated at
        ``n * (d + 2)`` points.
    n_runs
        Runs per evaluated point.
    first_order, total_order
        ``(d,)`` estimates: the share of the output's variance due to
        each parameter alone, and due to it with all its interactions.
    first_order_interval, total_order_interval
        ``(d, 2)`` bootstrap (BCa) confidence intervals.
    output_varies
        ``(d,)`` whether changing the parameter alone (the points ``AB_i``
        against ``A``) changed the output at any sample point.  Where it
        did not, both indices and their intervals are exactly 0 (with common
        random numbers, an inert parameter reruns the very same runs): that
        says there was no variation in the output to share out, which is
        evidence of no effect only within the ranges and runs simulated.
    confidence_level
        Of the intervals.
    output_mean, output_variance
        Mean and variance of the output (probability or mean) over the
        sample (points of the ``A`` and ``B`` matrices).
    noise_variance
        Mean variance of a point's estimated output, ``p (1 - p) / n_runs``
        for a probability, ``s^2 / n_runs`` (``s^2`` the variance over the
        point's runs) for a mean: the Monte Carlo noise a point would have on
        its own.
        With common random numbers much of it is shared by all points and
        cancels from the indices; compare it with :attr:`output_variance`.
    provenance
        basesim version and seed entropy.
    """

    scenario: Scenario
    parameters: tuple[SweptParameter, ...]
    outcome: str
    is_probability: bool = True
    n: int
    n_runs: int
    first_order: NDArray[np.float64]
    total_order: NDArray[np.float64]
    first_order_interval: NDArray[np.float64]
    total_order_interval: NDArray[np.float64]
    output_varies: NDArray[np.bool_]
    confidence_level: float
    output_mean: float
    output_variance: float
    noise_variance: float
    provenance: Provenance

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The varied field paths."""
        return tuple(p.path for p in self.parameters)

    @property
    def n_evaluations(self) -> int:
        """How many points were simulated: ``n * (d + 2)``."""
        return self.n * (len(self.parameters) + 2)

    def to_frame(self) -> pd.DataFrame:
        """Tidy long form: a row per parameter and index.

        Columns ``parameter``, ``index`` (``"first_order"`` or ``"total_order"``),
        ``estimate``, ``ci_low``, ``ci_high``, ``output_varies`` (see the
        attribute: ``False`` where the estimate is 0 because the output never
        changed with the parameter).
        """
        import pandas as pd

        rows = []
        for index, est, ci in (
            ("first_order", self.first_order, self.first_order_interval),
            ("total_order", self.total_order, self.total_order_interval),
        ):
            for k, name in enumerate(self.parameter_names):
                rows.append(
                    {
                        "parameter": name,
                        "index": index,
                        "estimate": est[k],
                        "ci_low": ci[k, 0],
                        "ci_high": ci[k, 1],
                        "output_varies": bool(self.output_varies[k]),
                    }
                )
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        width = max(len(n) for n in self.parameter_names)
        level = f"{self.confidence_level:.0%}"
        first, total = f"first order [{level} CI]", f"total order [{level} CI]"
        lines = [
            f"SensitivityResult(outcome={self.outcome!r}, scenario={self.scenario.name!r}, "
            f"n={self.n}, n_runs={self.n_runs:,}, evaluations={self.n_evaluations:,})",
            f"  {self._output}: mean {self.output_mean:.3f}, variance {self.output_variance:.3g} "
            f"(Monte Carlo noise per point {self.noise_variance:.3g})",
            f"  {'parameter':<{width}}  {first:>24}  {total:>24}",
        ]
        order = np.argsort(-self.total_order, kind="stable")
        for k in order:
            s1, st = self.first_order[k], self.total_order[k]
            c1, ct = self.first_order_interval[k], self.total_order_interval[k]
            if not self.output_varies[k]:
                # Not "0.000 [0.000, 0.000]": nothing was measured, which is not
                # proof of no effect outside the ranges and runs simulated.
                lines.append(
                    f"  {self.parameter_names[k]:<{width}}  no variation in the output: "
                    f"changing it alone changed the {self._output} at no sample point"
                )
                continue
            lines.append(
                f"  {self.parameter_names[k]:<{width}}  {s1:6.3f} [{c1[0]:6.3f}, {c1[1]:6.3f}]  "
                f"{st:6.3f} [{ct[0]:6.3f}, {ct[1]:6.3f}]"
            )
        return "\n".join(lines)

    @property
    def _output(self) -> str:
        return "probability" if self.is_probability else "per-point mean"

    def plot(self, *, ax: Axes | None = None) -> Axes:
        """First- and total-order indices with their intervals; returns the Axes."""
        from basesim.plotting import plot_sensitivity

        return plot_sensitivity(self, ax=ax)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>SensitivityResult</b>: Sobol' indices of "
            f"{'P' if self.is_probability else 'E'}({html.escape(self.outcome)}) in "
            f"scenario <code>{html.escape(self.scenario.name)}</code>; n = {self.n}, "
            f"{self.n_runs:,} runs per point, {self.n_evaluations:,} points; {self._output}: mean "
            f"{self.output_mean:.3f}, variance {self.output_variance:.3g}, Monte Carlo noise "
            f"per point {self.noise_variance:.3g}</p>"
        )
        return head + str(self.to_frame().to_html(index=False, float_format=lambda x: f"{x:.4f}"))


def sobol_sample(
    parameters: tuple[SweptParameter, ...], n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The matrices ``A``, ``B`` ``(d, n)`` and ``AB`` ``(d, d, n)`` of the Saltelli design.

    Built as :func:`scipy.stats.sobol_indices` builds them: ``A`` and ``B``
    are the two halves of a scrambled ``2d``-dimensional Sobol' sequence,
    mapped through each parameter's quantile function, and page ``i`` of
    ``AB`` is ``A`` with row ``i`` taken from ``B``.
    """
    from scipy.stats import qmc

    d = len(parameters)
    sample = qmc.Sobol(d=2 * d, bits=64, **qmc_rng(qmc.Sobol, rng)).random(n).T.reshape(2, d, -1)
    for k, p in enumerate(parameters):
        sample[:, k] = p.frozen.ppf(sample[:, k])
    a, b = sample[0], sample[1]
    ab = np.tile(a, (d, 1, 1))
    ab[np.arange(d), np.arange(d)] = b
    return a, b, ab


def _indices(
    f_a: NDArray[np.float64], f_b: NDArray[np.float64], f_ab: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Saltelli (2010) first-order and Jansen (1999) total-order estimators, ``(2, d)``.

    The estimators of :func:`scipy.stats.sobol_indices` (``method="saltelli_2010"``),
    on outputs already centred on the mean of ``f_a`` and ``f_b``.
    """
    var = np.var(np.concatenate([f_a, f_b]))
    first = np.mean(f_b * (f_ab - f_a), axis=-1) / var
    total = 0.5 * np.mean((f_a - f_ab) ** 2, axis=-1) / var
    return np.stack([first, total])


def _bootstrap(
    f_a: NDArray[np.float64],
    f_b: NDArray[np.float64],
    f_ab: NDArray[np.float64],
    *,
    confidence_level: float,
    n_resamples: int,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """BCa bootstrap intervals ``(2, d, 2)`` of :func:`_indices`, resampling the ``n`` base rows.

    An index whose every resample gives the same value (a parameter with no
    effect at all on the sample) gets the degenerate interval at that value.
    """

    def statistic(idx: NDArray[np.int64]) -> NDArray[np.float64]:
        idx = np.asarray(idx, dtype=np.intp)
        return _indices(f_a[idx], f_b[idx], f_ab[:, idx])

    kwargs: dict[str, Any] = {"rng": rng}
    if "rng" not in inspect.signature(stats.bootstrap).parameters:  # SciPy < 1.15
        kwargs = {"random_state": rng}
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # BCa cannot be computed for a statistic that never varies; such
        # indices are given their degenerate interval below.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            (np.arange(len(f_a)),),
            statistic,
            n_resamples=n_resamples,
            confidence_level=confidence_level,
            method="BCa",
            vectorized=False,
            **kwargs,
        )
    out = np.stack([res.confidence_interval.low, res.confidence_interval.high], axis=-1)
    distribution = res.bootstrap_distribution  # (2, d, n_resamples)
    tail = (1 - confidence_level) / 2
    fallback = np.stack(
        [np.quantile(distribution, tail, axis=-1), np.quantile(distribution, 1 - tail, axis=-1)],
        axis=-1,
    )
    return np.where(np.isfinite(out), out, fallback)


def sensitivity(
    scenario: Scenario,
    parameters: Mapping[str, tuple[float, float] | Distribution],
    *,
    outcome: str,
    n: int,
    n_runs: int = 256,
    confidence_level: float = 0.95,
    n_resamples: int = 999,
    batch_size: int | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    model: str | None = None,
    rng: RNGLike = None,
) -> SensitivityResult:
    """First- and total-order Sobol' indices of an outcome's probability, or of a number's mean.

    The model output is ``f(x)``, the probability of ``outcome`` in the
    scenario with the parameters fixed at ``x``, estimated from ``n_runs``
    runs; for an outcome that is a number rather than a condition
    (``"value:basing"``, ``"month:basing"``), ``f(x)`` is the mean of that
    number over the ``n_runs`` runs at ``x`` (the indices then share out the
    variance of the per-point mean, not of single runs).  The parameters
    vary independently over their ranges (uniformly) or distributions.  The
    first-order index ``S_i = V[E(f | x_i)] / V(f)`` is the share of the
    variance of ``f`` that ``x_i`` explains alone; the total
    index ``S_Ti = E[V(f | x_~i)] / V(f)`` adds every interaction it takes
    part in.  Indices come from :func:`scipy.stats.sobol_indices`
    (Saltelli 2010 first-order, Jansen 1999 total-order estimators) on the
    ``n * (d + 2)`` points of the Saltelli design, evaluated in batches on
    the executor; intervals from a BCa bootstrap over the ``n`` base rows.

    Each point's output carries Monte Carlo noise (binomial variance
    ``p (1 - p) / n_runs`` for a probability, ``s^2 / n_runs`` for a mean),
    which would otherwise act as a phantom input, inflating total indices and
    blurring first-order ones.  All points use
    the same runs of the same seed (common random numbers), so the noise is
    largely shared between points and drops out of the differences the
    estimators are built from.  The result reports the noise variance beside
    the output variance: indices are trustworthy when the first is small
    beside the second; raise ``n_runs`` if it is not.

    Parameters
    ----------
    scenario
        The scenario.
    parameters
        Field path -> ``(low, high)`` or :class:`~basesim.Distribution`.
    outcome
        An outcome expression (:func:`basesim.expressions.parse_outcome`):
        an outcome name, ``"issue=category"`` (``"basing=retention"``),
        ``"issue=unsettled"`` (the issue never settled), ``"joint=a / b"``
        (``"joint=withdrawal / substantial"``) or ``"no agreement"``; a
        condition built from them, ``settled:ISSUE`` and comparisons of
        numbers with ``and``, ``or``, ``not`` (``"basing=withdrawal and
        sanctions_relief=substantial"``, ``"value:basing < 0.3 or not
        settled:basing"``), whose probability is analysed; or a number,
        ``"value:ISSUE"`` (the issue's final value) or ``"month:ISSUE"`` (the
        round it was settled in, ``horizon + 1`` for a run that never settled
        it), whose mean is analysed.
    n
        Base sample size, a power of 2.
    n_runs
        Runs per evaluated point.
    confidence_level
        Of the bootstrap intervals.
    n_resamples
        Bootstrap resamples.
    batch_size
        Runs per task, in whole points (default: as :func:`~basesim.sweep`);
        does not change results.
    executor
        A :class:`concurrent.futures.Executor` (a process pool, or Dask's
        ``client.get_executor()``); serial if ``None``.
    progress
        Show a progress bar (default: only when stderr is a terminal).
    model
        The registered model (protocol) to run, overriding the scenario's
        ``[protocol] model``; ``None`` (default) runs the scenario's own.
    rng
        Seed (SPEC 7) of the sample, the simulations and the bootstrap.

    Returns
    -------
    SensitivityResult

    Raises
    ------
    SimulationError
        For bad arguments (an expression that does not parse: the message
        names the bad token), a point whose variant is invalid (narrow the
        ranges), or an outcome whose output is the same at every point.

    References
    ----------
    Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. and
    Tarantola, S. (2010). Variance based sensitivity analysis of model output.
    Design and estimator for the total sensitivity index. Computer Physics
    Communications 181(2), 259-270.

    Jansen, M. J. W. (1999). Analysis of variance designs for model output.
    Computer Physics Communications 117(1-2), 35-43.

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> res = basesim.sensitivity(
    ...     scn,
    ...     {
    ...         "actors.syria.basing.position": (0.0, 0.6),
    ...         "actors.turkey.basing.salience": (0.4, 0.9),
    ...     },
    ...     outcome="basing=withdrawal", n=16, n_runs=100, rng=7,
    ... )
    >>> res.parameter_names[int(res.total_order.argmax())]
    'actors.syria.basing.position'
    """
    if not isinstance(scenario, Scenario):
        raise SimulationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    scenario = with_model(scenario, model)
    params = swept_parameters(scenario, parameters)
    expression = parse_outcome(scenario, outcome)
    by_counts = expression.from_counts
    size = check_int("n", n, 2)
    if size & (size - 1):
        raise SimulationError(
            f"n must be a power of 2 (the Sobol' sample's balance needs it) (got {n})"
        )
    runs = check_int("n_runs", n_runs, 1)
    check_confidence_level(confidence_level)
    resamples = check_int("n_resamples", n_resamples, 1)
    batch = None if batch_size is None else check_int("batch_size", batch_size, 1)
    executor = check_executor(executor)
    text = scenario.to_toml()
    if batch is None:
        batch = points_batch(text, executor)

    root = as_seed_sequence(rng)
    seed = RootSeed.of(root)
    d = len(params)
    a, b, ab = sobol_sample(
        params, size, np.random.Generator(np.random.PCG64(seed.sequence(_SAMPLE_STREAM)))
    )
    points = np.concatenate([a.T, b.T, *(ab[i].T for i in range(d))])

    desc = f"sensitivity of {expression.text}"
    if by_counts:
        # A union of joint outcomes: its probability follows from the counts.
        counts, failures, _ = evaluate_points(
            text,
            seed,
            params,
            points,
            n_columns=expression.table.n_columns,
            n_runs=runs,
            batch_size=batch,
            executor=executor,
            progress=progress,
            desc=desc,
        )
        y = expression.probability(counts, runs)
        noise = y * (1 - y)
    else:
        sums, failures = _evaluate_sums(
            text,
            seed,
            params,
            points,
            outcome=expression.text,
            n_runs=runs,
            batch_size=batch,
            executor=executor,
            progress=progress,
            desc=desc,
        )
        y = sums[:, 0] / runs
        noise = np.maximum(sums[:, 1] / runs - y**2, 0.0)
    if failures:
        point = min(failures)
        values = ", ".join(f"{p.path} = {points[point, k]:g}" for k, p in enumerate(params))
        raise SimulationError(
            f"parameters: {len(failures)} of {len(points)} sample points are not valid "
            f"scenarios, e.g. {values}: {failures[point][1]}; narrow the ranges so that every "
            "combination is valid"
        )
    f_a, f_b, f_ab = y[:size], y[size : 2 * size], y[2 * size :].reshape(d, size)
    base = np.concatenate([f_a, f_b])
    if np.all(base == base[0]):
        what = "probability" if expression.is_condition else "mean"
        raise SimulationError(
            f"outcome {expression.text!r} has the same {what} ({base[0]:g}) at every sample "
            "point, so its Sobol' indices are undefined; choose another outcome, wider ranges "
            "or more n_runs"
        )

    res = stats.sobol_indices(
        func={"f_A": f_a[None, :], "f_B": f_b[None, :], "f_AB": f_ab[:, None, :]}, n=size
    )
    mean = base.mean()
    intervals = _bootstrap(
        f_a - mean,
        f_b - mean,
        f_ab - mean,
        confidence_level=float(confidence_level),
        n_resamples=resamples,
        rng=np.random.Generator(np.random.PCG64(seed.sequence(_BOOTSTRAP_STREAM))),
    )
    return SensitivityResult(
        scenario=scenario,
        parameters=params,
        outcome=expression.text,
        is_probability=expression.is_condition,
        n=size,
        n_runs=runs,
        first_order=np.asarray(res.first_order, dtype=np.float64).reshape(d),
        total_order=np.asarray(res.total_order, dtype=np.float64).reshape(d),
        first_order_interval=intervals[0],
        total_order_interval=intervals[1],
        output_varies=np.any(f_ab != f_a, axis=1),
        confidence_level=float(confidence_level),
        output_mean=float(mean),
        output_variance=float(base.var()),
        noise_variance=float(np.mean(noise[: 2 * size]) / runs),
        provenance=provenance_of(root),
    )


def _evaluate_sums(
    scenario_toml: str,
    seed: RootSeed,
    parameters: tuple[SweptParameter, ...],
    values: NDArray[np.float64],
    *,
    outcome: str,
    n_runs: int,
    batch_size: int,
    executor: Executor | None,
    progress: bool | None,
    desc: str,
) -> tuple[NDArray[np.float64], dict[int, tuple[str, str]]]:
    """Sum and sum of squares ``(m, 2)`` over runs of an outcome expression at each point.

    The points are simulated as :func:`~basesim.experiments.sweep.evaluate_points`
    simulates them (the same runs at every point), in tasks of about
    ``batch_size`` runs; returns the sums and the failed points.
    """
    m = values.shape[0]
    sums = np.zeros((m, 2), dtype=np.float64)
    failures: dict[int, tuple[str, str]] = {}
    paths = tuple(p.path for p in parameters)
    tasks = (
        PointsTask(
            scenario_toml=scenario_toml,
            seed=seed,
            paths=paths,
            points=chunk,
            values=vals,
            n_runs=n_runs,
            outcome=outcome,
            threads=0 if executor is None else 1,
        )
        for chunk, vals in chunk_points(range(m), values, n_runs=n_runs, batch_size=batch_size)
    )
    bar = progress_bar(m * n_runs, progress, desc)
    try:
        for out in run_unordered(run_points_task, tasks, executor):
            assert out.sums is not None
            sums[list(out.points)] = out.sums
            for point, error, message in out.failures:
                failures[point] = (error, message)
            if bar is not None:
                bar.update(len(out.points) * n_runs)
    finally:
        if bar is not None:
            bar.close()
    return sums, failures
