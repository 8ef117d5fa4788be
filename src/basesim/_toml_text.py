"""A scenario as TOML text: the writer behind :meth:`basesim.Scenario.to_toml`.

:func:`basesim.scenarios.toml_io.read_scenario_text` reads the text back to an
equal scenario.  The writer needs no scenario class at import time, so the
scenario module can use it without the reader (which builds scenarios) and
without an import cycle.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from basesim.actors import BEHAVIOUR_FIELDS
from basesim.parameters import Evidence, Parameter
from basesim.vocabulary import RESERVATION_FORMS

if TYPE_CHECKING:
    from basesim.scenario import Scenario

__all__ = ["scenario_to_toml"]


# -- writing ------------------------------------------------------------------------
def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # JSON leaves DEL (U+007F) raw, which TOML strings do not allow.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _evidence_items(ev: Evidence) -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    if ev.sources:
        items.append(("evidence", list(ev.sources)))
    if ev.rationale:
        items.append(("rationale", ev.rationale))
    if ev.confidence is not None:
        items.append(("confidence", ev.confidence))
    if ev.assumption:
        items.append(("assumption", True))
    return items


def _param(param: Parameter) -> str:
    items: list[tuple[str, Any]] = [("value", float(param.value))]
    dist = param.distribution
    if dist is not None:
        items.append(("dist", dist.kind))
        for key in ("low", "high", "mode", "a", "b", "mean", "sd"):
            v = getattr(dist, key)
            if v is not None:
                items.append((key, float(v)))
    items += _evidence_items(param.evidence)
    if len(items) == 1:
        return _value(float(param.value))
    return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in items) + " }"


def _reservation_text(reservation: str | Parameter) -> str:
    if not isinstance(reservation, Parameter):
        return _value(reservation)
    items: list[tuple[str, str]] = [("value", _value(RESERVATION_FORMS[int(reservation.value)]))]
    dist = reservation.distribution
    if dist is not None:
        weights = dist.weights or ()
        pairs = ", ".join(
            f"{form} = {_value(float(w))}"
            for form, w in zip(RESERVATION_FORMS, weights, strict=True)
        )
        items += [("dist", _value(dist.kind)), ("weights", "{ " + pairs + " }")]
    items += [(k, _value(v)) for k, v in _evidence_items(reservation.evidence)]
    return "{ " + ", ".join(f"{k} = {v}" for k, v in items) + " }"


def _key(name: str) -> str:
    return (
        name
        if name.replace("_", "").replace("-", "").isalnum() and name.isascii()
        else json.dumps(name)
    )


def scenario_to_toml(scn: Scenario) -> str:
    """Write a scenario as TOML; :func:`~basesim.scenarios.toml_io.read_scenario_text` reads it back equal."""
    out: list[str] = ["[scenario]", f"name = {_value(scn.name)}"]
    if scn.title:
        out.append(f"title = {_value(scn.title)}")
    if scn.description:
        out.append(f"description = {_value(scn.description)}")
    out.append(f"horizon = {scn.horizon}")
    if scn.start is not None:
        out.append(f"start = {_value(scn.start)}")
    if scn.as_of is not None:
        out.append(f"as_of = {_value(scn.as_of)}")
    p = scn.protocol
    out += [
        "",
        "[protocol]",
        f"model = {_value(p.model)}",
        f"recognition = {_value(p.recognition)}",
    ]
    if p.rotation:
        out.append(f"rotation = {_value(list(p.rotation))}")
    out += [
        f"reservation = {_reservation_text(p.reservation)}",
        f"lookahead = {p.lookahead}",
        f"utility_exponent = {p.utility_exponent}",
    ]
    for issue in scn.issues:
        out += ["", f"[issues.{_key(issue.name)}]", f"label = {_value(issue.label)}"]
        if issue.description:
            out.append(f"description = {_value(issue.description)}")
        out.append(f"anchors = {_value(list(issue.anchors))}")
        out.append(f"status_quo = {_param(issue.status_quo)}")
        if issue.breakdown is not None:
            out.append(f"breakdown = {_param(issue.breakdown)}")
        out.append(f"drift = {_param(issue.drift)}")
        if issue.rule is not None:
            out.append(f"rule = {_value(issue.rule)}")
        if issue.voters is not None:
            out.append(f"voters = {_value(list(issue.voters))}")
        for key in ("threshold", "min_voter_share"):
            share = getattr(issue, key)
            if share is not None:
                out.append(f"{key} = {_value(float(share))}")
        if issue.authority is not None:
            out.append(f"authority = {_value(issue.authority)}")
        out.append(f"categories = {_value(list(issue.categories))}")
        out.append(f"cuts = {_value([float(c) for c in issue.cuts])}")
        out += [f"{k} = {_value(v)}" for k, v in _evidence_items(issue.evidence)]
    for budget in scn.budgets:
        out += ["", f"[budgets.{_key(budget.name)}]"]
        if budget.description:
            out.append(f"description = {_value(budget.description)}")
        out += [
            f"issues = {_value(list(budget.issues))}",
            f"total = {_value(float(budget.total))}",
        ]
    for actor in scn.actors:
        base = f"actors.{_key(actor.name)}"
        out += ["", f"[{base}]", f"label = {_value(actor.label)}"]
        if actor.description:
            out.append(f"description = {_value(actor.description)}")
        out.append(f"capability = {_param(actor.capability)}")
        if actor.veto:
            out.append(f"veto = {_value(list(actor.veto))}")
        out.append(f"votes = {_value(float(actor.votes))}")
        out.append(f"proposer = {_value(actor.proposer)}")
        for declared in BEHAVIOUR_FIELDS:
            param = getattr(actor, declared.name)
            if param is not None:
                out.append(f"{declared.name} = {_param(param)}")
        if actor.influence:
            out += ["", f"[{base}.influence]"]
            out += [f"{_key(t)} = {_param(w)}" for t, w in actor.influence.items()]
        for issue_name, stance in actor.stances.items():
            out += [
                "",
                f"[{base}.{_key(issue_name)}]",
                f"position = {_param(stance.position)}",
                f"salience = {_param(stance.salience)}",
            ]
    for event in scn.events:
        out += ["", "[[events]]", f"name = {_value(event.name)}", f"kind = {_value(event.kind)}"]
        out.append(f"target = {_value(event.target)}")
        if event.date is not None:
            out.append(f"date = {_value(event.date)}")
        if event.month is not None:
            out.append(f"month = {_param(event.month)}")
        if event.value is not None:
            out.append(f"value = {_param(event.value)}")
        for key in ("rule", "voters", "threshold", "min_voter_share", "authority", "proposer"):
            item: Any = getattr(event, key)
            if isinstance(item, tuple):
                item = list(item)
            elif isinstance(item, int | float) and not isinstance(item, bool):
                item = float(item)
            if item is not None:
                out.append(f"{key} = {_value(item)}")
        if event.description:
            out.append(f"description = {_value(event.description)}")
        out += [f"{k} = {_value(v)}" for k, v in _evidence_items(event.evidence)]
    if scn.posterior is not None:
        from basesim.posterior_sample import posterior_toml_lines

        out += ["", *posterior_toml_lines(scn.posterior)]
    return "\n".join(out) + "\n"
