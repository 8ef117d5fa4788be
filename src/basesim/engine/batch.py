"""The batch engine: many runs at once, in NumPy arrays.

Runs advance month by month as arrays ``(runs, actors, issues)`` through the
protocol's :meth:`~basesim.protocols.NegotiationProtocol.play_round`; runs
with nothing left to negotiate are retired, so the work falls as agreements
arrive.  The Mesa model plays the same function on one run at a time, on the
same random inputs, so the two agree run by run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from basesim.engine.compiled import CompiledScenario, RandomInputs, RunParameters, sampled_values
from basesim.engine.events import EventRunner
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import SimulationError

__all__ = ["ENGINES", "run_batch", "run_mesa", "run_reference", "sampled_values"]

#: The engines a simulation can run on: this one (the compiled month where it
#: covers the scenario), the Mesa model run by run, and this one with the
#: bargaining model's month played by its NumPy reference (for comparisons).
ENGINES = ("batch", "mesa", "numpy")


def _protocol(compiled: CompiledScenario, protocol: Any) -> Any:
    if protocol is not None:
        return protocol
    from basesim.protocols.registry import get

    return get(compiled.model)


def run_batch(
    compiled: CompiledScenario,
    inputs: RandomInputs,
    protocol: Any = None,
    *,
    parameters: RunParameters | None = None,
) -> BatchOutcome:
    """Simulate every run of ``inputs`` at once with the batch engine.

    ``protocol`` defaults to the one the scenario names.  ``parameters``, if
    given, are the runs' parameters row by row (one row per run of
    ``inputs``), in place of those ``compiled`` derives from
    ``inputs.quantiles``: variants of a scenario stacked into one call.
    """
    protocol = _protocol(compiled, protocol)
    tables = protocol.compile(compiled)
    # The quantiles are mapped to values once: for the parameters and the record.
    values = sampled_values(compiled, inputs.quantiles)
    if parameters is None:
        params = compiled.parameters_from_values(values)
    else:
        if parameters.n_runs != inputs.n_runs:
            raise SimulationError(
                f"parameters must have one row per run ({inputs.n_runs}; got {parameters.n_runs})"
            )
        params = parameters
    events = EventRunner(compiled, protocol, tables, params) if compiled.scenario.events else None
    if events is not None and parameters is not None:
        params = params.take(np.arange(params.n_runs))  # events change parameters: copy them
    state = protocol.start(compiled, params)
    # ``work`` holds the runs still negotiating (``active``); finished runs are
    # written back to ``state`` and dropped from it.  The compiled month skips
    # finished runs by itself, so there they are dropped only once they are
    # half of ``work`` (copying the rest costs more than skipping them).
    work, work_params = state, params
    active = np.arange(inputs.n_runs)
    lazy = events is None and getattr(tables, "kernel", None) is not None

    def retire() -> None:
        nonlocal work, work_params, active
        done = protocol.finished(work)
        if lazy and 2 * int(done.sum()) < done.size:
            return
        if done.any():
            if work is not state:
                state.put(active[done], work.take(np.flatnonzero(done)))
            keep = np.flatnonzero(~done)
            work, work_params, active = work.take(keep), work_params.take(keep), active[keep]

    for month in range(1, compiled.horizon + 1):
        if active.size == 0:
            break
        recognition = inputs.recognition[active, month - 1]
        noise = inputs.noise[active, month - 1]
        if events is None:
            protocol.play_round(compiled, tables, work_params, work, month, recognition, noise)
        else:
            # The month's events come first; a run they finish plays no round.
            if events.apply(month, work_params, work, active).any():
                retire()
                if active.size == 0:
                    break
                recognition = inputs.recognition[active, month - 1]
                noise = inputs.noise[active, month - 1]
            regimes = events.regimes(active)
            if len(regimes) == 1:
                _, regime_compiled, regime_tables = regimes[0]
                protocol.play_round(
                    regime_compiled, regime_tables, work_params, work, month, recognition, noise
                )
            else:
                if month == 1 and hasattr(protocol, "decide"):
                    # A mixture draws each run's model in month 1: on the whole
                    # batch, before it is split by rules.
                    protocol.decide(work, recognition)
                for rows, regime_compiled, regime_tables in regimes:
                    part = work.take(rows)
                    protocol.play_round(
                        regime_compiled,
                        regime_tables,
                        work_params.take(rows),
                        part,
                        month,
                        recognition[rows],
                        noise[rows],
                    )
                    work.put(rows, part)
            events.reassert(work, active)
        retire()
    if work is not state and active.size:
        state.put(active, work)
    outcome: BatchOutcome = protocol.outcome(state, values)
    return outcome


def run_reference(
    compiled: CompiledScenario, inputs: RandomInputs, protocol: Any = None
) -> BatchOutcome:
    """:func:`run_batch` with the bargaining model's NumPy month in place of the compiled one.

    The same runs, computed by the readable reference of the rules
    (:func:`basesim.protocols.bargaining.play_round`); other models are
    played as :func:`run_batch` plays them.
    """
    protocol = _protocol(compiled, protocol)
    if getattr(protocol, "kernel", False):
        protocol = dataclasses.replace(protocol, kernel=False)
    return run_batch(compiled, inputs, protocol)


def run_mesa(
    compiled: CompiledScenario, inputs: RandomInputs, protocol: Any = None
) -> BatchOutcome:
    """Simulate every run of ``inputs`` one by one with the Mesa model."""
    from basesim.model import NegotiationModel

    parts = []
    for i in range(inputs.n_runs):
        model = NegotiationModel(
            compiled.scenario,
            inputs=inputs.take(slice(i, i + 1)),
            protocol=protocol,
            compiled=compiled,
        )
        model.run()
        parts.append(model.batch_outcome())
    if not parts:
        return run_batch(compiled, inputs, protocol)
    return BatchOutcome.concatenate(parts)
