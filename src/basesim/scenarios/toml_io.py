"""Reading and writing scenario files (TOML).

The format is documented field by field in ``docs/scenario-format.md``.  Parsing
is strict: unknown keys, wrong types and missing fields raise
:class:`~basesim.ScenarioError` naming the field's full path.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from basesim._toml_text import scenario_to_toml
from basesim.actors import Actor, Stance
from basesim.events import CHANGE_FIELDS, Event
from basesim.exceptions import ScenarioError
from basesim.issues import Budget, Issue
from basesim.parameters import CHOICE, Distribution, Evidence, Parameter
from basesim.posterior_sample import parse_posterior
from basesim.scenario import (
    ACTOR_FIELDS,
    BEHAVIOUR_FIELDS,
    RESERVATION_FORMS,
    ProtocolSettings,
    Scenario,
    suggest,
)

__all__ = ["parse_scenario", "read_scenario_text", "scenario_to_toml"]

T = TypeVar("T")

_TOP_KEYS = ("scenario", "protocol", "issues", "budgets", "actors", "events", "posterior")
_BUDGET_KEYS = ("issues", "total", "description")
_SCENARIO_KEYS = ("name", "title", "description", "horizon", "start", "as_of")
_PROTOCOL_KEYS = (
    "model",
    "recognition",
    "rotation",
    "reservation",
    "lookahead",
    "utility_exponent",
)
_EVIDENCE_KEYS = ("evidence", "rationale", "confidence", "assumption")
_ISSUE_KEYS = (
    "label",
    "description",
    "anchors",
    "status_quo",
    "breakdown",
    "drift",
    "rule",
    "voters",
    "threshold",
    "min_voter_share",
    "authority",
    "categories",
    "cuts",
    *_EVIDENCE_KEYS,
)
_PARAM_KEYS = ("value", "dist", "low", "high", "mode", "a", "b", "mean", "sd", *_EVIDENCE_KEYS)
_CHOICE_KEYS = ("value", "dist", "weights", *_EVIDENCE_KEYS)
_EVENT_KEYS = (
    "name",
    "kind",
    "target",
    "month",
    "date",
    *CHANGE_FIELDS,
    "description",
    *_EVIDENCE_KEYS,
)
_DEFAULT_RESERVATION: str | Parameter = "concession"
_STANCE_KEYS = ("position", "salience")


# -- reading ------------------------------------------------------------------------
def read_scenario_text(text: str, *, source: str | None = None) -> Scenario:
    """Parse TOML text into a validated :class:`~basesim.Scenario`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"TOML syntax error: {exc}", source=source) from None
    except ValueError as exc:  # tomllib lets int("1" + 5000 * "0") fail with a plain ValueError
        raise ScenarioError(f"TOML value cannot be read: {exc}", source=source) from None
    except RecursionError:
        raise ScenarioError("TOML arrays or tables are nested too deeply", source=source) from None
    return parse_scenario(data, source=source)


def parse_scenario(data: Mapping[str, Any], *, source: str | None = None) -> Scenario:
    """Build a validated scenario from the dictionary a TOML file parses to."""
    try:
        return _parse(data)
    except ScenarioError as exc:
        if exc.source is not None or source is None:
            raise
        raise ScenarioError(exc.field_message, source=source) from None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _bad_type(path: str, expected: str, value: Any) -> ScenarioError:
    return ScenarioError(f"{path} must be {expected} (got {_type_name(value)}: {value!r})")


def _table(path: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _bad_type(path, "a table", value)
    return value


def _check_keys(path: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            where = f"{path}.{key}" if path else key
            raise ScenarioError(
                f"{where} is not a known field{suggest(key, allowed)}; expected one of {', '.join(allowed)}"
            )


def _require(path: str, table: Mapping[str, Any], key: str) -> Any:
    if key not in table:
        where = f"{path}.{key}" if path else key
        raise ScenarioError(f"{where} is required but missing")
    return table[key]


def _str(path: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad_type(path, "a string", value)
    return value


def _number(path: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad_type(path, "a number", value)
    try:
        finite = math.isfinite(value)
    except OverflowError:
        raise ScenarioError(
            f"{path} must be a finite number (got an integer too large for a float)"
        ) from None
    if not finite:
        raise ScenarioError(f"{path} must be a finite number (got {value!r})")
    return float(value)


def _int(path: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad_type(path, "a whole number", value)
    return value


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad_type(path, "true or false", value)
    return value


def _list(path: str, value: Any, item: Callable[[str, Any], T]) -> tuple[T, ...]:
    if not isinstance(value, list):
        raise _bad_type(path, "an array", value)
    return tuple(item(f"{path}[{i}]", v) for i, v in enumerate(value))


def _get(
    path: str, table: Mapping[str, Any], key: str, parse: Callable[[str, Any], T], default: T
) -> T:
    return parse(f"{path}.{key}", table[key]) if key in table else default


def _evidence(path: str, table: Mapping[str, Any]) -> Evidence:
    return Evidence(
        sources=_get(path, table, "evidence", lambda p, v: _list(p, v, _str), ()),
        rationale=_get(path, table, "rationale", _str, ""),
        confidence=_get(path, table, "confidence", _str, None),
        assumption=_get(path, table, "assumption", _bool, False),
    )


def _parameter(path: str, value: Any) -> Parameter:
    if not isinstance(value, dict):
        return Parameter(value=_number(path, value))
    _check_keys(path, value, _PARAM_KEYS)
    nominal = _number(f"{path}.value", _require(path, value, "value"))
    evidence = _evidence(path, value)
    shape_keys = [k for k in ("low", "high", "mode", "a", "b", "mean", "sd") if k in value]
    if "dist" not in value:
        if shape_keys:
            raise ScenarioError(
                f"{path}.{shape_keys[0]} needs a distribution: add dist = 'uniform', 'triangular', 'beta' or 'truncnorm'"
            )
        return Parameter(value=nominal, evidence=evidence)
    kind = _str(f"{path}.dist", value["dist"])
    if kind == CHOICE:
        raise ScenarioError(
            f"{path}.dist must be one of uniform, triangular, beta, truncnorm (got {kind!r}; "
            "a choice is only for protocol.reservation)"
        )
    numbers: dict[str, Any] = {k: _number(f"{path}.{k}", value[k]) for k in shape_keys}
    for key in ("low", "high"):
        if key not in numbers:
            raise ScenarioError(
                f"{path}.{key} is required but missing (every distribution is bounded)"
            )
    if kind == "triangular":
        numbers.setdefault("mode", nominal)
    if kind == "truncnorm":
        numbers.setdefault("mean", nominal)
    dist = Distribution(kind=kind, **numbers)
    problems = dist.check()
    if problems:
        name, what, bad = problems[0]
        raise ScenarioError(f"{path}.{name} {what} (got {bad!r})")
    return Parameter(value=nominal, distribution=dist, evidence=evidence)


def _reservation(path: str, value: Any) -> str | Parameter:
    """``"concession"``, or a choice table ``{ value = "concession", dist = "choice", ... }``."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise _bad_type(path, "a string or a table", value)
    _check_keys(path, value, _CHOICE_KEYS)
    forms = ", ".join(RESERVATION_FORMS)
    nominal = _str(f"{path}.value", _require(path, value, "value"))
    if nominal not in RESERVATION_FORMS:
        raise ScenarioError(
            f"{path}.value must be one of {forms} (got {nominal!r})"
            f"{suggest(nominal, RESERVATION_FORMS)}"
        )
    evidence = _evidence(path, value)
    index = float(RESERVATION_FORMS.index(nominal))
    if "dist" not in value:
        if "weights" in value:
            raise ScenarioError(f"{path}.weights needs a distribution: add dist = 'choice'")
        return Parameter(value=index, evidence=evidence)
    kind = _str(f"{path}.dist", value["dist"])
    if kind != CHOICE:
        raise ScenarioError(f"{path}.dist must be {CHOICE!r} (got {kind!r})")
    table = _table(f"{path}.weights", _require(path, value, "weights"))
    for form in table:
        if form not in RESERVATION_FORMS:
            raise ScenarioError(
                f"{path}.weights.{form} is not a known reservation form"
                f"{suggest(form, RESERVATION_FORMS)}; expected one of {forms}"
            )
    weights = tuple(
        _number(f"{path}.weights.{form}", table[form]) if form in table else 0.0
        for form in RESERVATION_FORMS
    )
    dist = Distribution(kind=CHOICE, weights=weights)
    return Parameter(value=index, distribution=dist, evidence=evidence)


def _parse(data: Mapping[str, Any]) -> Scenario:
    _check_keys("", data, _TOP_KEYS)
    meta = _table("scenario", _require("", data, "scenario"))
    _check_keys("scenario", meta, _SCENARIO_KEYS)
    proto_table = _table("protocol", data.get("protocol", {}))
    _check_keys("protocol", proto_table, _PROTOCOL_KEYS)
    protocol = ProtocolSettings(
        model=_get("protocol", proto_table, "model", _str, "bargaining"),
        recognition=_get("protocol", proto_table, "recognition", _str, "weighted"),
        rotation=_get("protocol", proto_table, "rotation", lambda p, v: _list(p, v, _str), ()),
        reservation=_get(
            "protocol", proto_table, "reservation", _reservation, _DEFAULT_RESERVATION
        ),
        lookahead=_get("protocol", proto_table, "lookahead", _int, 60),
        utility_exponent=_get("protocol", proto_table, "utility_exponent", _int, 2),
    )

    issues_table = _table("issues", _require("", data, "issues"))
    issues = []
    for name, raw in issues_table.items():
        path = f"issues.{name}"
        table = _table(path, raw)
        _check_keys(path, table, _ISSUE_KEYS)
        no_anchors: tuple[str, ...] = ("", "", "")
        anchors = _get(path, table, "anchors", lambda p, v: _list(p, v, _str), no_anchors)
        if len(anchors) != 3:
            raise ScenarioError(
                f"{path}.anchors must give 3 texts, for 0, 0.5 and 1 (got {len(anchors)})"
            )
        issue_kwargs: dict[str, Any] = {}
        if "categories" in table:
            issue_kwargs["categories"] = _list(f"{path}.categories", table["categories"], _str)
        if "cuts" in table:
            issue_kwargs["cuts"] = _list(f"{path}.cuts", table["cuts"], _number)
        if "drift" in table:
            issue_kwargs["drift"] = _parameter(f"{path}.drift", table["drift"])
        issues.append(
            Issue(
                name=name,
                label=_str(f"{path}.label", _require(path, table, "label")),
                description=_get(path, table, "description", _str, ""),
                anchors=(anchors[0], anchors[1], anchors[2]),
                status_quo=_parameter(f"{path}.status_quo", _require(path, table, "status_quo")),
                breakdown=_get(path, table, "breakdown", _parameter, None),
                rule=_get(path, table, "rule", _str, None),
                voters=_get(path, table, "voters", lambda p, v: _list(p, v, _str), None),
                threshold=_get(path, table, "threshold", _number, None),
                min_voter_share=_get(path, table, "min_voter_share", _number, None),
                authority=_get(path, table, "authority", _str, None),
                evidence=_evidence(path, table),
                **issue_kwargs,
            )
        )
    if not issues:  # before the actors, whose stances would otherwise name no known issue
        raise ScenarioError("issues must define at least one issue (got none)")
    issue_names = tuple(i.name for i in issues)

    budgets = []
    for name, raw in _table("budgets", data.get("budgets", {})).items():
        path = f"budgets.{name}"
        table = _table(path, raw)
        _check_keys(path, table, _BUDGET_KEYS)
        budgets.append(
            Budget(
                name=name,
                issues=_list(f"{path}.issues", _require(path, table, "issues"), _str),
                total=_number(f"{path}.total", _require(path, table, "total")),
                description=_get(path, table, "description", _str, ""),
            )
        )

    actors_table = _table("actors", _require("", data, "actors"))
    actors = []
    for name, raw in actors_table.items():
        path = f"actors.{name}"
        table = _table(path, raw)
        stances = {}
        for key, value in table.items():
            if key in ACTOR_FIELDS:
                continue
            if key not in issue_names:
                raise ScenarioError(
                    f"{path}.{key} is not a known field or issue{suggest(key, (*ACTOR_FIELDS, *issue_names))}; "
                    f"fields are {', '.join(ACTOR_FIELDS)} and issues are {', '.join(issue_names)}"
                )
            spath = f"{path}.{key}"
            stance_table = _table(spath, value)
            _check_keys(spath, stance_table, _STANCE_KEYS)
            stances[key] = Stance(
                position=_parameter(
                    f"{spath}.position", _require(spath, stance_table, "position")
                ),
                salience=_parameter(
                    f"{spath}.salience", _require(spath, stance_table, "salience")
                ),
            )
        influence = {
            target: _parameter(f"{path}.influence.{target}", weight)
            for target, weight in _table(f"{path}.influence", table.get("influence", {})).items()
        }
        optional: dict[str, Any] = {
            f.name: _parameter(f"{path}.{f.name}", table[f.name])
            for f in BEHAVIOUR_FIELDS
            if f.name in table
        }
        if "votes" in table:
            optional["votes"] = _number(f"{path}.votes", table["votes"])
        if "proposer" in table:
            optional["proposer"] = _bool(f"{path}.proposer", table["proposer"])
        actors.append(
            Actor(
                name=name,
                label=_str(f"{path}.label", _require(path, table, "label")),
                description=_get(path, table, "description", _str, ""),
                capability=_parameter(f"{path}.capability", _require(path, table, "capability")),
                stances=stances,
                veto=_get(path, table, "veto", lambda p, v: _list(p, v, _str), ()),
                influence=influence,
                **optional,
            )
        )

    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise _bad_type("events", "an array of tables ([[events]])", raw_events)
    events = [_event(f"events[{i}]", raw) for i, raw in enumerate(raw_events)]

    return Scenario(
        name=_str("scenario.name", _require("scenario", meta, "name")),
        title=_get("scenario", meta, "title", _str, ""),
        description=_get("scenario", meta, "description", _str, ""),
        horizon=_get("scenario", meta, "horizon", _int, 24),
        start=_get("scenario", meta, "start", _str, None),
        issues=tuple(issues),
        actors=tuple(actors),
        protocol=protocol,
        budgets=tuple(budgets),
        events=tuple(events),
        as_of=_get("scenario", meta, "as_of", _str, None),
        posterior=parse_posterior(data["posterior"]) if "posterior" in data else None,
    )


def _event(where: str, raw: Any) -> Event:
    """One ``[[events]]`` table; its path is ``events.<name>`` once the name is known."""
    table = _table(where, raw)
    name = _str(f"{where}.name", _require(where, table, "name"))
    path = f"events.{name}"
    _check_keys(path, table, _EVENT_KEYS)
    return Event(
        name=name,
        kind=_str(f"{path}.kind", _require(path, table, "kind")),
        target=_str(f"{path}.target", _require(path, table, "target")),
        month=_get(path, table, "month", _parameter, None),
        date=_get(path, table, "date", _str, None),
        value=_get(path, table, "value", _parameter, None),
        rule=_get(path, table, "rule", _str, None),
        voters=_get(path, table, "voters", lambda p, v: _list(p, v, _str), None),
        threshold=_get(path, table, "threshold", _number, None),
        min_voter_share=_get(path, table, "min_voter_share", _number, None),
        authority=_get(path, table, "authority", _str, None),
        proposer=_get(path, table, "proposer", _bool, None),
        description=_get(path, table, "description", _str, ""),
        evidence=_evidence(path, table),
    )
