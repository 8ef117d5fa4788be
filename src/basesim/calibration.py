"""Calibration: condition a scenario's uncertain parameters on what has been observed.

:func:`calibrate` turns a scenario (its uncertain parameters are the prior)
and a set of :class:`~basesim.observations.Observation` (what was seen by
some month) into a :class:`Posterior`: weighted particles over the uncertain
parameters.  Everything happens in the *quantile space* of those parameters:
run ``i``'s parameter ``p`` is ``dist_p.ppf(u[i, p])`` with ``u`` uniform on
``[0, 1]^P`` under the prior, exactly as in :func:`basesim.simulate`.

Methods
-------
``"rejection"``
    Simulate ``n`` prior runs (runs ``0 .. n - 1`` of
    ``basesim.simulate(scenario, n_runs=n, rng=rng)``, the very same runs)
    and keep those that meet every observation.  Exact for observations of
    categories, states and ranges: the accepted runs are draws from the
    posterior of parameters *and* paths.
``"importance"``
    Draw ``n`` prior particles; give each ``replicates`` runs with
    independent recognition and noise draws; weight each particle by the
    share of its runs that meet every observation (an unbiased estimate of
    its likelihood).
``"smc"``
    ABC population Monte Carlo (Toni et al. 2009; Beaumont et al. 2009):
    ``n`` particles per generation, a decreasing schedule of tolerances on
    the summed distance to the observations (each the ``alpha`` quantile of
    the previous generation's distances) ending at 0 (every observation met
    exactly), Gaussian perturbation in probit-of-quantile space with twice
    the weighted covariance of the previous generation, and weights prior /
    kernel mixture.  Each generation resamples the previous one by weight.
    When at least ``alpha`` of a generation's weight already meets every
    observation, or the generation reweighted by "meets them" keeps an
    effective sample size of at least ``n / 4``, the last step reweights it
    (weights times "meets them") instead of moving it: exact for those
    particles, and it avoids moves, whose kernel weights collapse in many
    dimensions (with dozens of parameters a move can leave an effective
    sample size of a few particles; :func:`calibrate` warns when the final
    one is below ``n / 20``).  Where acceptance is not rare,
    ``"rejection"`` is exact and simpler.

References
----------
.. [1] Toni, T., Welch, D., Strelkowa, N., Ipsen, A. and Stumpf, M. P. H.
   (2009). Approximate Bayesian computation scheme for parameter inference
   and model selection in dynamical systems. *J. R. Soc. Interface* 6, 187-202.
.. [2] Beaumont, M. A., Cornuet, J.-M., Marin, J.-M. and Robert, C. P. (2009).
   Adaptive approximate Bayesian computation. *Biometrika* 96, 983-990.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from basesim._random import RNGLike, as_generator, as_seed_sequence
from basesim.engine.batch import run_batch
from basesim.engine.compiled import (
    BLOCK_SIZE,
    CompiledScenario,
    RandomInputs,
    compile_scenario,
    draw_inputs,
    sampled_values,
)
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import CalibrationError
from basesim.observations import Observation, observe
from basesim.posterior_sample import CALIBRATION_METHODS, PosteriorSample
from basesim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from basesim.results import SimulationResult

__all__ = ["CALIBRATION_METHODS", "CalibrationError", "Posterior", "calibrate"]

FloatArray = NDArray[np.float64]

#: Runs simulated per engine call.
_CHUNK = 8 * BLOCK_SIZE
#: Quantiles are kept this far inside (0, 1) before the probit transform.
_EDGE = 1e-12
#: Most rounds of fresh paths a posterior forecast tries for one particle.
_MAX_FORECAST_ROUNDS = 200


def _child(root: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The child of ``root`` at ``key``, without touching ``root``'s spawn counter."""
    return np.random.SeedSequence(
        root.entropy, spawn_key=(*root.spawn_key, *key), pool_size=root.pool_size
    )


def _entropy_text(root: np.random.SeedSequence) -> str:
    raw: Any = root.entropy
    if raw is None:
        return ""
    if isinstance(raw, int | np.integer):
        return str(int(raw))
    # A list of words: the number they spell, least significant word first (as NumPy reads it).
    return str(sum(int(w) << (32 * i) for i, w in enumerate(raw)))


def _describe(obs: Observation) -> str:
    what = (
        f"issue {obs.issue} is {obs.state}"
        if obs.state is not None
        else f"issue {obs.issue} in [{obs.low}, {obs.high}]"
        if obs.issue is not None
        else f"event {obs.event} {'occurred' if obs.occurred else 'did not occur'}"
    )
    return f"{what} by {obs.by}"


def _observations(observations: Any) -> tuple[Observation, ...]:
    if isinstance(observations, str | Path):
        from basesim.observations import read_observations

        return tuple(read_observations(observations))
    if isinstance(observations, Observation):
        observations = (observations,)
    try:
        items = tuple(observations)
    except TypeError:
        raise CalibrationError(
            "observations must be a sequence of Observation or the path of a TOML file "
            f"(got {type(observations).__name__})"
        ) from None
    for i, item in enumerate(items):
        if not isinstance(item, Observation):
            raise CalibrationError(
                f"observations[{i}] must be an Observation (got {type(item).__name__}: {item!r})"
            )
    if not items:
        raise CalibrationError("observations must hold at least one observation (got none)")
    return items


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise CalibrationError(f"{name} must be a whole number >= {low} (got {value!r})")
    return int(value)


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        raise CalibrationError(f"{name} must be a number in (0, 1) (got {value!r})")
    return float(value)


def _with_quantiles(inputs: RandomInputs, quantiles: FloatArray) -> RandomInputs:
    return RandomInputs(quantiles=quantiles, recognition=inputs.recognition, noise=inputs.noise)


def _ess(weights: FloatArray) -> float:
    w = weights / weights.sum()
    return float(1.0 / np.sum(w * w))


def _weighted_quantile(x: FloatArray, w: FloatArray, q: FloatArray) -> FloatArray:
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws) - 0.5 * ws
    cum /= ws.sum()
    return np.asarray(np.interp(q, cum, xs), dtype=np.float64)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Posterior:
    """Weighted particles over a scenario's uncertain parameters, conditioned on observations.

    Attributes
    ----------
    prior
        The prior scenario (with the model that ran it); :meth:`scenario`
        gives the calibrated one.
    observations
        What the particles are conditioned on.
    method
        ``"rejection"``, ``"importance"`` or ``"smc"``.
    paths
        The uncertain parameters' paths (columns of ``values``).
    quantiles, values
        ``(M, P)`` each particle's quantiles under the prior, and its values.
    weights
        ``(M,)`` normalised weights (equal for rejection).
    ess
        Effective sample size ``1 / sum(w**2)``.
    acceptance_rate
        Share of simulated runs that met every observation (for smc: in the
        last generation).
    n_simulations
        Runs simulated in all.
    tolerances
        The tolerance on the summed distance of each generation (smc: its
        schedule, from ``inf`` for the prior generation down to 0; rejection
        and importance: ``(0.0,)``).
    generations
        Per generation (smc; one row otherwise): tolerance, simulations,
        acceptance rate and ESS, as a tuple of dicts.
    root
        The calibration's root seed.
    accepted_runs
        For rejection, the indices of the accepted runs among the prior runs
        (their random inputs are those of ``simulate(scenario, rng=root)``);
        ``None`` otherwise.
    """

    prior: Scenario
    observations: tuple[Observation, ...]
    method: str
    paths: tuple[str, ...]
    quantiles: FloatArray
    values: FloatArray
    weights: FloatArray
    ess: float
    acceptance_rate: float
    n_simulations: int
    tolerances: tuple[float, ...]
    generations: tuple[dict[str, float], ...] = ()
    root: np.random.SeedSequence = field(repr=False)
    accepted_runs: NDArray[np.int64] | None = field(default=None, repr=False)

    @property
    def n_particles(self) -> int:
        """M, the number of particles."""
        return int(self.weights.shape[0])

    def __repr__(self) -> str:
        return (
            f"Posterior(scenario={self.prior.name!r}, method={self.method!r}, "
            f"particles={self.n_particles}, ess={self.ess:.1f}, "
            f"acceptance_rate={self.acceptance_rate:.4g}, n_simulations={self.n_simulations}, "
            f"observations={len(self.observations)})"
        )

    # -- tables -------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per particle: each parameter's value (columns named by path) and ``weight``.

        The quantiles are in :attr:`quantiles`.
        """
        import pandas as pd

        frame = pd.DataFrame(self.values, columns=list(self.paths))
        frame["weight"] = self.weights
        return frame

    def summary(self, *, level: float = 0.9) -> pd.DataFrame:
        """Prior against posterior, per parameter: mean, sd and central ``level`` interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``path``, ``prior_mean``, ``prior_sd``, ``prior_low``,
            ``prior_high``, ``posterior_mean``, ``posterior_sd``,
            ``posterior_low``, ``posterior_high``.  Prior figures are exact
            (from the distributions); posterior ones are weighted particle
            statistics (interval ends by interpolated weighted quantiles).
        """
        import pandas as pd

        level = _fraction("level", level)
        ends = np.array([(1 - level) / 2, (1 + level) / 2])
        compiled = compile_scenario(self.prior)
        dists = dict(zip(compiled.uncertain_paths, compiled.uncertain_distributions, strict=True))
        w = self.weights
        rows = []
        for p, path in enumerate(self.paths):
            dist = dists[path]
            frozen = dist.frozen
            x = self.values[:, p]
            mean = float(np.sum(w * x))
            low, high = _weighted_quantile(x, w, ends)
            rows.append(
                {
                    "path": path,
                    "prior_mean": float(frozen.mean()),
                    "prior_sd": float(frozen.std()),
                    "prior_low": float(dist.ppf(ends[0])),
                    "prior_high": float(dist.ppf(ends[1])),
                    "posterior_mean": mean,
                    "posterior_sd": float(math.sqrt(max(np.sum(w * (x - mean) ** 2), 0.0))),
                    "posterior_low": float(low),
                    "posterior_high": float(high),
                }
            )
        return pd.DataFrame(rows)

    # -- plots --------------------------------------------------------------------
    def plot(self, *, bins: int = 30, columns: int = 3) -> Figure:
        """Prior against posterior for each parameter, a grid of small histograms.

        The prior is drawn from its quantile function on an even grid; the
        posterior is the particles' weighted histogram.
        """
        import matplotlib.pyplot as plt

        compiled = compile_scenario(self.prior)
        dists = dict(zip(compiled.uncertain_paths, compiled.uncertain_distributions, strict=True))
        n = len(self.paths)
        cols = max(1, min(columns, n))
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
        grid = (np.arange(2000) + 0.5) / 2000
        for p, path in enumerate(self.paths):
            ax = axes[p // cols][p % cols]
            dist = dists[path]
            edges = np.linspace(dist.low, dist.high, bins + 1)
            ax.hist(dist.ppf(grid), bins=edges, density=True, alpha=0.4, label="prior")
            ax.hist(
                self.values[:, p],
                bins=edges,
                weights=self.weights,
                density=True,
                alpha=0.6,
                label="posterior",
            )
            ax.set_title(path, fontsize=8)
            ax.tick_params(labelsize=7)
        for p in range(n, rows * cols):
            axes[p // cols][p % cols].set_visible(False)
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"{self.prior.name}: prior and posterior ({self.method})", fontsize=9)
        fig.tight_layout()
        return fig

    def plot_forecast(
        self, prior_result: SimulationResult, *, forecast: SimulationResult | None = None
    ) -> Figure:
        """Each issue's outcome probabilities: prior result against the posterior forecast.

        ``forecast`` defaults to :meth:`forecast` with its defaults.
        """
        import matplotlib.pyplot as plt

        post = self.forecast() if forecast is None else forecast
        before = prior_result.probabilities()
        after = post.probabilities()
        tables = [t for t in dict.fromkeys(before["table"]) if t != "joint"]
        fig, axes = plt.subplots(
            len(tables), 1, figsize=(6.0, 1.0 + 1.6 * len(tables)), squeeze=False
        )
        for ax, table in zip(axes[:, 0], tables, strict=True):
            a = before[before["table"] == table].set_index("outcome")["probability"]
            b = after[after["table"] == table].set_index("outcome")["probability"]
            b = b.reindex(a.index).fillna(0.0)
            y = np.arange(len(a))
            ax.barh(y - 0.2, a.to_numpy(), height=0.4, label="prior")
            ax.barh(y + 0.2, b.to_numpy(), height=0.4, label="posterior")
            ax.set_yticks(y, [str(o) for o in a.index], fontsize=7)
            ax.set_xlim(0, 1)
            ax.set_title(str(table), fontsize=8)
        axes[0, 0].legend(fontsize=7)
        fig.suptitle(f"{self.prior.name}: forecast before and after calibration", fontsize=9)
        fig.tight_layout()
        return fig

    # -- use ----------------------------------------------------------------------
    def scenario_posterior(self) -> PosteriorSample:
        """The particles as the :class:`~basesim.posterior_sample.PosteriorSample` of a scenario."""
        keep = self.weights > 0
        return PosteriorSample(
            paths=self.paths,
            values=tuple(tuple(float(x) for x in row) for row in self.values[keep]),
            weights=tuple(float(w) for w in self.weights[keep]),
            method=self.method,
            observations=tuple(_describe(o) for o in self.observations),
            n_simulations=self.n_simulations,
            entropy=_entropy_text(self.root),
        )

    def scenario(self) -> Scenario:
        """The scenario with its uncertain parameters following this posterior jointly.

        The result carries a ``posterior`` table: each run draws one particle
        (with probability its weight) and every calibrated parameter takes
        that particle's value.  Simulating it gives the posterior predictive
        of a fresh negotiation with these parameters *from month 1*; it does
        not condition the paths on the observed past (see :meth:`forecast`).
        It saves to TOML and reads back equal.
        """
        import dataclasses

        return dataclasses.replace(self.prior, posterior=self.scenario_posterior())

    def forecast(self, n_runs: int | None = None, *, rng: RNGLike = None) -> SimulationResult:
        """The posterior predictive: runs whose past matches the observations.

        With ``method="rejection"`` and ``n_runs=None`` (the default for
        rejection), the result is the accepted runs themselves, played to the
        scenario's horizon: exactly the prior runs whose first months met
        every observation, so their futures are draws from the forecast
        conditioned on the observed past (parameters and paths).

        Otherwise (``n_runs`` given; default 10,000 for importance and smc),
        each of ``n_runs`` draws picks a particle by weight, then simulates
        fresh recognition and noise draws for it until one path meets every
        observation, and plays that path to the horizon.  That samples the
        parameters from the posterior and, given them, the path from its
        distribution conditioned on the observations.

        ``rng`` defaults to a stream of the calibration's own seed that no
        method uses, so a seeded calibration forecasts the same runs each
        time.  The result's ``scenario`` is the prior scenario; its runs'
        sampled values are the particles' values.  Its provenance records the
        seed of this forecast, but the runs are not those of ``simulate`` with
        that seed, so do not use it to regenerate them.
        """
        from basesim.experiments.tasks import provenance_of
        from basesim.outcomes import Tally
        from basesim.results import SimulationResult

        compiled = compile_scenario(self.prior)
        if n_runs is None and self.method == "rejection" and self.accepted_runs is not None:
            outcome = self._replay_accepted(compiled)
            root = self.root
        else:
            size = _count("n_runs", 10_000 if n_runs is None else n_runs, 1)
            # By default a stream of the calibration's own seed that no method uses.
            root = _child(self.root, 4) if rng is None else as_seed_sequence(rng)
            outcome = self._fresh_paths(compiled, size, root)
        tally = Tally.empty(self.prior)
        tally.add(outcome)
        return SimulationResult(
            scenario=self.prior,
            n_runs=outcome.n_runs,
            tally=tally,
            runs=outcome,
            provenance=provenance_of(root),
        )

    def _replay_accepted(self, compiled: CompiledScenario) -> BatchOutcome:
        assert self.accepted_runs is not None
        runs = self.accepted_runs
        parts = []
        for start in range(0, int(runs[-1]) + 1, _CHUNK):
            stop = start + _CHUNK
            rows = runs[(runs >= start) & (runs < stop)] - start
            if rows.size:
                inputs = draw_inputs(compiled, self.root, start, stop).take(rows)
                parts.append(run_batch(compiled, inputs))
        return BatchOutcome.concatenate(parts)

    def _fresh_paths(
        self, compiled: CompiledScenario, size: int, root: np.random.SeedSequence
    ) -> BatchOutcome:
        gen = as_generator(_child(root, 0))
        draws = gen.choice(self.n_particles, size=size, p=self.weights)
        pending = np.arange(size)
        found: list[tuple[NDArray[np.int64], BatchOutcome]] = []
        for attempt in range(_MAX_FORECAST_ROUNDS):
            if pending.size == 0:
                break
            inputs = draw_inputs(compiled, _child(root, 1, attempt), 0, pending.size)
            inputs = _with_quantiles(inputs, self.quantiles[draws[pending]])
            met = observe(compiled, inputs, self.observations).met.all(axis=1)
            if met.any():
                ok = np.flatnonzero(met)
                found.append((pending[ok], run_batch(compiled, inputs.take(ok))))
                pending = pending[~met]
        if pending.size:
            raise CalibrationError(
                f"forecast: {pending.size} of {size} draws found no path meeting the "
                f"observations in {_MAX_FORECAST_ROUNDS} tries (their particles make the "
                "observations very unlikely); calibrate with more particles"
            )
        order = np.argsort(np.concatenate([p for p, _ in found]), kind="stable")
        return BatchOutcome.concatenate([o for _, o in found]).take(order)


def calibrate(
    scenario: Scenario,
    observations: Sequence[Observation] | Observation | str | Path,
    *,
    method: str = "rejection",
    n: int | None = None,
    rng: RNGLike = None,
    model: str | None = None,
    replicates: int = 10,
    alpha: float = 0.5,
    max_simulations: int | None = None,
) -> Posterior:
    """Condition the scenario's uncertain parameters on observations.

    Parameters
    ----------
    scenario
        The scenario; its uncertain parameters' distributions are the prior.
    observations
        :class:`~basesim.observations.Observation` objects, or the path of a
        TOML file of ``[[observations]]`` tables.
    method
        ``"rejection"`` (default), ``"importance"`` or ``"smc"`` (see the
        module documentation).
    n
        Rejection: prior runs (default 10,000).  Importance: prior particles
        (default 1,000).  Smc: particles per generation (default 1,000).
    rng
        Seed (SPEC 7).  The same seed gives the same posterior, bit for bit.
    model
        The registered model to run, overriding the scenario's own.
    replicates
        Importance: runs per particle.
    alpha
        Smc: each tolerance is this quantile of the previous generation's
        summed distances.
    max_simulations
        Smc: the most runs to simulate in all (default ``200 * n``).

    Returns
    -------
    Posterior

    Raises
    ------
    CalibrationError
        When no run meets every observation (the message gives the closest
        summed distance reached), when the scenario has no uncertain
        parameter, or for bad arguments.

    Examples
    --------
    >>> import basesim
    >>> from basesim.observations import Observation
    >>> scn = basesim.load_scenario("syria-2025")
    >>> obs = [Observation(by=24, issue="basing", state="unsettled")]
    >>> post = basesim.calibrate(scn, obs, n=2_000, rng=1)
    >>> 0 < post.acceptance_rate <= 1
    True
    """
    from basesim.protocols.registry import with_model

    if not isinstance(scenario, Scenario):
        raise CalibrationError(
            f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
        )
    if method not in CALIBRATION_METHODS:
        raise CalibrationError(
            f"method must be one of {', '.join(CALIBRATION_METHODS)} (got {method!r})"
        )
    scenario = with_model(scenario, model)
    obs = _observations(observations)
    root = as_seed_sequence(rng)
    compiled = compile_scenario(scenario)
    if scenario.posterior is not None:
        raise CalibrationError(
            "scenario already has a posterior: calibrate the prior scenario "
            f"(got a posterior from method {scenario.posterior.method!r})"
        )
    if compiled.n_uncertain == 0:
        raise CalibrationError(
            f"scenario {scenario.name!r} has no uncertain parameter to calibrate "
            "(give some parameters a distribution)"
        )
    # Check the observations against the scenario before simulating anything.
    observe(compiled, draw_inputs(compiled, root, 0, 0), obs)
    if method == "rejection":
        size = _count("n", 10_000 if n is None else n, 1)
        return _rejection(scenario, compiled, obs, size, root)
    if method == "importance":
        size = _count("n", 1_000 if n is None else n, 1)
        reps = _count("replicates", replicates, 1)
        return _importance(scenario, compiled, obs, size, reps, root)
    size = _count("n", 1_000 if n is None else n, 2)
    cap = _count("max_simulations", 200 * size if max_simulations is None else max_simulations, 1)
    return _smc(scenario, compiled, obs, size, _fraction("alpha", alpha), cap, root)


def _no_run_met(obs: tuple[Observation, ...], n_sim: int, closest: float) -> CalibrationError:
    listed = "; ".join(_describe(o) for o in obs)
    return CalibrationError(
        f"observations: no run met every observation ({listed}) in {n_sim} simulated runs; "
        f"the closest summed distance reached was {closest:.4g} (0 would meet them all): "
        "widen the prior, check the observations, or simulate more runs"
    )


def _rejection(
    scenario: Scenario,
    compiled: CompiledScenario,
    obs: tuple[Observation, ...],
    n: int,
    root: np.random.SeedSequence,
) -> Posterior:
    kept: list[FloatArray] = []
    runs: list[NDArray[np.int64]] = []
    closest = math.inf
    for start in range(0, n, _CHUNK):
        inputs = draw_inputs(compiled, root, start, min(start + _CHUNK, n))
        seen = observe(compiled, inputs, obs)
        met = seen.met.all(axis=1)
        closest = min(closest, float(seen.distance.sum(axis=1).min()))
        kept.append(inputs.quantiles[met])
        runs.append(start + np.flatnonzero(met).astype(np.int64))
    accepted = np.concatenate(runs)
    if accepted.size == 0:
        raise _no_run_met(obs, n, closest)
    quantiles = np.concatenate(kept)
    m = accepted.size
    return Posterior(
        prior=scenario,
        observations=obs,
        method="rejection",
        paths=compiled.uncertain_paths,
        quantiles=quantiles,
        values=sampled_values(compiled, quantiles),
        weights=np.full(m, 1.0 / m),
        ess=float(m),
        acceptance_rate=m / n,
        n_simulations=n,
        tolerances=(0.0,),
        generations=(
            {"tolerance": 0.0, "simulations": float(n), "acceptance_rate": m / n, "ess": float(m)},
        ),
        root=root,
        accepted_runs=accepted,
    )


def _importance(
    scenario: Scenario,
    compiled: CompiledScenario,
    obs: tuple[Observation, ...],
    n: int,
    replicates: int,
    root: np.random.SeedSequence,
) -> Posterior:
    theta_root = _child(root, 0)
    quantiles: list[FloatArray] = []
    shares: list[FloatArray] = []
    closest = math.inf
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        theta = draw_inputs(compiled, theta_root, start, stop).quantiles
        hits = np.zeros(stop - start)
        for r in range(replicates):
            paths = draw_inputs(compiled, _child(root, 1, r), start, stop)
            seen = observe(compiled, _with_quantiles(paths, theta), obs)
            hits += seen.met.all(axis=1)
            closest = min(closest, float(seen.distance.sum(axis=1).min()))
        quantiles.append(theta)
        shares.append(hits / replicates)
    q = np.concatenate(quantiles)
    w = np.concatenate(shares)
    n_sim = n * replicates
    if not w.any():
        raise _no_run_met(obs, n_sim, closest)
    rate = float(w.mean())
    keep = w > 0
    q, w = q[keep], w[keep] / w[keep].sum()
    ess = _ess(w)
    return Posterior(
        prior=scenario,
        observations=obs,
        method="importance",
        paths=compiled.uncertain_paths,
        quantiles=q,
        values=sampled_values(compiled, q),
        weights=w,
        ess=ess,
        acceptance_rate=rate,
        n_simulations=n_sim,
        tolerances=(0.0,),
        generations=(
            {"tolerance": 0.0, "simulations": float(n_sim), "acceptance_rate": rate, "ess": ess},
        ),
        root=root,
    )


def _probit(u: FloatArray) -> FloatArray:
    return np.asarray(special.ndtri(np.clip(u, _EDGE, 1 - _EDGE)), dtype=np.float64)


def _kernel_weights(
    z_new: FloatArray, z_old: FloatArray, w_old: FloatArray, chol: FloatArray
) -> FloatArray:
    """Normalised weights prior(z) / sum_j w_j K(z | z_j), Gaussian kernel of Cholesky factor ``chol``."""
    from scipy.linalg import solve_triangular

    y_new = solve_triangular(chol, z_new.T, lower=True).T
    y_old = solve_triangular(chol, z_old.T, lower=True).T
    log_w_old = np.log(w_old)
    log_mix = np.empty(z_new.shape[0])
    for start in range(0, z_new.shape[0], 512):
        block = y_new[start : start + 512]
        sq = (block * block).sum(1)[:, None] - 2 * block @ y_old.T + (y_old * y_old).sum(1)[None]
        log_mix[start : start + 512] = special.logsumexp(log_w_old[None] - 0.5 * sq, axis=1)
    log_prior = -0.5 * (z_new * z_new).sum(axis=1)
    log_w = log_prior - log_mix
    w = np.exp(log_w - log_w.max())
    return np.asarray(w / w.sum(), dtype=np.float64)


def _smc(
    scenario: Scenario,
    compiled: CompiledScenario,
    obs: tuple[Observation, ...],
    n: int,
    alpha: float,
    cap: int,
    root: np.random.SeedSequence,
) -> Posterior:
    p = compiled.n_uncertain
    # Generation 0: the prior.
    inputs = draw_inputs(compiled, _child(root, 2, 0), 0, n)
    seen = observe(compiled, inputs, obs)
    u = inputs.quantiles
    z = _probit(u)
    d = seen.distance.sum(axis=1)
    met_now = np.asarray(seen.met.all(axis=1), dtype=np.bool_)
    met_share = float(met_now.mean())
    w = np.full(n, 1.0 / n)
    n_sim = n
    eps = math.inf
    tolerances = [eps]
    history = [
        {"tolerance": eps, "simulations": float(n), "acceptance_rate": 1.0, "ess": float(n)}
    ]
    closest = float(d.min())
    gen_index = 0
    while eps > 0:
        gen_index += 1
        proposal = float(np.quantile(d, alpha))
        if proposal >= eps:
            below = d[d < eps]
            proposal = float(below.max()) if below.size else 0.0
        eps = max(proposal, 0.0) if met_share < alpha else 0.0
        share = float(np.sum(w * met_now))
        kept = _ess(np.where(met_now, w, 0.0)) if met_now.any() else 0.0
        if share >= alpha or kept >= n / 4:
            # Enough of this population meets every observation already: reweight
            # it by that (importance sampling at tolerance 0, exact for these
            # particles) instead of moving it, which in many dimensions makes the
            # kernel weights degenerate.
            u, w = u[met_now], w[met_now]
            w = w / w.sum()
            tolerances.append(0.0)
            history.append(
                {
                    "tolerance": 0.0,
                    "simulations": 0.0,
                    "acceptance_rate": float(met_now.mean()),
                    "ess": _ess(w),
                }
            )
            break
        mean = np.sum(w[:, None] * z, axis=0)
        centred = z - mean
        cov = 2.0 * (w[:, None] * centred).T @ centred
        cov += np.eye(p) * 1e-10
        chol = np.linalg.cholesky(cov)
        gen = as_generator(_child(root, 3, gen_index))
        seeds = _child(root, 2, gen_index)
        z_acc: list[FloatArray] = []
        u_acc: list[FloatArray] = []
        d_acc: list[FloatArray] = []
        met_acc: list[NDArray[np.bool_]] = []
        count, sims = 0, 0
        while count < n:
            if n_sim >= cap:
                raise CalibrationError(
                    f"max_simulations: smc used its {cap} simulations before reaching "
                    f"tolerance 0 (stuck at tolerance {eps:.4g}, accepting {count} of {n} "
                    f"particles; closest summed distance {closest:.4g}); raise "
                    "max_simulations or use method='rejection'"
                    if closest > 0
                    else f"max_simulations: smc used its {cap} simulations before filling "
                    f"generation {gen_index} at tolerance {eps:.4g} ({count} of {n} particles); "
                    "raise max_simulations"
                )
            pick = gen.choice(n, size=n, p=w)
            z_try = z[pick] + gen.standard_normal((n, p)) @ chol.T
            u_try = np.asarray(special.ndtr(z_try), dtype=np.float64)
            batch = _with_quantiles(draw_inputs(compiled, seeds, sims, sims + n), u_try)
            seen = observe(compiled, batch, obs)
            d_try = seen.distance.sum(axis=1)
            met_try = np.asarray(seen.met.all(axis=1), dtype=np.bool_)
            closest = min(closest, float(d_try.min()))
            ok = met_try if eps == 0 else d_try <= eps
            z_acc.append(z_try[ok])
            u_acc.append(u_try[ok])
            d_acc.append(d_try[ok])
            met_acc.append(met_try[ok])
            count += int(ok.sum())
            sims += n
            n_sim += n
        if closest > 0 and eps == 0 and count == 0:  # pragma: no cover - guarded by the cap
            raise _no_run_met(obs, n_sim, closest)
        z_new = np.concatenate(z_acc)[:n]
        u = np.concatenate(u_acc)[:n]
        d = np.concatenate(d_acc)[:n]
        met_now = np.concatenate(met_acc)[:n]
        met_share = float(met_now.mean())
        w = _kernel_weights(z_new, z, w, chol)
        z = z_new
        tolerances.append(eps)
        history.append(
            {
                "tolerance": eps,
                "simulations": float(sims),
                "acceptance_rate": count / sims,
                "ess": _ess(w),
            }
        )
    if closest > 0 and not met_share:  # pragma: no cover - eps 0 accepts only met runs
        raise _no_run_met(obs, n_sim, closest)
    u = np.clip(u, 0.0, np.nextafter(1.0, 0.0))
    if _ess(w) < n / 20:
        warnings.warn(
            f"calibrate: the smc posterior's effective sample size is {_ess(w):.1f} of {n} "
            "particles (the perturbation kernel's weights collapsed, as they do with many "
            "uncertain parameters); its summaries are unreliable: use method='rejection' "
            "with more runs, or calibrate fewer parameters",
            RuntimeWarning,
            stacklevel=3,
        )
    return Posterior(
        prior=scenario,
        observations=obs,
        method="smc",
        paths=compiled.uncertain_paths,
        quantiles=u,
        values=sampled_values(compiled, u),
        weights=w,
        ess=_ess(w),
        acceptance_rate=history[-1]["acceptance_rate"],
        n_simulations=n_sim,
        tolerances=tuple(tolerances),
        generations=tuple(history),
        root=root,
    )
