"""Checks of arguments shared by experiments and results: one rule, one error, one message."""

from __future__ import annotations

import math
from typing import Any

from basesim.exceptions import SimulationError

__all__ = ["check_confidence_level"]


def check_confidence_level(value: Any) -> float:
    """``value`` as a float in (0, 1), or :class:`SimulationError` naming it."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value < 1:
        raise SimulationError(f"confidence_level must be a number in (0, 1) (got {value!r})")
    return float(value)
