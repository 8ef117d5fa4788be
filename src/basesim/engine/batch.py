"""The batch engine: many runs at once, in NumPy arrays.

Runs advance round by round as arrays ``(runs, actors, issues)``; runs that
agree are retired, so the work falls as agreements arrive.  It applies the
same protocol to the same random inputs as the Mesa model, so the two agree
run by run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RandomInputs

__all__ = ["BatchOutcome", "run_batch", "run_mesa"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchOutcome:
    """Outcomes of a batch of runs (leading axis: run)."""

    package: NDArray[np.float64]  # (n, K) final package
    agreed: NDArray[np.bool_]  # (n,)
    round: NDArray[np.int64]  # (n,) agreement round, 0 if none
    proposer: NDArray[np.int64]  # (n,) proposer of the agreed package, -1 if none
    sampled: NDArray[np.float64]  # (n, P) values of the uncertain parameters

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.agreed.shape[0])

    @staticmethod
    def concatenate(parts: list[BatchOutcome]) -> BatchOutcome:
        """Join the outcomes of consecutive batches."""
        return BatchOutcome(
            package=np.concatenate([p.package for p in parts]),
            agreed=np.concatenate([p.agreed for p in parts]),
            round=np.concatenate([p.round for p in parts]),
            proposer=np.concatenate([p.proposer for p in parts]),
            sampled=np.concatenate([p.sampled for p in parts]),
        )


def _sampled(compiled: CompiledScenario, quantiles: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.empty(quantiles.shape)
    for p, dist in enumerate(compiled.uncertain_distributions):
        out[:, p] = dist.ppf(quantiles[:, p])
    return out


def run_batch(compiled: CompiledScenario, inputs: RandomInputs, protocol: Any) -> BatchOutcome:
    """Simulate every run of ``inputs`` at once with the batch engine."""
    params = compiled.parameters(inputs.quantiles)
    horizon = compiled.horizon
    n = inputs.n_runs
    equilibrium = compiled.reservation == "equilibrium"
    if equilibrium:
        # Backward induction needs every round's stances up front.
        path = protocol.stance_path(compiled, params)
        reservation = protocol.reservation_values(compiled, params, path)
    else:
        # Concession curves need only the current round: stances advance round
        # by round for the runs still negotiating.
        stances = params.position
        mixing = protocol.mixing(params.influence)

    package = params.breakdown.copy()
    agreed = np.zeros(n, dtype=bool)
    agreement_round = np.zeros(n, dtype=np.int64)
    agreement_proposer = np.full(n, -1, dtype=np.int64)
    active = np.arange(n)
    sub = params
    for t in range(1, horizon + 1):
        if active.size == 0:
            break
        if equilibrium:
            stances = path[active, t - 1]
            disagreement = protocol.disagreement(compiled, sub, stances)
            r = reservation[active, t - 1]
        else:
            stances = protocol.step_stances(compiled, sub, stances, mixing)
            disagreement = protocol.disagreement(compiled, sub, stances)
            r = protocol.round_reservation(compiled, sub, stances, t, disagreement)
        proposer = protocol.recognise(compiled, sub, inputs.recognition[active, t - 1], t)
        believed = protocol.believed_reservation(sub, proposer, r, inputs.noise[active, t - 1])
        rows = np.arange(active.size)
        x, offered, needed = protocol.propose(
            compiled, sub, proposer, stances, believed, r[rows, proposer], disagreement
        )
        ok = protocol.agreed(compiled, sub, stances, x, r, offered, needed)
        if ok.any():
            done = active[ok]
            package[done] = x[ok]
            agreed[done] = True
            agreement_round[done] = t
            agreement_proposer[done] = proposer[ok]
            keep = ~ok
            active = active[keep]
            sub = sub.take(keep)
            if not equilibrium:
                stances = stances[keep]
                mixing = mixing[keep]
    return BatchOutcome(
        package=package,
        agreed=agreed,
        round=agreement_round,
        proposer=agreement_proposer,
        sampled=_sampled(compiled, inputs.quantiles),
    )


def run_mesa(compiled: CompiledScenario, inputs: RandomInputs, protocol: Any) -> BatchOutcome:
    """Simulate every run of ``inputs`` one by one with the Mesa model."""
    from basesim.model import NegotiationModel

    n = inputs.n_runs
    package = np.empty((n, compiled.n_issues))
    agreed = np.zeros(n, dtype=bool)
    agreement_round = np.zeros(n, dtype=np.int64)
    agreement_proposer = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        model = NegotiationModel(
            compiled.scenario,
            inputs=inputs.take(slice(i, i + 1)),
            protocol=protocol,
            compiled=compiled,
        )
        outcome = model.run()
        package[i] = outcome.package
        agreed[i] = outcome.agreed
        agreement_round[i] = outcome.round
        agreement_proposer[i] = outcome.proposer
    return BatchOutcome(
        package=package,
        agreed=agreed,
        round=agreement_round,
        proposer=agreement_proposer,
        sampled=_sampled(compiled, inputs.quantiles),
    )
