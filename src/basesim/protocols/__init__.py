"""How a round works: bargaining protocols behind one interface."""

from __future__ import annotations

from basesim.protocols.base import RoundProtocol
from basesim.protocols.spatial import SpatialBargaining

__all__ = ["RoundProtocol", "SpatialBargaining"]
