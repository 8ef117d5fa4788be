"""Actors: who negotiates, what they want, and how they behave."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from basesim.parameters import Parameter

__all__ = ["Actor", "FrozenMap", "Stance"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stance:
    """An actor's view of one issue.

    Parameters
    ----------
    position
        The ideal point on the issue's [0, 1] scale.
    salience
        How much the issue matters to the actor, in [0, 1]: the weight of the
        issue's loss in the actor's utility.
    """

    position: Parameter
    salience: Parameter


V = TypeVar("V")


class FrozenMap(Mapping[str, V], Generic[V]):
    """A read-only, hashable, picklable mapping that keeps insertion order."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, V] | None = None) -> None:
        self._data: dict[str, V] = dict(data or {})

    def __getitem__(self, key: str) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


def _freeze(mapping: Mapping[str, Any] | None) -> FrozenMap[Any]:
    return mapping if isinstance(mapping, FrozenMap) else FrozenMap(mapping)


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """A party to the negotiation.

    Parameters
    ----------
    name
        Identifier used in field paths and tables (``"turkey"``).
    label
        Human-readable name.
    capability
        Relative power (> 0); by default the weight of the actor's chance of
        being recognised to propose.
    stances
        The actor's :class:`Stance` on each issue, by issue name.
    veto
        Issues on which the actor's consent is needed: a package that differs
        from the breakdown package on any of them needs its acceptance.
    influence
        Weights with which this actor pulls other actors' stances toward its
        own each round, by target actor name (Friedkin–Johnsen).  The weights
        on one target, summed over all actors, must not exceed 1.
    anchoring
        How strongly the actor's stance is anchored to its starting view, in
        [0, 1] (1: not influenced at all).
    discount
        Per-round discount factor in (0, 1], used by equilibrium reservation
        values.
    concession
        Concession-curve exponent e > 0 (e < 1 Boulware: holds out; e > 1
        Conceder), used by concession-curve reservation values.
    noise
        Perception noise (>= 0): the standard deviation, in units of the
        responder's utility scale, of this actor's error about what others
        will accept when it proposes.
    disagreement
        The actor's utility if no agreement is reached, given directly; if
        ``None`` (the default) it is the utility of the breakdown package.
    description
        Free text.
    """

    name: str
    label: str
    capability: Parameter
    stances: Mapping[str, Stance]
    veto: tuple[str, ...] = ()
    influence: Mapping[str, Parameter] = field(default_factory=dict)
    anchoring: Parameter = field(default_factory=lambda: Parameter(value=0.0))
    discount: Parameter = field(default_factory=lambda: Parameter(value=0.95))
    concession: Parameter = field(default_factory=lambda: Parameter(value=1.0))
    noise: Parameter = field(default_factory=lambda: Parameter(value=0.0))
    disagreement: Parameter | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stances", _freeze(self.stances))
        object.__setattr__(self, "influence", _freeze(self.influence))
        object.__setattr__(self, "veto", tuple(self.veto))
