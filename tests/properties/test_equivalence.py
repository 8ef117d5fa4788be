"""The batch engine against the Mesa model, run by run.

Both engines consume the same random inputs (run i of a computation always
gets the same draws), so each run's package, category and agreement round must
agree: packages within 1e-9, rounds and proposers exactly.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import basesim
from basesim.actors import Actor, Stance
from basesim.engine.batch import run_batch, run_mesa
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.issues import Issue
from basesim.parameters import Distribution, Parameter
from basesim.protocols import SpatialBargaining
from basesim.scenario import ProtocolSettings, Scenario


def _assert_same(scenario: Scenario, start: int, stop: int, seed: int) -> None:
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, np.random.SeedSequence(seed), start, stop)
    protocol = SpatialBargaining()
    batch = run_batch(compiled, inputs, protocol)
    mesa = run_mesa(compiled, inputs, protocol)
    np.testing.assert_allclose(batch.package, mesa.package, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(batch.agreed, mesa.agreed)
    np.testing.assert_array_equal(batch.round, mesa.round)
    np.testing.assert_array_equal(batch.proposer, mesa.proposer)
    for k, issue in enumerate(scenario.issues):
        np.testing.assert_array_equal(
            issue.categorize(batch.package[:, k]), issue.categorize(mesa.package[:, k])
        )


def _chunk(scenario: Scenario, start: int, stop: int, seed: int) -> int:
    _assert_same(scenario, start, stop, seed)
    return stop - start


@pytest.fixture(scope="module")
def pool():
    # Spawned workers: no fork of a possibly multi-threaded test process.
    with ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context("spawn")
    ) as executor:
        yield executor


@pytest.mark.slow
def test_syria_2025_run_by_run(pool):
    # 10,000 runs of syria-2025 (concession curves), in chunks over two processes.
    scn = basesim.load_scenario("syria-2025")
    n_runs = 10_000
    futures = [
        pool.submit(_chunk, scn, lo, min(lo + 1_000, n_runs), 20250128)
        for lo in range(0, n_runs, 1_000)
    ]
    assert sum(f.result() for f in futures) == n_runs


@pytest.mark.slow
def test_syria_2025_equilibrium_run_by_run(pool):
    # The equilibrium form does a backward induction per run in the Mesa model
    # (about a second a run), which makes it the slowest reference: 40 runs here;
    # the generated scenarios cover the equilibrium form on many more.
    scn = basesim.load_scenario("syria-2025").replace({"protocol.reservation": "equilibrium"})
    futures = [pool.submit(_chunk, scn, lo, lo + 20, 7) for lo in (0, 20)]
    assert sum(f.result() for f in futures) == 40


# -- Hypothesis-generated scenarios ------------------------------------------------
unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def parameters(draw, low: float, high: float) -> Parameter:
    value = draw(st.floats(low, high, allow_nan=False))
    if draw(st.booleans()):
        return Parameter(value=value)
    lo = draw(st.floats(low, value, allow_nan=False))
    hi = draw(st.floats(value, high, allow_nan=False))
    if hi - lo < 1e-6:
        return Parameter(value=value)
    kind = draw(st.sampled_from(["uniform", "triangular"]))
    mode = value if kind == "triangular" else None
    return Parameter(value=value, distribution=Distribution(kind=kind, low=lo, high=hi, mode=mode))


@st.composite
def scenarios(draw) -> Scenario:
    n_issues = draw(st.integers(1, 3))
    n_actors = draw(st.integers(2, 6))
    issue_names = [f"issue{k}" for k in range(n_issues)]
    actor_names = [f"actor{i}" for i in range(n_actors)]
    issues = tuple(
        Issue(
            name=name,
            label=name,
            anchors=("low", "mid", "high"),
            status_quo=draw(parameters(0.0, 1.0)),
            categories=("low", "mid", "high"),
            cuts=(0.25, 0.75),
        )
        for name in issue_names
    )
    # Influence: each target gets at most two sources, weights summing to <= 0.8.
    influence: dict[str, dict[str, Parameter]] = {a: {} for a in actor_names}
    for target in actor_names:
        sources = draw(
            st.lists(
                st.sampled_from([a for a in actor_names if a != target]), max_size=2, unique=True
            )
        )
        for source in sources:
            influence[source][target] = draw(parameters(0.0, 0.4))
    actors = []
    for name in actor_names:
        veto = tuple(k for k in issue_names if draw(st.booleans()))
        actors.append(
            Actor(
                name=name,
                label=name,
                capability=draw(parameters(0.1, 2.0)),
                stances={
                    k: Stance(
                        position=draw(parameters(0.0, 1.0)), salience=draw(parameters(0.0, 1.0))
                    )
                    for k in issue_names
                },
                veto=veto,
                influence=influence[name],
                anchoring=draw(parameters(0.0, 1.0)),
                discount=draw(parameters(0.5, 1.0)),
                concession=draw(parameters(0.2, 5.0)),
                noise=draw(parameters(0.0, 0.3)),
            )
        )
    recognition = draw(st.sampled_from(["weighted", "rotation"]))
    rotation = tuple(draw(st.permutations(actor_names))) if recognition == "rotation" else ()
    return Scenario(
        name="generated",
        issues=issues,
        actors=tuple(actors),
        horizon=draw(st.integers(1, 8)),
        protocol=ProtocolSettings(
            recognition=recognition,
            rotation=rotation,
            reservation=draw(st.sampled_from(["concession", "equilibrium"])),
        ),
    )


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_generated_scenarios_run_by_run(pool, scenario, seed):
    # 100 scenarios x 100 runs = 10,000 runs compared run by run, half in each process.
    futures = [pool.submit(_chunk, scenario, lo, lo + 50, seed) for lo in (0, 50)]
    assert sum(f.result() for f in futures) == 100


def test_same_rng_same_result_whatever_the_batch_size():
    scn = basesim.load_scenario("syria-2025")
    compiled = compile_scenario(scn)
    root = np.random.SeedSequence(99)
    whole = run_batch(compiled, draw_inputs(compiled, root, 0, 3_000), SpatialBargaining())
    parts = [
        run_batch(compiled, draw_inputs(compiled, root, lo, hi), SpatialBargaining())
        for lo, hi in ((0, 1), (1, 1_500), (1_500, 2_048), (2_048, 3_000))
    ]
    for name in ("package", "agreed", "round", "proposer", "sampled"):
        joined = np.concatenate([getattr(p, name) for p in parts])
        np.testing.assert_array_equal(getattr(whole, name), joined)
