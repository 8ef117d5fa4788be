"""Experiments: Monte Carlo simulation, comparisons, sweeps, sensitivity and scenario discovery."""

from __future__ import annotations

from basesim.experiments.compare import ComparisonResult, compare
from basesim.experiments.discovery import DiscoveryResult, discover
from basesim.experiments.sensitivity import SensitivityResult, sensitivity
from basesim.experiments.simulate import simulate
from basesim.experiments.sweep import SweepFailure, SweepResult, sweep

__all__ = [
    "ComparisonResult",
    "DiscoveryResult",
    "SensitivityResult",
    "SweepFailure",
    "SweepResult",
    "compare",
    "discover",
    "sensitivity",
    "simulate",
    "sweep",
]
