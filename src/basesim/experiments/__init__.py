"""Experiments: Monte Carlo simulation, and later comparisons and sweeps."""

from __future__ import annotations

from basesim.experiments.simulate import simulate

__all__ = ["simulate"]
