"""The negotiation as a Mesa agent-based model: one inspectable run.

:class:`NegotiationModel` is the reference engine.  Its agents carry the state
of one actor through a run (stance, reservation value, response, how often it
proposed) and the model carries the issues' state (status quo, which issues
are settled and when).  A month's rules come from the scenario's protocol
(:meth:`~basesim.protocols.NegotiationProtocol.play_round`), the same function
the batch engine plays on many runs, so the two agree run by run.
"""

from __future__ import annotations

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
    sampled_values,
)
from basesim.engine.events import EventRunner
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import BasesimError
from basesim.protocols.registry import get as get_protocol
from basesim.scenario import Scenario

__all__ = ["ActorAgent", "NegotiationModel"]


class ActorAgent(mesa.Agent):
    """One actor of the negotiation: its stance, reservation value and responses.

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
        self.stance: NDArray[np.float64] = model.parameters.position[0, index].copy()
        self.reservation_value = float("nan")
        self.disagreement_value = float("nan")
        self.accepted: bool | None = None
        self.proposed = False
        self.n_proposals = 0

    def observe(self, record: Any, stance: NDArray[np.float64], proposals: int) -> None:
        """Take this month's stance, values and response from the month's record."""
        i = self.index
        self.stance = stance.copy()
        self.reservation_value = float(record.reservation[0, i])
        self.disagreement_value = float(record.disagreement[0, i])
        self.proposed = int(record.proposer[0]) == i
        self.accepted = bool(record.accepted[0, i]) if bool(record.offered[0]) else None
        self.n_proposals = proposals


class NegotiationModel(mesa.Model):
    """One run of the negotiation as a Mesa model.

    One :meth:`step` is one month: influence, drift of the status quo,
    reservation values, recognition of a proposer, its package, the responses,
    and the settlement of the issues the package settles if their rules are
    met.  The run ends when every issue is settled or at the horizon.

    Parameters
    ----------
    scenario
        The negotiation: a :class:`~basesim.Scenario`, or the name of a
        bundled scenario or the path of a ``.toml`` file, loaded with
        :func:`basesim.load_scenario`.  Under :func:`mesa.batch_run`, which
        writes every model argument into its rows, pass the name or path: the
        column ``scenario`` then holds the scenario's name, not the whole
        scenario (save a variant with ``Path(...).write_text(scn.to_toml())``
        and pass its path).
    run
        Which run of ``simulate(scenario, n_runs=..., rng=rng)`` to play
        (default 0): its parameter draws, recognition and perception noise.
        The data collector's frames carry it in a column ``run``, with the
        scenario's name in ``scenario``, so frames of several runs can be
        stacked.
    rng
        Seed of the run's random inputs (SPEC 7).  ``NegotiationModel(s,
        rng=7)`` is run 0 of ``simulate(s, n_runs=..., rng=7)``,
        ``NegotiationModel(s, run=i, rng=7)`` its run ``i``.
    inputs
        The run's random inputs, drawn already (used by :func:`basesim.simulate`);
        overrides ``rng`` (``run`` then only labels the frames).
    protocol
        The month's rules; by default the protocol the scenario names.
    compiled
        The compiled scenario, if the caller has it already.

    Attributes
    ----------
    datacollector
        Per month: the proposer, its package, whether it was offered and
        passed, and each issue's status quo and settlement (model variables);
        each actor's stance per issue, reservation and disagreement values and
        response (agent variables).

    Examples
    --------
    >>> import basesim
    >>> model = basesim.NegotiationModel(basesim.load_scenario("syria-2025"), rng=7)
    >>> outcome = model.run()
    >>> 1 <= model.round_index <= model.spec.horizon
    True

    Many runs with Mesa's batch runner, the scenario named by a string:

    >>> import mesa
    >>> rows = mesa.batch_run(
    ...     basesim.NegotiationModel,
    ...     parameters={"scenario": "syria-2025", "run": [0, 1]},
    ...     display_progress=False,
    ... )
    >>> sorted({(row["scenario"], row["run"]) for row in rows})
    [('syria-2025', 0), ('syria-2025', 1)]
    """

    running: bool  # set by mesa.Model; False once the run has ended

    def __init__(
        self,
        scenario: Scenario | str,
        *,
        run: int = 0,
        inputs: RandomInputs | None = None,
        protocol: Any = None,
        compiled: CompiledScenario | None = None,
        rng: RNGLike = None,
    ) -> None:
        if isinstance(scenario, str):
            from basesim.scenarios import load_scenario

            scenario = load_scenario(scenario)
        if not isinstance(scenario, Scenario):
            raise BasesimError(
                "scenario must be a basesim.Scenario, or a bundled scenario's name or a .toml "
                f"path (got {type(scenario).__name__})"
            )
        if isinstance(run, bool) or not isinstance(run, int | np.integer) or run < 0:
            raise BasesimError(f"run must be a whole number >= 0 (got {run!r})")
        self.run_index = int(run)
        root = as_seed_sequence(rng) if inputs is None else np.random.SeedSequence(0)
        super().__init__(rng=np.random.default_rng(root))
        self.spec = scenario
        self.compiled = compile_scenario(scenario) if compiled is None else compiled
        self.protocol: Any = get_protocol(self.compiled.model) if protocol is None else protocol
        self.tables = self.protocol.compile(self.compiled)
        if inputs is None:
            inputs = draw_inputs(self.compiled, root, self.run_index, self.run_index + 1)
        if inputs.n_runs != 1:
            raise BasesimError(f"inputs must hold exactly one run (got {inputs.n_runs})")
        self.inputs = inputs
        self.parameters = self.compiled.parameters(inputs.quantiles)
        self.state = self.protocol.start(self.compiled, self.parameters)
        self.events = (
            EventRunner(self.compiled, self.protocol, self.tables, self.parameters)
            if self.compiled.scenario.events
            else None
        )
        self.round_index = 0
        self.record: Any = None
        self.actor_agents = [ActorAgent(self, index=i) for i in range(self.compiled.n_actors)]

        model_reporters: dict[str, Any] = {
            "scenario": lambda m: m.spec.name,
            "run": "run_index",
            "round": "round_index",
            "month": lambda m: m.month_label(m.round_index),
            "proposer": lambda m: m.proposer_name,
            "offered": lambda m: bool(m.record.offered[0]) if m.record is not None else False,
            "passed": lambda m: bool(m.record.passed[0]) if m.record is not None else False,
        }
        agent_reporters: dict[str, Any] = {
            "run": lambda a: a.model.run_index,
            "actor": "actor_name",
        }
        for k, name in enumerate(self.compiled.issue_names):
            model_reporters[f"proposal_{name}"] = lambda m, k=k: m.proposal_value(k)
            model_reporters[f"status_quo_{name}"] = lambda m, k=k: float(m.state.status_quo[0, k])
            model_reporters[f"settled_{name}"] = lambda m, k=k: not bool(m.state.open[0, k])
            model_reporters[f"settlement_round_{name}"] = lambda m, k=k: int(
                m.state.settled_round[0, k]
            )
            agent_reporters[f"stance_{name}"] = lambda a, k=k: float(a.stance[k])
        agent_reporters["reservation_value"] = "reservation_value"
        agent_reporters["disagreement_value"] = "disagreement_value"
        agent_reporters["accepted"] = "accepted"
        agent_reporters["proposed"] = "proposed"
        self.datacollector = mesa.DataCollector(
            model_reporters=model_reporters, agent_reporters=agent_reporters
        )

    # -- reading the run ------------------------------------------------------------------
    @property
    def proposer_name(self) -> str | None:
        """This month's proposer, or ``None`` before month 1 and where nobody proposes.

        Static models (``compromise``, ``nash``) have no proposer: their
        records carry ``-1``.
        """
        if self.record is None:
            return None
        who = int(self.record.proposer[0])
        return None if who < 0 else self.compiled.actor_names[who]

    def proposal_value(self, k: int) -> float:
        """This month's proposed value of issue ``k`` (NaN where no offer settles it)."""
        rec = self.record
        if rec is None or not (bool(rec.offered[0]) and bool(rec.settles[0, k])):
            return float("nan")
        return float(rec.package[0, k])

    def month_label(self, round_index: int) -> str | None:
        """Calendar month ``"YYYY-MM"`` of a round, if the scenario has a start."""
        if self.spec.start is None or round_index < 1:
            return None
        year, month = (int(p) for p in self.spec.start.split("-"))
        total = year * 12 + month - 1 + round_index - 1
        return f"{total // 12:04d}-{total % 12 + 1:02d}"

    def stances(self) -> NDArray[np.float64]:
        """Every actor's current stance ``(N, K)``."""
        return np.stack([agent.stance for agent in self.actor_agents])

    # -- running ----------------------------------------------------------------------------
    def step(self) -> None:
        """Play one month."""
        if not self.running:
            return
        t = self.round_index + 1
        self.round_index = t
        self.state.stances = self.stances()[None]
        compiled, tables = self.compiled, self.tables
        if self.events is not None:
            # The month's events come first (as in the batch engine); if they
            # leave nothing to negotiate, no round is played.
            run = np.zeros(1, dtype=np.intp)
            self.events.apply(t, self.parameters, self.state, run)
            if bool(self.protocol.finished(self.state)[0]):
                self.record = None
                for agent in self.actor_agents:
                    agent.stance = self.state.stances[0, agent.index].copy()
                    agent.proposed, agent.accepted = False, None
                self.running = False
                self.datacollector.collect(self)
                return
            _, compiled, tables = self.events.regimes(run)[0]
        self.record = self.protocol.play_round(
            compiled,
            tables,
            self.parameters,
            self.state,
            t,
            self.inputs.recognition[:, t - 1],
            self.inputs.noise[:, t - 1],
        )
        if self.events is not None:
            self.events.reassert(self.state, np.zeros(1, dtype=np.intp))
        for agent in self.actor_agents:
            agent.observe(
                self.record,
                self.state.stances[0, agent.index],
                int(self.state.proposals[0, agent.index]),
            )
        if bool(self.protocol.finished(self.state)[0]) or t >= self.compiled.horizon:
            self.running = False
        self.datacollector.collect(self)

    def run(self) -> BatchOutcome:
        """Play months until every issue is settled or the horizon; return the outcome."""
        while self.running:
            self.step()
        return self.batch_outcome()

    def batch_outcome(self) -> BatchOutcome:
        """The run's outcome so far, as a one-run :class:`~basesim.engine.outcome.BatchOutcome`."""
        outcome: BatchOutcome = self.protocol.outcome(
            self.state, sampled_values(self.compiled, self.inputs.quantiles)
        )
        return outcome
