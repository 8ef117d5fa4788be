"""Negotiation protocols: how a month of bargaining works, behind one interface."""

from basesim.protocols.bargaining import Bargaining
from basesim.protocols.base import NegotiationProtocol
from basesim.protocols.registry import get, names, register, unregister

__all__ = ["Bargaining", "NegotiationProtocol", "get", "names", "register", "unregister"]
