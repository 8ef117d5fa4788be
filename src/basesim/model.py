"""The negotiation as a Mesa agent-based model: one inspectable run.

:class:`NegotiationModel` is the reference engine.  Its agents hold the
mutable state of a run (stances, reservation values, responses); the rules of
a round come from a :class:`~basesim.protocols.RoundProtocol`, so other
bargaining models can be plugged in without touching the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
from numpy.typing import NDArray

from basesim._random import RNGLike, as_seed_sequence
from basesim.engine.compiled import (
    CompiledScenario,
    RandomInputs,
    compile_scenario,
    draw_inputs,
)
from basesim.exceptions import BasesimError
from basesim.protocols.base import RoundProtocol
from basesim.protocols.spatial import SpatialBargaining
from basesim.scenario import Scenario

__all__ = ["ActorAgent", "NegotiationModel", "RunOutcome"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOutcome:
    """How one run ended.

    Attributes
    ----------
    package
        The final package ``(K,)``: the agreed one, or the breakdown package.
    agreed
        Whether the actors agreed before the horizon.
    round
        The round of agreement (1-based), or 0 if there was none.
    proposer
        Index of the actor whose proposal was agreed, or -1.
    """

    package: NDArray[np.float64]
    agreed: bool
    round: int
    proposer: int


class ActorAgent(mesa.Agent):
    """One actor of the negotiation: its stance, its proposals, its responses.

    Parameters
    ----------
    model
        The :class:`NegotiationModel` the agent belongs to.
    index
        The actor's position in the scenario's actor list.
    """

    def __init__(self, model: NegotiationModel, *, index: int) -> None:
        super().__init__(model)
        actor = model.spec.actors[index]
        self.index = index
        self.actor_name = actor.name
        self.label = actor.label
        self.initial_stance = model.parameters.position[0, index].copy()
        self.stance = self.initial_stance.copy()
        self._next_stance = self.stance
        self.reservation_value = float("nan")
        self.accepted: bool | None = None

    @property
    def negotiation(self) -> NegotiationModel:
        """The model, typed."""
        model = self.model
        assert isinstance(model, NegotiationModel)
        return model

    # influence is simultaneous: every agent reads the same snapshot, then commits.
    def update_stance(self) -> None:
        """Compute this round's stance from everyone's previous stances (Friedkin–Johnsen)."""
        m = self.negotiation
        i = self.index
        if not m.compiled.influenced[i]:
            self._next_stance = self.stance  # nobody can pull this actor
            return
        new = m.protocol.influence(
            m.stances()[None],
            self.initial_stance[None, None, :],
            m.mixing[:, i : i + 1, :],
            m.parameters.anchoring[:, i : i + 1],
        )
        self._next_stance = new[0, 0]

    def commit_stance(self) -> None:
        """Adopt the stance computed by :meth:`update_stance`."""
        self.stance = self._next_stance

    def propose(self, round_index: int) -> tuple[NDArray[np.float64], bool, NDArray[np.bool_]]:
        """This actor's proposal: the package, whether it offers it, whose consent it needs."""
        m = self.negotiation
        proposer = np.array([self.index], dtype=np.intp)
        reservation = m.reservation_row(round_index)
        believed = m.protocol.believed_reservation(
            m.parameters, proposer, reservation, m.inputs.noise[:, round_index - 1]
        )
        stances = m.stances()[None]
        disagreement = m.protocol.disagreement(m.compiled, m.parameters, stances)
        package, offered, needed = m.protocol.propose(
            m.compiled,
            m.parameters,
            proposer,
            stances,
            believed,
            reservation[:, self.index],
            disagreement,
        )
        return package[0], bool(offered[0]), needed[0]

    def respond(self, package: NDArray[np.float64], round_index: int) -> bool:
        """Accept ``package`` iff it is worth at least this actor's reservation value."""
        m = self.negotiation
        accepted = m.protocol.accepts(
            m.compiled,
            m.parameters,
            m.stances()[None],
            package[None],
            m.reservation_row(round_index),
        )
        self.accepted = bool(accepted[0, self.index])
        return self.accepted


class NegotiationModel(mesa.Model):
    """One run of the negotiation as a Mesa model.

    One :meth:`step` is one round (one month): influence between actors,
    recognition of a proposer, the proposer's package, the veto players'
    responses, and the end of the run on agreement or at the horizon.

    Parameters
    ----------
    scenario
        The negotiation.
    rng
        Seed of the run's random inputs (SPEC 7).  ``NegotiationModel(s,
        rng=7)`` is run 0 of ``simulate(s, n_runs=..., rng=7)``.
    inputs
        The run's random inputs, drawn already (used by :func:`basesim.simulate`);
        overrides ``rng``.
    protocol
        The round's rules; spatial bargaining by default.

    Attributes
    ----------
    datacollector
        Per round: the proposer, the proposal, whether it was offered and
        agreed (model variables), and each actor's stance per issue,
        reservation value and response (agent variables).

    Examples
    --------
    >>> import basesim
    >>> model = basesim.NegotiationModel(basesim.load_scenario("syria-2025"), rng=7)
    >>> outcome = model.run()
    >>> 1 <= model.round_index <= model.spec.horizon
    True
    """

    running: bool  # set by mesa.Model; False once the run has ended

    def __init__(
        self,
        scenario: Scenario,
        *,
        inputs: RandomInputs | None = None,
        protocol: RoundProtocol | None = None,
        compiled: CompiledScenario | None = None,
        rng: RNGLike = None,
    ) -> None:
        if not isinstance(scenario, Scenario):
            raise BasesimError(
                f"scenario must be a basesim.Scenario (got {type(scenario).__name__})"
            )
        root = as_seed_sequence(rng) if inputs is None else np.random.SeedSequence(0)
        super().__init__(rng=np.random.default_rng(root))
        self.spec = scenario
        self.compiled = compile_scenario(scenario) if compiled is None else compiled
        self.protocol: Any = SpatialBargaining() if protocol is None else protocol
        if inputs is None:
            inputs = draw_inputs(self.compiled, root, 0, 1)
        if inputs.n_runs != 1:
            raise BasesimError(f"inputs must hold exactly one run (got {inputs.n_runs})")
        self.inputs = inputs
        self.parameters = self.compiled.parameters(inputs.quantiles)
        self.mixing = self.protocol.mixing(self.parameters.influence)
        self.reservation_table: NDArray[np.float64] | None = None
        if self.compiled.reservation == "equilibrium":
            # Backward induction needs the whole (deterministic) stance path.
            path = self.protocol.stance_path(self.compiled, self.parameters)
            self.reservation_table = self.protocol.reservation_values(
                self.compiled, self.parameters, path
            )
        self.current_reservation = np.full((1, self.compiled.n_actors), np.nan)

        self.round_index = 0
        self.proposer: int = -1
        self.proposal = np.full(self.compiled.n_issues, np.nan)
        self.offered = False
        self.agreed = False
        self.agreement_round = 0
        self.agreement_proposer = -1
        self.package = self.parameters.breakdown[0].copy()
        self.actor_agents = [ActorAgent(self, index=i) for i in range(self.compiled.n_actors)]

        issue_names = self.compiled.issue_names
        model_reporters: dict[str, Any] = {
            "round": "round_index",
            "proposer": lambda m: m.compiled.actor_names[m.proposer] if m.proposer >= 0 else None,
            "offered": "offered",
            "agreed": "agreed",
        }
        agent_reporters: dict[str, Any] = {"actor": "actor_name"}
        for k, name in enumerate(issue_names):
            model_reporters[f"proposal_{name}"] = lambda m, k=k: float(m.proposal[k])
            agent_reporters[f"stance_{name}"] = lambda a, k=k: float(a.stance[k])
        agent_reporters["reservation_value"] = "reservation_value"
        agent_reporters["accepted"] = "accepted"
        self.datacollector = mesa.DataCollector(
            model_reporters=model_reporters, agent_reporters=agent_reporters
        )

    def stances(self) -> NDArray[np.float64]:
        """Every actor's current stance ``(N, K)``."""
        return np.stack([agent.stance for agent in self.actor_agents])

    def reservation_row(self, round_index: int) -> NDArray[np.float64]:
        """Reservation values of round ``round_index`` ``(1, N)`` (the current round's)."""
        return self.current_reservation

    def step(self) -> None:
        """Play one round."""
        if not self.running:
            return
        t = self.round_index + 1
        self.round_index = t
        for agent in self.actor_agents:
            agent.update_stance()
        for agent in self.actor_agents:
            agent.commit_stance()
        if self.reservation_table is not None:
            self.current_reservation = self.reservation_table[:, t - 1]
        else:
            self.current_reservation = self.protocol.round_reservation(
                self.compiled, self.parameters, self.stances()[None], t
            )
        for agent in self.actor_agents:
            agent.reservation_value = float(self.current_reservation[0, agent.index])
            agent.accepted = None
        proposer = self.protocol.recognise(
            self.compiled, self.parameters, self.inputs.recognition[:, t - 1], t
        )
        self.proposer = int(proposer[0])
        package, offered, needed = self.actor_agents[self.proposer].propose(t)
        self.proposal = package
        self.offered = offered
        agreed = offered
        if offered:
            for agent in self.actor_agents:
                if needed[agent.index] and not agent.respond(package, t):
                    agreed = False
        if agreed:
            self.agreed = True
            self.agreement_round = t
            self.agreement_proposer = self.proposer
            self.package = package.copy()
            self.running = False
        elif t >= self.compiled.horizon:
            self.running = False
        self.datacollector.collect(self)

    def run(self) -> RunOutcome:
        """Play rounds until agreement or the horizon; return the outcome."""
        while self.running:
            self.step()
        return self.outcome()

    def outcome(self) -> RunOutcome:
        """The run's outcome so far (the breakdown package until agreement)."""
        return RunOutcome(
            package=self.package.copy(),
            agreed=self.agreed,
            round=self.agreement_round,
            proposer=self.agreement_proposer,
        )
