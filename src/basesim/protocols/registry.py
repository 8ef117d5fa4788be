"""The registry of negotiation protocols: a scenario names its model, the registry supplies it.

A scenario's ``[protocol] model`` is looked up here by every engine and
experiment.  Registration lives in the process that makes it: to run a
protocol of your own on a process pool or a Dask cluster, register it in a
module that the workers import (the module that defines it), not only in
the script or notebook that starts them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from basesim.exceptions import ProtocolError
from basesim.vocabulary import KNOWN_MODELS, suggest

if TYPE_CHECKING:
    from basesim.scenario import Scenario

__all__ = ["component_names", "get", "names", "register", "unregister", "with_model"]

_FACTORIES: dict[str, Callable[[], Any]] = {}


def register(name: str, factory: Callable[[], Any]) -> None:
    """Make a protocol available under ``name`` (``factory()`` returns an instance)."""
    _FACTORIES[name] = factory


def unregister(name: str) -> None:
    """Remove the protocol registered as ``name`` (built-in protocols stay)."""
    if name not in KNOWN_MODELS:
        _FACTORIES.pop(name, None)


def names() -> tuple[str, ...]:
    """The registered protocol names, in registration order."""
    _load_builtin()
    return tuple(_FACTORIES)


def get(name: str) -> Any:
    """The protocol registered as ``name``; an unknown name raises :class:`ProtocolError`."""
    _load_builtin()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(repr(n) for n in _FACTORIES)
        raise ProtocolError(
            f"model must be one of {known} (got {name!r}){suggest(name, _FACTORIES)}"
        ) from None
    return factory()


def component_names(model: str) -> tuple[str, ...]:
    """The models a model mixes (an ``ensemble``'s components), or ``(model,)``.

    ``BatchOutcome.component`` indexes this tuple.  A model that is not
    registered in this process counts as a single model.
    """
    _load_builtin()
    factory = _FACTORIES.get(model)
    components = getattr(factory(), "components", None) if factory is not None else None
    return tuple(components) if components else (model,)


def with_model(scenario: Scenario, model: str | None) -> Scenario:
    """``scenario`` with its ``[protocol] model`` set to ``model`` (``None``: unchanged).

    An unknown name raises :class:`ProtocolError`, with the registered names
    and the closest one.
    """
    if model is None:
        return scenario
    if not isinstance(model, str):
        raise ProtocolError(f"model must be a registered model's name (got {model!r})")
    get(model)
    if scenario.protocol.model == model:
        return scenario
    return scenario.replace({"protocol.model": model})


def _load_builtin() -> None:
    if "bargaining" not in _FACTORIES:
        from basesim.protocols.bargaining import Bargaining
        from basesim.protocols.smp import Smp

        register("bargaining", Bargaining)
        from basesim.protocols.bdm import PROTOCOLS as BDM
        from basesim.protocols.compromise import Compromise
        from basesim.protocols.ensemble import Ensemble
        from basesim.protocols.exchange import Exchange
        from basesim.protocols.nash import Nash

        register("compromise", Compromise)
        register("compromise-median", lambda: Compromise("compromise-median", "median"))
        register("nash", Nash)
        register("nash-salience", lambda: Nash("nash-salience", "capability_salience"))
        for name, factory in BDM.items():
            register(name, factory)
        register("smp", Smp)
        register("exchange", Exchange)
        register("ensemble", Ensemble)
