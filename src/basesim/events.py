"""Known events on a scenario's timeline.

An :class:`Event` happens at a month (fixed, or drawn per run from a
distribution) and changes the negotiation from the start of that month on:

``"set"``
    a parameter takes a new value: an issue's ``status_quo`` (the current
    status quo of an open issue), ``breakdown`` or ``drift``; an actor's
    ``capability``, position or salience on an issue (a new position moves the
    actor's anchor and its current stance), a behaviour field or an
    influence weight.  ``target`` is the parameter's path, as in
    :meth:`Scenario.explain`.
``"settle"``
    an issue is settled at ``value`` by a unilateral act, outside the talks
    (``settled_by`` is -2 in the runs' records).
``"rule"``
    an issue's decision rule changes (``rule``, ``voters``, ``threshold``,
    ``min_voter_share``, ``authority``, as on an issue).
``"table"``
    an actor joins (``proposer = true``) or leaves (``false``) the table:
    whether it may be recognised to propose.

Every event carries its evidence and rationale like any number, and
:meth:`Scenario.explain` lists its month and value.  The engines apply the
events of a month before that month's round, identically in both engines;
nobody anticipates them (the equilibrium reservation values are recomputed
after an event, not foreseen before it).  An event in a month after a run has
ended (every issue settled) changes nothing in that run.

A month's value ``m`` (fixed, or each run's draw of it) means the start of
month ``floor(m)``: a uniform on ``[3, 6)`` gives months 3, 4 and 5 with
probability 1/3 each, and a sweep may set a fixed month to 4.5 (month 4).  A ``date`` (``"YYYY-MM"``) gives the month it falls in,
counted from the scenario's ``start``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from basesim.exceptions import ScenarioError
from basesim.parameters import Evidence, Parameter

if TYPE_CHECKING:
    from basesim.scenario import Scenario

__all__ = ["CHANGE_FIELDS", "EVENT_KINDS", "SETTLED_BY_EVENT", "Event", "month_of_date"]

#: What an event can change.
EVENT_KINDS = ("set", "settle", "rule", "table")
#: The fields that say what an event changes to (each kind takes some of them).
CHANGE_FIELDS = (
    "value",
    "rule",
    "voters",
    "threshold",
    "min_voter_share",
    "authority",
    "proposer",
)
#: ``settled_by`` of an issue settled by an event (a unilateral act outside the talks).
SETTLED_BY_EVENT = -2
_ISSUE_TARGETS = ("status_quo", "breakdown", "drift")


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """A dated change to a scenario (see the module's text for the kinds).

    Parameters
    ----------
    name
        Identifier (lower case, digits, ``_``), unique in the scenario.
    kind
        One of :data:`EVENT_KINDS`.
    target
        ``"set"``: a parameter path (``"issues.basing.drift"``,
        ``"actors.russia.basing.salience"``, ``"actors.syria.discount"``);
        ``"settle"`` and ``"rule"``: an issue name; ``"table"``: an actor name.
    month
        A :class:`Parameter` for the month it happens (``floor`` of the value;
        may be uncertain); or give ``date`` instead.
    date
        ``"YYYY-MM"``: the calendar month it happens, counted from the
        scenario's ``start``.
    value
        The new value (``"set"``, ``"settle"``); may be uncertain.
    rule, voters, threshold, min_voter_share, authority
        The new decision rule (``"rule"``), as on an :class:`~basesim.Issue`.
    proposer
        Whether the actor is at the table from then on (``"table"``).
    description
        What happened, in the author's words.
    evidence
        What the event rests on (``E<n>``, ``S<n>``), with a rationale.

    Examples
    --------
    >>> e = Event(name="relief", kind="settle", target="sanctions_relief", date="2025-06",
    ...           value=Parameter.fixed(0.8), evidence=Evidence(sources=("E11",)))
    >>> e.kind, e.value.value
    ('settle', 0.8)
    """

    name: str
    kind: str
    target: str
    month: Parameter | None = None
    date: str | None = None
    value: Parameter | None = None
    rule: str | None = None
    voters: tuple[str, ...] | None = None
    threshold: float | None = None
    min_voter_share: float | None = None
    authority: str | None = None
    proposer: bool | None = None
    description: str = ""
    evidence: Evidence = field(default_factory=Evidence)

    def __post_init__(self) -> None:
        if isinstance(self.voters, list):
            object.__setattr__(self, "voters", tuple(self.voters))
        for name in ("month", "value"):
            given = getattr(self, name)
            if isinstance(given, int | float) and not isinstance(given, bool):
                object.__setattr__(self, name, Parameter.fixed(float(given)))

    def month_parameter(self, scenario: Scenario) -> Parameter:
        """The month as a parameter (a date becomes a fixed month)."""
        if self.month is not None:
            return self.month
        assert self.date is not None  # validation requires one of the two
        month = month_of_date(scenario, self.date, field=f"events.{self.name}.date")
        return Parameter(value=float(month), evidence=self.evidence)


def month_of_date(scenario: Scenario, date: str, *, field: str) -> int:
    """The month index (1 = ``scenario.start``) of a ``"YYYY-MM"`` or ``"YYYY-MM-DD"`` date."""
    from basesim.sources import parse_date

    if scenario.start is None:
        raise ScenarioError(f"{field} needs scenario.start, to count months from (got none)")
    day = parse_date(date, field=field)
    year, month = (int(x) for x in scenario.start.split("-"))
    return (day.year - year) * 12 + (day.month - month) + 1


# -- validation (called by Scenario's own) ---------------------------------------------------
def check_events(scn: Scenario) -> None:
    """Validate every event of ``scn`` against the scenario (names, targets, months, values)."""
    from basesim.scenario import _check_evidence, _check_name, _check_parameter, _check_text

    if not isinstance(scn.events, tuple):
        raise ScenarioError(
            f"events must be a sequence of Event (got {type(scn.events).__name__})"
        )
    seen: set[str] = set()
    for index, event in enumerate(scn.events):
        if not isinstance(event, Event):
            raise ScenarioError(f"events[{index}] must be an Event (got {type(event).__name__})")
        _check_name(f"events[{index}].name", event.name)
        path = f"events.{event.name}"
        if event.name in seen:
            raise ScenarioError(f"{path} is defined twice (event names must be unique)")
        seen.add(event.name)
        _check_text(f"{path}.description", event.description)
        _check_evidence(path, event.evidence)
        if event.kind not in EVENT_KINDS:
            from basesim.vocabulary import suggest

            raise ScenarioError(
                f"{path}.kind must be one of {', '.join(EVENT_KINDS)} (got {event.kind!r})"
                f"{suggest(str(event.kind), EVENT_KINDS)}"
            )
        _check_month(scn, event, path)
        _check_change(scn, event, path, _check_parameter)
    _check_reachable(scn)
    _check_influence(scn)


#: Most combinations of rule and table events checked one by one.
MAX_COMBINATIONS = 4096
#: Most rule and table events in a scenario (the engines give each a bit of an int64).
MAX_SEAT_EVENTS = 62


def _check_reachable(scn: Scenario) -> None:
    """Every set of rule and table changes a run can reach must be a valid scenario.

    Events on the same issue's rule (or the same actor's seat) replace one
    another, so a run holds at most one of them per issue or actor, in any
    combination across issues and actors (their months may be drawn).
    """
    import itertools

    from basesim.engine.events import structural_variant

    seats: dict[tuple[str, str], list[Event]] = {}
    for event in scn.events:
        if event.kind in ("rule", "table"):
            seats.setdefault((event.kind, event.target), []).append(event)
    count = sum(len(v) for v in seats.values())
    if count > MAX_SEAT_EVENTS:
        raise ScenarioError(
            f"events: a scenario may have at most {MAX_SEAT_EVENTS} rule and table events "
            f"(got {count})"
        )
    if count < 2:
        return
    options = [[None, *events] for events in seats.values()]
    if math.prod(len(o) for o in options) > MAX_COMBINATIONS:
        raise ScenarioError(
            f"events: the rule and table events allow more than {MAX_COMBINATIONS} "
            "combinations of rules and seats to check; use fewer of them"
        )
    base = _bare(scn)
    for combination in itertools.product(*options):
        held = [e for e in combination if e is not None]
        if len(held) < 2:
            continue  # each alone was checked with its event
        try:
            structural_variant(base, held)
        except ScenarioError as exc:
            raise ScenarioError(
                "events: runs can reach the rule and table changes of "
                f"{', '.join(e.name for e in held)} together, which break a rule: "
                f"{exc.field_message}"
            ) from None


def _check_influence(scn: Scenario) -> None:
    """Influence weights on one actor must sum to at most 1 with every event's largest value."""
    largest: dict[tuple[str, str], tuple[float, str]] = {}
    for actor in scn.actors:
        for target, weight in actor.influence.items():
            largest[(actor.name, target)] = (weight.support[1], f"actors.{actor.name}")
    for event in scn.events:
        parts = event.target.split(".")
        if event.kind == "set" and len(parts) == 4 and parts[2] == "influence":
            assert event.value is not None
            key = (parts[1], parts[3])
            high = event.value.support[1]
            if high > largest.get(key, (-1.0, ""))[0]:
                largest[key] = (high, f"events.{event.name}")
    for target in scn.actor_names:
        sources = [(s, w, who) for (s, t), (w, who) in largest.items() if t == target]
        total = sum(w for _, w, _ in sources)
        if total > 1 + 1e-12 and any(who.startswith("events.") for _, _, who in sources):
            detail = " + ".join(f"{s} {w:g} ({who})" for s, w, who in sources)
            raise ScenarioError(
                f"events: influence weights on actors.{target} must sum to at most 1 with "
                f"every event's largest value (got {detail} = {total:g})"
            )


def _check_month(scn: Scenario, event: Event, path: str) -> None:
    from basesim.scenario import _check_parameter

    if (event.month is None) == (event.date is None):
        raise ScenarioError(
            f"{path} needs exactly one of month and date "
            f"(got month={event.month!r}, date={event.date!r})"
        )
    if event.date is not None:
        month = month_of_date(scn, event.date, field=f"{path}.date")
        if not 1 <= month <= scn.horizon:
            raise ScenarioError(
                f"{path}.date must fall inside the horizon, months {scn.start} to month "
                f"{scn.horizon} (got {event.date!r}, month {month})"
            )
        return
    param = event.month
    if not isinstance(param, Parameter):
        raise ScenarioError(f"{path}.month must be a number or a Parameter (got {param!r})")
    # A month m means month floor(m), fixed or drawn, so values lie in [1, horizon + 1]
    # (horizon + 1 itself, the top of a range, counts as the last month).
    _check_parameter(f"{path}.month", param, (1.0, scn.horizon + 1.0, True, True))


def _check_change(scn: Scenario, event: Event, path: str, check_parameter: Any) -> None:
    from basesim.issues import Issue
    from basesim.vocabulary import suggest

    extras = {
        "set": ("value",),
        "settle": ("value",),
        "rule": ("rule", "voters", "threshold", "min_voter_share", "authority"),
        "table": ("proposer",),
    }[event.kind]
    for key in CHANGE_FIELDS:
        if key not in extras and getattr(event, key) is not None:
            raise ScenarioError(
                f"{path}.{key} does not belong to an event of kind {event.kind!r} "
                f"(it takes {', '.join(extras)})"
            )
    issues, actors = scn.issue_names, scn.actor_names
    if event.kind in ("settle", "rule") and event.target not in issues:
        raise ScenarioError(
            f"{path}.target must name an issue for kind {event.kind!r} "
            f"(got {event.target!r}){suggest(str(event.target), issues)}; "
            f"issues are {', '.join(issues)}"
        )
    if event.kind == "table":
        if event.target not in actors:
            raise ScenarioError(
                f"{path}.target must name an actor for kind 'table' "
                f"(got {event.target!r}){suggest(str(event.target), actors)}; "
                f"actors are {', '.join(actors)}"
            )
        if not isinstance(event.proposer, bool):
            raise ScenarioError(f"{path}.proposer must be true or false (got {event.proposer!r})")
        return
    if event.kind == "rule":
        if event.rule is None:
            raise ScenarioError(f"{path}.rule is required for an event of kind 'rule'")
        issue = scn.issue(event.target)
        changed = Issue(
            **{
                **{f: getattr(issue, f) for f in issue.__slots__},
                "rule": event.rule,
                "voters": event.voters,
                "threshold": event.threshold,
                "min_voter_share": event.min_voter_share,
                "authority": event.authority,
            }
        )
        try:
            dataclasses.replace(
                scn,
                issues=tuple(changed if i.name == issue.name else i for i in scn.issues),
                events=(),
                posterior=None,
            )
        except ScenarioError as exc:
            raise ScenarioError(
                f"{path}: the new rule is not valid: {exc.field_message}"
            ) from None
        return
    # "set" and "settle": a value in the target's range.
    if not isinstance(event.value, Parameter):
        raise ScenarioError(
            f"{path}.value must be a number or a Parameter for kind {event.kind!r} "
            f"(got {event.value!r})"
        )
    if event.kind == "settle":
        check_parameter(f"{path}.value", event.value, (0.0, 1.0, True, True))
        return
    target = str(event.target)
    if not _settable(scn, target):
        raise ScenarioError(
            f"{path}.target must be the path of an issue's status_quo, breakdown or drift, or "
            f"of an actor's numeric field (got {target!r}); see Scenario.explain() for paths"
        )
    try:
        _bare(scn).replace({target: event.value})
    except ScenarioError as exc:
        raise ScenarioError(f"{path}.value does not fit {target}: {exc.field_message}") from None


def _settable(scn: Scenario, target: str) -> bool:
    parts = target.split(".")
    if parts[0] == "issues":
        return len(parts) == 3 and parts[1] in scn.issue_names and parts[2] in _ISSUE_TARGETS
    if parts[0] != "actors" or len(parts) < 3 or parts[1] not in scn.actor_names:
        return False
    from basesim.scenario import ACTOR_FIELDS, BEHAVIOUR_FIELDS

    numeric = ("capability", *(f.name for f in BEHAVIOUR_FIELDS))
    if len(parts) == 3:
        return parts[2] in numeric and parts[2] in ACTOR_FIELDS
    if len(parts) == 4 and parts[2] == "influence":
        return parts[3] in scn.actor_names and parts[3] != parts[1]
    return len(parts) == 4 and parts[2] in scn.issue_names and parts[3] in ("position", "salience")


def _bare(scn: Scenario) -> Scenario:
    """``scn`` without its events (and the posterior, which may name their parameters)."""
    return dataclasses.replace(scn, events=(), posterior=None)
