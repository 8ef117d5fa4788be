"""Backtests: how well models predict observed decisions, against simple baselines.

:func:`backtest` runs every model on every :class:`~basesim.data.Case`
(:func:`basesim.data.read_deu` makes them from a DEU file), takes the mean
and the median of each case's simulated outcomes as point predictions,
and scores them against the observed outcomes beside three predictors
computed directly from the data: the salience-weighted mean of positions,
the capability x salience weighted mean, and the median of positions.

Scores (:meth:`BacktestResult.to_frame`): mean absolute error (MAE), root
mean squared error, median absolute error, Pearson's correlation with the
outcome, the share of cases a predictor is strictly closer to the outcome
than the weighted mean, and, for the models, the continuous ranked
probability score of the whole outcome distribution,

    CRPS(F, y) = E|X - y| - E|X - X'| / 2,

with X, X' independent draws from F (Gneiting and Raftery 2007), computed
exactly on the simulated runs (for a model that gives one value it is the
absolute error).  Intervals come from a bootstrap that resamples proposals,
not issues: the issues of one proposal are decided together and their errors
are not independent (a cluster bootstrap; Cameron, Gelbach and Miller 2008).

Nothing here is fitted to the outcomes.  Whatever is (an ensemble's weights,
a calibrated parameter) must be fitted inside cross-validation by proposal
(:func:`kfold_by_proposal`) and scored on the held-out folds only.

References
----------
.. [1] Gneiting, T. and Raftery, A. E. (2007). Strictly proper scoring
   rules, prediction, and estimation. *Journal of the American Statistical
   Association* 102(477), 359-378.
.. [2] Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2008).
   Bootstrap-based improvements for inference with clustered errors.
   *Review of Economics and Statistics* 90(3), 414-427.
.. [3] Thomson, R., Stokman, F. N., Achen, C. H. and König, T. (eds.) (2006).
   *The European Union Decides*. Cambridge University Press.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from basesim._checks import check_confidence_level
from basesim._random import RNGLike, as_seed_sequence
from basesim.data.cases import Case
from basesim.exceptions import BasesimError, ResultError, SimulationError

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = [
    "BASELINES",
    "BacktestResult",
    "EnsembleFit",
    "backtest",
    "baseline_predictions",
    "cross_validate_ensemble",
    "crps_sample",
    "fit_mixture_weights",
    "kfold_by_proposal",
    "score_case",
]

FloatArray = NDArray[np.float64]

#: The predictors computed directly from a case's data, in table order.
BASELINES = ("weighted_mean", "capability_weighted_mean", "median_of_positions")
#: The point predictions taken from a model's simulated outcomes.
STATISTICS = ("mean", "median")
#: The predictor the ``beats_weighted_mean`` column compares with.
REFERENCE = "weighted_mean"
#: The columns a case's breakdowns may use.
BREAKDOWNS = ("voting_rule", "procedure", "status_quo_source")


def crps_sample(samples: Any, observed: float) -> float:
    """The CRPS of the empirical distribution of ``samples`` at ``observed``.

    ``mean |x_i - y| - mean_{i,j} |x_i - x_j| / 2``, exactly (the pair sum
    by sorting, in ``O(n log n)``).

    Examples
    --------
    Two equally likely values 0 and 1, observed 0: ``E|X - y| = 1/2``, and
    ``E|X - X'| = 1/2`` (two of the four pairs differ by 1), so the score
    is ``1/2 - 1/4``.

    >>> crps_sample([0.0, 1.0], 0.0)
    0.25
    """
    x = np.sort(np.asarray(samples, dtype=float).ravel())
    n = x.size
    if n == 0:
        raise SimulationError("crps_sample needs at least one sample (got none)")
    spread = 2.0 * float(np.dot(2.0 * np.arange(1, n + 1) - n - 1, x)) / (n * n)
    return float(np.mean(np.abs(x - observed)) - spread / 2.0)


def baseline_predictions(case: Case) -> dict[str, float]:
    """The baselines' predictions for a case, on the scenario's [0, 1] scale.

    With ``x_i``, ``s_i`` and ``c_i`` each actor's nominal position,
    salience and capability on the scored issue:

    * ``weighted_mean``: ``sum s_i x_i / sum s_i``;
    * ``capability_weighted_mean``: ``sum c_i s_i x_i / sum c_i s_i``;
    * ``median_of_positions``: the median of the ``x_i`` (every actor
      counts, whatever its salience).

    A weighted mean whose weights are all 0 falls back to the plain mean.

    Examples
    --------
    >>> import pandas as pd
    >>> from basesim.data import Case, scenario_from_frame
    >>> scn = scenario_from_frame(pd.DataFrame({
    ...     "actor": ["a", "b", "c"], "capability": [1.0, 1.0, 2.0],
    ...     "position": [0.0, 0.5, 1.0], "salience": [1.0, 0.5, 0.5]}), status_quo=0.0)
    >>> preds = baseline_predictions(Case(scenario=scn, outcome=0.5, proposal="p", issue_id="i"))
    >>> {k: round(v, 4) for k, v in preds.items()}
    {'weighted_mean': 0.375, 'capability_weighted_mean': 0.5, 'median_of_positions': 0.5}
    """
    k = case.issue_name
    actors = case.scenario.actors
    x = np.array([a.stances[k].position.value for a in actors], dtype=float)
    s = np.array([a.stances[k].salience.value for a in actors], dtype=float)
    c = np.array([a.capability.value for a in actors], dtype=float)

    def weighted(w: FloatArray) -> float:
        total = float(w.sum())
        return float((w * x).sum() / total) if total > 0 else float(x.mean())

    return {
        "weighted_mean": weighted(s),
        "capability_weighted_mean": weighted(c * s),
        "median_of_positions": float(np.median(x)),
    }


def kfold_by_proposal(
    proposals: Sequence[str], *, k: int = 5, rng: RNGLike = None
) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """``k`` folds of cases that keep each proposal's issues together.

    The distinct proposals are shuffled by ``rng`` and dealt to the folds in
    turn, so fold sizes in proposals differ by at most one.  Fit anything
    that learns from outcomes (an ensemble's weights) on each fold's
    training cases and score it on its test cases only.

    Parameters
    ----------
    proposals
        Each case's proposal (``[case.proposal for case in cases]``).
    k
        Number of folds, at least 2 and at most the number of proposals.
    rng
        Seed of the shuffle (SPEC 7).

    Returns
    -------
    list of (train, test)
        Index arrays into ``proposals``; the tests partition the cases.

    Examples
    --------
    >>> folds = kfold_by_proposal(["a", "a", "b", "c", "c", "d"], k=2, rng=0)
    >>> sorted(len(test) for _, test in folds)
    [3, 3]
    >>> all(len(set(train) & set(test)) == 0 for train, test in folds)
    True
    """
    labels = [str(p) for p in proposals]
    distinct = sorted(set(labels))
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 2 <= k <= len(distinct):
        raise SimulationError(
            f"k must be a whole number from 2 to the number of proposals "
            f"({len(distinct)}) (got {k!r})"
        )
    order = np.random.default_rng(as_seed_sequence(rng)).permutation(len(distinct))
    fold_of = {distinct[j]: i % int(k) for i, j in enumerate(order)}
    folds = np.array([fold_of[p] for p in labels])
    return [
        (np.flatnonzero(folds != f).astype(np.intp), np.flatnonzero(folds == f).astype(np.intp))
        for f in range(int(k))
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestResult:
    """Predictions of models and baselines for observed cases, and their scores.

    Attributes
    ----------
    predictors
        ``(model, statistic)`` of each row of :attr:`predictions`: each model
        with ``"mean"`` and ``"median"``, then each baseline with ``"point"``.
    proposal, issue_id, voting_rule, procedure, status_quo_source, date
        Per case, from the :class:`~basesim.data.Case`.
    observed
        ``(cases,)`` the observed outcomes, in the data's units.
    predictions
        ``(predictors, cases)`` point predictions in the data's units; NaN
        where a model could not run the case (see :attr:`failures`).
    crps
        ``(predictors, cases)`` the CRPS of the model's outcome distribution
        (the same for a model's mean and median rows); NaN for baselines.
    failures
        ``(model, issue_id, message)`` of each case a model refused.
    n_runs
        Simulated runs per case and model.
    n_boot
        Bootstrap resamples of proposals behind the intervals.
    confidence_level
        Level of the intervals.
    entropy, spawn_key
        The root seed: case ``i`` ran on its child ``i``, the bootstrap on
        the child after the last case.
    basesim_version
        The version that computed the result.
    """

    predictors: tuple[tuple[str, str], ...]
    proposal: tuple[str, ...]
    issue_id: tuple[str, ...]
    voting_rule: tuple[str, ...]
    procedure: tuple[str, ...]
    status_quo_source: tuple[str, ...]
    date: tuple[dt.date | None, ...]
    observed: FloatArray
    predictions: FloatArray
    crps: FloatArray
    failures: tuple[tuple[str, str, str], ...]
    n_runs: int
    n_boot: int
    confidence_level: float
    entropy: int | tuple[int, ...]
    spawn_key: tuple[int, ...]
    basesim_version: str

    @property
    def n_cases(self) -> int:
        """Number of cases."""
        return len(self.proposal)

    @property
    def models(self) -> tuple[str, ...]:
        """The models run (without the baselines), in order."""
        return tuple(dict.fromkeys(m for m, s in self.predictors if s != "point"))

    def _bootstrap_seed(self) -> np.random.SeedSequence:
        entropy = self.entropy if isinstance(self.entropy, int) else list(self.entropy)
        return np.random.SeedSequence(entropy, spawn_key=(*self.spawn_key, self.n_cases))

    def predictions_frame(self) -> pd.DataFrame:
        """One row per case and predictor: the tidy table behind every score.

        Columns ``model``, ``statistic``, ``proposal``, ``issue_id``,
        ``voting_rule``, ``procedure``, ``status_quo_source``, ``date``,
        ``observed``, ``prediction``, ``error`` (prediction minus observed),
        ``crps``.
        """
        import pandas as pd

        frames = []
        for p, (model, statistic) in enumerate(self.predictors):
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "statistic": statistic,
                        "proposal": self.proposal,
                        "issue_id": self.issue_id,
                        "voting_rule": self.voting_rule,
                        "procedure": self.procedure,
                        "status_quo_source": self.status_quo_source,
                        "date": self.date,
                        "observed": self.observed,
                        "prediction": self.predictions[p],
                        "error": self.predictions[p] - self.observed,
                        "crps": self.crps[p],
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)

    def _level(self, confidence_level: float | None) -> float:
        level = self.confidence_level if confidence_level is None else confidence_level
        return check_confidence_level(level)

    def _scores(self, rows: NDArray[np.intp], level: float) -> list[dict[str, Any]]:
        """The score rows of every predictor over the cases ``rows``."""
        observed = self.observed[rows]
        groups, cluster = np.unique(np.asarray(self.proposal)[rows], return_inverse=True)
        n_groups = len(groups)
        gen = np.random.default_rng(self._bootstrap_seed())
        draw = gen.integers(0, n_groups, size=(self.n_boot, n_groups))
        # counts[b, g]: how often resample b drew proposal g.
        counts = np.zeros((self.n_boot, n_groups))
        np.add.at(counts, (np.repeat(np.arange(self.n_boot), n_groups), draw.ravel()), 1.0)
        tail = (1 - level) / 2
        ref_index = self.predictors.index((REFERENCE, "point"))
        ref_error = np.abs(self.predictions[ref_index, rows] - observed)
        out = []
        for p, (model, statistic) in enumerate(self.predictors):
            pred = self.predictions[p, rows]
            ok = ~np.isnan(pred)
            error = np.abs(pred - observed)
            row: dict[str, Any] = {"model": model, "statistic": statistic, "n": int(ok.sum())}
            if not ok.any():
                out.append(row)
                continue
            e, o, q = error[ok], observed[ok], pred[ok]
            row["mae"] = float(e.mean())
            row["rmse"] = float(np.sqrt(np.mean(e * e)))
            row["median_ae"] = float(np.median(e))
            row["r"] = (
                float(np.corrcoef(q, o)[0, 1]) if q.std() > 0 and o.std() > 0 else float("nan")
            )
            row["beats_weighted_mean"] = (
                float(np.mean(e < ref_error[ok] - 1e-9)) if p != ref_index else float("nan")
            )
            crps = self.crps[p, rows][ok]
            row["crps"] = float(crps.mean()) if not np.isnan(crps).any() else float("nan")
            # Cluster bootstrap: per-proposal sums, resampled proposals.
            weight = counts @ np.bincount(cluster[ok], minlength=n_groups).astype(float)
            sums = np.bincount(cluster[ok], weights=e, minlength=n_groups)
            gap = np.bincount(cluster[ok], weights=e - ref_error[ok], minlength=n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                mae_b = (counts @ sums) / weight
                gap_b = (counts @ gap) / weight
            mae_b, gap_b = mae_b[weight > 0], gap_b[weight > 0]
            row["mae_low"], row["mae_high"] = (
                float(v) for v in np.quantile(mae_b, [tail, 1 - tail])
            )
            row["mae_vs_weighted_mean"] = float(np.mean(e - ref_error[ok]))
            row["diff_low"], row["diff_high"] = (
                float(v) for v in np.quantile(gap_b, [tail, 1 - tail])
            )
            out.append(row)
        return out

    _COLUMNS = (
        "model",
        "statistic",
        "n",
        "mae",
        "mae_low",
        "mae_high",
        "rmse",
        "median_ae",
        "r",
        "beats_weighted_mean",
        "mae_vs_weighted_mean",
        "diff_low",
        "diff_high",
        "crps",
    )

    def to_frame(self, confidence_level: float | None = None) -> pd.DataFrame:
        """The scores: one row per model and point prediction, then the baselines.

        Columns: ``model``; ``statistic`` (``"mean"`` or ``"median"`` of the
        model's simulated outcomes, ``"point"`` for a baseline); ``n`` (cases
        scored); ``mae`` with its bootstrap interval ``mae_low``,
        ``mae_high``; ``rmse``; ``median_ae``; ``r`` (Pearson's correlation
        of prediction and outcome); ``beats_weighted_mean`` (the share of
        cases in which the predictor is strictly closer to the outcome than
        the salience-weighted mean); ``mae_vs_weighted_mean`` (its MAE minus
        the weighted mean's on the same cases; negative is better) with the
        interval ``diff_low``, ``diff_high``; ``crps`` (mean CRPS of the
        outcome distribution; NaN for baselines).  Errors are in the data's
        units.  Intervals: percentiles of ``n_boot`` resamples of proposals.
        """
        import pandas as pd

        level = self._level(confidence_level)
        rows = self._scores(np.arange(self.n_cases, dtype=np.intp), level)
        return pd.DataFrame(rows, columns=list(self._COLUMNS))

    def breakdown(
        self, by: str = "voting_rule", confidence_level: float | None = None
    ) -> pd.DataFrame:
        """The scores of :meth:`to_frame` within each group of cases.

        Parameters
        ----------
        by
            ``"voting_rule"``, ``"procedure"`` or ``"status_quo_source"``.

        Returns
        -------
        pandas.DataFrame
            A first column named ``by`` with the group, then the columns of
            :meth:`to_frame`; groups in sorted order.
        """
        import pandas as pd

        if by not in BREAKDOWNS:
            raise ResultError(f"by must be one of {', '.join(BREAKDOWNS)} (got {by!r})")
        level = self._level(confidence_level)
        labels = np.asarray(getattr(self, by), dtype=object)
        frames = []
        for group in sorted(set(labels.tolist())):
            rows = np.flatnonzero(labels == group).astype(np.intp)
            frame = pd.DataFrame(self._scores(rows, level), columns=list(self._COLUMNS))
            frame.insert(0, by, group)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def plot(self, *, ax: Axes | None = None, statistic: str = "mean") -> Axes:
        """Each predictor's mean absolute error with its interval (see :func:`basesim.plotting.plot_backtest`)."""
        from basesim.plotting import plot_backtest

        return plot_backtest(self, ax=ax, statistic=statistic)

    def __repr__(self) -> str:
        n_props = len(set(self.proposal))
        head = (
            f"BacktestResult: {self.n_cases} cases of {n_props} proposals, "
            f"models {', '.join(self.models) or '(none)'}, {self.n_runs} runs per case"
        )
        if self.failures:
            head += f", {len(self.failures)} refused (model, case) pairs"
        frame = self.to_frame()
        cols = ["model", "statistic", "n", "mae", "mae_low", "mae_high", "rmse", "r",
                "beats_weighted_mean", "crps"]  # fmt: skip
        return f"{head}\n{frame[cols].to_string(index=False, float_format=lambda v: f'{v:.2f}')}"

    def _repr_html_(self) -> str:
        n_props = len(set(self.proposal))
        title = html.escape(f"Backtest: {self.n_cases} cases of {n_props} proposals")
        table: str = self.to_frame().to_html(index=False, float_format="{:.2f}".format)
        return f"<p>{title}</p>{table}"


def _check_cases(cases: Any) -> tuple[Case, ...]:
    if isinstance(cases, Case):
        cases = [cases]
    try:
        items = tuple(cases)
    except TypeError:
        raise SimulationError(
            f"cases must be a sequence of basesim.data.Case (got {type(cases).__name__})"
        ) from None
    if not items:
        raise SimulationError("cases must hold at least one case (got none)")
    for i, case in enumerate(items):
        if not isinstance(case, Case):
            raise SimulationError(
                f"cases[{i}] must be a basesim.data.Case (got {type(case).__name__})"
            )
    return items


def _check_models(models: Sequence[str] | str | None) -> tuple[str, ...]:
    from basesim.protocols.registry import get, names

    if models is None:
        return names()
    chosen = (models,) if isinstance(models, str) else tuple(models)
    if not chosen:
        raise SimulationError("models must name at least one model (got none)")
    for m in chosen:
        get(m)  # an unknown name raises ProtocolError
    if len(set(chosen)) != len(chosen):
        raise SimulationError(f"models lists a model twice (got {list(chosen)})")
    return chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class _CaseTask:
    """One case to score with every model, in a form executors can ship."""

    case: Case
    models: tuple[str, ...]
    n_runs: int
    entropy: Any
    spawn_key: tuple[int, ...]
    pool_size: int


def score_case(task: _CaseTask) -> tuple[FloatArray, FloatArray, list[tuple[str, str, str]]]:
    """Predictions and CRPS of every predictor for one case, and the models that refused it.

    Rows as in :attr:`BacktestResult.predictors`: each model's mean and
    median, then the baselines.  Module-level so that executors can send it
    to other processes.
    """
    from basesim.experiments.simulate import simulate

    case, models = task.case, task.models
    observed = case.outcome * case.scale
    predictions = np.full(2 * len(models) + len(BASELINES), np.nan)
    crps = np.full_like(predictions, np.nan)
    failures: list[tuple[str, str, str]] = []
    for m, model in enumerate(models):
        scenario = case.scenario
        seed = np.random.SeedSequence(
            task.entropy, spawn_key=task.spawn_key, pool_size=task.pool_size
        )
        try:
            if scenario.protocol.model != model:
                scenario = scenario.replace({"protocol.model": model})
            result = simulate(
                scenario, n_runs=task.n_runs, keep_runs=task.n_runs, progress=False, rng=seed
            )
        except BasesimError as exc:
            failures.append((model, case.issue_id, str(exc)))
            continue
        assert result.runs is not None
        values = result.runs.package[:, case.issue_index] * case.scale
        predictions[2 * m] = float(values.mean())
        predictions[2 * m + 1] = float(np.median(values))
        crps[2 * m] = crps[2 * m + 1] = crps_sample(values, observed)
    base = baseline_predictions(case)
    for b, name in enumerate(BASELINES):
        predictions[2 * len(models) + b] = base[name] * case.scale
    return predictions, crps, failures


def backtest(
    cases: Sequence[Case],
    *,
    models: Sequence[str] | None = None,
    n_runs: int = 200,
    n_boot: int = 2_000,
    confidence_level: float = 0.95,
    executor: Executor | None = None,
    progress: bool | None = None,
    rng: RNGLike = None,
) -> BacktestResult:
    """Score models' predictions of observed decisions, beside simple baselines.

    Each model runs each case's scenario with the scenario's
    ``[protocol] model`` replaced by it (:meth:`basesim.Scenario.replace`);
    :func:`basesim.simulate` gives ``n_runs`` outcomes, whose mean and median
    on the scored issue are the model's point predictions and whose spread
    gives the CRPS.  Baselines (:func:`baseline_predictions`) need no runs.

    Parameters
    ----------
    cases
        The observed cases (:func:`basesim.data.read_deu`).
    models
        Names of registered models (:func:`basesim.protocols.names`);
        ``None``: every registered model.
    n_runs
        Runs per case and model.
    n_boot
        Resamples of proposals for the intervals.
    confidence_level
        Level of the intervals.
    executor
        A :class:`concurrent.futures.Executor` to score cases on (one task per
        case, every model); serial if ``None``.  Results do not depend on it.
        Models of your own must be registered in a module the workers import
        (see :mod:`basesim.protocols.registry`).
    progress
        Show a progress bar over cases (default: only when stderr is a terminal).
    rng
        Seed (SPEC 7).  Case ``i`` runs on child ``i`` of the root
        :class:`numpy.random.SeedSequence` (every model on the same child:
        common random numbers); the bootstrap on the next child.

    Returns
    -------
    BacktestResult

    Raises
    ------
    ProtocolError
        A model name is not registered.
    SimulationError
        Bad ``cases``, ``n_runs``, ``n_boot`` or ``confidence_level``.

    Notes
    -----
    A model that refuses a case (a :class:`~basesim.BasesimError` from
    compiling or simulating it) is recorded in ``failures`` and its
    predictions for that case are NaN; its ``n`` in the table then counts
    fewer cases than the baselines'.
    """
    from basesim import __version__
    from basesim.experiments.executors import check_executor
    from basesim.experiments.tasks import check_int, progress_bar

    pool = check_executor(executor)
    items = _check_cases(cases)
    chosen = _check_models(models)
    runs = check_int("n_runs", n_runs, 1)
    boots = check_int("n_boot", n_boot, 1)
    level = check_confidence_level(confidence_level)
    root = as_seed_sequence(rng)
    fresh = np.random.SeedSequence(
        root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size
    )
    children = fresh.spawn(len(items))

    predictors = (
        *((m, s) for m in chosen for s in STATISTICS),
        *((b, "point") for b in BASELINES),
    )
    tasks = [
        _CaseTask(
            case=case,
            models=chosen,
            n_runs=runs,
            entropy=child.entropy,
            spawn_key=tuple(child.spawn_key),
            pool_size=child.pool_size,
        )
        for case, child in zip(items, children, strict=True)
    ]
    predictions = np.full((len(predictors), len(items)), np.nan)
    crps = np.full_like(predictions, np.nan)
    failures: list[tuple[str, str, str]] = []
    outcomes = map(score_case, tasks) if pool is None else pool.map(score_case, tasks)
    bar = progress_bar(len(items), progress, "backtest")
    try:
        for i, (pred, score, refused) in enumerate(outcomes):
            predictions[:, i], crps[:, i] = pred, score
            failures.extend(refused)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    for arr in (predictions, crps):
        arr.setflags(write=False)
    observed_all = np.array([c.outcome * c.scale for c in items])
    observed_all.setflags(write=False)
    entropy = root.entropy
    return BacktestResult(
        predictors=predictors,
        proposal=tuple(c.proposal for c in items),
        issue_id=tuple(c.issue_id for c in items),
        voting_rule=tuple(c.voting_rule for c in items),
        procedure=tuple(c.procedure for c in items),
        status_quo_source=tuple(c.status_quo_source for c in items),
        date=tuple(c.date for c in items),
        observed=observed_all,
        predictions=predictions,
        crps=crps,
        failures=tuple(failures),
        n_runs=runs,
        n_boot=boots,
        confidence_level=level,
        entropy=int(entropy) if isinstance(entropy, int) else tuple(int(e) for e in entropy or ()),
        spawn_key=tuple(int(k) for k in root.spawn_key),
        basesim_version=__version__,
    )


# -- an ensemble fitted out of sample ------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class EnsembleFit:
    """Mixture weights over models fitted to a backtest, and their out-of-sample score.

    Attributes
    ----------
    models
        The models mixed (each with its ``statistic`` point prediction).
    statistic
        ``"mean"`` or ``"median"``: which point prediction of each model is mixed.
    weights
        ``(M,)`` the weights fitted on every case: what to use from now on
        (:meth:`mixture`), never what to score.
    fold_weights
        ``(k, M)`` the weights fitted on each fold's training cases.
    folds
        Each fold's test cases (indices into the backtest's cases).
    backtest
        The backtest with one more predictor, ``("ensemble-cv", statistic)``:
        each case predicted by the weights of the fold that held it out, so
        its scores in :meth:`to_frame` are out of sample.
    """

    models: tuple[str, ...]
    statistic: str
    weights: FloatArray
    fold_weights: FloatArray
    folds: tuple[NDArray[np.intp], ...]
    backtest: BacktestResult

    def to_frame(self, confidence_level: float | None = None) -> pd.DataFrame:
        """The backtest's scores with the cross-validated ensemble's row."""
        return self.backtest.to_frame(confidence_level)

    def weights_frame(self) -> pd.DataFrame:
        """The weights: one row per model, the full fit and each fold's."""
        import pandas as pd

        frame = pd.DataFrame({"model": self.models, "weight": self.weights})
        for f, w in enumerate(self.fold_weights):
            frame[f"fold_{f}"] = w
        return frame

    def mixture(self, *, name: str = "ensemble-fitted") -> Any:
        """An ``ensemble`` protocol with the weights fitted on every case (register it to use it)."""
        from basesim.protocols.ensemble import mixture

        return mixture(dict(zip(self.models, self.weights.tolist(), strict=True)), name=name)

    def __repr__(self) -> str:
        weights = ", ".join(f"{m} {w:.2f}" for m, w in zip(self.models, self.weights, strict=True))
        row = self.to_frame().query("model == 'ensemble-cv'").iloc[0]
        return (
            f"EnsembleFit ({len(self.folds)}-fold cross-validation by proposal, "
            f"{self.statistic}s): weights {weights}; out-of-sample MAE {row['mae']:.2f} "
            f"[{row['mae_low']:.2f}, {row['mae_high']:.2f}], "
            f"{row['mae_vs_weighted_mean']:+.2f} against the weighted mean"
        )


def _is_mixture(model: str) -> bool:
    """Whether ``model`` is registered here as an ``ensemble`` (a fixed mixture)."""
    from basesim.protocols.ensemble import Ensemble
    from basesim.protocols.registry import get

    try:
        return isinstance(get(model), Ensemble)
    except BasesimError:
        return False


def fit_mixture_weights(predictions: FloatArray, observed: FloatArray) -> FloatArray:
    """Weights on the simplex minimising the mean absolute error of the mixed prediction.

    ``predictions`` is ``(M, n)``; the mixture's point prediction of case
    ``i`` is ``sum_m w_m predictions[m, i]`` (for means, the mean of the
    mixture of the models' outcome distributions).  Solved exactly as the
    linear programme ``min sum_i e_i`` subject to ``|P w - y| <= e``,
    ``sum w = 1``, ``w >= 0`` (HiGHS, deterministic).
    """
    from scipy.optimize import linprog

    n_models, n = predictions.shape
    # Variables: w (n_models), then e (n).
    cost = np.concatenate([np.zeros(n_models), np.ones(n)])
    eye = np.eye(n)
    upper = np.block([[predictions.T, -eye], [-predictions.T, -eye]])
    bound = np.concatenate([observed, -observed])
    equal = np.concatenate([np.ones(n_models), np.zeros(n)])[None, :]
    solution = linprog(
        cost, A_ub=upper, b_ub=bound, A_eq=equal, b_eq=[1.0], bounds=(0, None), method="highs"
    )
    if not solution.success:  # pragma: no cover - the programme is always feasible and bounded
        raise SimulationError(f"fitting mixture weights failed: {solution.message}")
    weights = np.clip(solution.x[:n_models], 0.0, None)
    result: FloatArray = weights / weights.sum()
    return result


def cross_validate_ensemble(
    result: BacktestResult,
    *,
    models: Sequence[str] | None = None,
    statistic: str = "mean",
    k: int = 5,
    rng: RNGLike = None,
) -> EnsembleFit:
    """Fit an ensemble's weights inside k-fold cross-validation by proposal.

    For each fold, the weights that minimise the mean absolute error on the
    other folds' cases (:func:`fit_mixture_weights`) predict the fold's own
    cases; the scores of those predictions are out of sample.  The weights
    fitted on every case are returned for use, not for scoring.

    Parameters
    ----------
    result
        A backtest of the models to mix.
    models
        The models to mix (default: every model of ``result`` that ran every
        case, except registered ``ensemble`` mixtures).
    statistic
        Which point prediction of each model to mix: ``"mean"`` or ``"median"``.
    k
        Number of folds (:func:`kfold_by_proposal`).
    rng
        Seed of the folds (SPEC 7).
    """
    if statistic not in STATISTICS:
        raise SimulationError(
            f"statistic must be one of {', '.join(STATISTICS)} (got {statistic!r})"
        )
    if not isinstance(result, BacktestResult):
        raise SimulationError(
            f"result must be a BacktestResult from basesim.backtest (got {type(result).__name__})"
        )
    rows = {pred: i for i, pred in enumerate(result.predictors)}
    if models is None:
        # Every model that ran every case, except fixed mixtures (a mixture of
        # mixtures adds nothing the components cannot give).
        chosen = tuple(
            m
            for m in result.models
            if np.isfinite(result.predictions[rows[(m, statistic)]]).all() and not _is_mixture(m)
        )
    else:
        chosen = tuple(models)
        for m in chosen:
            if (m, statistic) not in rows:
                raise SimulationError(
                    f"models: {m!r} is not a model of this backtest "
                    f"(its models are {', '.join(result.models)})"
                )
            if not np.isfinite(result.predictions[rows[(m, statistic)]]).all():
                raise SimulationError(f"models: {m!r} did not run every case (see failures)")
    if len(chosen) < 2:
        raise SimulationError(
            f"an ensemble needs at least two models that ran every case (got {chosen})"
        )
    preds = result.predictions[[rows[(m, statistic)] for m in chosen]]
    folds = kfold_by_proposal(result.proposal, k=k, rng=rng)
    out_of_sample = np.empty(result.n_cases)
    fold_weights = np.empty((len(folds), len(chosen)))
    for f, (train, test) in enumerate(folds):
        fold_weights[f] = fit_mixture_weights(preds[:, train], result.observed[train])
        out_of_sample[test] = fold_weights[f] @ preds[:, test]
    augmented = dataclasses.replace(
        result,
        predictors=(*result.predictors, ("ensemble-cv", statistic)),
        predictions=np.vstack([result.predictions, out_of_sample[None, :]]),
        crps=np.vstack([result.crps, np.full((1, result.n_cases), np.nan)]),
    )
    return EnsembleFit(
        models=chosen,
        statistic=statistic,
        weights=fit_mixture_weights(preds, result.observed),
        fold_weights=fold_weights,
        folds=tuple(test for _, test in folds),
        backtest=augmented,
    )
