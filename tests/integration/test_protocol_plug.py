"""A protocol registered by name runs through every entry point unchanged.

The test protocol, ``frozen-talks``, is the bargaining protocol with every
proposal refused: nothing is ever settled, so every run must end in "no
agreement" whatever the entry point (simulate, the Mesa engine, compare,
sweep, sensitivity, an executor), which would not happen if any of them fell
back to the default protocol.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pytest

import basesim
from basesim.protocols import Bargaining, get, names, register, unregister


@dataclass(frozen=True, slots=True)
class FrozenTalks:
    """Bargaining in which every proposal fails."""

    name: str = field(default="frozen-talks")
    inner: Bargaining = field(default_factory=Bargaining)

    def compile(self, compiled):
        return self.inner.compile(compiled)

    def start(self, compiled, params):
        return self.inner.start(compiled, params)

    def play_round(self, compiled, tables, params, state, month, recognition, noise):
        # The month as usual, then undo any settlement: talks never conclude.
        before = (state.status_quo.copy(), state.open.copy())
        record = self.inner.play_round(compiled, tables, params, state, month, recognition, noise)
        settled_now = before[1] & ~state.open
        state.status_quo = np.where(settled_now, before[0], state.status_quo)
        state.open = before[1]
        state.settled_round = np.where(settled_now, 0, state.settled_round)
        state.settled_by = np.where(settled_now, -1, state.settled_by)
        return replace(record, passed=np.zeros_like(record.passed))

    def finished(self, state):
        return self.inner.finished(state)

    def outcome(self, state, sampled):
        return self.inner.outcome(state, sampled)


@pytest.fixture(scope="module")
def frozen(scenario):
    register("frozen-talks", FrozenTalks)
    scn = scenario.replace(
        {"protocol.model": "frozen-talks", "protocol.reservation": "concession"}
    )
    yield scn
    # Other tests see only the built-in protocols.
    unregister("frozen-talks")
    assert "frozen-talks" not in names()


def _no_agreement_only(result) -> None:
    probs = result.probabilities()
    joint = probs[probs.table == "joint"].set_index("outcome")
    assert joint.loc["no agreement", "probability"] == 1.0


def test_the_registry_names_and_builds_protocols(frozen):
    assert "bargaining" in names() and "frozen-talks" in names()
    assert isinstance(get("frozen-talks"), FrozenTalks)
    with pytest.raises(basesim.ProtocolError, match="model must be one of"):
        get("no-such-model")


def test_simulate_and_both_engines_use_the_named_protocol(frozen):
    _no_agreement_only(basesim.simulate(frozen, n_runs=300, rng=1))
    _no_agreement_only(basesim.simulate(frozen, n_runs=5, rng=1, engine="mesa"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        _no_agreement_only(
            basesim.simulate(frozen, n_runs=600, rng=1, executor=pool, batch_size=200)
        )
    # The default protocol does settle issues on the same scenario.
    default = frozen.replace({"protocol.model": "bargaining"})
    probs = basesim.simulate(default, n_runs=300, rng=1).probabilities()
    assert probs.set_index("outcome").loc["no agreement", "probability"].max() < 1.0


def test_compare_sweep_and_sensitivity_pass_it_through(frozen):
    comparison = basesim.compare(
        {"a": frozen, "b": frozen.replace({"actors.syria.basing.position": 0.5})},
        n_runs=200,
        rng=2,
    )
    for name in ("a", "b"):
        _no_agreement_only(comparison[name])
    swept = basesim.sweep(
        frozen,
        parameters={"actors.syria.basing.position": (0.0, 0.6)},
        design="grid",
        n_points=2,
        n_runs=100,
        rng=3,
    )
    assert (swept.probability("no agreement") == 1.0).all()
    # Under the frozen protocol "no agreement" is certain at every sample point,
    # so sensitivity says its indices are undefined (under the default protocol
    # the output varies).
    with pytest.raises(basesim.SimulationError, match="same probability"):
        basesim.sensitivity(
            frozen,
            parameters={"actors.syria.basing.position": (0.0, 0.6)},
            outcome="no agreement",
            n=4,
            n_runs=50,
            rng=4,
        )
