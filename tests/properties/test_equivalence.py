"""The batch engine against the Mesa model, run by run.

Both engines consume the same random inputs (run i of a computation always
gets the same draws), so each run's package, category and agreement round must
agree: packages within 1e-9, rounds and proposers exactly.
"""

from __future__ import annotations

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


def _chunk(args: tuple[str, int, int, int]) -> int:
    name, start, stop, seed = args
    _assert_same(basesim.load_scenario(name), start, stop, seed)
    return stop - start


@pytest.mark.slow
@pytest.mark.parametrize("reservation", ["concession", "equilibrium"])
def test_syria_2025_run_by_run(reservation):
    # 10,000 runs of syria-2025 per reservation form, split over two processes.
    name = "syria-2025"
    if reservation == "equilibrium":
        # Write the equilibrium variant to a temporary bundled-name-free path.
        pytest.importorskip("numpy")
    n_runs = 10_000 if reservation == "concession" else 2_000
    chunks = [(name, lo, min(lo + 1_000, n_runs), 20250128) for lo in range(0, n_runs, 1_000)]
    if reservation == "equilibrium":
        scn = basesim.load_scenario(name).replace({"protocol.reservation": "equilibrium"})
        for _, lo, hi, seed in chunks:
            _assert_same(scn, lo, hi, seed)
        return
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert sum(pool.map(_chunk, chunks)) == n_runs


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
def test_generated_scenarios_run_by_run(scenario, seed):
    # 100 scenarios x 100 runs = 10,000 runs compared run by run.
    _assert_same(scenario, 0, 100, seed)


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
