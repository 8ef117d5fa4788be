"""basesim.sensitivity: Sobol' indices of an outcome probability."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import basesim
from basesim.experiments.sensitivity import _bootstrap, _indices, sobol_sample
from basesim.experiments.sweep import SweptParameter

POSITION = "actors.syria.basing.position"
# An input with no effect at all: Turkey's discount factor.  Turkey is not at the
# table (proposer = false), so it is never recognised and never proposes, and no
# issue's rule needs its acceptance (basing: unanimity of Syria and Russia;
# sanctions relief: the investors' authority).  Its discount enters only its own
# equilibrium reservation value, which is only ever compared with what a package
# is worth to Turkey: in its own response, which no rule counts, and in its own
# continuation value, which feeds only its own reservation value.  The proposers
# (Syria, Russia) constrain their packages by the actors the rules need and judge
# the chance of passing by those actors alone, so Turkey's reservation value moves
# no package, no vote and no settlement.  (Turkey's stance does matter: it pulls
# Syria's; but that stance is its position, untouched by the discount, since
# nobody pulls Turkey.)  Syria's own discount, by contrast, matters in the runs
# that use equilibrium reservation values.
INERT = "actors.turkey.discount"


def ishigami(x):
    """The Ishigami function of ``x`` ``(3, n)``; of each page of ``x`` ``(pages, 3, n)``."""
    x = np.asarray(x)
    if x.ndim == 3:
        return np.stack([ishigami(page) for page in x])
    return np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])


# The Ishigami function's indices in closed form (a = 7, b = 0.1, inputs
# uniform on [-pi, pi]): V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2,
# V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50);
# S1 = V1/V, S2 = V2/V, S3 = 0; ST1 = (V1 + V13)/V, ST2 = S2, ST3 = V13/V.
_A, _B = 7.0, 0.1
_V = _A**2 / 8 + _B * np.pi**4 / 5 + _B**2 * np.pi**8 / 18 + 0.5
_V1 = (1 + _B * np.pi**4 / 5) ** 2 / 2
_V2 = _A**2 / 8
_V13 = _B**2 * np.pi**8 * (1 / 18 - 1 / 50)
ISHIGAMI_FIRST = np.array([_V1 / _V, _V2 / _V, 0.0])
ISHIGAMI_TOTAL = np.array([(_V1 + _V13) / _V, _V2 / _V, _V13 / _V])


def _uniform_pi(k):
    return SweptParameter(path=f"x{k}", low=-np.pi, high=np.pi)


def test_sample_and_estimators_are_scipys():
    # Same generator state: our Saltelli sample and our estimator reproduce
    # scipy.stats.sobol_indices called with the function itself.
    params = tuple(_uniform_pi(k) for k in range(3))
    a, b, ab = sobol_sample(params, 256, np.random.default_rng(3))
    ours = stats.sobol_indices(
        func={"f_A": ishigami(a)[None], "f_B": ishigami(b)[None], "f_AB": ishigami(ab)[:, None]},
        n=256,
    )
    theirs = stats.sobol_indices(
        func=ishigami, n=256, dists=[p.frozen for p in params], rng=np.random.default_rng(3)
    )
    # Equal up to rounding (scipy evaluates the AB pages as one reshaped array);
    # another sample would differ in the second decimal.
    np.testing.assert_allclose(ours.first_order, theirs.first_order, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.total_order, theirs.total_order, rtol=1e-12, atol=1e-14)
    f_a, f_b, f_ab = ishigami(a), ishigami(b), ishigami(ab)
    mean = np.mean(np.concatenate([f_a, f_b]))
    np.testing.assert_allclose(
        _indices(f_a - mean, f_b - mean, f_ab - mean),
        np.stack([theirs.first_order, theirs.total_order]),
        rtol=1e-12,
        atol=1e-12,
    )


def test_bootstrap_intervals_cover_the_ishigami_indices():
    params = tuple(_uniform_pi(k) for k in range(3))
    n = 2048
    a, b, ab = sobol_sample(params, n, np.random.default_rng(5))
    f_a, f_b, f_ab = ishigami(a), ishigami(b), ishigami(ab)
    mean = np.mean(np.concatenate([f_a, f_b]))
    ci = _bootstrap(
        f_a - mean,
        f_b - mean,
        f_ab - mean,
        confidence_level=0.99,
        n_resamples=499,
        rng=np.random.default_rng(1),
    )
    for k in range(3):
        assert ci[0, k, 0] <= ISHIGAMI_FIRST[k] <= ci[0, k, 1], k
        assert ci[1, k, 0] <= ISHIGAMI_TOTAL[k] <= ci[1, k, 1], k
    # And the intervals are informative: no wider than 0.25.
    assert (ci[..., 1] - ci[..., 0] < 0.25).all()


@pytest.fixture(scope="module")
def syria_sensitivity(scenario):
    return basesim.sensitivity(
        scenario,
        {POSITION: (0.0, 0.6), INERT: (0.9, 0.99)},
        outcome="basing=withdrawal",
        n=16,
        n_runs=100,
        rng=3,
        progress=False,
    )


def test_an_input_without_effect_gets_exactly_zero(syria_sensitivity):
    # Common random numbers: a point that differs only in an inert parameter
    # reruns the very same runs, so f(AB_i) = f(A) exactly and both indices,
    # and every bootstrap resample of them, are exactly 0.
    res = syria_sensitivity
    k = res.parameter_names.index(INERT)
    assert res.first_order[k] == 0.0
    assert res.total_order[k] == 0.0
    np.testing.assert_array_equal(res.first_order_interval[k], [0.0, 0.0])
    np.testing.assert_array_equal(res.total_order_interval[k], [0.0, 0.0])
    # ... which says the output never varied with it, and is printed as such.
    assert res.output_varies.tolist() == [name != INERT for name in res.parameter_names]
    line = next(line for line in repr(res).splitlines() if INERT in line)
    assert "no variation in the output" in line and "0.000" not in line
    frame = res.to_frame()
    assert (frame.output_varies == (frame.parameter != INERT)).all()
    # Syria's own basing position drives withdrawal.
    j = res.parameter_names.index(POSITION)
    assert res.total_order[j] > 0.5
    assert res.first_order_interval[j, 0] <= res.first_order[j] <= res.first_order_interval[j, 1]


def test_result_is_reproducible_and_tidy(syria_sensitivity):
    res = syria_sensitivity
    again = basesim.sensitivity(
        res.scenario,
        {POSITION: (0.0, 0.6), INERT: (0.9, 0.99)},
        outcome="basing=withdrawal",
        n=16,
        n_runs=100,
        batch_size=1_000,
        rng=3,
        progress=False,
    )
    for name in ("first_order", "total_order", "first_order_interval", "total_order_interval"):
        np.testing.assert_array_equal(getattr(res, name), getattr(again, name), err_msg=name)
    frame = res.to_frame()
    assert list(frame.columns) == [
        "parameter",
        "index",
        "estimate",
        "ci_low",
        "ci_high",
        "output_varies",
    ]
    assert len(frame) == 4
    assert res.n_evaluations == 16 * 4
    assert res.outcome == "basing=withdrawal"
    assert 0 < res.noise_variance < res.output_variance
    text = repr(res)
    assert text.startswith("SensitivityResult(outcome='basing=withdrawal'")
    assert POSITION in text
    assert "<table" in res._repr_html_()


def test_bad_arguments(scenario):
    scn = scenario

    def run(**kwargs):
        args = {
            "outcome": "basing=withdrawal",
            "n": 4,
            "n_runs": 20,
            "rng": 1,
            "progress": False,
            **kwargs,
        }
        params = args.pop("parameters", {POSITION: (0.0, 0.6)})
        return basesim.sensitivity(scn, params, **args)

    with pytest.raises(basesim.BasesimError, match=r"n must be a power of 2 .*\(got 12\)"):
        run(n=12)
    with pytest.raises(
        basesim.BasesimError,
        match=r"outcome must be one of 'joint=withdrawal / none or limited', .*"
        r"'joint=withdrawal / unsettled', .*'no agreement', "
        r".*'basing=retention', 'basing=unsettled'.* \(got 'basing=retain'\) "
        r"\(did you mean 'basing=retention'\?\)",
    ):
        run(outcome="basing=retain")
    with pytest.raises(basesim.BasesimError, match=r"did you mean 'basing=unsettled'"):
        run(outcome="basing=unsetled")
    # Agreements that end the sanctions nowhere near lifted while Russia leaves
    # do not happen in this scenario: probability 0 at every point.
    with pytest.raises(basesim.BasesimError, match=r"same probability .* at every sample point"):
        run(outcome="joint=withdrawal / none or limited")
    with pytest.raises(basesim.BasesimError, match="sample points are not valid scenarios"):
        run(parameters={"actors.turkey.influence.syria": (0.0, 0.9)})


def test_an_unsettled_outcome_is_read_from_its_own_column(monkeypatch, scenario):
    # Stand in for the simulations: at each point, the share of runs that leave
    # basing unsettled is the Syrian position / 0.6 (so only the position
    # matters), and every other column is 0 -- so a wrong column would give the
    # "same probability at every point" error.
    import importlib

    from basesim.outcomes import OutcomeTable

    # (basesim.experiments.sensitivity is also the name of the function.)
    module = importlib.import_module("basesim.experiments.sensitivity")

    scn = scenario
    table = OutcomeTable.of(scn)
    column = table.index("basing=unsettled")
    n_runs = 600

    def fake(scenario_toml, seed, parameters, values, *, n_columns, n_runs, **kwargs):
        assert n_columns == table.n_columns
        counts = np.zeros((len(values), n_columns), dtype=np.int64)
        counts[:, column] = np.round(values[:, 0] / 0.6 * n_runs).astype(np.int64)
        return counts, {}, 0

    monkeypatch.setattr(module, "evaluate_points", fake)
    res = basesim.sensitivity(
        scn,
        {POSITION: (0.0, 0.6), INERT: (0.9, 0.99)},
        outcome="basing = unsettled",
        n=64,
        n_runs=n_runs,
        n_resamples=99,
        rng=1,
        progress=False,
    )
    assert res.outcome == "basing=unsettled"
    assert res.total_order[0] == pytest.approx(1.0, abs=0.05)
    assert res.total_order[1] == 0.0 and res.first_order[1] == 0.0
    assert res.output_mean == pytest.approx(0.5, abs=0.05)
