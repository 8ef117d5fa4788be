"""Scenarios: issues, actors, protocol settings, and their validation."""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from basesim.actors import Actor, Stance
from basesim.exceptions import ScenarioError
from basesim.issues import Issue
from basesim.parameters import CONFIDENCE_LEVELS, Evidence, Parameter

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RECOGNITION_RULES",
    "RESERVATION_FORMS",
    "ProtocolSettings",
    "Scenario",
    "suggest",
]

RECOGNITION_RULES = ("weighted", "rotation")
RESERVATION_FORMS = ("concession", "equilibrium")
ACTOR_FIELDS = (
    "label",
    "description",
    "capability",
    "veto",
    "influence",
    "anchoring",
    "discount",
    "concession",
    "noise",
    "disagreement",
)
# \Z, not $: "$" also matches before a trailing newline ("turkey\n").
_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\Z")
_START = re.compile(r"^(\d{4})-(\d{2})\Z")

# Allowed range of each actor parameter: (low, high, low inclusive, high inclusive).
_ACTOR_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "capability": (0.0, math.inf, False, False),
    "anchoring": (0.0, 1.0, True, True),
    "discount": (0.0, 1.0, False, True),
    "concession": (0.0, math.inf, False, False),
    "noise": (0.0, math.inf, True, False),
    "disagreement": (-math.inf, 0.0, False, True),
}
_UNIT = (0.0, 1.0, True, True)


def suggest(word: str, options: Any) -> str:
    """A ``" (did you mean 'x'?)"`` hint for a misspelt name, or ``""``."""
    close = difflib.get_close_matches(str(word), [str(o) for o in options], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolSettings:
    """How a round works.

    Parameters
    ----------
    recognition
        ``"weighted"``: the proposer is drawn each round with probability
        proportional to capability; ``"rotation"``: actors propose in the
        fixed order ``rotation`` (alternating offers).
    rotation
        Actor names, in order, for ``recognition = "rotation"``.
    reservation
        ``"concession"``: time-dependent concession curves (boundedly rational
        actors); ``"equilibrium"``: discounted continuation values by backward
        induction over the finite horizon.
    utility_exponent
        2 (quadratic loss, the default) or 1 (linear loss; one issue only).
    """

    recognition: str = "weighted"
    rotation: tuple[str, ...] = ()
    reservation: str = "concession"
    utility_exponent: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotation", tuple(self.rotation))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int) and not _is_finite(value):
        return "an integer too large for a float"
    return repr(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A negotiation to simulate: issues, actors, horizon and protocol.

    Construction validates everything and raises
    :class:`~basesim.ScenarioError` naming the field's path, the rule and
    the bad value.

    Parameters
    ----------
    name
        Identifier (``"syria-2025"``).
    title, description
        Human-readable text.
    issues
        The issues, in order.
    actors
        The actors, in order.
    horizon
        Number of rounds; if nobody agrees by then, the negotiation breaks
        down.
    start
        Calendar month of round 1, ``"YYYY-MM"``; one round is one month.
    protocol
        The round's rules.
    """

    name: str
    title: str = ""
    description: str = ""
    issues: tuple[Issue, ...]
    actors: tuple[Actor, ...]
    horizon: int = 24
    start: str | None = None
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)

    def __post_init__(self) -> None:
        object.__setattr__(self, "issues", tuple(self.issues))
        object.__setattr__(self, "actors", tuple(self.actors))
        _check_scenario(self)

    # -- access -----------------------------------------------------------------
    @property
    def issue_names(self) -> tuple[str, ...]:
        """Names of the issues, in order."""
        return tuple(i.name for i in self.issues)

    @property
    def actor_names(self) -> tuple[str, ...]:
        """Names of the actors, in order."""
        return tuple(a.name for a in self.actors)

    def issue(self, name: str) -> Issue:
        """The issue called ``name``."""
        for issue in self.issues:
            if issue.name == name:
                return issue
        raise ScenarioError(f"no issue {name!r}{suggest(name, self.issue_names)}")

    def actor(self, name: str) -> Actor:
        """The actor called ``name``."""
        for actor in self.actors:
            if actor.name == name:
                return actor
        raise ScenarioError(f"no actor {name!r}{suggest(name, self.actor_names)}")

    def parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every numeric parameter with its field path, in a fixed order."""
        for issue in self.issues:
            yield f"issues.{issue.name}.status_quo", issue.status_quo
            if issue.breakdown is not None:
                yield f"issues.{issue.name}.breakdown", issue.breakdown
        for actor in self.actors:
            base = f"actors.{actor.name}"
            yield f"{base}.capability", actor.capability
            for issue_name in self.issue_names:
                stance = actor.stances.get(issue_name)
                if stance is not None:
                    yield f"{base}.{issue_name}.position", stance.position
                    yield f"{base}.{issue_name}.salience", stance.salience
            for name in ("anchoring", "discount", "concession", "noise"):
                yield f"{base}.{name}", getattr(actor, name)
            if actor.disagreement is not None:
                yield f"{base}.disagreement", actor.disagreement
            for target, weight in actor.influence.items():
                yield f"{base}.influence.{target}", weight

    def uncertain_parameters(self) -> tuple[str, ...]:
        """Paths of the parameters that runs draw from a distribution."""
        return tuple(path for path, p in self.parameters() if p.is_uncertain)

    # -- presentation -----------------------------------------------------------
    def explain(self) -> pd.DataFrame:
        """A table of every parameter: value, range, evidence and rationale.

        Returns
        -------
        pandas.DataFrame
            One row per parameter, with columns ``actor``, ``issue``,
            ``field``, ``value``, ``low``, ``high``, ``uncertainty``,
            ``evidence``, ``rationale``, ``confidence``, ``assumption`` and
            ``path``.  Issue-level parameters have an empty ``actor``.
        """
        import pandas as pd

        rows = []
        for path, param in self.parameters():
            parts = path.split(".")
            if parts[0] == "issues":
                actor, issue, name = "", parts[1], parts[2]
            elif len(parts) == 4 and parts[2] == "influence":
                actor, issue, name = parts[1], "", f"influence on {parts[3]}"
            elif len(parts) == 4:
                actor, issue, name = parts[1], parts[2], parts[3]
            else:
                actor, issue, name = parts[1], "", parts[2]
            low, high = param.support
            ev = param.evidence
            rows.append(
                {
                    "actor": actor,
                    "issue": issue,
                    "field": name,
                    "value": param.value,
                    "low": low,
                    "high": high,
                    "uncertainty": param.distribution.describe()
                    if param.distribution
                    else "fixed",
                    "evidence": ", ".join(ev.sources)
                    if ev.sources
                    else ("assumption" if ev.assumption else ""),
                    "rationale": ev.rationale,
                    "confidence": ev.confidence or "",
                    "assumption": ev.assumption,
                    "path": path,
                }
            )
        return pd.DataFrame(rows)

    def to_toml(self) -> str:
        """The scenario as TOML text that :func:`basesim.load_scenario` reads back equal."""
        from basesim.scenarios.toml_io import scenario_to_toml

        return scenario_to_toml(self)

    def replace(self, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Scenario:
        """A variant of this scenario, validated like any scenario.

        Parameters
        ----------
        changes
            Field path -> new value, e.g. ``{"actors.turkey.influence.syria": 0.0}``;
            numeric fields take a number, a :class:`~basesim.Distribution` or a
            :class:`~basesim.Parameter` (see :func:`basesim.paths.replace_values`).
        **fields
            Top-level fields (``name``, ``horizon`` ...), as for
            :func:`dataclasses.replace`.

        Examples
        --------
        >>> import basesim
        >>> scn = basesim.load_scenario("syria-2025")
        >>> v = scn.replace({"actors.syria.basing.position": 0.6}, name="syria-hedging")
        >>> v.name, v.actor("syria").stances["basing"].position.value
        ('syria-hedging', 0.6)
        """
        from basesim.paths import replace_values

        return replace_values(self, {**dict(changes or {}), **fields})


# -- validation -------------------------------------------------------------------
def _range_text(low: float, high: float, lo_inc: bool, hi_inc: bool) -> str:
    if math.isinf(high) and not math.isinf(low):
        return f"{'>=' if lo_inc else '>'} {low:g}"
    if math.isinf(low):
        return f"{'<=' if hi_inc else '<'} {high:g}"
    return f"in {'[' if lo_inc else '('}{low:g}, {high:g}{']' if hi_inc else ')'}"


def _in_range(x: float, rng: tuple[float, float, bool, bool]) -> bool:
    low, high, lo_inc, hi_inc = rng
    above = x >= low if lo_inc else x > low
    below = x <= high if hi_inc else x < high
    return above and below


def _check_parameter(path: str, param: Any, allowed: tuple[float, float, bool, bool]) -> None:
    if not isinstance(param, Parameter):
        raise ScenarioError(f"{path} must be a Parameter (got {type(param).__name__})")
    value = param.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not _is_finite(value):
        raise ScenarioError(f"{path} must be a finite number (got {_fmt(value)})")
    rule = _range_text(*allowed)
    if not _in_range(value, allowed):
        raise ScenarioError(f"{path} must be {rule} (got {_fmt(value)})")
    dist = param.distribution
    if dist is not None:
        problems = dist.check()
        if problems:
            name, what, bad = problems[0]
            raise ScenarioError(f"{path}.{name} {what} (got {_fmt(bad)})")
        if not dist.low <= value <= dist.high:
            raise ScenarioError(
                f"{path}.value must lie in the distribution's range [{dist.low:g}, {dist.high:g}] "
                f"(got {_fmt(value)})"
            )
        for end, x in (("low", dist.low), ("high", dist.high)):
            if not _in_range(x, allowed):
                raise ScenarioError(f"{path}.{end} must be {rule} (got {_fmt(x)})")
    _check_evidence(path, param.evidence)


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        return False


def _check_evidence(path: str, ev: Any) -> None:
    if not isinstance(ev, Evidence):
        raise ScenarioError(f"{path}.evidence must be an Evidence (got {type(ev).__name__})")
    if ev.confidence is not None and ev.confidence not in CONFIDENCE_LEVELS:
        raise ScenarioError(
            f"{path}.confidence must be one of {', '.join(CONFIDENCE_LEVELS)} (got {ev.confidence!r})"
            f"{suggest(ev.confidence, CONFIDENCE_LEVELS)}"
        )
    for source in ev.sources:
        if not isinstance(source, str) or not source.strip():
            raise ScenarioError(
                f"{path}.evidence must list non-empty source identifiers (got {source!r})"
            )
    _check_text(f"{path}.rationale", ev.rationale)
    if not isinstance(ev.assumption, bool):
        raise ScenarioError(f"{path}.assumption must be true or false (got {ev.assumption!r})")


def _check_text(path: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ScenarioError(f"{path} must be a string (got {type(value).__name__}: {value!r})")


def _check_name(path: str, name: Any, pattern: re.Pattern[str] = _NAME) -> None:
    if not isinstance(name, str) or not pattern.match(name):
        raise ScenarioError(
            f"{path} must be a lower-case identifier (letters, digits, '_'; got {name!r})"
        )


def _check_scenario(scn: Scenario) -> None:
    _check_name("scenario.name", scn.name, _SCENARIO_NAME)
    if isinstance(scn.horizon, bool) or not isinstance(scn.horizon, int) or scn.horizon < 1:
        raise ScenarioError(f"scenario.horizon must be a whole number >= 1 (got {scn.horizon!r})")
    if scn.start is not None:
        m = _START.match(str(scn.start))
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ScenarioError(f"scenario.start must be a month 'YYYY-MM' (got {scn.start!r})")
    _check_text("scenario.title", scn.title)
    _check_text("scenario.description", scn.description)

    if not scn.issues:
        raise ScenarioError("issues must define at least one issue (got none)")
    seen: set[str] = set()
    for index, issue in enumerate(scn.issues):
        if not isinstance(issue, Issue):
            raise ScenarioError(f"issues[{index}] must be an Issue (got {type(issue).__name__})")
        path = f"issues.{issue.name}"
        _check_name(f"issues.{issue.name!s}", issue.name)
        if issue.name in seen:
            raise ScenarioError(f"{path} is defined twice (issue names must be unique)")
        if issue.name in ACTOR_FIELDS:
            raise ScenarioError(
                f"{path}: an issue may not be called {issue.name!r}, a reserved actor field"
            )
        seen.add(issue.name)
        _check_text(f"{path}.label", issue.label)
        _check_text(f"{path}.description", issue.description)
        if not isinstance(issue.anchors, tuple | list) or len(issue.anchors) != 3:
            got = (
                len(issue.anchors)
                if isinstance(issue.anchors, tuple | list)
                else repr(issue.anchors)
            )
            raise ScenarioError(f"{path}.anchors must give 3 texts, for 0, 0.5 and 1 (got {got})")
        for i, anchor in enumerate(issue.anchors):
            _check_text(f"{path}.anchors[{i}]", anchor)
        _check_evidence(path, issue.evidence)
        _check_parameter(f"{path}.status_quo", issue.status_quo, _UNIT)
        if issue.breakdown is not None:
            _check_parameter(f"{path}.breakdown", issue.breakdown, _UNIT)
        if not isinstance(issue.categories, tuple | list) or not isinstance(
            issue.cuts, tuple | list
        ):
            raise ScenarioError(
                f"{path}.categories and cuts must be sequences "
                f"(got {type(issue.categories).__name__} and {type(issue.cuts).__name__})"
            )
        if not issue.categories:
            raise ScenarioError(f"{path}.categories must name at least one category (got none)")
        for i, category in enumerate(issue.categories):
            _check_text(f"{path}.categories[{i}]", category)
        if len(set(issue.categories)) != len(issue.categories):
            raise ScenarioError(
                f"{path}.categories must be distinct (got {list(issue.categories)})"
            )
        if len(issue.cuts) != len(issue.categories) - 1:
            raise ScenarioError(
                f"{path}.cuts must have one fewer entry than categories "
                f"({len(issue.categories) - 1}; got {len(issue.cuts)})"
            )
        cuts = list(issue.cuts)
        for i, cut in enumerate(cuts):
            if isinstance(cut, bool) or not isinstance(cut, int | float):
                raise ScenarioError(f"{path}.cuts[{i}] must be a number (got {cut!r})")
        if any(not 0 < c < 1 for c in cuts) or any(b <= a for a, b in itertools.pairwise(cuts)):
            raise ScenarioError(
                f"{path}.cuts must be strictly increasing inside (0, 1) (got {cuts})"
            )

    if len(scn.actors) < 1:
        raise ScenarioError("actors must define at least one actor (got none)")
    for index, actor in enumerate(scn.actors):
        if not isinstance(actor, Actor):
            raise ScenarioError(f"actors[{index}] must be an Actor (got {type(actor).__name__})")
    names: set[str] = set()
    issue_names = scn.issue_names
    actor_names = scn.actor_names
    for actor in scn.actors:
        base = f"actors.{actor.name}"
        _check_name(base, actor.name)
        if actor.name in names:
            raise ScenarioError(f"{base} is defined twice (actor names must be unique)")
        names.add(actor.name)
        _check_text(f"{base}.label", actor.label)
        _check_text(f"{base}.description", actor.description)
        _check_parameter(f"{base}.capability", actor.capability, _ACTOR_RANGES["capability"])
        for issue_name in actor.stances:
            if issue_name not in issue_names:
                raise ScenarioError(
                    f"{base}.{issue_name} refers to an issue that does not exist"
                    f"{suggest(issue_name, issue_names)}; issues are {', '.join(issue_names)}"
                )
        for issue_name in issue_names:
            stance = actor.stances.get(issue_name)
            if stance is None:
                raise ScenarioError(
                    f"{base}.{issue_name} is missing: every actor needs a position and salience on every issue"
                )
            if not isinstance(stance, Stance):
                raise ScenarioError(
                    f"{base}.{issue_name} must be a Stance (got {type(stance).__name__})"
                )
            _check_parameter(f"{base}.{issue_name}.position", stance.position, _UNIT)
            _check_parameter(f"{base}.{issue_name}.salience", stance.salience, _UNIT)
        for name in ("anchoring", "discount", "concession", "noise"):
            _check_parameter(f"{base}.{name}", getattr(actor, name), _ACTOR_RANGES[name])
        if actor.disagreement is not None:
            _check_parameter(
                f"{base}.disagreement", actor.disagreement, _ACTOR_RANGES["disagreement"]
            )
        if len(set(actor.veto)) != len(actor.veto):
            raise ScenarioError(f"{base}.veto lists an issue twice (got {list(actor.veto)})")
        for issue_name in actor.veto:
            if issue_name not in issue_names:
                raise ScenarioError(
                    f"{base}.veto refers to an issue that does not exist (got {issue_name!r})"
                    f"{suggest(issue_name, issue_names)}"
                )
        for target, weight in actor.influence.items():
            if target not in actor_names:
                raise ScenarioError(
                    f"{base}.influence refers to an actor that does not exist (got {target!r})"
                    f"{suggest(target, actor_names)}"
                )
            if target == actor.name:
                raise ScenarioError(f"{base}.influence.{target}: an actor cannot influence itself")
            _check_parameter(f"{base}.influence.{target}", weight, _UNIT)

    for target in actor_names:
        sources = [(a.name, a.influence[target]) for a in scn.actors if target in a.influence]
        if not sources:
            continue
        nominal = sum(w.value for _, w in sources)
        upper = sum(w.support[1] for _, w in sources)
        if upper > 1 + 1e-12:
            detail = " + ".join(f"{n} {w.support[1]:g}" for n, w in sources)
            kind = "largest possible " if upper > nominal + 1e-12 else ""
            raise ScenarioError(
                f"influence weights on actors.{target} must sum to at most 1 "
                f"(got {kind}{detail} = {upper:g})"
            )

    proto = scn.protocol
    if not isinstance(proto, ProtocolSettings):
        raise ScenarioError(f"protocol must be a ProtocolSettings (got {type(proto).__name__})")
    if proto.recognition not in RECOGNITION_RULES:
        raise ScenarioError(
            f"protocol.recognition must be one of {', '.join(RECOGNITION_RULES)} (got {proto.recognition!r})"
            f"{suggest(proto.recognition, RECOGNITION_RULES)}"
        )
    if proto.recognition == "rotation" and not proto.rotation:
        raise ScenarioError(
            "protocol.rotation must list at least one actor when recognition = 'rotation' (got [])"
        )
    for name in proto.rotation:
        if name not in actor_names:
            raise ScenarioError(
                f"protocol.rotation refers to an actor that does not exist (got {name!r}){suggest(name, actor_names)}"
            )
    if proto.reservation not in RESERVATION_FORMS:
        raise ScenarioError(
            f"protocol.reservation must be one of {', '.join(RESERVATION_FORMS)} (got {proto.reservation!r})"
            f"{suggest(proto.reservation, RESERVATION_FORMS)}"
        )
    exponent = proto.utility_exponent
    if isinstance(exponent, bool) or not isinstance(exponent, int) or exponent not in (1, 2):
        raise ScenarioError(
            f"protocol.utility_exponent must be 1 or 2 (got {proto.utility_exponent!r})"
        )
    if proto.utility_exponent == 1 and len(scn.issues) > 1:
        raise ScenarioError(
            f"protocol.utility_exponent = 1 (linear loss) needs a single issue (got {len(scn.issues)} issues)"
        )
