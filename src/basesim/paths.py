"""Changing a scenario by field path: ``actors.syria.basing.position`` and the like.

Paths are the ones that error messages and :meth:`Scenario.explain` use.  A
variant made in code goes through the same validation as a file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from basesim.actors import BEHAVIOUR_FIELDS, Actor
from basesim.exceptions import ScenarioError
from basesim.issues import Budget
from basesim.parameters import CHOICE, Distribution, Evidence, Parameter
from basesim.vocabulary import RESERVATION_FORMS, suggest

if TYPE_CHECKING:
    from basesim.events import Event
    from basesim.scenario import ProtocolSettings, Scenario

__all__ = ["as_parameter", "as_reservation", "get_value", "replace_values"]

_ACTOR_PARAMETERS = ("capability", *(f.name for f in BEHAVIOUR_FIELDS))
_ISSUE_PARAMETERS = ("status_quo", "breakdown", "drift")


def as_parameter(value: Any, *, path: str, old: Parameter | None = None) -> Parameter:
    """Turn a number, a :class:`Distribution` or a :class:`Parameter` into a parameter.

    A bare number or distribution set in code is marked as an assumption, since
    it no longer carries the evidence of the value it replaces.
    """
    if isinstance(value, Parameter):
        return value
    note = f"set in code (was {old.value:g})" if old is not None else "set in code"
    evidence = Evidence(rationale=note, assumption=True)
    if isinstance(value, Distribution):
        problems = value.check()
        if problems:
            name, what, bad = problems[0]
            raise ScenarioError(f"{path}.{name} {what} (got {bad!r})")
        # Keep the old nominal value where the new range allows; else the nearest end.
        reference = old.value if old is not None else (value.low + value.high) / 2
        nominal = min(max(reference, value.low), value.high)
        return Parameter(value=float(nominal), distribution=value, evidence=evidence)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(
            f"{path} must be a number, a Distribution or a Parameter (got {value!r})"
        )
    try:
        number = float(value)
    except OverflowError:
        raise ScenarioError(
            f"{path} must be a finite number (got an integer too large for a float)"
        ) from None
    return Parameter(value=number, evidence=evidence)


def as_reservation(value: Any, *, old: str | Parameter) -> str | Parameter:
    """The new ``protocol.reservation``: a form name, its index in ``RESERVATION_FORMS``
    (as a sweep over the choice gives it), a choice :class:`Parameter`, or a choice
    :class:`Distribution` (made a parameter that keeps the old nominal form where
    its weight is positive, else takes the heaviest form).
    """
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and 0 <= value < len(RESERVATION_FORMS)
    ):
        # An index into RESERVATION_FORMS: what a sweep over the choice draws.
        return RESERVATION_FORMS[int(value)]
    if not isinstance(value, Distribution) or value.kind != CHOICE:
        new: str | Parameter = value  # checked with the scenario
        return new
    problems = value.check()
    if problems:
        name, what, bad = problems[0]
        raise ScenarioError(f"protocol.reservation.{name} {what} (got {bad!r})")
    weights = value.weights or ()
    if old in RESERVATION_FORMS:
        was = str(old)
        index = RESERVATION_FORMS.index(was)
    else:
        assert isinstance(old, Parameter)
        index = int(old.value)
        was = RESERVATION_FORMS[index] if 0 <= index < len(RESERVATION_FORMS) else str(index)
    if not (index < len(weights) and weights[index] > 0):
        index = max(range(len(weights)), key=lambda i: weights[i])
    evidence = Evidence(rationale=f"set in code (was {was})", assumption=True)
    return Parameter(value=float(index), distribution=value, evidence=evidence)


def get_value(scenario: Scenario, path: str) -> Any:
    """The value at ``path`` (a :class:`Parameter` for numeric fields)."""
    parts = path.split(".")
    if parts[0] == "issues" and len(parts) == 3:
        issue = scenario.issue(parts[1])
        if parts[2] == "breakdown":
            return issue.breakdown_parameter
        return _field(issue, parts[2], path)
    if parts[0] == "actors" and len(parts) >= 3:
        actor = scenario.actor(parts[1])
        if len(parts) == 4 and parts[2] == "influence":
            if parts[3] not in actor.influence:
                return Parameter(value=0.0)
            return actor.influence[parts[3]]
        if len(parts) == 4:
            stance = actor.stances.get(parts[2])
            if stance is None:
                raise ScenarioError(
                    f"{path}: no issue {parts[2]!r}{suggest(parts[2], scenario.issue_names)}"
                )
            return _field(stance, parts[3], path)
        return _field(actor, parts[2], path)
    if parts[0] == "protocol" and len(parts) == 2:
        return _field(scenario.protocol, parts[1], path)
    if parts[0] == "events" and len(parts) == 3:
        event = _event(scenario, parts[1], path)
        if parts[2] == "month":
            return event.month_parameter(scenario)
        return _field(event, parts[2], path)
    if parts[0] == "budgets" and len(parts) == 3:
        return _field(_budget(scenario, parts[1], path), parts[2], path)
    if len(parts) == 1 or (parts[0] == "scenario" and len(parts) == 2):
        return _field(scenario, parts[-1], path)
    raise ScenarioError(f"{path} is not a field path of the scenario")


def _budget(scenario: Scenario, name: str, path: str) -> Budget:
    for budget in scenario.budgets:
        if budget.name == name:
            return budget
    names = [b.name for b in scenario.budgets]
    raise ScenarioError(f"{path}: no budget {name!r}{suggest(name, names)}")


def _event(scenario: Scenario, name: str, path: str) -> Event:
    for event in scenario.events:
        if event.name == name:
            return event
    names = [e.name for e in scenario.events]
    raise ScenarioError(f"{path}: no event {name!r}{suggest(name, names)}")


def _field(obj: Any, name: str, path: str) -> Any:
    names = [f.name for f in dataclasses.fields(obj)]
    if name not in names:
        raise ScenarioError(
            f"{path}: {type(obj).__name__} has no field {name!r}{suggest(name, names)}"
        )
    return getattr(obj, name)


def replace_values(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """A copy of ``scenario`` with the fields at the given paths changed.

    Parameters
    ----------
    scenario
        The scenario to start from.
    changes
        Field path -> new value.  Numeric fields take a number (fixed), a
        :class:`Distribution` (uncertain) or a full :class:`Parameter`; other
        fields take what their dataclass field holds (``"horizon"``: an int,
        ``"protocol.reservation"``: a form name, a choice :class:`Parameter` or a
        choice :class:`Distribution`, ``"actors.syria.veto"``: a tuple of issue
        names, ``"issues.basing.voters"``: a list of actor names ...).

    Raises
    ------
    ScenarioError
        For an unknown path or a value that breaks a rule (the same checks as
        a scenario file).

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025")
    >>> v = replace_values(scn, {"actors.syria.basing.position": 0.6, "horizon": 12})
    >>> v.actor("syria").stances["basing"].position.value, v.horizon
    (0.6, 12)
    """
    if not isinstance(changes, Mapping):
        raise ScenarioError(
            f"changes must be a mapping of field paths to values (got {type(changes).__name__})"
        )
    for path in changes:
        if not isinstance(path, str):
            raise ScenarioError(
                f"a field path must be a string such as 'actors.syria.basing.position' "
                f"(got {type(path).__name__}: {path!r})"
            )
    top: dict[str, Any] = {}
    protocol: dict[str, Any] = {}
    issues = {i.name: i for i in scenario.issues}
    actors = {a.name: a for a in scenario.actors}
    budgets = {b.name: b for b in scenario.budgets}
    events = {e.name: e for e in scenario.events}
    for path, value in changes.items():
        parts = path.split(".")
        if parts[0] == "issues" and len(parts) == 3:
            name = parts[1]
            if name not in issues:
                raise ScenarioError(f"{path}: no issue {name!r}{suggest(name, issues)}")
            issue = issues[name]
            field = parts[2]
            if field in _ISSUE_PARAMETERS:
                old = issue.breakdown_parameter if field == "breakdown" else getattr(issue, field)
                value = as_parameter(value, path=path, old=old)
            else:
                _field(issue, field, path)
            issues[name] = dataclasses.replace(issue, **{field: value})
        elif parts[0] == "actors" and len(parts) >= 3:
            name = parts[1]
            if name not in actors:
                raise ScenarioError(f"{path}: no actor {name!r}{suggest(name, actors)}")
            actors[name] = _replace_actor(actors[name], parts[2:], value, path, scenario)
        elif parts[0] == "events" and len(parts) == 3:
            event = _event(scenario, parts[1], path)
            field = parts[2]
            _field(event, field, path)
            event = events[event.name]
            if field == "month":
                old_month = event.month_parameter(scenario)
                value = as_parameter(value, path=path, old=old_month)
                events[event.name] = dataclasses.replace(event, month=value, date=None)
                continue
            if field == "value" and event.value is not None:
                value = as_parameter(value, path=path, old=event.value)
            events[event.name] = dataclasses.replace(event, **{field: value})
        elif parts[0] == "budgets" and len(parts) == 3:
            budget = _budget(scenario, parts[1], path)
            _field(budget, parts[2], path)
            budgets[budget.name] = dataclasses.replace(budgets[budget.name], **{parts[2]: value})
        elif parts[0] == "protocol" and len(parts) == 2:
            _field(scenario.protocol, parts[1], path)
            if parts[1] == "reservation":
                value = as_reservation(value, old=scenario.protocol.reservation)
            protocol[parts[1]] = value
        elif len(parts) == 1 or (parts[0] == "scenario" and len(parts) == 2):
            field = parts[-1]
            if field in ("issues", "actors", "protocol"):
                raise ScenarioError(f"{path}: change issues, actors and protocol field by field")
            _field(scenario, field, path)
            top[field] = value
        else:
            raise ScenarioError(f"{path} is not a field path of the scenario")
    new_protocol: ProtocolSettings = (
        dataclasses.replace(scenario.protocol, **protocol) if protocol else scenario.protocol
    )
    return dataclasses.replace(
        scenario,
        issues=tuple(issues.values()),
        actors=tuple(actors.values()),
        protocol=new_protocol,
        budgets=top.pop("budgets", tuple(budgets.values())),
        events=top.pop("events", tuple(events.values())),
        **top,
    )


def _replace_actor(
    actor: Actor, rest: list[str], value: Any, path: str, scenario: Scenario
) -> Actor:
    if len(rest) == 2 and rest[0] == "influence":
        target = rest[1]
        weights = dict(actor.influence)
        weights[target] = as_parameter(value, path=path, old=weights.get(target))
        return dataclasses.replace(actor, influence=weights)
    if len(rest) == 2:
        issue_name, field = rest
        if issue_name not in actor.stances:
            raise ScenarioError(
                f"{path}: no issue {issue_name!r}{suggest(issue_name, scenario.issue_names)}"
            )
        stance = actor.stances[issue_name]
        old = _field(stance, field, path)
        stances = dict(actor.stances)
        stances[issue_name] = dataclasses.replace(
            stance, **{field: as_parameter(value, path=path, old=old)}
        )
        return dataclasses.replace(actor, stances=stances)
    if len(rest) == 1:
        field = rest[0]
        old = _field(actor, field, path)
        if field in _ACTOR_PARAMETERS:
            value = as_parameter(value, path=path, old=old)
        return dataclasses.replace(actor, **{field: value})
    raise ScenarioError(f"{path} is not a field path of the scenario")
