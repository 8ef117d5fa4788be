"""Scenarios: issues, actors, protocol settings, and their validation."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from basesim._toml_text import scenario_to_toml
from basesim.actors import BEHAVIOUR_FIELDS, Actor, BehaviourField, Stance
from basesim.events import Event, check_events
from basesim.exceptions import ScenarioError
from basesim.issues import Budget, Issue
from basesim.parameters import CHOICE, CONFIDENCE_LEVELS, DISTRIBUTION_KINDS, Evidence, Parameter
from basesim.posterior_sample import PARTICLE_PATH, PosteriorSample, check_posterior
from basesim.vocabulary import (
    DECISION_RULES,
    KNOWN_MODELS,
    MAX_MONTHS,
    RECOGNITION_RULES,
    RESERVATION_FORMS,
    suggest,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ACTOR_FIELDS",
    "BEHAVIOUR_FIELDS",
    "DECISION_RULES",
    "KNOWN_MODELS",
    "RECOGNITION_RULES",
    "RESERVATION_FORMS",
    "BehaviourField",
    "DecisionRule",
    "ProtocolSettings",
    "Scenario",
    "suggest",
]


#: Every key an actor table may hold besides its issues.
ACTOR_FIELDS = (
    "label",
    "description",
    "capability",
    "veto",
    "votes",
    "proposer",
    "influence",
    *(f.name for f in BEHAVIOUR_FIELDS),
)
# \Z, not $: "$" also matches before a trailing newline ("turkey\n").
_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_SCENARIO_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*\Z")
_START = re.compile(r"^(\d{4})-(\d{2})\Z")

# Allowed range of each actor parameter: (low, high, low inclusive, high inclusive).
_ACTOR_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "capability": (0.0, math.inf, False, False),
    **{f.name: f.range for f in BEHAVIOUR_FIELDS},
}
_UNIT = (0.0, 1.0, True, True)
_SHARE = (0.0, 1.0, False, True)
_VOTES = (0.0, math.inf, True, False)


@dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolSettings:
    """How a round works.

    Parameters
    ----------
    model
        The negotiation model that runs the scenario: the name of a
        registered protocol (:data:`KNOWN_MODELS` are built in; default
        ``"bargaining"``).
    recognition
        ``"weighted"``: the proposer is drawn each round, among the actors
        with ``proposer = True``, with probability proportional to
        capability; ``"rotation"``: actors propose in the fixed order
        ``rotation`` (alternating offers).
    rotation
        Actor names, in order, for ``recognition = "rotation"``; each must
        be a proposer.
    reservation
        ``"concession"``: time-dependent concession curves (boundedly rational
        actors); ``"equilibrium"``: discounted continuation values by backward
        induction over ``lookahead`` months.  Or a choice :class:`Parameter`
        whose value is an index into :data:`RESERVATION_FORMS` and whose
        distribution (``kind="choice"``) weighs the forms, so that each run
        draws its form.
    lookahead
        Months (>= 1) of backward induction for the equilibrium form.
    utility_exponent
        2 (quadratic loss, the default) or 1 (linear loss; several issues
        only with ``model = "bargaining"``, which solves the proposer's
        problem as a linear programme).

    Examples
    --------
    >>> from basesim import Distribution
    >>> p = ProtocolSettings(reservation=Parameter(
    ...     value=0.0, distribution=Distribution(kind="choice", weights=(0.7, 0.3))))
    >>> p.nominal_reservation, p.reservation_forms
    ('concession', ('concession', 'equilibrium'))
    """

    model: str = "bargaining"
    recognition: str = "weighted"
    rotation: tuple[str, ...] = ()
    reservation: str | Parameter = "concession"
    lookahead: int = 60
    utility_exponent: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotation", tuple(self.rotation))

    @property
    def nominal_reservation(self) -> str:
        """The reservation form used when uncertainty is switched off."""
        if isinstance(self.reservation, Parameter):
            return RESERVATION_FORMS[int(self.reservation.value)]
        return self.reservation

    @property
    def reservation_forms(self) -> tuple[str, ...]:
        """The reservation forms runs may use, in :data:`RESERVATION_FORMS` order."""
        reservation = self.reservation
        if not isinstance(reservation, Parameter):
            return (reservation,)
        dist = reservation.distribution
        if dist is None or dist.weights is None:
            return (self.nominal_reservation,)
        return tuple(f for f, w in zip(RESERVATION_FORMS, dist.weights, strict=True) if w > 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRule:
    """How one issue is decided, resolved from its ``rule`` or from the legacy vetoes.

    Parameters
    ----------
    rule
        One of :data:`DECISION_RULES`.
    voters
        The actors whose acceptance counts, in actor order for legacy vetoes.
        For ``"unilateral"``: ``(authority,)``.
    threshold
        The share of the voters' votes that must accept: the issue's own for
        ``"qualified"``, 0.5 for ``"majority"``, 1.0 for ``"unanimity"`` and
        ``"unilateral"``.
    strict
        True for ``"majority"``: the accepting votes must *exceed* the
        threshold.
    min_voter_share
        For ``"qualified"``: the share of the voters (by head count) that must
        accept as well; 0.0 if none.
    authority
        The actor who decides a ``"unilateral"`` issue alone, else ``None``.

    Whether acceptors meet the rule is decided in one place, by the
    protocol (:func:`basesim.protocols.rules.rule_met`).

    Examples
    --------
    >>> import basesim
    >>> basesim.load_scenario("syria-2025").decision_rule("basing")
    DecisionRule(rule='unanimity', voters=('syria', 'russia'), threshold=1.0, strict=False, min_voter_share=0.0, authority=None)
    """

    rule: str
    voters: tuple[str, ...]
    threshold: float
    strict: bool = False
    min_voter_share: float = 0.0
    authority: str | None = None


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
        Number of rounds (months) simulated; issues still unsettled then are
        reported as unsettled, at their drifted status quo.
    start
        Calendar month of round 1, ``"YYYY-MM"``; one round is one month.
    protocol
        The round's rules.
    budgets
        Groups of issues whose values must sum to at most a total
        (:class:`~basesim.Budget`); ``model = "bargaining"`` with
        ``utility_exponent = 1`` only.
    events
        Known events on the timeline (:class:`~basesim.Event`), applied by
        the engines at the start of their month.
    as_of
        The date (``"YYYY-MM-DD"`` or ``"YYYY-MM"``) of the newest evidence
        the scenario may use: validation refuses a cited source dated after
        it (:data:`basesim.sources.SOURCE_DATES`).  ``None``: not checked.
    posterior
        Weighted particles over some uncertain parameters
        (:class:`~basesim.posterior_sample.PosteriorSample`, made by
        :meth:`basesim.Posterior.scenario`): runs draw a particle and those
        parameters take its values, jointly.  ``None`` (default): every
        uncertain parameter follows its own distribution.
    """

    name: str
    title: str = ""
    description: str = ""
    issues: tuple[Issue, ...]
    actors: tuple[Actor, ...]
    horizon: int = 24
    start: str | None = None
    protocol: ProtocolSettings = field(default_factory=ProtocolSettings)
    budgets: tuple[Budget, ...] = ()
    events: tuple[Event, ...] = ()
    as_of: str | None = None
    posterior: PosteriorSample | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "issues", tuple(self.issues))
        object.__setattr__(self, "actors", tuple(self.actors))
        if isinstance(self.budgets, list):
            object.__setattr__(self, "budgets", tuple(self.budgets))
        if isinstance(self.events, list):
            object.__setattr__(self, "events", tuple(self.events))
        _check_scenario(self)
        check_posterior(self)

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

    def decision_rule(self, issue_name: str) -> DecisionRule:
        """How the issue ``issue_name`` is decided.

        An issue without a ``rule`` (legacy) is decided by unanimity among the
        actors whose ``veto`` names it, in actor order.

        Examples
        --------
        >>> import basesim
        >>> basesim.load_scenario("syria-2025").decision_rule("basing")
        DecisionRule(rule='unanimity', voters=('syria', 'russia'), threshold=1.0, strict=False, min_voter_share=0.0, authority=None)
        """
        return _resolve_rule(self.issue(issue_name), self.actors)

    def parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Every numeric parameter with its field path, in a fixed order.

        Per issue: ``status_quo``, ``breakdown`` (when given), ``drift``; per
        actor: ``capability``, position and salience on each issue, the
        :data:`BEHAVIOUR_FIELDS` (``disagreement`` when given), influence
        weights; last ``protocol.reservation`` when it is a choice parameter.
        """
        for issue in self.issues:
            yield f"issues.{issue.name}.status_quo", issue.status_quo
            if issue.breakdown is not None:
                yield f"issues.{issue.name}.breakdown", issue.breakdown
            yield f"issues.{issue.name}.drift", issue.drift
        for actor in self.actors:
            base = f"actors.{actor.name}"
            yield f"{base}.capability", actor.capability
            for issue_name in self.issue_names:
                stance = actor.stances.get(issue_name)
                if stance is not None:
                    yield f"{base}.{issue_name}.position", stance.position
                    yield f"{base}.{issue_name}.salience", stance.salience
            for declared in BEHAVIOUR_FIELDS:
                param = getattr(actor, declared.name)
                if param is not None:
                    yield f"{base}.{declared.name}", param
            for target, weight in actor.influence.items():
                yield f"{base}.influence.{target}", weight
        if isinstance(self.protocol.reservation, Parameter):
            yield "protocol.reservation", self.protocol.reservation
        for event in self.events:
            yield f"events.{event.name}.month", event.month_parameter(self)
            if event.value is not None:
                yield f"events.{event.name}.value", event.value

    def uncertain_parameters(self) -> tuple[str, ...]:
        """Paths of the parameters that runs draw from a distribution.

        With a ``posterior``, the last is ``posterior.particle``, the choice of
        each run's particle.
        """
        paths = tuple(path for path, p in self.parameters() if p.is_uncertain)
        return paths if self.posterior is None else (*paths, PARTICLE_PATH)

    # -- presentation -----------------------------------------------------------
    def explain(self) -> pd.DataFrame:
        """A table of every parameter: value, range, evidence and rationale.

        Returns
        -------
        pandas.DataFrame
            One row per parameter, with columns ``actor``, ``issue``,
            ``field``, ``value``, ``low``, ``high``, ``uncertainty``,
            ``evidence``, ``rationale``, ``confidence``, ``assumption`` and
            ``path``.  Issue-level parameters have an empty ``actor``;
            ``protocol.reservation`` (a choice) has neither actor nor issue,
            and its value is the index of its nominal form.
        """
        import pandas as pd

        rows = []
        for path, param in self.parameters():
            parts = path.split(".")
            if parts[0] == "protocol":
                actor, issue, name = "", "", parts[1]
            elif parts[0] == "events":
                event = next(e for e in self.events if e.name == parts[1])
                on_issue = event.kind in ("settle", "rule") or event.target.startswith("issues.")
                on_actor = event.kind == "table" or event.target.startswith("actors.")
                where = event.target.split(".")
                actor = (where[1] if len(where) > 1 else where[0]) if on_actor else ""
                issue = (where[1] if len(where) > 1 else where[0]) if on_issue else ""
                if on_actor and len(where) == 4 and where[2] in self.issue_names:
                    issue = where[2]
                name = f"event {event.name}: {parts[2]} ({event.kind} {event.target})"

            elif parts[0] == "issues":
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
                    "uncertainty": _describe_uncertainty(path, param),
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

        if changes is not None and not isinstance(changes, Mapping):
            raise ScenarioError(
                "changes must be a mapping of field paths to values "
                f"(got {type(changes).__name__}: {changes!r})"
            )
        return replace_values(self, {**dict(changes or {}), **fields})


def _describe_uncertainty(path: str, param: Parameter) -> str:
    dist = param.distribution
    if dist is None:
        return "fixed"
    if path == "protocol.reservation" and dist.weights is not None:
        options = zip(RESERVATION_FORMS, dist.weights, strict=False)
        return f"choice({', '.join(f'{form} {w:g}' for form, w in options)})"
    return dist.describe()


def _resolve_rule(issue: Issue, actors: Iterable[Actor]) -> DecisionRule:
    """The :class:`DecisionRule` of an issue (of a validated scenario)."""
    if issue.rule is None:
        holders = tuple(a.name for a in actors if issue.name in a.veto)
        return DecisionRule(rule="unanimity", voters=holders, threshold=1.0)
    if issue.rule == "unilateral":
        assert issue.authority is not None
        return DecisionRule(
            rule="unilateral",
            voters=(issue.authority,),
            threshold=1.0,
            authority=issue.authority,
        )
    voters = issue.voters if issue.voters is not None else tuple(a.name for a in actors)
    if issue.rule == "majority":
        return DecisionRule(rule="majority", voters=voters, threshold=0.5, strict=True)
    if issue.rule == "qualified":
        assert issue.threshold is not None
        share = 0.0 if issue.min_voter_share is None else float(issue.min_voter_share)
        return DecisionRule(
            rule="qualified",
            voters=voters,
            threshold=float(issue.threshold),
            min_voter_share=share,
        )
    return DecisionRule(rule="unanimity", voters=voters, threshold=1.0)


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
        if dist.kind == CHOICE:
            raise ScenarioError(
                f"{path}.dist must be one of {', '.join(DISTRIBUTION_KINDS)} (got {CHOICE!r}; "
                "a choice is only for protocol.reservation)"
            )
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


def _check_number(path: str, value: Any, allowed: tuple[float, float, bool, bool]) -> None:
    """A plain (not a :class:`Parameter`) number in the range ``allowed``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{path} must be a number (got {_fmt(value)})")
    if not _is_finite(value):
        raise ScenarioError(f"{path} must be a finite number (got {_fmt(value)})")
    if not _in_range(value, allowed):
        raise ScenarioError(f"{path} must be {_range_text(*allowed)} (got {_fmt(value)})")


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
    if not isinstance(ev.sources, tuple):
        raise ScenarioError(
            f"{path}.evidence must be a list of source identifiers "
            f"(got {type(ev.sources).__name__}: {ev.sources!r})"
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


def _model_names() -> tuple[str, ...]:
    """The registered protocol names (the built-in ones first)."""
    from basesim.protocols.registry import names

    return (*KNOWN_MODELS, *(n for n in names() if n not in KNOWN_MODELS))


def _check_scenario(scn: Scenario) -> None:
    _check_name("scenario.name", scn.name, _SCENARIO_NAME)
    horizon = scn.horizon
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_MONTHS:
        raise ScenarioError(
            f"scenario.horizon must be a whole number of months in [1, {MAX_MONTHS}] "
            f"(got {horizon!r}); the engines hold every month's random draws of a batch"
        )
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
        _check_parameter(f"{path}.drift", issue.drift, _UNIT)
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
        for declared in BEHAVIOUR_FIELDS:
            param = getattr(actor, declared.name)
            if param is not None or declared.default is not None:
                _check_parameter(f"{base}.{declared.name}", param, declared.range)
        _check_number(f"{base}.votes", actor.votes, _VOTES)
        if not isinstance(actor.proposer, bool):
            raise ScenarioError(f"{base}.proposer must be true or false (got {actor.proposer!r})")
        if not isinstance(actor.veto, tuple) or not all(isinstance(v, str) for v in actor.veto):
            raise ScenarioError(
                f"{base}.veto must be a list of issue names "
                f"(got {type(actor.veto).__name__}: {actor.veto!r})"
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

    if not any(a.proposer for a in scn.actors):
        raise ScenarioError(
            "actors must include at least one proposer (got proposer = false for every actor)"
        )
    for issue in scn.issues:
        _check_decision(issue, scn)

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
    models = _model_names()
    if not isinstance(proto.model, str) or proto.model not in models:
        raise ScenarioError(
            f"protocol.model must be one of {', '.join(models)} (got {proto.model!r})"
            f"{suggest(proto.model, models)}"
        )
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
        if proto.recognition == "rotation" and not scn.actor(name).proposer:
            raise ScenarioError(
                f"protocol.rotation may only name proposers (got {name!r}, "
                f"whose actors.{name}.proposer is false)"
            )
    _check_reservation(proto.reservation)
    lookahead = proto.lookahead
    if (
        isinstance(lookahead, bool)
        or not isinstance(lookahead, int)
        or not 1 <= lookahead <= MAX_MONTHS
    ):
        raise ScenarioError(
            f"protocol.lookahead must be a whole number of months in [1, {MAX_MONTHS}] "
            f"(got {lookahead!r})"
        )
    exponent = proto.utility_exponent
    if isinstance(exponent, bool) or not isinstance(exponent, int) or exponent not in (1, 2):
        raise ScenarioError(
            f"protocol.utility_exponent must be 1 or 2 (got {proto.utility_exponent!r})"
        )
    _check_budgets(scn)
    check_events(scn)
    _check_as_of(scn)
    if proto.utility_exponent == 1 and len(scn.issues) > 1 and proto.model != "bargaining":
        raise ScenarioError(
            f"protocol.utility_exponent = 1 (linear loss) needs a single issue unless "
            f"protocol.model = 'bargaining' (got {len(scn.issues)} issues with model "
            f"{proto.model!r})"
        )


def _cited(scn: Scenario) -> Iterator[tuple[str, Evidence]]:
    """Every evidence record of the scenario, with the path it belongs to."""
    for path, param in scn.parameters():
        yield path, param.evidence
    for issue in scn.issues:
        yield f"issues.{issue.name}", issue.evidence
    for event in scn.events:
        yield f"events.{event.name}", event.evidence


def _check_as_of(scn: Scenario) -> None:
    """No cited source may be dated after ``as_of``."""
    if scn.as_of is None:
        return
    from basesim.sources import parse_date, source_date

    as_of = parse_date(scn.as_of, field="scenario.as_of")
    for path, evidence in _cited(scn):
        for source in evidence.sources:
            dated = source_date(source)
            if dated is not None and dated > as_of:
                raise ScenarioError(
                    f"{path}.evidence cites {source}, dated {dated.isoformat()}, after the "
                    f"scenario's as_of {scn.as_of} (a scenario may only use what was known by "
                    f"its as_of date; move as_of later to use hindsight)"
                )


def _check_budgets(scn: Scenario) -> None:
    """Each budget: a known, unique name; known issues, each in one budget; a total in
    (0, number of issues]; a status quo (and its drift) that never breaks it."""
    budgets = scn.budgets
    if not isinstance(budgets, tuple):
        raise ScenarioError(f"budgets must be a sequence of Budget (got {type(budgets).__name__})")
    if not budgets:
        return
    proto = scn.protocol
    if proto.model != "bargaining":
        raise ScenarioError(
            f"budgets are honoured only by protocol.model = 'bargaining' (got {proto.model!r})"
        )
    if proto.utility_exponent != 1:
        raise ScenarioError(
            "budgets need protocol.utility_exponent = 1 (linear loss, solved as a linear "
            f"programme) (got {proto.utility_exponent!r})"
        )
    issue_names = scn.issue_names
    owner: dict[str, str] = {}
    seen: set[str] = set()
    for index, budget in enumerate(budgets):
        if not isinstance(budget, Budget):
            raise ScenarioError(f"budgets[{index}] must be a Budget (got {type(budget).__name__})")
        path = f"budgets.{budget.name}"
        _check_name(f"budgets.{budget.name!s}", budget.name)
        if budget.name in seen:
            raise ScenarioError(f"{path} is defined twice (budget names must be unique)")
        seen.add(budget.name)
        _check_text(f"{path}.description", budget.description)
        members = budget.issues
        if not isinstance(members, tuple) or not all(isinstance(m, str) for m in members):
            raise ScenarioError(
                f"{path}.issues must be a list of issue names "
                f"(got {type(members).__name__}: {members!r})"
            )
        if not members:
            raise ScenarioError(f"{path}.issues names no issue: list at least one (got [])")
        if len(set(members)) != len(members):
            raise ScenarioError(f"{path}.issues lists an issue twice (got {list(members)})")
        for name in members:
            if name not in issue_names:
                raise ScenarioError(
                    f"{path}.issues refers to an issue that does not exist (got {name!r})"
                    f"{suggest(name, issue_names)}"
                )
            if name in owner:
                raise ScenarioError(
                    f"{path}.issues: issue {name!r} is already in budgets.{owner[name]} "
                    "(an issue belongs to at most one budget)"
                )
            owner[name] = budget.name
        _check_number(f"{path}.total", budget.total, (0.0, float(len(members)), False, True))
        # The status quo must respect the budget in every run, and drift must
        # never raise it: an open issue's status quo only moves toward a
        # breakdown value below it.
        for name in members:
            issue = scn.issue(name)
            if issue.breakdown is None or issue.drift.support[1] == 0:
                continue
            above = issue.breakdown.support[1]
            floor = issue.status_quo.support[0]
            if above > floor:
                raise ScenarioError(
                    f"issues.{name}.breakdown must not exceed issues.{name}.status_quo in "
                    f"any run when the issue drifts and is in {path} (drift must never "
                    f"raise a budget's sum) (got breakdown up to {above:g} against a "
                    f"status quo down to {floor:g})"
                )
        highs = [(name, scn.issue(name).status_quo.support[1]) for name in members]
        largest = sum(high for _, high in highs)
        if largest > budget.total + 1e-12:
            detail = " + ".join(f"issues.{n}.status_quo {h:g}" for n, h in highs)
            raise ScenarioError(
                f"{path}.total {budget.total:g} is broken by the status quo: its issues' "
                f"status quo must sum to at most the total in every run (got largest "
                f"possible {detail} = {largest:g})"
            )


def _check_reservation(reservation: Any) -> None:
    path = "protocol.reservation"
    forms = ", ".join(RESERVATION_FORMS)
    if not isinstance(reservation, Parameter):
        if not isinstance(reservation, str) or reservation not in RESERVATION_FORMS:
            raise ScenarioError(
                f"{path} must be one of {forms} (got {reservation!r})"
                f"{suggest(reservation, RESERVATION_FORMS)}"
            )
        return
    value = reservation.value
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value not in range(len(RESERVATION_FORMS))
    ):
        raise ScenarioError(
            f"{path}.value must be the index of a form in RESERVATION_FORMS "
            f"(0 to {len(RESERVATION_FORMS) - 1}: {forms}) (got {_fmt(value)})"
        )
    dist = reservation.distribution
    if dist is not None:
        if dist.kind != CHOICE:
            raise ScenarioError(f"{path}.dist must be {CHOICE!r} (got {dist.kind!r})")
        weights = dist.weights
        if isinstance(weights, tuple) and len(weights) != len(RESERVATION_FORMS):
            raise ScenarioError(
                f"{path}.weights must give one weight per form ({forms}; got {len(weights)})"
            )
        if isinstance(weights, tuple):
            for form, w in zip(RESERVATION_FORMS, weights, strict=True):
                wpath = f"{path}.weights.{form}"
                if isinstance(w, bool) or not isinstance(w, int | float):
                    raise ScenarioError(f"{wpath} must be a number (got {_fmt(w)})")
                if not _is_finite(w):
                    raise ScenarioError(f"{wpath} must be a finite number (got {_fmt(w)})")
                if w < 0:
                    raise ScenarioError(f"{wpath} must be >= 0 (got {_fmt(w)})")
        problems = dist.check()
        if problems:
            name, what, bad = problems[0]
            raise ScenarioError(f"{path}.{name} {what} (got {_fmt(bad)})")
        assert weights is not None
        nominal = RESERVATION_FORMS[int(value)]
        if not weights[int(value)] > 0:
            raise ScenarioError(
                f"{path}.value must be a form with a positive weight "
                f"(got {nominal!r}, whose weight is {_fmt(weights[int(value)])})"
            )
    _check_evidence(path, reservation.evidence)


def _check_decision(issue: Issue, scn: Scenario) -> None:
    """The issue's decision rule: ``rule``, ``voters``, ``threshold`` ... and legacy vetoes."""
    path = f"issues.{issue.name}"
    actor_names = scn.actor_names
    holders = [a.name for a in scn.actors if issue.name in a.veto]
    rule = issue.rule
    if rule is None:
        for name in ("voters", "threshold", "min_voter_share", "authority"):
            value = getattr(issue, name)
            if value is not None:
                raise ScenarioError(
                    f"{path}.{name} needs a rule: set {path}.rule (got {name} = "
                    f"{_fmt(list(value) if isinstance(value, tuple) else value)} without one)"
                )
        if not holders:
            raise ScenarioError(
                f"{path}.rule is required: no actor's veto names {issue.name!r}, so give "
                f"rule = one of {', '.join(DECISION_RULES)}"
            )
        return
    if not isinstance(rule, str) or rule not in DECISION_RULES:
        raise ScenarioError(
            f"{path}.rule must be one of {', '.join(DECISION_RULES)} (got {rule!r})"
            f"{suggest(rule, DECISION_RULES)}"
        )
    if holders:
        vetoes = " and ".join(f"actors.{name}.veto" for name in holders)
        verb = "names" if len(holders) == 1 else "name"
        raise ScenarioError(
            f"{path}.rule cannot be combined with vetoes on the issue (got rule = {rule!r} "
            f"while {vetoes} {verb} {issue.name!r}); list those actors in {path}.voters instead"
        )

    voters = issue.voters
    if voters is not None:
        if not isinstance(voters, tuple):
            raise ScenarioError(
                f"{path}.voters must be a list of actor names "
                f"(got {type(voters).__name__}: {voters!r})"
            )
        if rule == "unilateral":
            raise ScenarioError(
                f"{path}.voters is not used with rule = 'unilateral', where the authority "
                f"decides alone (got {list(voters)})"
            )
        if not voters:
            raise ScenarioError(f"{path}.voters names nobody: list at least one actor (got [])")
        for name in voters:
            if name not in actor_names:
                raise ScenarioError(
                    f"{path}.voters refers to an actor that does not exist (got {name!r})"
                    f"{suggest(name, actor_names)}"
                )
        if len(set(voters)) != len(voters):
            raise ScenarioError(f"{path}.voters lists an actor twice (got {list(voters)})")

    for name, allowed_rule in (
        ("threshold", "qualified"),
        ("min_voter_share", "qualified"),
        ("authority", "unilateral"),
    ):
        value = getattr(issue, name)
        if value is not None and rule != allowed_rule:
            raise ScenarioError(
                f"{path}.{name} is only allowed with rule = {allowed_rule!r} "
                f"(got {name} = {_fmt(value)} with rule = {rule!r})"
            )
    if rule == "qualified":
        if issue.threshold is None:
            raise ScenarioError(f"{path}.threshold is required for rule = 'qualified' (got none)")
        _check_number(f"{path}.threshold", issue.threshold, _SHARE)
        if issue.min_voter_share is not None:
            _check_number(f"{path}.min_voter_share", issue.min_voter_share, _SHARE)
    if rule == "unilateral":
        authority = issue.authority
        if authority is None:
            raise ScenarioError(f"{path}.authority is required for rule = 'unilateral' (got none)")
        if authority not in actor_names:
            raise ScenarioError(
                f"{path}.authority refers to an actor that does not exist (got {authority!r})"
                f"{suggest(authority, actor_names)}"
            )
    if rule in ("qualified", "majority"):
        chosen = voters if voters is not None else actor_names
        total = sum(scn.actor(name).votes for name in chosen)
        if not total > 0:
            raise ScenarioError(
                f"{path}.voters carry no voting weight: rule = {rule!r} needs their votes "
                f"to sum to more than 0 (got {_fmt(total)})"
            )
