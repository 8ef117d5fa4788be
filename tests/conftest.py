"""Fixtures shared by the test modules.

Scenarios are frozen (their fields cannot be reassigned, and ``replace``
returns a new scenario), so one instance serves the whole session.
"""

from __future__ import annotations

import pytest

import basesim
from basesim.scenarios.toml_io import read_scenario_text
from basesim.testing import SMALL_SCENARIO_TOML


@pytest.fixture(scope="session")
def scenario() -> basesim.Scenario:
    """The report scenario, ``syria-2025``, as bundled.

    A module may define its own ``scenario`` fixture; it then shadows this one
    in that module only.
    """
    return basesim.load_scenario("syria-2025")


@pytest.fixture(scope="session")
def small_scenario() -> basesim.Scenario:
    """The small scenario of :data:`basesim.testing.SMALL_SCENARIO_TOML`."""
    return read_scenario_text(SMALL_SCENARIO_TOML)
