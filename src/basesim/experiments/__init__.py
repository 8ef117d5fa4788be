"""Experiments: Monte Carlo simulation, replays, backtests, comparisons, sweeps, sensitivity and scenario discovery."""

from __future__ import annotations

from basesim.experiments.backtest import (
    BacktestResult,
    EnsembleFit,
    backtest,
    cross_validate_ensemble,
    kfold_by_proposal,
)
from basesim.experiments.compare import ComparisonResult, compare, compare_models
from basesim.experiments.discovery import DiscoveryResult, discover
from basesim.experiments.replay import StanceReplay, replay_stances, stance_paths
from basesim.experiments.sensitivity import SensitivityResult, sensitivity
from basesim.experiments.simulate import simulate
from basesim.experiments.sweep import SweepFailure, SweepResult, sweep

__all__ = [
    "BacktestResult",
    "ComparisonResult",
    "DiscoveryResult",
    "EnsembleFit",
    "SensitivityResult",
    "StanceReplay",
    "SweepFailure",
    "SweepResult",
    "backtest",
    "compare",
    "compare_models",
    "cross_validate_ensemble",
    "discover",
    "kfold_by_proposal",
    "replay_stances",
    "sensitivity",
    "simulate",
    "stance_paths",
    "sweep",
]
