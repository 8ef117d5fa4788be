"""Scenarios from data: tables, the DEU format, and observed cases for backtests."""

from __future__ import annotations

from basesim.data.cases import Case
from basesim.data.council import COUNCIL_REGIMES, CouncilRegime, council_regime
from basesim.data.deu import parse_deu_date, read_deu
from basesim.data.frames import scenario_from_frame

__all__ = [
    "COUNCIL_REGIMES",
    "Case",
    "CouncilRegime",
    "council_regime",
    "parse_deu_date",
    "read_deu",
    "scenario_from_frame",
]
