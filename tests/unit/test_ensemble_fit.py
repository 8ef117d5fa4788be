"""Ensemble weights fitted inside cross-validation by proposal: exact on known mixtures, out of sample."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import basesim
from basesim.experiments.backtest import (
    BacktestResult,
    cross_validate_ensemble,
    fit_mixture_weights,
)

N_PROPOSALS, PER_PROPOSAL = 20, 2


def _result(observed_from, seed: int = 3) -> BacktestResult:
    """A backtest of models a, b, c on 40 synthetic cases, outcomes ``observed_from(a, b, c)``."""
    gen = np.random.default_rng(seed)
    n = N_PROPOSALS * PER_PROPOSAL
    a, b, c = gen.uniform(0, 100, size=(3, n))
    observed = observed_from(a, b, c)
    weighted_mean = (a + b + c) / 3
    rows = [a, a, b, b, c, c, weighted_mean, weighted_mean, weighted_mean]
    predictors = (
        ("a", "mean"), ("a", "median"), ("b", "mean"), ("b", "median"), ("c", "mean"),
        ("c", "median"), ("weighted_mean", "point"), ("capability_weighted_mean", "point"),
        ("median_of_positions", "point"),
    )  # fmt: skip
    crps = np.vstack([np.abs(r - observed) for r in rows[:6]] + [np.full(n, np.nan)] * 3)
    return BacktestResult(
        predictors=predictors,
        proposal=tuple(f"p{i // PER_PROPOSAL}" for i in range(n)),
        issue_id=tuple(f"i{i}" for i in range(n)),
        voting_rule=("QMV",) * n,
        procedure=("COD",) * n,
        status_quo_source=("rp",) * n,
        date=(None,) * n,
        observed=observed,
        predictions=np.vstack(rows),
        crps=crps,
        failures=(),
        n_runs=1,
        n_boot=200,
        confidence_level=0.95,
        entropy=1,
        spawn_key=(),
        basesim_version=basesim.__version__,
    )


def test_a_mixture_of_two_models_is_recovered_in_every_fold():
    # y = 0.3 a + 0.7 b exactly: the weights (0.3, 0.7, 0) give zero error,
    # and a, b, c drawn independently make that minimiser unique.
    fit = cross_validate_ensemble(_result(lambda a, b, c: 0.3 * a + 0.7 * b), k=5, rng=2)
    assert fit.models == ("a", "b", "c")
    np.testing.assert_allclose(fit.weights, [0.3, 0.7, 0.0], atol=1e-7)
    np.testing.assert_allclose(fit.fold_weights, np.tile([0.3, 0.7, 0.0], (5, 1)), atol=1e-7)
    row = fit.to_frame().query("model == 'ensemble-cv'").iloc[0]
    assert row["mae"] == pytest.approx(0.0, abs=1e-6)
    assert row["n"] == 40


def test_a_perfect_model_takes_all_the_weight():
    fit = cross_validate_ensemble(_result(lambda a, b, c: c.copy()), k=4, rng=0)
    np.testing.assert_allclose(fit.weights, [0.0, 0.0, 1.0], atol=1e-7)


def test_a_folds_weights_never_see_its_own_outcomes():
    base = _result(lambda a, b, c: 0.5 * a + 0.5 * c + 5.0)
    fit = cross_validate_ensemble(base, k=5, rng=7)
    # Scramble the outcomes of fold 0's test cases: fold 0's weights stay,
    # the other folds' (which trained on them) may move.
    held_out = fit.folds[0]
    observed = base.observed.copy()
    observed[held_out] = 100.0 - observed[held_out]
    again = cross_validate_ensemble(dataclasses.replace(base, observed=observed), k=5, rng=7)
    np.testing.assert_array_equal(again.fold_weights[0], fit.fold_weights[0])
    assert all(np.array_equal(x, y) for x, y in zip(again.folds, fit.folds, strict=True))


def test_the_weights_minimise_the_mean_absolute_error():
    # No mixture on a grid of the simplex does better than the fitted one.
    gen = np.random.default_rng(5)
    preds = gen.uniform(0, 100, size=(3, 30))
    observed = gen.uniform(0, 100, size=30)
    w = fit_mixture_weights(preds, observed)
    best = np.abs(w @ preds - observed).mean()
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
    for w1 in np.linspace(0, 1, 21):
        for w2 in np.linspace(0, 1 - w1, 21):
            grid = np.array([w1, w2, 1 - w1 - w2])
            assert np.abs(grid @ preds - observed).mean() >= best - 1e-9


def test_the_fitted_mixture_is_an_ensemble_protocol():
    fit = cross_validate_ensemble(_result(lambda a, b, c: 0.3 * a + 0.7 * b), k=5, rng=2)
    mix = fit.mixture(name="fitted")
    assert mix.components == ("a", "b", "c")
    np.testing.assert_allclose(mix.normalised_weights(), fit.weights)
    assert "out-of-sample MAE" in repr(fit)


def test_bad_arguments():
    result = _result(lambda a, b, c: a)
    with pytest.raises(basesim.SimulationError, match="statistic must be one of mean, median"):
        cross_validate_ensemble(result, statistic="mode")
    with pytest.raises(basesim.SimulationError, match="'z' is not a model of this backtest"):
        cross_validate_ensemble(result, models=["a", "z"])
    with pytest.raises(basesim.SimulationError, match="at least two models"):
        cross_validate_ensemble(result, models=["a"])
    with pytest.raises(basesim.SimulationError, match="k must be a whole number from 2"):
        cross_validate_ensemble(result, k=1)
