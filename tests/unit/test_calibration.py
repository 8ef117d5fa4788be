"""Calibration: known-answer posteriors, the posterior scenario, forecasts, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import basesim
from basesim import (
    Actor,
    CalibrationError,
    Distribution,
    Issue,
    Parameter,
    ProtocolSettings,
    Scenario,
    ScenarioError,
    Stance,
)
from basesim.observations import Observation
from basesim.posterior_sample import PARTICLE_PATH, PosteriorSample
from basesim.scenarios.toml_io import read_scenario_text

A, B = "actors.a.policy.position", "actors.b.policy.position"

# Known answer.  Two actors of equal weight, positions a, b ~ U(0, 1); the
# compromise model settles at (a + b) / 2 in month 1.  Observing the "high"
# category (value >= 2/3) means a + b >= 4/3: the posterior is uniform on the
# triangle (1/3, 1), (1, 1/3), (1, 1).  So P(observation) = 2/9; each
# position's marginal has density 9/2 (x - 1/3) on [1/3, 1]: mean 7/9,
# variance 2/81; the correlation is -1/2.
P_HIGH = 2 / 9
MEAN = 7 / 9
SD = math.sqrt(2 / 81)
CORR = -0.5
HIGH = (Observation(by=1, issue="policy", state="high"),)


def _uniform(low: float = 0.0, high: float = 1.0) -> Parameter:
    return Parameter(
        value=(low + high) / 2, distribution=Distribution(kind="uniform", low=low, high=high)
    )


def _scenario(low: float = 0.0, model: str = "compromise", horizon: int = 2) -> Scenario:
    fixed = Parameter.fixed
    issue = Issue(
        name="policy",
        label="Policy",
        status_quo=fixed(0.0),
        rule="unanimity",
        categories=("low", "mid", "high"),
        cuts=(1 / 3, 2 / 3),
    )
    actors = tuple(
        Actor(
            name=name,
            label=name.upper(),
            capability=fixed(1.0),
            stances={"policy": Stance(position=_uniform(low), salience=fixed(1.0))},
        )
        for name in ("a", "b")
    )
    return Scenario(
        name="two-actors",
        issues=(issue,),
        actors=actors,
        horizon=horizon,
        protocol=ProtocolSettings(model=model),
    )


def _weighted_moments(post: basesim.Posterior) -> tuple[np.ndarray, np.ndarray, float]:
    w, x = post.weights, post.values
    mean = w @ x
    cov = (w[:, None] * (x - mean)).T @ (x - mean)
    sd = np.sqrt(np.diag(cov))
    return mean, sd, float(cov[0, 1] / (sd[0] * sd[1]))


def _check_known_answer(post: basesim.Posterior, z: float = 4.0) -> None:
    assert post.paths == (A, B)
    mean, sd, corr = _weighted_moments(post)
    # Monte Carlo standard errors from the effective sample size.
    se_mean = SD / math.sqrt(post.ess)
    assert np.all(np.abs(mean - MEAN) < z * se_mean), (mean, se_mean)
    # sd of a sample sd ~ sd * sqrt((kurtosis - 1) / (4 m)); this triangle's kurtosis is 2.4.
    se_sd = SD * math.sqrt(1.4 / (4 * post.ess))
    assert np.all(np.abs(sd - SD) < z * se_sd), (sd, se_sd)
    se_corr = (1 - CORR**2) / math.sqrt(post.ess)
    assert abs(corr - CORR) < z * se_corr, (corr, se_corr)
    # Every particle meets the observation exactly.
    assert np.all(post.values.sum(axis=1) >= 4 / 3 - 1e-12)


def test_rejection_matches_the_analytic_posterior() -> None:
    n = 20_000
    post = basesim.calibrate(_scenario(), HIGH, n=n, rng=11)
    print(f"rejection: ESS {post.ess:.0f}, acceptance {post.acceptance_rate:.4f}")
    assert post.method == "rejection"
    assert post.n_simulations == n
    assert post.tolerances == (0.0,)
    assert abs(post.acceptance_rate - P_HIGH) < 4 * math.sqrt(P_HIGH * (1 - P_HIGH) / n)
    assert post.ess == post.n_particles == round(post.acceptance_rate * n)
    np.testing.assert_allclose(post.weights.sum(), 1.0)
    _check_known_answer(post)


def test_smc_matches_the_analytic_posterior() -> None:
    post = basesim.calibrate(_scenario(), HIGH, method="smc", n=1_000, rng=5)
    print(
        f"smc: ESS {post.ess:.0f}, acceptance {post.acceptance_rate:.4f}, "
        f"simulations {post.n_simulations}, tolerances {post.tolerances}"
    )
    tol = post.tolerances
    assert tol[0] == math.inf and tol[-1] == 0.0 and len(tol) >= 2
    assert all(later < earlier for earlier, later in itertools.pairwise(tol))
    assert len(post.generations) == len(tol)
    assert (
        0 < post.n_particles <= 1_000
    )  # a last reweighting keeps only the particles that meet it
    assert post.ess > 300
    assert 0 < post.acceptance_rate <= 1
    np.testing.assert_allclose(post.weights.sum(), 1.0)
    _check_known_answer(post)


def test_importance_matches_the_analytic_posterior() -> None:
    post = basesim.calibrate(_scenario(), HIGH, method="importance", n=4_000, replicates=2, rng=2)
    assert post.n_simulations == 8_000
    assert abs(post.acceptance_rate - P_HIGH) < 4 * math.sqrt(P_HIGH * (1 - P_HIGH) / 8_000)
    _check_known_answer(post)


def test_same_seed_same_posterior_bit_for_bit() -> None:
    for method, n in (("rejection", 3_000), ("smc", 300), ("importance", 500)):
        one = basesim.calibrate(_scenario(), HIGH, method=method, n=n, rng=42)
        two = basesim.calibrate(
            _scenario(), HIGH, method=method, n=n, rng=np.random.SeedSequence(42)
        )
        other = basesim.calibrate(_scenario(), HIGH, method=method, n=n, rng=43)
        assert np.array_equal(one.quantiles, two.quantiles), method
        assert np.array_equal(one.weights, two.weights), method
        assert one.tolerances == two.tolerances
        assert not np.array_equal(one.values[:10], other.values[:10]), method


def test_rejection_keeps_the_runs_of_simulate_with_the_same_seed() -> None:
    scn = _scenario()
    post = basesim.calibrate(scn, HIGH, n=2_000, rng=9)
    frame = basesim.simulate(scn, n_runs=2_000, rng=9).to_frame()
    high = frame[frame.policy_category == "high"]
    assert post.accepted_runs is not None
    assert post.accepted_runs.tolist() == high.run.tolist()
    np.testing.assert_array_equal(post.values, high[[A, B]].to_numpy())


def test_observations_no_run_meets_raise_with_the_closest_distance() -> None:
    scn = _scenario(low=0.5)  # the compromise is >= 0.5: never "low" (below 1/3)
    low = [Observation(by=1, issue="policy", state="low")]
    with pytest.raises(CalibrationError, match=r"no run met every observation") as info:
        basesim.calibrate(scn, low, n=500, rng=1)
    message = str(info.value)
    assert "closest summed distance reached was 0.16" in message  # 0.5 - 1/3, nearly
    with pytest.raises(CalibrationError, match=r"no run met every observation"):
        basesim.calibrate(scn, low, method="importance", n=200, replicates=2, rng=1)
    with pytest.raises(CalibrationError, match=r"closest summed distance 0.16"):
        basesim.calibrate(scn, low, method="smc", n=100, max_simulations=1_000, rng=1)


def test_bad_arguments_raise_calibration_errors() -> None:
    scn = _scenario()
    with pytest.raises(CalibrationError, match=r"method must be one of .*'mcmc'"):
        basesim.calibrate(scn, HIGH, method="mcmc")
    with pytest.raises(CalibrationError, match=r"n must be a whole number >= 1 \(got 0\)"):
        basesim.calibrate(scn, HIGH, n=0)
    with pytest.raises(CalibrationError, match=r"alpha must be a number in \(0, 1\)"):
        basesim.calibrate(scn, HIGH, method="smc", alpha=1.5)
    with pytest.raises(CalibrationError, match=r"observations must hold at least one"):
        basesim.calibrate(scn, [])
    with pytest.raises(CalibrationError, match=r"observations\[0\] must be an Observation"):
        basesim.calibrate(scn, ["high"])  # type: ignore[list-item]
    post = basesim.calibrate(scn, HIGH, n=300, rng=1)
    with pytest.raises(CalibrationError, match=r"already has a posterior"):
        basesim.calibrate(post.scenario(), HIGH, n=300, rng=1)


def test_posterior_scenario_follows_the_posterior_jointly_and_round_trips() -> None:
    post = basesim.calibrate(_scenario(), HIGH, method="smc", n=400, rng=3)
    scn = post.scenario()
    sample = scn.posterior
    assert sample is not None
    assert sample.method == "smc" and sample.paths == (A, B)
    assert sample.n_simulations == post.n_simulations
    assert sample.entropy == "3"
    assert sample.observations == ("issue policy is high by 1",)
    assert scn.uncertain_parameters()[-1] == PARTICLE_PATH
    text = scn.to_toml()
    assert "[posterior]" in text
    again = read_scenario_text(text)
    assert again == scn
    assert again.to_toml() == text
    # Runs draw whole particles: every run is "high" (a + b >= 4/3 jointly,
    # which independent marginals would break), and the values are particles.
    result = basesim.simulate(scn, n_runs=3_000, rng=4)
    frame = result.to_frame()
    assert (frame.policy_category == "high").all()
    particles = {tuple(row) for row in post.values.tolist()}
    assert all(tuple(row) in particles for row in frame[[A, B]].to_numpy().tolist())
    picked = frame[PARTICLE_PATH].to_numpy().astype(int)
    np.testing.assert_array_equal(frame[[A, B]].to_numpy(), post.values[picked])
    # The particle frequencies follow the weights.
    counts = np.bincount(picked, minlength=post.n_particles)
    expected = post.weights * 3_000
    assert abs(counts[: post.n_particles // 2].sum() - expected[: post.n_particles // 2].sum()) < (
        4 * math.sqrt(3_000 * 0.25)
    )


def test_posterior_sample_validation() -> None:
    scn = _scenario()
    good = PosteriorSample(paths=(A,), values=((0.9,), (0.8,)), weights=(1.0, 1.0), method="smc")
    assert scn.replace(posterior=good).posterior == good
    cases = [
        (
            PosteriorSample(
                paths=("actors.a.capability",), values=((1.0,),), weights=(1.0,), method="smc"
            ),
            r"posterior.paths must name uncertain parameters .*fixed",
        ),
        (
            PosteriorSample(paths=(A,), values=((0.9,),), weights=(1.0, 2.0), method="smc"),
            r"posterior.weights must give one weight per particle \(1\) \(got 2\)",
        ),
        (
            PosteriorSample(paths=(A,), values=((1.5,),), weights=(1.0,), method="smc"),
            r"posterior.values\[0\]\[0\] must lie in the range \[0, 1\] .*\(got 1.5\)",
        ),
        (
            PosteriorSample(paths=(A,), values=((0.5,),), weights=(-1.0,), method="smc"),
            r"posterior.weights\[0\] must be a finite number >= 0 \(got -1.0\)",
        ),
        (
            PosteriorSample(paths=(A,), values=((0.5,),), weights=(1.0,), method="mcmc"),
            r"posterior.method must be one of rejection, importance, smc \(got 'mcmc'\)",
        ),
        (
            PosteriorSample(paths=(A, A), values=((0.5, 0.5),), weights=(1.0,), method="smc"),
            r"posterior.paths must not list a parameter twice",
        ),
    ]
    for sample, message in cases:
        with pytest.raises(ScenarioError, match=message):
            scn.replace(posterior=sample)
    text = scn.replace(posterior=good).to_toml().replace("[posterior]", "[posterior]\nsize = 2")
    with pytest.raises(ScenarioError, match=r"posterior.size is not a known field"):
        read_scenario_text(text)


def _bargaining() -> Scenario:
    scn = _scenario(model="bargaining", horizon=4)
    capability = Parameter(value=1.0, distribution=Distribution(kind="uniform", low=0.1, high=2.0))
    return scn.replace({"actors.a.capability": capability})


def test_forecasts_are_conditioned_on_the_observed_past() -> None:
    scn = _bargaining()
    open_by_1 = [Observation(by=1, issue="policy", state="unsettled")]
    post = basesim.calibrate(scn, open_by_1, n=1_000, rng=21)
    forecast = post.forecast()
    assert forecast.n_runs == post.n_particles
    assert forecast.runs is not None
    rounds = forecast.runs.settled_round[:, 0]
    assert np.all(rounds != 1)
    assert np.any(rounds >= 2)  # the future is open: some settle later
    # The accepted runs themselves: the prior runs of simulate with the same seed.
    prior = basesim.simulate(scn, n_runs=1_000, rng=21).to_frame()
    assert post.accepted_runs is not None
    kept = prior.iloc[post.accepted_runs]
    np.testing.assert_array_equal(rounds, kept.settlement_round_policy.to_numpy())
    np.testing.assert_array_equal(forecast.runs.package[:, 0], kept.policy.to_numpy())

    smc = basesim.calibrate(scn, open_by_1, method="smc", n=200, rng=21)
    fresh = smc.forecast(n_runs=300, rng=1)
    assert fresh.n_runs == 300 and fresh.runs is not None
    assert np.all(fresh.runs.settled_round[:, 0] != 1)
    again = smc.forecast(n_runs=300, rng=1)
    assert again.runs is not None
    np.testing.assert_array_equal(again.runs.package, fresh.runs.package)


def test_tables_and_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scn = _scenario()
    post = basesim.calibrate(scn, HIGH, n=2_000, rng=1)
    frame = post.to_frame()
    assert list(frame.columns) == [A, B, "weight"]
    summary = post.summary()
    assert list(summary.path) == [A, B]
    np.testing.assert_allclose(summary.prior_mean, 0.5)
    np.testing.assert_allclose(summary.prior_low, 0.05)
    assert (summary.posterior_mean > summary.prior_mean).all()
    assert "Posterior(scenario='two-actors', method='rejection'" in repr(post)
    fig = post.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    fig2 = post.plot_forecast(basesim.simulate(scn, n_runs=500, rng=1))
    plt.close(fig)
    plt.close(fig2)


def test_smc_reweights_when_the_observations_are_common() -> None:
    """More than alpha of the prior meets the observation: smc reweights the prior
    population (exact), without moving it, and keeps only particles that meet it."""
    from basesim.observations import Observation

    obs = [Observation(by=1, issue="policy", state="mid")]  # 5/9 of the prior meets it
    post = basesim.calibrate(_scenario(), obs, method="smc", n=400, rng=6, alpha=0.3)
    assert post.tolerances[-1] == 0.0
    assert post.generations[-1]["simulations"] == 0.0
    assert post.weights.min() > 0 and post.ess == pytest.approx(post.n_particles)
