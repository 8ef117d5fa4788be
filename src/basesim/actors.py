"""Actors: who negotiates, what they want, and how they behave."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from basesim.parameters import Evidence, Parameter

__all__ = ["BEHAVIOUR_FIELDS", "Actor", "BehaviourField", "FrozenMap", "Stance"]


@dataclass(frozen=True, slots=True)
class BehaviourField:
    """The declaration of one behavioural actor parameter: name, domain, default.

    Validation, :meth:`Scenario.parameters <basesim.Scenario.parameters>`,
    the TOML reader and writer, and the engine all take the list of these
    fields from :data:`BEHAVIOUR_FIELDS`.

    Parameters
    ----------
    name
        The field's name on :class:`Actor` and in a scenario file.
    low, high, low_inclusive, high_inclusive
        The allowed range.
    default
        The value when the field is not given, or ``None`` for an optional
        field that is absent unless given (``disagreement``).
    default_rationale
        Why the default is what it is; a default parameter carries it as an
        assumption, so that :meth:`Scenario.explain <basesim.Scenario.explain>`
        shows where an unstated number comes from.
    """

    name: str
    low: float
    high: float
    low_inclusive: bool
    high_inclusive: bool
    default: float | None
    default_rationale: str = ""

    @property
    def range(self) -> tuple[float, float, bool, bool]:
        """``(low, high, low_inclusive, high_inclusive)``."""
        return (self.low, self.high, self.low_inclusive, self.high_inclusive)

    def default_parameter(self) -> Parameter | None:
        """The parameter an actor gets when the field is not given."""
        if self.default is None:
            return None
        evidence = Evidence(rationale=self.default_rationale, confidence="low", assumption=True)
        return Parameter(value=self.default, evidence=evidence)


#: The behavioural parameters of an actor, in the order scenarios list them.
#: ``disagreement`` (default ``None``) is optional: it is absent unless given.
BEHAVIOUR_FIELDS: tuple[BehaviourField, ...] = (
    BehaviourField(
        "anchoring",
        0.0,
        1.0,
        True,
        True,
        0.0,
        "Format default: the actor is not anchored to its starting view at all.",
    ),
    BehaviourField(
        "discount",
        0.0,
        1.0,
        False,
        True,
        0.95,
        "Format default: a month's delay costs the actor 5 % of a deal's value.",
    ),
    BehaviourField(
        "concession",
        0.0,
        math.inf,
        False,
        False,
        1.0,
        "Format default: linear concession, neither holding out nor giving ground early.",
    ),
    BehaviourField(
        "concession_months",
        0.0,
        math.inf,
        False,
        False,
        24.0,
        "Format default: the actor's demand reaches its disagreement value after two years.",
    ),
    BehaviourField(
        "opening",
        0.0,
        1.0,
        True,
        True,
        1.0,
        "Format default: the actor opens by demanding all it could gain (its ideal).",
    ),
    BehaviourField(
        "noise",
        0.0,
        math.inf,
        True,
        False,
        0.0,
        "Format default: the actor knows exactly what the others will accept.",
    ),
    BehaviourField("disagreement", -math.inf, 0.0, False, True, None),
)
_BEHAVIOUR = {f.name: f for f in BEHAVIOUR_FIELDS}


def _default(name: str) -> Callable[[], Parameter]:
    declared = _BEHAVIOUR[name]

    def make() -> Parameter:
        param = declared.default_parameter()
        assert param is not None
        return param

    return make


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
        Legacy: issues on which the actor's consent is needed.  An issue
        without a ``rule`` of its own is decided by unanimity among the
        actors whose ``veto`` names it.
    votes
        The actor's voting weight (>= 0) on issues decided by a qualified or
        majority rule.
    proposer
        Whether the actor may be recognised to propose.
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
    concession_months
        Months (> 0) until the actor's demand reaches its disagreement value,
        under concession-curve reservation values.
    opening
        The share, in [0, 1], of its possible gain over its disagreement
        value that the actor demands at the start (1: its ideal).
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
    votes: float = 1.0
    proposer: bool = True
    influence: Mapping[str, Parameter] = field(default_factory=dict)
    anchoring: Parameter = field(default_factory=_default("anchoring"))
    discount: Parameter = field(default_factory=_default("discount"))
    concession: Parameter = field(default_factory=_default("concession"))
    concession_months: Parameter = field(default_factory=_default("concession_months"))
    opening: Parameter = field(default_factory=_default("opening"))
    noise: Parameter = field(default_factory=_default("noise"))
    disagreement: Parameter | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "stances", _freeze(self.stances))
        object.__setattr__(self, "influence", _freeze(self.influence))
        if isinstance(self.veto, list):
            # Only a list becomes a tuple: a string stays whole, for validation to refuse.
            object.__setattr__(self, "veto", tuple(self.veto))
