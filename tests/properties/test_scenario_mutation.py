"""Random damage to a valid scenario file gives a valid Scenario or a ScenarioError, nothing else.

The mutations work on the dictionary a TOML file parses to (delete a key, change a
value's type, put numbers out of range or to NaN/inf/huge/negative, rename keys,
duplicate or drop tables) and on the text itself (delete, duplicate or swap lines,
corrupt characters, change numbers, rename keys).  Whatever comes out must be either
a valid scenario, which then survives a round trip through ``to_toml()``, or a
``ScenarioError`` that names the file.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import re
import tomllib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basesim import Distribution, Scenario, ScenarioError
from basesim.scenario import DECISION_RULES
from basesim.scenarios.toml_io import parse_scenario, read_scenario_text
from basesim.testing import SMALL_SCENARIO_TOML

# The small scenario's relief issue has no veto holder, so it needs a decision rule of its own.
VALID = (
    SMALL_SCENARIO_TOML
    if "\nrule = " in SMALL_SCENARIO_TOML
    else SMALL_SCENARIO_TOML.replace("cuts = [0.5]\n", 'cuts = [0.5]\nrule = "majority"\n', 1)
)

BASE = tomllib.loads(VALID)
SOURCE = "mutant.toml"
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Numbers that break one rule or another: out of [0, 1], zero, negative, NaN, inf, huge,
# tiny, an int too large for a float, and a boolean (which TOML keeps apart from numbers).
BAD_NUMBERS = st.sampled_from(
    [
        -1,
        -0.5,
        0,
        0.0,
        -0.0,
        1,
        1.5,
        2,
        1e308,
        -1e308,
        5e-324,
        float("nan"),
        float("inf"),
        float("-inf"),
        10**30,
        -(10**30),
        10**400,
        True,
        False,
    ]
)
SCALARS = st.one_of(
    BAD_NUMBERS,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "basing",
            "relief",
            "syria",
            "russia",
            "turkey",
            "uniform",
            "high",
            "",
            "choice",
            "unanimity",
            "qualified",
            "majority",
            "unilateral",
            "concession",
            "equilibrium",
        ]
    ),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
TOML_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=8,
)
KEY_NAMES = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        [
            "value",
            "dist",
            "low",
            "high",
            "mode",
            "sd",
            "a",
            "label",
            "basing",
            "x",
            "weights",
            "rule",
            "voters",
            "threshold",
            "min_voter_share",
            "authority",
            "drift",
            "votes",
            "proposer",
            "opening",
            "concession_months",
            "model",
            "lookahead",
        ]
    ),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into ``node`` (dict keys and list indices), the root excluded."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _mutate_dict(data: dict[str, Any], draw: Any) -> None:
    paths = _paths(data)
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent, key = _at(data, path[:-1]), path[-1]
    op = draw(st.sampled_from(["delete", "retype", "number", "rename", "duplicate"]))
    if op == "delete":
        del parent[key]
    elif op == "retype":
        parent[key] = draw(TOML_VALUES)
    elif op == "number":
        parent[key] = draw(BAD_NUMBERS)
    elif isinstance(parent, dict) and op == "rename":
        new = draw(st.one_of(KEY_NAMES, st.just(key[:-1]), st.just(key.upper())))
        parent[new] = parent.pop(key)
    elif isinstance(parent, dict) and op == "duplicate":
        new = draw(st.one_of(KEY_NAMES, st.just(key + "_2")))
        parent[new] = copy.deepcopy(parent[key])
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))


def _check_outcome(make: Any) -> None:
    """``make()`` gives a valid scenario (which must round-trip) or a ScenarioError."""
    try:
        scn = make()
    except ScenarioError as exc:
        assert exc.source == SOURCE
        assert str(exc).endswith(f" in {SOURCE}")
        assert exc.field_message.strip()
        return
    assert isinstance(scn, Scenario)
    assert read_scenario_text(scn.to_toml()) == scn


@SETTINGS
@given(data=st.data(), n_mutations=st.integers(min_value=1, max_value=3))
def test_mutated_dict_gives_scenario_or_scenario_error(
    data: st.DataObject, n_mutations: int
) -> None:
    mutated = copy.deepcopy(BASE)
    for _ in range(n_mutations):
        _mutate_dict(mutated, data.draw)
    _check_outcome(lambda: parse_scenario(mutated, source=SOURCE))


_NUMBER = re.compile(r"(?<![\w.\"-])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w\"-])")
_KEY = re.compile(r"^(\w+) =", re.MULTILINE)
# Replacements for a number in the text: out of range, not finite, huge (1e400 is inf;
# an integer of 5000 digits is more than Python's int() will read), not a number at all.
NUMBER_TEXTS = st.sampled_from(
    [
        "nan", "inf", "-inf", "-1", "-0.5", "0", "2", "1.5", "1e400", "1e-400", "true",
        "[0.5]", "0x10", "1_000", "1e", "1" + "0" * 30, "1" + "0" * 400, "1" + "0" * 5000,
        '"0.5"', "{ value = 0.5 }", "",
    ]
)  # fmt: skip


def _mutate_text(text: str, draw: Any) -> str:
    op = draw(
        st.sampled_from(
            ["delete-line", "duplicate-line", "swap-lines", "replace-char", "insert", "cut",
             "number", "rename-key"]
        )
    )  # fmt: skip
    lines = text.split("\n")
    if op == "delete-line":
        del lines[draw(st.integers(0, len(lines) - 1))]
        return "\n".join(lines)
    if op == "duplicate-line":
        # A repeated header or key is a TOML error, a repeated blank line is harmless.
        i = draw(st.integers(0, len(lines) - 1))
        lines.insert(draw(st.integers(0, len(lines))), lines[i])
        return "\n".join(lines)
    if op == "swap-lines":
        i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if op == "number":
        matches = list(_NUMBER.finditer(text))
        if matches:
            m = draw(st.sampled_from(matches))
            return text[: m.start()] + draw(NUMBER_TEXTS) + text[m.end() :]
        return text
    if op == "rename-key":
        matches = list(_KEY.finditer(text))
        if matches:
            m = draw(st.sampled_from(matches))
            key = m.group(1)
            new = draw(
                st.one_of(st.just(key[:-1]), st.just(key + "s"), st.from_regex(r"\A\w{1,8}\Z"))
            )
            return text[: m.start(1)] + new + text[m.end(1) :]
        return text
    if not text:
        return text
    i = draw(st.integers(0, len(text) - 1))
    if op == "replace-char":
        return text[:i] + draw(st.characters(exclude_categories=("Cs",))) + text[i + 1 :]
    if op == "insert":
        return text[:i] + draw(st.text(max_size=5)) + text[i:]
    return text[:i] + text[i + draw(st.integers(1, 40)) :]  # cut


@SETTINGS
@given(data=st.data(), n_mutations=st.integers(min_value=1, max_value=3))
def test_mutated_text_gives_scenario_or_scenario_error(
    data: st.DataObject, n_mutations: int
) -> None:
    text = VALID
    for _ in range(n_mutations):
        text = _mutate_text(text, data.draw)
    _check_outcome(lambda: read_scenario_text(text, source=SOURCE))


def test_mutations_do_reach_both_outcomes() -> None:
    # The properties above would pass vacuously if every mutant failed, or none did.
    _check_outcome(lambda: read_scenario_text(VALID, source=SOURCE))
    renamed = VALID.replace('title = "A small', 'title = "A tiny')
    assert read_scenario_text(renamed, source=SOURCE).title.startswith("A tiny")
    broken = VALID.replace("salience = 0.3", "salience = nan")
    _check_outcome(lambda: read_scenario_text(broken, source=SOURCE))
    try:
        read_scenario_text(broken, source=SOURCE)
    except ScenarioError as exc:
        assert (
            str(exc)
            == "actors.turkey.relief.salience must be a finite number (got nan) in mutant.toml"
        )
    else:
        raise AssertionError("a NaN salience was accepted")


# -- round trip of generated valid variants ---------------------------------------------------
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)


@st.composite
def unit_distributions(draw: Any) -> Distribution:
    low, high = sorted(draw(st.lists(unit, min_size=2, max_size=2, unique=True)))
    kind = draw(st.sampled_from(["uniform", "triangular", "beta", "truncnorm"]))
    if kind == "triangular":
        return Distribution(kind=kind, low=low, high=high, mode=draw(st.floats(low, high)))
    if kind == "beta":
        shape = st.floats(min_value=0.1, max_value=20)
        return Distribution(kind=kind, low=low, high=high, a=draw(shape), b=draw(shape))
    if kind == "truncnorm":
        sd = draw(st.floats(min_value=0.01, max_value=2))
        return Distribution(kind=kind, low=low, high=high, mean=draw(st.floats(low, high)), sd=sd)
    return Distribution(kind=kind, low=low, high=high)


@settings(max_examples=60, deadline=None)
@given(
    title=text,
    label=text,
    position=unit,
    salience=unit_distributions(),
    capability=st.floats(min_value=1e-6, max_value=1e6),
    horizon=st.integers(min_value=1, max_value=10_000),
    breakdown=st.one_of(unit, unit_distributions()),
    drift=st.one_of(unit, unit_distributions()),
    opening=st.one_of(unit, unit_distributions()),
    concession_months=st.floats(min_value=1e-6, max_value=1e6),
    votes=st.floats(min_value=0.0, max_value=1e6),
    lookahead=st.integers(min_value=1, max_value=10_000),
    weights=st.lists(st.floats(min_value=0.0, max_value=10.0), min_size=2, max_size=2).filter(
        lambda w: w[0] > 0
    ),
)
def test_valid_variants_round_trip(
    title: str,
    label: str,
    position: float,
    salience: Distribution,
    capability: float,
    horizon: int,
    breakdown: float | Distribution,
    drift: float | Distribution,
    opening: float | Distribution,
    concession_months: float,
    votes: float,
    lookahead: int,
    weights: list[float],
) -> None:
    scn = read_scenario_text(VALID)
    variant = scn.replace(
        {
            "actors.syria.basing.position": position,
            "actors.russia.basing.salience": salience,
            "actors.turkey.capability": capability,
            "issues.basing.breakdown": breakdown,
            "actors.syria.label": label,
            "issues.relief.drift": drift,
            "actors.turkey.opening": opening,
            "actors.russia.concession_months": concession_months,
            "actors.turkey.votes": votes,
            "protocol.lookahead": lookahead,
            "protocol.reservation": Distribution(kind="choice", weights=tuple(weights)),
        },
        title=title,
        horizon=horizon,
    )
    variant = dataclasses.replace(variant, description=title + label)
    back = read_scenario_text(variant.to_toml(), source=SOURCE)
    assert back == variant
    assert back.actor("russia").stances["basing"].salience.distribution == salience


ACTOR_NAMES = ["syria", "russia", "turkey"]
SHARES = st.floats(min_value=0.01, max_value=1.0)


@st.composite
def coherent_rules(draw: Any) -> dict[str, Any]:
    """A decision rule for an issue nobody vetoes that follows the rules of the format."""
    rule = draw(st.sampled_from(DECISION_RULES))
    out: dict[str, Any] = {"rule": rule}
    if rule == "unilateral":
        out["authority"] = draw(st.sampled_from(ACTOR_NAMES))
        return out
    if draw(st.booleans()):
        out["voters"] = draw(st.lists(st.sampled_from(ACTOR_NAMES), min_size=1, unique=True))
    if rule == "qualified":
        out["threshold"] = draw(SHARES)
        if draw(st.booleans()):
            out["min_voter_share"] = draw(SHARES)
    return out


# Any mix of the decision-rule keys, sensible or not.
RULE_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "rule": st.sampled_from([*DECISION_RULES, "veto", 1]),
        "voters": st.one_of(
            st.lists(st.sampled_from([*ACTOR_NAMES, "iran"]), max_size=4), st.just("syria")
        ),
        "threshold": st.one_of(BAD_NUMBERS, unit),
        "min_voter_share": st.one_of(BAD_NUMBERS, unit),
        "authority": st.sampled_from([*ACTOR_NAMES, "turky", 3]),
    },
)
ACTOR_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "votes": st.one_of(st.floats(min_value=0, max_value=5), BAD_NUMBERS),
        "proposer": st.one_of(st.booleans(), st.just(1)),
    },
)


@SETTINGS
@given(
    relief=st.one_of(coherent_rules(), RULE_VALUES),
    basing=st.one_of(st.just({}), RULE_VALUES),
    syria=ACTOR_VALUES,
    turkey=ACTOR_VALUES,
)
def test_decision_rules_give_scenario_or_scenario_error(
    relief: dict[str, Any], basing: dict[str, Any], syria: dict[str, Any], turkey: dict[str, Any]
) -> None:
    data = copy.deepcopy(BASE)
    data["issues"]["relief"].pop("rule", None)
    data["issues"]["relief"].update(relief)
    data["issues"]["basing"].update(basing)
    data["actors"]["syria"].update(syria)
    data["actors"]["turkey"].update(turkey)
    try:
        scn = parse_scenario(data, source=SOURCE)
    except ScenarioError as exc:
        assert exc.source == SOURCE
        assert str(exc).endswith(f" in {SOURCE}")
        return
    assert read_scenario_text(scn.to_toml()) == scn
    for issue in scn.issue_names:
        rule = scn.decision_rule(issue)
        assert rule.rule in DECISION_RULES
        assert rule.voters
        assert set(rule.voters) <= set(scn.actor_names)
        assert 0 < rule.threshold <= 1
        assert rule.strict == (rule.rule == "majority")
        assert (rule.authority is not None) == (rule.rule == "unilateral")


def test_dates_are_not_strings() -> None:
    # A TOML date where a string belongs is a type error that names the field.
    mutated = copy.deepcopy(BASE)
    mutated["scenario"]["start"] = datetime.date(2025, 2, 1)
    try:
        parse_scenario(mutated, source=SOURCE)
    except ScenarioError as exc:
        assert str(exc).startswith("scenario.start must be a string (got date:")
    else:
        raise AssertionError("a date was accepted as the start month")
