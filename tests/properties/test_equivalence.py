"""The batch engine against the Mesa model and the NumPy reference, run by run.

Both engines play the same month on the same random inputs (run i of a
computation always gets the same draws): the Mesa model one run at a time
with its agents carrying the state, the batch engine many runs at once,
retiring them as they finish; both play the compiled month.  The NumPy
reference (``Bargaining(kernel=False)``) plays the same rules written as array
operations over runs.  Every run's packages, settlements, months and
proposers must agree: packages within 1e-9, the rest exactly.  What this
checks is that nothing in a month depends on the other runs of a batch, and
that the compiled month is the reference's month.

The run counts are sized to what they prove: every bundled scenario, both
reservation forms and every decision rule, not a large sample of one.
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
from basesim.protocols.bargaining import Bargaining
from basesim.scenario import ProtocolSettings, Scenario


def _assert_same(scenario: Scenario, start: int, stop: int, seed: int) -> None:
    compiled = compile_scenario(scenario)
    inputs = draw_inputs(compiled, np.random.SeedSequence(seed), start, stop)
    batch = run_batch(compiled, inputs)
    mesa = run_mesa(compiled, inputs)
    reference = run_batch(compiled, inputs, Bargaining(kernel=False))
    assert Bargaining().compile(compiled).kernel is not None  # the compiled month plays
    for other, label in ((mesa, "mesa"), (reference, "numpy reference")):
        np.testing.assert_allclose(batch.package, other.package, rtol=0, atol=1e-9, err_msg=label)
        for name in ("settled", "settled_round", "settled_by", "proposals"):
            np.testing.assert_array_equal(
                getattr(batch, name), getattr(other, name), err_msg=f"{name} ({label})"
            )
        for k, issue in enumerate(scenario.issues):
            np.testing.assert_array_equal(
                issue.categorize(batch.package[:, k]), issue.categorize(other.package[:, k])
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
@pytest.mark.parametrize("name", basesim.list_scenarios())
def test_bundled_scenarios_run_by_run(pool, name):
    # 200 runs of each bundled scenario, as they come (concession curves or a
    # mixture of forms), over two processes.
    scn = basesim.load_scenario(name)
    futures = [pool.submit(_chunk, scn, lo, lo + 100, 20250128) for lo in (0, 100)]
    assert sum(f.result() for f in futures) == 200


@pytest.mark.slow
def test_syria_2025_equilibrium_run_by_run(pool, scenario):
    # The equilibrium form's backward induction (a 36-month look-ahead) is the
    # costliest part of the reference: 100 runs here; the generated scenarios
    # cover the equilibrium form on many more, with short look-aheads.
    scn = scenario.replace({"protocol.reservation": "equilibrium"})
    futures = [pool.submit(_chunk, scn, lo, lo + 50, 7) for lo in (0, 50)]
    assert sum(f.result() for f in futures) == 100


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
    issues = []
    for name in issue_names:
        rule = draw(st.sampled_from(["unanimity", "qualified", "majority", "unilateral"]))
        voters = tuple(draw(st.lists(st.sampled_from(actor_names), min_size=1, unique=True)))
        issues.append(
            Issue(
                name=name,
                label=name,
                anchors=("low", "mid", "high"),
                status_quo=draw(parameters(0.0, 1.0)),
                breakdown=draw(st.none() | parameters(0.0, 1.0)),
                drift=draw(parameters(0.0, 0.5)),
                categories=("low", "mid", "high"),
                cuts=(0.25, 0.75),
                rule=rule,
                voters=None if rule == "unilateral" else voters,
                threshold=draw(st.floats(0.3, 1.0)) if rule == "qualified" else None,
                min_voter_share=(
                    draw(st.none() | st.floats(0.3, 1.0)) if rule == "qualified" else None
                ),
                authority=voters[0] if rule == "unilateral" else None,
            )
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
    proposers = [draw(st.booleans()) for _ in actor_names]
    proposers[draw(st.integers(0, n_actors - 1))] = True
    for name, proposer in zip(actor_names, proposers, strict=True):
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
                votes=draw(st.sampled_from([1.0, 2.0, 3.5])),
                proposer=proposer,
                influence=influence[name],
                anchoring=draw(parameters(0.0, 1.0)),
                discount=draw(parameters(0.5, 1.0)),
                concession=draw(parameters(0.2, 5.0)),
                noise=draw(parameters(0.0, 0.3)),
                opening=draw(parameters(0.0, 1.0)),
                concession_months=draw(parameters(1.0, 12.0)),
            )
        )
    recognition = draw(st.sampled_from(["weighted", "rotation"]))
    at_table = [a for a, p in zip(actor_names, proposers, strict=True) if p]
    rotation = tuple(draw(st.permutations(at_table))) if recognition == "rotation" else ()
    reservation = draw(st.sampled_from(["concession", "equilibrium", "choice"]))
    if reservation == "choice":
        share = draw(st.floats(0.1, 0.9))
        reservation = Parameter(
            value=0.0,
            distribution=Distribution(kind="choice", weights=(1.0 - share, share)),
        )
    return Scenario(
        name="generated",
        issues=tuple(issues),
        actors=tuple(actors),
        horizon=draw(st.integers(1, 8)),
        protocol=ProtocolSettings(
            recognition=recognition,
            rotation=rotation,
            reservation=reservation,
            lookahead=draw(st.integers(1, 4)),
        ),
    )


@pytest.mark.slow
@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_generated_scenarios_run_by_run(pool, scenario, seed):
    # 120 scenarios x 40 runs = 4,800 runs compared run by run, half in each process.
    futures = [pool.submit(_chunk, scenario, lo, lo + 20, seed) for lo in (0, 20)]
    assert sum(f.result() for f in futures) == 40
