"""basesim: scenario analysis of multi-actor negotiations.

Load an evidence-cited scenario, simulate many negotiations with an
agent-based model of bargaining rounds, and read off outcome probabilities
with confidence intervals.

>>> import basesim
>>> scn = basesim.load_scenario("syria-2025")
>>> [a.name for a in scn.actors]
['syria', 'russia', 'turkey', 'investors']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.2.0"

# Public name -> module that defines it.  Modules are imported on first use, so
# ``import basesim`` stays light (Mesa and Matplotlib load only when needed).
_EXPORTS = {
    "Actor": "basesim.actors",
    "BacktestResult": "basesim.experiments",
    "BasesimError": "basesim.exceptions",
    "Budget": "basesim.issues",
    "CalibrationError": "basesim.exceptions",
    "Case": "basesim.data",
    "CheckpointError": "basesim.exceptions",
    "ComparisonResult": "basesim.experiments",
    "DataError": "basesim.exceptions",
    "DecisionRule": "basesim.scenario",
    "DiscoveryResult": "basesim.experiments",
    "Distribution": "basesim.parameters",
    "EnsembleFit": "basesim.experiments",
    "Event": "basesim.events",
    "Evidence": "basesim.parameters",
    "Issue": "basesim.issues",
    "NegotiationModel": "basesim.model",
    "Observation": "basesim.observations",
    "ObservationError": "basesim.exceptions",
    "Parameter": "basesim.parameters",
    "Posterior": "basesim.calibration",
    "ProtocolError": "basesim.exceptions",
    "ProtocolSettings": "basesim.scenario",
    "ResultError": "basesim.exceptions",
    "Scenario": "basesim.scenario",
    "ScenarioError": "basesim.exceptions",
    "ScoreResult": "basesim.observations",
    "SensitivityResult": "basesim.experiments",
    "SimulationError": "basesim.exceptions",
    "SimulationResult": "basesim.results",
    "Stance": "basesim.actors",
    "SweepFailure": "basesim.experiments",
    "SweepResult": "basesim.experiments",
    "backtest": "basesim.experiments",
    "calibrate": "basesim.calibration",
    "compare": "basesim.experiments",
    "compare_models": "basesim.experiments",
    "cross_validate_ensemble": "basesim.experiments",
    "discover": "basesim.experiments",
    "kfold_by_proposal": "basesim.experiments",
    "list_scenarios": "basesim.scenarios",
    "load_result": "basesim.results",
    "load_scenario": "basesim.scenarios",
    "get_threads": "basesim.engine.kernel.threads",
    "read_deu": "basesim.data",
    "read_observations": "basesim.observations",
    "read_table": "basesim.exports",
    "save_scenario": "basesim.scenarios",
    "scenario_from_frame": "basesim.data",
    "score": "basesim.observations",
    "sensitivity": "basesim.experiments",
    "set_threads": "basesim.engine.kernel.threads",
    "simulate": "basesim.experiments",
    "sweep": "basesim.experiments",
    "write_table": "basesim.exports",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'basesim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
