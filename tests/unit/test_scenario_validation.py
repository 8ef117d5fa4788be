"""Scenario validation: every malformed scenario raises a ScenarioError that says what is wrong.

Each bad-input case below starts from the small valid scenario ``VALID``, makes one
change to its text (or to the dictionary it parses to, or to the Python objects), and
checks that the message names the field's full path, the rule, the bad value and,
when the scenario came from a file, the file.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import basesim
from basesim import (
    Actor,
    BasesimError,
    Distribution,
    Evidence,
    Issue,
    Parameter,
    ProtocolSettings,
    Scenario,
    ScenarioError,
    Stance,
)
from basesim.scenarios.toml_io import parse_scenario, read_scenario_text
from basesim.testing import SMALL_SCENARIO_TOML

# The small scenario's relief issue has no veto holder, so it needs a decision rule
# of its own (without one, loading it is an error: see "legacy-issue-without-rule").
VALID = (
    SMALL_SCENARIO_TOML
    if "\nrule = " in SMALL_SCENARIO_TOML
    else SMALL_SCENARIO_TOML.replace("cuts = [0.5]\n", 'cuts = [0.5]\nrule = "majority"\n', 1)
)
RELIEF_RULE = 'rule = "majority"'
RESERVATION = 'reservation = "concession"'
TURKEY_NOISE = "noise = 0.05"
CHOICE = 'reservation = { value = "concession", dist = "choice", weights = '

TURKEY_RELIEF = "[actors.turkey.relief]\nposition = 0.7\nsalience = 0.3\n"
RUSSIA_INFLUENCE = "[actors.russia.influence]\nsyria = 0.2\n"
TURKEY_ON_SYRIA = (
    'syria = { value = 0.3, dist = "uniform", low = 0.1, high = 0.5, assumption = true }'
)

Edit = tuple[str, str]


def mutate(text: str, *edits: Edit) -> str:
    """Apply ``old -> new`` edits; each ``old`` must occur exactly once, so every edit bites."""
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def everywhere(old: str, new: str) -> Callable[[str], str]:
    """An edit that replaces every occurrence of ``old``."""

    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new)

    return edit


def case(case_id: str, edits: Edit | list[Edit] | Callable[[str], str], *fragments: str) -> Any:
    if callable(edits):
        text = edits(VALID)
    else:
        text = mutate(VALID, *(edits if isinstance(edits, list) else [edits]))
    return pytest.param(text, fragments, id=case_id)


# (id, edit of VALID, fragments the message must contain: path, rule wording, bad value)
TEXT_CASES = [
    # -- numbers out of range ---------------------------------------------------------
    case(
        "salience-above-1",
        ("position = 0.0\nsalience = 0.7", "position = 0.0\nsalience = 1.3"),
        "actors.turkey.basing.salience must be in [0, 1] (got 1.3)",
    ),
    case(
        "position-negative",
        ("position = 0.6\n", "position = -0.5\n"),
        "actors.russia.relief.position must be in [0, 1] (got -0.5)",
    ),
    case(
        "status-quo-above-1",
        ("status_quo = 1.0", "status_quo = 1.5"),
        "issues.basing.status_quo must be in [0, 1] (got 1.5)",
    ),
    case(
        "capability-zero",
        ("capability = 0.8", "capability = 0"),
        "actors.turkey.capability must be > 0 (got 0)",
    ),
    case(
        "capability-nan",
        ("capability = 1.0\ndisagreement", "capability = nan\ndisagreement"),
        "actors.russia.capability must be a finite number (got nan)",
    ),
    case(
        "capability-inf",
        ("capability = 0.8", "capability = inf"),
        "actors.turkey.capability must be a finite number (got inf)",
    ),
    case(
        # Python ints have no size limit; this one cannot become a float (an OverflowError before).
        "position-integer-too-large",
        ("position = 0.15", "position = 1" + "0" * 400),
        "actors.syria.basing.position must be a finite number "
        "(got an integer too large for a float)",
    ),
    case(
        "anchoring-above-1",
        ("anchoring = 0.3", "anchoring = 1.2"),
        "actors.turkey.anchoring must be in [0, 1] (got 1.2)",
    ),
    case(
        "discount-zero",
        ("disagreement = -0.2", "disagreement = -0.2\ndiscount = 0.0"),
        "actors.russia.discount must be in (0, 1] (got 0)",
    ),
    case(
        "noise-negative",
        ("noise = 0.05", "noise = -0.05"),
        "actors.turkey.noise must be >= 0 (got -0.05)",
    ),
    case(
        "concession-zero",
        ("disagreement = -0.2", "disagreement = -0.2\nconcession = 0"),
        "actors.russia.concession must be > 0 (got 0)",
    ),
    case(
        "disagreement-positive",
        ("disagreement = -0.2", "disagreement = 0.2"),
        "actors.russia.disagreement must be <= 0 (got 0.2)",
    ),
    case(
        "influence-weight-above-1",
        ("syria = 0.2", "syria = 1.5"),
        "actors.russia.influence.syria must be in [0, 1] (got 1.5)",
    ),
    # -- wrong types ------------------------------------------------------------------
    case(
        "number-as-string",
        ("position = 0.15", 'position = "0.15"'),
        "actors.syria.basing.position must be a number (got a string: '0.15')",
    ),
    case(
        "number-as-boolean",
        ("capability = 0.8", "capability = true"),
        "actors.turkey.capability must be a number (got a boolean: True)",
    ),
    case(
        "horizon-fractional",
        ("horizon = 5", "horizon = 6.5"),
        "scenario.horizon must be a whole number (got a number: 6.5)",
    ),
    case(
        "veto-not-an-array",
        ('veto = ["basing"]', 'veto = "basing"'),
        "actors.syria.veto must be an array (got a string: 'basing')",
    ),
    case(
        "influence-not-a-table",
        [(RUSSIA_INFLUENCE, ""), ("disagreement = -0.2", "disagreement = -0.2\ninfluence = 0.2")],
        "actors.russia.influence must be a table (got a number: 0.2)",
    ),
    case(
        "stance-not-a-table",
        [(TURKEY_RELIEF, ""), ("anchoring = 0.3", "anchoring = 0.3\nrelief = 0.7")],
        "actors.turkey.relief must be a table (got a number: 0.7)",
    ),
    case(
        "assumption-not-a-boolean",
        ("assumption = true", 'assumption = "yes"'),
        "actors.turkey.influence.syria.assumption must be true or false (got a string: 'yes')",
    ),
    case(
        "start-as-a-toml-date",
        ('start = "2025-02"', "start = 2025-02-01"),
        "scenario.start must be a string (got date: datetime.date(2025, 2, 1))",
    ),
    case(
        "issue-evidence-not-an-array",
        ('evidence = ["S1", "S6"]', 'evidence = "S1"'),
        "issues.basing.evidence must be an array (got a string: 'S1')",
    ),
    # -- missing required fields ------------------------------------------------------
    case(
        "missing-scenario-name",
        ('name = "mini"\n', ""),
        "scenario.name is required but missing",
    ),
    case(
        "missing-capability",
        ("capability = 1.0\ndisagreement", "disagreement"),
        "actors.russia.capability is required but missing",
    ),
    case(
        "missing-issue-label",
        ('label = "Sanctions relief"\n', ""),
        "issues.relief.label is required but missing",
    ),
    case(
        "missing-salience",
        ("position = 0.7\nsalience = 0.3\n", "position = 0.7\n"),
        "actors.turkey.relief.salience is required but missing",
    ),
    case(
        "missing-parameter-value",
        ('value = 1.0, dist = "uniform"', 'dist = "uniform"'),
        "actors.syria.capability.value is required but missing",
    ),
    case(
        "missing-stance",
        (TURKEY_RELIEF, ""),
        "actors.turkey.relief is missing: "
        "every actor needs a position and salience on every issue",
    ),
    case(
        "missing-distribution-end",
        (", high = 0.3 }", " }"),
        "issues.relief.status_quo.high is required but missing (every distribution is bounded)",
    ),
    # -- unknown keys, with a did-you-mean --------------------------------------------
    case(
        "unknown-top-level-table",
        ("[protocol]", "[protocols]"),
        "protocols is not a known field (did you mean 'protocol'?); "
        "expected one of scenario, protocol, issues, budgets, actors",
    ),
    case(
        "unknown-scenario-key",
        ("title = ", "titel = "),
        "scenario.titel is not a known field (did you mean 'title'?)",
    ),
    case(
        "unknown-protocol-key",
        ('reservation = "concession"', 'reservaton = "concession"'),
        "protocol.reservaton is not a known field (did you mean 'reservation'?)",
    ),
    case(
        "unknown-issue-key",
        ("cuts = [0.5]", "cuts = [0.5]\ncut = 0.5"),
        "issues.relief.cut is not a known field (did you mean 'cuts'?)",
    ),
    case(
        "unknown-parameter-key",
        ("sd = 0.1", "std = 0.1"),
        "issues.relief.status_quo.std is not a known field (did you mean 'sd'?)",
    ),
    case(
        "unknown-actor-key",
        ("noise = 0.05", "nosie = 0.05"),
        "actors.turkey.nosie is not a known field or issue (did you mean 'noise'?)",
    ),
    case(
        "unknown-stance-key",
        ("position = 0.7\nsalience = 0.3", "position = 0.7\nweight = 0.3"),
        "actors.turkey.relief.weight is not a known field; expected one of position, salience",
    ),
    # -- references to issues and actors that do not exist ----------------------------
    case(
        "stance-on-unknown-issue",
        ("[actors.turkey.basing]", "[actors.turkey.basng]"),
        "actors.turkey.basng is not a known field or issue (did you mean 'basing'?)",
    ),
    case(
        "veto-on-unknown-issue",
        ('veto = ["basing"]', 'veto = ["basng"]'),
        "actors.syria.veto refers to an issue that does not exist (got 'basng') "
        "(did you mean 'basing'?)",
    ),
    case(
        "veto-twice",
        ('veto = ["basing"]', 'veto = ["basing", "basing"]'),
        "actors.syria.veto lists an issue twice (got ['basing', 'basing'])",
    ),
    case(
        "influence-on-unknown-actor",
        (RUSSIA_INFLUENCE, "[actors.russia.influence]\nsyira = 0.2\n"),
        "actors.russia.influence refers to an actor that does not exist (got 'syira') "
        "(did you mean 'syria'?)",
    ),
    case(
        "influence-on-itself",
        (RUSSIA_INFLUENCE, RUSSIA_INFLUENCE + "russia = 0.1\n"),
        "actors.russia.influence.russia: an actor cannot influence itself",
    ),
    case(
        "rotation-names-unknown-actor",
        ('recognition = "weighted"', 'recognition = "rotation"\nrotation = ["syria", "rusia"]'),
        "protocol.rotation refers to an actor that does not exist (got 'rusia') "
        "(did you mean 'russia'?)",
    ),
    # -- influence weights summing above 1 --------------------------------------------
    case(
        # russia 0.2 (fixed) + turkey up to 0.9 = 1.1 > 1, though the nominal 0.2 + 0.3 is fine.
        "influence-sum-at-top-of-range",
        ("low = 0.1, high = 0.5", "low = 0.1, high = 0.9"),
        "influence weights on actors.syria must sum to at most 1 "
        "(got largest possible russia 0.2 + turkey 0.9 = 1.1)",
    ),
    case(
        "influence-sum-fixed",
        (TURKEY_ON_SYRIA, "syria = 0.9"),
        "influence weights on actors.syria must sum to at most 1 "
        "(got russia 0.2 + turkey 0.9 = 1.1)",
    ),
    # -- issues: names, anchors, categories, cuts -------------------------------------
    case(
        "cuts-out-of-order",
        ("cuts = [0.25, 0.75]", "cuts = [0.75, 0.25]"),
        "issues.basing.cuts must be strictly increasing inside (0, 1) (got [0.75, 0.25])",
    ),
    case(
        "cut-on-the-edge",
        ("cuts = [0.5]", "cuts = [1.0]"),
        "issues.relief.cuts must be strictly increasing inside (0, 1) (got [1.0])",
    ),
    case(
        "cuts-one-too-many",
        ("cuts = [0.5]", "cuts = [0.3, 0.6]"),
        "issues.relief.cuts must have one fewer entry than categories (1; got 2)",
    ),
    case(
        "categories-repeated",
        ('categories = ["little", "much"]', 'categories = ["much", "much"]'),
        "issues.relief.categories must be distinct (got ['much', 'much'])",
    ),
    case(
        "anchors-two",
        ('anchors = ["in force", "partial", "lifted"]', 'anchors = ["in force", "lifted"]'),
        "issues.relief.anchors must give 3 texts, for 0, 0.5 and 1 (got 2)",
    ),
    case(
        "issue-name-upper-case",
        everywhere("relief", "Relief"),
        "issues.Relief must be a lower-case identifier (letters, digits, '_'; got 'Relief')",
    ),
    case(
        # "$" in a regular expression also matches before a final newline: was accepted.
        "actor-name-trailing-newline",
        everywhere("[actors.turkey", '[actors."turkey\\n"'),
        "must be a lower-case identifier (letters, digits, '_'; got 'turkey\\n')",
    ),
    # -- impossible or inconsistent distributions ---------------------------------------
    case(
        "distribution-low-above-high",
        ("low = 0.8, high = 1.2", "low = 1.2, high = 0.8"),
        "actors.syria.capability.low must be below high (0.8) (got 1.2)",
    ),
    case(
        "value-outside-distribution",
        ('value = 1.0, dist = "uniform"', 'value = 1.5, dist = "uniform"'),
        "actors.syria.capability.value must lie in the distribution's range [0.8, 1.2] (got 1.5)",
    ),
    case(
        "distribution-end-outside-field-range",
        ("low = 0.3, high = 0.8 }", "low = 0.3, high = 1.3 }"),
        "actors.syria.basing.salience.high must be in [0, 1] (got 1.3)",
    ),
    case(
        "triangular-mode-outside",
        ("low = 0.3, high = 0.8 }", "low = 0.3, high = 0.8, mode = 0.9 }"),
        "actors.syria.basing.salience.mode must be in [0.3, 0.8] (got 0.9)",
    ),
    case(
        "beta-negative-shape",
        ("a = 2.0", "a = -1.0"),
        "actors.syria.discount.a must be positive (got -1.0)",
    ),
    case(
        "beta-missing-shape",
        ("b = 3.0, ", ""),
        "actors.syria.discount.b is required for a beta distribution",
    ),
    case(
        "truncnorm-zero-sd",
        ("sd = 0.1", "sd = 0.0"),
        "issues.relief.status_quo.sd must be positive (got 0.0)",
    ),
    case(
        "unknown-distribution",
        ('dist = "uniform", low = 0.8', 'dist = "normal", low = 0.8'),
        "actors.syria.capability.dist must be one of uniform, triangular, beta, truncnorm "
        "(got 'normal')",
    ),
    case(
        "shape-without-distribution",
        ("capability = 0.8", "capability = { value = 0.8, low = 0.5 }"),
        "actors.turkey.capability.low needs a distribution",
    ),
    # Shape keys a kind does not use were accepted silently and written back by to_toml().
    case(
        "uniform-with-mode",
        ("low = 0.8, high = 1.2", "low = 0.8, high = 1.2, mode = 1.0"),
        "actors.syria.capability.mode is not used by a uniform distribution, "
        "which takes only low, high (got 1.0)",
    ),
    case(
        "uniform-with-sd",
        ("low = 0.1, high = 0.5", "low = 0.1, high = 0.5, sd = 0.1"),
        "actors.turkey.influence.syria.sd is not used by a uniform distribution, "
        "which takes only low, high (got 0.1)",
    ),
    case(
        "truncnorm-with-a",
        ("sd = 0.1", "sd = 0.1, a = 2.0"),
        "issues.relief.status_quo.a is not used by a truncnorm distribution, "
        "which takes only low, high, mean, sd (got 2.0)",
    ),
    case(
        "beta-with-mean",
        ("a = 2.0", "a = 2.0, mean = 0.9"),
        "actors.syria.discount.mean is not used by a beta distribution, "
        "which takes only low, high, a, b (got 0.9)",
    ),
    case(
        "triangular-with-b",
        ("low = 0.3, high = 0.8 }", "low = 0.3, high = 0.8, b = 1.0 }"),
        "actors.syria.basing.salience.b is not used by a triangular distribution, "
        "which takes only low, high, mode (got 1.0)",
    ),
    # -- evidence -----------------------------------------------------------------------
    case(
        "parameter-confidence-typo",
        ('confidence = "low"', 'confidence = "lwo"'),
        "actors.syria.capability.confidence must be one of high, medium, low (got 'lwo') "
        "(did you mean 'low'?)",
    ),
    case(
        # The issue's own confidence was never checked: "bogus" was accepted.
        "issue-confidence-bogus",
        ('confidence = "medium"\n\n[issues.relief]', 'confidence = "bogus"\n\n[issues.relief]'),
        "issues.basing.confidence must be one of high, medium, low (got 'bogus')",
    ),
    case(
        # Nor were the issue's evidence identifiers.
        "issue-evidence-blank",
        ('evidence = ["S1", "S6"]', 'evidence = ["S1", " "]'),
        "issues.basing.evidence must list non-empty source identifiers (got ' ')",
    ),
    case(
        "parameter-evidence-empty",
        ('evidence = ["S16"]', 'evidence = [""]'),
        "issues.basing.breakdown.evidence must list non-empty source identifiers (got '')",
    ),
    # -- scenario and protocol --------------------------------------------------------
    case(
        "horizon-zero",
        ("horizon = 5", "horizon = 0"),
        "scenario.horizon must be a whole number of months in [1, 10000] (got 0); "
        "the engines hold every month's random draws of a batch",
    ),
    case(
        # 10**7 months passed and then ran out of memory drawing every month's inputs.
        "horizon-too-long",
        ("horizon = 5", "horizon = 10000000"),
        "scenario.horizon must be a whole number of months in [1, 10000] (got 10000000)",
    ),
    case(
        "horizon-beyond-int64",
        ("horizon = 5", "horizon = " + "9" * 30),
        "scenario.horizon must be a whole number of months in [1, 10000] (got " + "9" * 30 + ")",
    ),
    case(
        "start-month-13",
        ('start = "2025-02"', 'start = "2025-13"'),
        "scenario.start must be a month 'YYYY-MM' (got '2025-13')",
    ),
    case(
        "start-trailing-newline",
        ('start = "2025-02"', 'start = "2025-02\\n"'),
        "scenario.start must be a month 'YYYY-MM' (got '2025-02\\n')",
    ),
    case(
        "scenario-name-not-identifier",
        ('name = "mini"', 'name = "Mini Scenario"'),
        "scenario.name must be a lower-case identifier "
        "(letters, digits, '_'; got 'Mini Scenario')",
    ),
    case(
        "recognition-unknown",
        ('recognition = "weighted"', 'recognition = "random"'),
        "protocol.recognition must be one of weighted, rotation (got 'random')",
    ),
    case(
        "rotation-missing",
        ('recognition = "weighted"', 'recognition = "rotation"'),
        "protocol.rotation must list at least one actor when recognition = 'rotation' (got [])",
    ),
    case(
        "reservation-typo",
        ('reservation = "concession"', 'reservation = "equilbrium"'),
        "protocol.reservation must be one of concession, equilibrium (got 'equilbrium') "
        "(did you mean 'equilibrium'?)",
    ),
    case(
        "utility-exponent-3",
        ("utility_exponent = 2", "utility_exponent = 3"),
        "protocol.utility_exponent must be 1 or 2 (got 3)",
    ),
    case(
        "linear-loss-with-two-issues-outside-bargaining",
        [
            ("utility_exponent = 2", "utility_exponent = 1"),
            ('recognition = "weighted"', 'model = "nash"\nrecognition = "weighted"'),
        ],
        "protocol.utility_exponent = 1 (linear loss) needs a single issue unless "
        "protocol.model = 'bargaining' (got 2 issues with model 'nash')",
    ),
    # -- decision rules ------------------------------------------------------------------
    case(
        "rule-unknown",
        (RELIEF_RULE, 'rule = "majorty"'),
        "issues.relief.rule must be one of unanimity, qualified, majority, unilateral "
        "(got 'majorty') (did you mean 'majority'?)",
    ),
    case(
        "rule-not-a-string",
        (RELIEF_RULE, "rule = 2"),
        "issues.relief.rule must be a string (got a number: 2)",
    ),
    case(
        "legacy-issue-without-rule",
        (RELIEF_RULE + "\n", ""),
        "issues.relief.rule is required: no actor's veto names 'relief', so give "
        "rule = one of unanimity, qualified, majority, unilateral",
    ),
    case(
        "rule-and-veto-on-one-issue",
        ('veto = ["basing"]', 'veto = ["basing", "relief"]'),
        "issues.relief.rule cannot be combined with vetoes on the issue (got rule = 'majority' "
        "while actors.syria.veto names 'relief'); list those actors in issues.relief.voters instead",
    ),
    case(
        "voters-without-rule",
        ("cuts = [0.25, 0.75]", 'cuts = [0.25, 0.75]\nvoters = ["syria"]'),
        "issues.basing.voters needs a rule: set issues.basing.rule "
        "(got voters = ['syria'] without one)",
    ),
    case(
        "threshold-zero",
        (RELIEF_RULE, 'rule = "qualified"\nthreshold = 0'),
        "issues.relief.threshold must be in (0, 1] (got 0)",
    ),
    case(
        "threshold-above-1",
        (RELIEF_RULE, 'rule = "qualified"\nthreshold = 1.3'),
        "issues.relief.threshold must be in (0, 1] (got 1.3)",
    ),
    case(
        "threshold-negative",
        (RELIEF_RULE, 'rule = "qualified"\nthreshold = -1'),
        "issues.relief.threshold must be in (0, 1] (got -1)",
    ),
    case(
        "threshold-nan",
        (RELIEF_RULE, 'rule = "qualified"\nthreshold = nan'),
        "issues.relief.threshold must be a finite number (got nan)",
    ),
    case(
        "threshold-with-majority",
        (RELIEF_RULE, 'rule = "majority"\nthreshold = 0.6'),
        "issues.relief.threshold is only allowed with rule = 'qualified' "
        "(got threshold = 0.6 with rule = 'majority')",
    ),
    case(
        "qualified-without-threshold",
        (RELIEF_RULE, 'rule = "qualified"'),
        "issues.relief.threshold is required for rule = 'qualified' (got none)",
    ),
    case(
        "min-voter-share-zero",
        (RELIEF_RULE, 'rule = "qualified"\nthreshold = 0.6\nmin_voter_share = 0'),
        "issues.relief.min_voter_share must be in (0, 1] (got 0)",
    ),
    case(
        "min-voter-share-with-majority",
        (RELIEF_RULE, 'rule = "majority"\nmin_voter_share = 0.5'),
        "issues.relief.min_voter_share is only allowed with rule = 'qualified' "
        "(got min_voter_share = 0.5 with rule = 'majority')",
    ),
    case(
        "authority-not-an-actor",
        (RELIEF_RULE, 'rule = "unilateral"\nauthority = "turky"'),
        "issues.relief.authority refers to an actor that does not exist (got 'turky') "
        "(did you mean 'turkey'?)",
    ),
    case(
        "unilateral-without-authority",
        (RELIEF_RULE, 'rule = "unilateral"'),
        "issues.relief.authority is required for rule = 'unilateral' (got none)",
    ),
    case(
        "authority-with-majority",
        (RELIEF_RULE, 'rule = "majority"\nauthority = "turkey"'),
        "issues.relief.authority is only allowed with rule = 'unilateral' "
        "(got authority = 'turkey' with rule = 'majority')",
    ),
    case(
        "unilateral-with-voters",
        (RELIEF_RULE, 'rule = "unilateral"\nauthority = "turkey"\nvoters = ["turkey"]'),
        "issues.relief.voters is not used with rule = 'unilateral', where the authority "
        "decides alone (got ['turkey'])",
    ),
    case(
        "voters-name-nobody",
        (RELIEF_RULE, RELIEF_RULE + "\nvoters = []"),
        "issues.relief.voters names nobody: list at least one actor (got [])",
    ),
    case(
        "voter-unknown",
        (RELIEF_RULE, RELIEF_RULE + '\nvoters = ["syria", "rusia"]'),
        "issues.relief.voters refers to an actor that does not exist (got 'rusia') "
        "(did you mean 'russia'?)",
    ),
    case(
        "voter-twice",
        (RELIEF_RULE, RELIEF_RULE + '\nvoters = ["syria", "turkey", "syria"]'),
        "issues.relief.voters lists an actor twice (got ['syria', 'turkey', 'syria'])",
    ),
    case(
        "voters-a-string",
        (RELIEF_RULE, RELIEF_RULE + '\nvoters = "syria"'),
        "issues.relief.voters must be an array (got a string: 'syria')",
    ),
    case(
        "majority-without-voting-weight",
        [
            (RELIEF_RULE, RELIEF_RULE + '\nvoters = ["turkey"]'),
            (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = 0"),
        ],
        "issues.relief.voters carry no voting weight: rule = 'majority' needs their votes "
        "to sum to more than 0 (got 0)",
    ),
    case(
        "qualified-without-voting-weight",
        [
            (RELIEF_RULE, 'rule = "qualified"\nthreshold = 0.5\nvoters = ["turkey"]'),
            (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = 0.0"),
        ],
        "issues.relief.voters carry no voting weight: rule = 'qualified' needs their votes "
        "to sum to more than 0 (got 0)",
    ),
    case(
        "unknown-issue-key-threshold",
        (RELIEF_RULE, RELIEF_RULE + "\ntreshold = 0.5"),
        "issues.relief.treshold is not a known field (did you mean 'threshold'?)",
    ),
    case(
        "drift-above-1",
        (RELIEF_RULE, RELIEF_RULE + "\ndrift = 1.2"),
        "issues.relief.drift must be in [0, 1] (got 1.2)",
    ),
    case(
        "drift-negative",
        (
            RELIEF_RULE,
            RELIEF_RULE + '\ndrift = { value = 0.1, dist = "uniform", low = -0.1, high = 0.2 }',
        ),
        "issues.relief.drift.low must be in [0, 1] (got -0.1)",
    ),
    # -- votes, proposers, opening, concession months ------------------------------------
    case(
        "votes-negative",
        (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = -1"),
        "actors.turkey.votes must be >= 0 (got -1)",
    ),
    case(
        "votes-nan",
        (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = nan"),
        "actors.turkey.votes must be a finite number (got nan)",
    ),
    case(
        "votes-boolean",
        (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = true"),
        "actors.turkey.votes must be a number (got a boolean: True)",
    ),
    case(
        "votes-a-parameter-table",
        (TURKEY_NOISE, TURKEY_NOISE + "\nvotes = { value = 2.0 }"),
        "actors.turkey.votes must be a number (got a table: {'value': 2.0})",
    ),
    case(
        "proposer-not-a-boolean",
        (TURKEY_NOISE, TURKEY_NOISE + "\nproposer = 1"),
        "actors.turkey.proposer must be true or false (got a number: 1)",
    ),
    case(
        "no-proposer",
        [
            ('veto = ["basing"]', 'veto = ["basing"]\nproposer = false'),
            ("disagreement = -0.2", "disagreement = -0.2\nproposer = false"),
            (TURKEY_NOISE, TURKEY_NOISE + "\nproposer = false"),
        ],
        "actors must include at least one proposer (got proposer = false for every actor)",
    ),
    case(
        "rotation-names-a-non-proposer",
        [
            (
                'recognition = "weighted"',
                'recognition = "rotation"\nrotation = ["syria", "turkey"]',
            ),
            (TURKEY_NOISE, TURKEY_NOISE + "\nproposer = false"),
        ],
        "protocol.rotation may only name proposers "
        "(got 'turkey', whose actors.turkey.proposer is false)",
    ),
    case(
        "opening-above-1",
        (TURKEY_NOISE, TURKEY_NOISE + "\nopening = 1.5"),
        "actors.turkey.opening must be in [0, 1] (got 1.5)",
    ),
    case(
        "opening-negative",
        (TURKEY_NOISE, TURKEY_NOISE + "\nopening = -0.1"),
        "actors.turkey.opening must be in [0, 1] (got -0.1)",
    ),
    case(
        "concession-months-zero",
        (TURKEY_NOISE, TURKEY_NOISE + "\nconcession_months = 0"),
        "actors.turkey.concession_months must be > 0 (got 0)",
    ),
    case(
        "concession-months-negative",
        (
            TURKEY_NOISE,
            TURKEY_NOISE
            + '\nconcession_months = { value = 12, dist = "uniform", low = -6, high = 36 }',
        ),
        "actors.turkey.concession_months.low must be > 0 (got -6)",
    ),
    case(
        "choice-distribution-on-a-number",
        (TURKEY_NOISE, 'noise = { value = 0.05, dist = "choice", low = 0.0, high = 1.0 }'),
        "actors.turkey.noise.dist must be one of uniform, triangular, beta, truncnorm "
        "(got 'choice'; a choice is only for protocol.reservation)",
    ),
    # -- protocol: model, look-ahead, reservation as a choice ----------------------------
    case(
        "model-unknown",
        ('recognition = "weighted"', 'model = "bargainning"\nrecognition = "weighted"'),
        "protocol.model must be one of bargaining, compromise, compromise-median, nash, "
        "nash-salience, bdm, bdm-reading2, smp, exchange, ensemble (got 'bargainning') "
        "(did you mean 'bargaining'?)",
    ),
    case(
        "lookahead-zero",
        (RESERVATION, RESERVATION + "\nlookahead = 0"),
        "protocol.lookahead must be a whole number of months in [1, 10000] (got 0)",
    ),
    case(
        "lookahead-fractional",
        (RESERVATION, RESERVATION + "\nlookahead = 2.5"),
        "protocol.lookahead must be a whole number (got a number: 2.5)",
    ),
    case(
        "reservation-a-number",
        (RESERVATION, "reservation = 1"),
        "protocol.reservation must be a string or a table (got a number: 1)",
    ),
    case(
        "choice-unknown-form",
        (RESERVATION, CHOICE + "{ concession = 0.7, equilbrium = 0.3 } }"),
        "protocol.reservation.weights.equilbrium is not a known reservation form "
        "(did you mean 'equilibrium'?); expected one of concession, equilibrium",
    ),
    case(
        "choice-negative-weight",
        (RESERVATION, CHOICE + "{ concession = 0.7, equilibrium = -0.3 } }"),
        "protocol.reservation.weights.equilibrium must be >= 0 (got -0.3)",
    ),
    case(
        "choice-weights-sum-to-zero",
        (RESERVATION, CHOICE + "{ concession = 0.0, equilibrium = 0.0 } }"),
        "protocol.reservation.weights must sum to a positive number (got 0)",
    ),
    case(
        "choice-weight-nan",
        (RESERVATION, CHOICE + "{ concession = nan } }"),
        "protocol.reservation.weights.concession must be a finite number (got nan)",
    ),
    case(
        "choice-weights-not-a-table",
        (RESERVATION, CHOICE + "[0.7, 0.3] }"),
        "protocol.reservation.weights must be a table (got an array: [0.7, 0.3])",
    ),
    case(
        "choice-without-weights",
        (RESERVATION, 'reservation = { value = "concession", dist = "choice" }'),
        "protocol.reservation.weights is required but missing",
    ),
    case(
        "choice-nominal-form-unknown",
        (RESERVATION, 'reservation = { value = "equilbrium" }'),
        "protocol.reservation.value must be one of concession, equilibrium "
        "(got 'equilbrium') (did you mean 'equilibrium'?)",
    ),
    case(
        "choice-nominal-form-without-weight",
        (
            RESERVATION,
            'reservation = { value = "equilibrium", dist = "choice", weights = { concession = 1.0 } }',
        ),
        "protocol.reservation.value must be a form with a positive weight "
        "(got 'equilibrium', whose weight is 0)",
    ),
    case(
        "choice-with-another-distribution",
        (
            RESERVATION,
            'reservation = { value = "concession", dist = "uniform", low = 0, high = 1 }',
        ),
        "protocol.reservation.low is not a known field; expected one of value, dist, weights",
    ),
    case(
        "choice-dist-uniform",
        (RESERVATION, CHOICE.replace('"choice"', '"uniform"') + "{ concession = 1.0 } }"),
        "protocol.reservation.dist must be 'choice' (got 'uniform')",
    ),
    case(
        "choice-weights-without-dist",
        (RESERVATION, 'reservation = { value = "concession", weights = { concession = 1.0 } }'),
        "protocol.reservation.weights needs a distribution: add dist = 'choice'",
    ),
    case(
        "unknown-protocol-key-lookahead",
        (RESERVATION, RESERVATION + "\nlookahed = 12"),
        "protocol.lookahed is not a known field (did you mean 'lookahead'?)",
    ),
    case(
        # Python's limit on int() of long digit strings made tomllib raise a bare ValueError.
        "integer-literal-too-long",
        ("horizon = 5", "horizon = 1" + "0" * 5000),
        "TOML value cannot be read",
        "4300 digits",
    ),
]


def _load(text: str, how: str, tmp_path: Path) -> tuple[Scenario, str]:
    if how == "text":
        return read_scenario_text(text, source="x.toml"), "x.toml"
    path = tmp_path / "bad-scenario.toml"
    path.write_text(text, encoding="utf-8")
    return basesim.load_scenario(path), str(path)


@pytest.mark.parametrize("how", ["text", "file"])
def test_valid_scenario_loads(how: str, tmp_path: Path) -> None:
    # The cases below are one edit away from this scenario, so the edit is what fails.
    scn, _ = _load(VALID, how, tmp_path)
    assert scn.actor_names == ("syria", "russia", "turkey")
    assert scn.issue_names == ("basing", "relief")


def test_there_are_at_least_thirty_distinct_cases() -> None:
    ids = [p.id for p in TEXT_CASES]
    texts = [p.values[0] for p in TEXT_CASES]
    assert len(set(ids)) == len(ids) >= 30
    assert len(set(texts)) == len(texts)
    assert VALID not in texts


@pytest.mark.parametrize("how", ["text", "file"])
@pytest.mark.parametrize(("text", "fragments"), TEXT_CASES)
def test_bad_scenario_text(
    text: str, fragments: tuple[str, ...], how: str, tmp_path: Path
) -> None:
    with pytest.raises(ScenarioError) as info:
        _load(text, how, tmp_path)
    message = str(info.value)
    source = "x.toml" if how == "text" else str(tmp_path / "bad-scenario.toml")
    for fragment in fragments:
        assert fragment in message
    assert message.endswith(f" in {source}")
    assert info.value.source == source
    assert isinstance(info.value, BasesimError)


# (id, edit, the rule's wording, a marker on the line the error is on)
SYNTAX_CASES = [
    pytest.param(
        [("horizon = 5", "horizon = ")], "Invalid value", "horizon = ", id="missing-value"
    ),
    pytest.param(
        # Duplicate actor names cannot be written in TOML: the second table is an error.
        [("[actors.turkey]\n", '[actors.russia]\nlabel = "Russia again"\n\n[actors.turkey]\n')],
        "Cannot declare ('actors', 'russia') twice",
        "[actors.russia]\n",
        id="duplicate-actor-table",
    ),
    pytest.param(
        [("horizon = 5", "horizon = 5\nhorizon = 6")],
        "Cannot overwrite a value",
        "horizon = 6",
        id="duplicate-key",
    ),
    pytest.param(
        [('label = "Turkey"', 'label = "Turkey')],
        "Illegal character",
        'label = "Turkey',
        id="unterminated-string",
    ),
    pytest.param(
        [("[issues.relief]", "[issues.relief")],
        "Expected ']' at the end of a table declaration",
        "[issues.relief",
        id="unclosed-table-header",
    ),
]


@pytest.mark.parametrize(("edits", "rule", "marker"), SYNTAX_CASES)
def test_toml_syntax_error_names_the_line(edits: list[Edit], rule: str, marker: str) -> None:
    text = mutate(VALID, *edits)
    line = text[: text.rindex(marker)].count("\n") + 1
    with pytest.raises(ScenarioError) as info:
        read_scenario_text(text, source="broken.toml")
    message = str(info.value)
    assert message.startswith("TOML syntax error: ")
    assert rule in message
    assert f"(at line {line}, column" in message
    assert message.endswith(" in broken.toml")


def test_deeply_nested_toml_is_a_scenario_error() -> None:
    # tomllib recurses once per level and raised a bare RecursionError.
    text = mutate(VALID, ('veto = ["basing"]', "veto = " + "[" * 5000 + "]" * 5000))
    with pytest.raises(ScenarioError, match=r"nested too deeply in deep\.toml$"):
        read_scenario_text(text, source="deep.toml")


# -- the dictionary a TOML file parses to ---------------------------------------------------
def _drop_issues(data: dict[str, Any]) -> None:
    data["issues"] = {}


def _drop_actors(data: dict[str, Any]) -> None:
    data["actors"] = {}


def _scenario_string(data: dict[str, Any]) -> None:
    data["scenario"] = "mini"


def _no_issues_table(data: dict[str, Any]) -> None:
    del data["issues"]


def _actor_list(data: dict[str, Any]) -> None:
    data["actors"]["turkey"] = ["Turkey"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _drop_issues, "issues must define at least one issue (got none)", id="no-issues"
        ),
        pytest.param(
            _drop_actors, "actors must define at least one actor (got none)", id="no-actors"
        ),
        pytest.param(
            _scenario_string,
            "scenario must be a table (got a string: 'mini')",
            id="scenario-string",
        ),
        pytest.param(_no_issues_table, "issues is required but missing", id="issues-missing"),
        pytest.param(
            _actor_list,
            "actors.turkey must be a table (got an array: ['Turkey'])",
            id="actor-array",
        ),
    ],
)
def test_bad_scenario_dict(change: Callable[[dict[str, Any]], None], expected: str) -> None:
    data = tomllib.loads(VALID)
    change(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="dict.toml")
    assert str(info.value) == f"{expected} in dict.toml"


# -- scenarios built from Python objects ------------------------------------------------------
@pytest.fixture(scope="module")
def scn() -> Scenario:
    return read_scenario_text(VALID)


def _with_actor(scn: Scenario, actor_name: str, **changes: Any) -> Scenario:
    actors = tuple(
        dataclasses.replace(a, **changes) if a.name == actor_name else a for a in scn.actors
    )
    return dataclasses.replace(scn, actors=actors)


def _with_issue(scn: Scenario, issue_name: str, **changes: Any) -> Scenario:
    issues = tuple(
        dataclasses.replace(i, **changes) if i.name == issue_name else i for i in scn.issues
    )
    return dataclasses.replace(scn, issues=issues)


PYTHON_CASES = [
    pytest.param(
        lambda s: dataclasses.replace(s, actors=(s.actors[0], s.actors[0], *s.actors[1:])),
        "actors.syria is defined twice (actor names must be unique)",
        id="duplicate-actor",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, issues=(*s.issues, s.issues[0])),
        "issues.basing is defined twice (issue names must be unique)",
        id="duplicate-issue",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, issues=(dataclasses.replace(s.issues[0], name="noise"),)),
        "issues.noise: an issue may not be called 'noise', a reserved actor field",
        id="issue-named-like-actor-field",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, issues=(s.issues[0], "relief")),
        "issues[1] must be an Issue (got str)",
        id="issue-not-an-issue",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, actors=({"name": "syria"}, *s.actors[1:])),
        "actors[0] must be an Actor (got dict)",
        id="actor-not-an-actor",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, protocol="weighted"),
        "protocol must be a ProtocolSettings (got str)",
        id="protocol-not-settings",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, protocol=ProtocolSettings(utility_exponent=2.0)),
        "protocol.utility_exponent must be 1 or 2 (got 2.0)",
        id="utility-exponent-float",
    ),
    pytest.param(
        lambda s: _with_issue(s, "basing", cuts=(0.25, "0.75")),
        "issues.basing.cuts[1] must be a number (got '0.75')",
        id="cut-not-a-number",
    ),
    pytest.param(
        lambda s: _with_issue(s, "basing", cuts=(0.25, float("nan"))),
        "issues.basing.cuts must be strictly increasing inside (0, 1) (got [0.25, nan])",
        id="cut-nan",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", label=None),
        "issues.relief.label must be a string (got NoneType: None)",
        id="issue-label-none",
    ),
    pytest.param(
        lambda s: _with_issue(s, "basing", evidence=Evidence(confidence="bogus")),
        "issues.basing.confidence must be one of high, medium, low (got 'bogus')",
        id="issue-confidence-bogus",
    ),
    pytest.param(
        lambda s: _with_actor(s, "syria", capability=1.0),
        "actors.syria.capability must be a Parameter (got float)",
        id="capability-not-a-parameter",
    ),
    pytest.param(
        lambda s: _with_actor(s, "syria", capability=Parameter(value=10**400)),
        "actors.syria.capability must be a finite number (got an integer too large for a float)",
        id="capability-huge-int",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", noise=Parameter(value=float("-inf"))),
        "actors.turkey.noise must be a finite number (got -inf)",
        id="noise-minus-inf",
    ),
    pytest.param(
        lambda s: _with_actor(
            s,
            "turkey",
            noise=Parameter(
                value=0.1, distribution=Distribution(kind="uniform", low=0, high=1, a=2)
            ),
        ),
        "actors.turkey.noise.a is not used by a uniform distribution, "
        "which takes only low, high (got 2)",
        id="uniform-with-a",
    ),
    pytest.param(
        lambda s: _with_actor(
            s,
            "turkey",
            noise=Parameter(
                value=0.1, distribution=Distribution(kind="uniform", low=0, high=10**400)
            ),
        ),
        "actors.turkey.noise.high must be a finite number (got an integer too large for a float)",
        id="distribution-end-huge-int",
    ),
    pytest.param(
        lambda s: _with_actor(
            s, "turkey", stances={"basing": s.actor("turkey").stances["basing"]}
        ),
        "actors.turkey.relief is missing: "
        "every actor needs a position and salience on every issue",
        id="stance-missing",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", stances={"basing": 0.5, "relief": 0.5}),
        "actors.turkey.basing must be a Stance (got float)",
        id="stance-not-a-stance",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", name="turkey\n"),
        "actors.turkey\n must be a lower-case identifier (letters, digits, '_'; got 'turkey\\n')",
        id="actor-name-trailing-newline",
    ),
    pytest.param(
        lambda s: _with_actor(s, "russia", influence={"russia": Parameter(value=0.1)}),
        "actors.russia.influence.russia: an actor cannot influence itself",
        id="self-influence",
    ),
    pytest.param(
        lambda s: _with_actor(
            s, "russia", capability=Parameter(value=1.0, evidence=Evidence(rationale=["why"]))
        ),
        "actors.russia.capability.rationale must be a string (got list: ['why'])",
        id="rationale-not-a-string",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, actors=()),
        "actors must define at least one actor (got none)",
        id="no-actors",
    ),
    # -- decision rules, votes, proposers and the new behavioural fields -------------------
    pytest.param(
        lambda s: _with_issue(s, "relief", voters="syria"),
        "issues.relief.voters must be a list of actor names (got str: 'syria')",
        id="voters-a-string",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", voters=()),
        "issues.relief.voters names nobody: list at least one actor (got [])",
        id="voters-empty",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", rule="qualified", threshold=float("nan")),
        "issues.relief.threshold must be a finite number (got nan)",
        id="threshold-nan",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", rule="qualified", threshold=1.3),
        "issues.relief.threshold must be in (0, 1] (got 1.3)",
        id="threshold-above-1",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", rule="qualified", threshold="0.5"),
        "issues.relief.threshold must be a number (got '0.5')",
        id="threshold-a-string",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", rule="unanimous"),
        "issues.relief.rule must be one of unanimity, qualified, majority, unilateral "
        "(got 'unanimous') (did you mean 'unanimity'?)",
        id="rule-typo",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", rule="unilateral", authority="syira"),
        "issues.relief.authority refers to an actor that does not exist (got 'syira') "
        "(did you mean 'syria'?)",
        id="authority-typo",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", drift=0.1),
        "issues.relief.drift must be a Parameter (got float)",
        id="drift-not-a-parameter",
    ),
    pytest.param(
        lambda s: _with_issue(s, "relief", drift=Parameter(value=float("nan"))),
        "issues.relief.drift must be a finite number (got nan)",
        id="drift-nan",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", votes=float("nan")),
        "actors.turkey.votes must be a finite number (got nan)",
        id="votes-nan",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", votes=float("inf")),
        "actors.turkey.votes must be a finite number (got inf)",
        id="votes-inf",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", votes=-1.0),
        "actors.turkey.votes must be >= 0 (got -1)",
        id="votes-negative",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", votes=True),
        "actors.turkey.votes must be a number (got True)",
        id="votes-boolean",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", proposer="yes"),
        "actors.turkey.proposer must be true or false (got 'yes')",
        id="proposer-a-string",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", opening=0.5),
        "actors.turkey.opening must be a Parameter (got float)",
        id="opening-not-a-parameter",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", concession_months=None),
        "actors.turkey.concession_months must be a Parameter (got NoneType)",
        id="concession-months-none",
    ),
    pytest.param(
        lambda s: _with_actor(s, "turkey", concession_months=Parameter(value=-3.0)),
        "actors.turkey.concession_months must be > 0 (got -3)",
        id="concession-months-negative",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, protocol=ProtocolSettings(model="spatial")),
        "protocol.model must be one of bargaining, compromise, compromise-median, nash, "
        "nash-salience, bdm, bdm-reading2, smp, exchange, ensemble (got 'spatial')",
        id="model-unknown",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, protocol=ProtocolSettings(lookahead=True)),
        "protocol.lookahead must be a whole number of months in [1, 10000] (got True)",
        id="lookahead-boolean",
    ),
    pytest.param(
        lambda s: dataclasses.replace(
            s,
            protocol=ProtocolSettings(
                reservation=Parameter(
                    value=0.0, distribution=Distribution(kind="choice", weights=(0.5, 0.3, 0.2))
                )
            ),
        ),
        "protocol.reservation.weights must give one weight per form "
        "(concession, equilibrium; got 3)",
        id="choice-three-weights",
    ),
    pytest.param(
        lambda s: dataclasses.replace(
            s,
            protocol=ProtocolSettings(
                reservation=Parameter(
                    value=0.5, distribution=Distribution(kind="choice", weights=(0.5, 0.5))
                )
            ),
        ),
        "protocol.reservation.value must be the index of a form in RESERVATION_FORMS "
        "(0 to 1: concession, equilibrium) (got 0.5)",
        id="choice-value-not-an-index",
    ),
    pytest.param(
        lambda s: dataclasses.replace(
            s,
            protocol=ProtocolSettings(
                reservation=Parameter(
                    value=0.0, distribution=Distribution(kind="choice", weights=(1.0, -0.5))
                )
            ),
        ),
        "protocol.reservation.weights.equilibrium must be >= 0 (got -0.5)",
        id="choice-negative-weight",
    ),
    pytest.param(
        lambda s: dataclasses.replace(
            s,
            protocol=ProtocolSettings(
                reservation=Parameter(
                    value=0.0, distribution=Distribution(kind="uniform", low=0.0, high=1.0)
                )
            ),
        ),
        "protocol.reservation.dist must be 'choice' (got 'uniform')",
        id="choice-uniform",
    ),
    pytest.param(
        lambda s: dataclasses.replace(s, protocol=ProtocolSettings(reservation=None)),
        "protocol.reservation must be one of concession, equilibrium (got None)",
        id="reservation-none",
    ),
    pytest.param(
        lambda s: _with_actor(
            s,
            "turkey",
            noise=Parameter(value=0.0, distribution=Distribution(kind="choice", weights=(1, 1))),
        ),
        "actors.turkey.noise.dist must be one of uniform, triangular, beta, truncnorm "
        "(got 'choice'; a choice is only for protocol.reservation)",
        id="choice-on-a-number",
    ),
]


@pytest.mark.parametrize(("build", "expected"), PYTHON_CASES)
def test_bad_scenario_object(
    scn: Scenario, build: Callable[[Scenario], Scenario], expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        build(scn)
    # Built in Python, the scenario has no file to name.
    assert str(info.value) == expected
    assert info.value.source is None


def test_duplicate_actors_built_directly() -> None:
    stance = Stance(position=Parameter(value=0.5), salience=Parameter(value=1.0))
    issue = Issue(name="basing", label="Basing", status_quo=Parameter(value=0.5), rule="unanimity")
    a = Actor(name="a", label="A", capability=Parameter(value=1.0), stances={"basing": stance})
    assert Scenario(name="ok", issues=(issue,), actors=(a,)).actor_names == ("a",)
    with pytest.raises(ScenarioError, match=r"^actors\.a is defined twice"):
        Scenario(name="dup", issues=(issue,), actors=(a, a))


# -- load_scenario ---------------------------------------------------------------------------
def test_list_scenarios_includes_syria() -> None:
    names = basesim.list_scenarios()
    assert "syria-2025" in names
    assert names == sorted(names)


def test_unknown_bundled_name_suggests_the_closest() -> None:
    with pytest.raises(ScenarioError) as info:
        basesim.load_scenario("syria2025")
    message = str(info.value)
    assert message.startswith(
        "no bundled scenario called 'syria2025' (did you mean 'syria-2025'?)"
    )
    assert "syria-2025" in message.split("bundled scenarios are ")[1]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as info:
        basesim.load_scenario(path)
    assert str(info.value) == f"scenario file {str(path)!r} does not exist"
    # A string ending in .toml is a path too, not a bundled name.
    with pytest.raises(ScenarioError, match="does not exist"):
        basesim.load_scenario(str(path))


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(VALID.replace("Turkey", "T\u00fcrkiye").encode("latin-1"))
    with pytest.raises(ScenarioError) as info:
        basesim.load_scenario(path)
    assert str(info.value) == f"scenario file is not UTF-8 text (invalid start byte) in {path}"


def test_bundled_scenario_loads_and_validates() -> None:
    scn = basesim.load_scenario("syria-2025")
    assert scn.name == "syria-2025"
    assert "syria" in scn.actor_names
    # Its own numbers go through the same checks: break one and it is refused.
    issue = scn.issue_names[0]
    path = f"actors.syria.{issue}.salience"
    with pytest.raises(ScenarioError) as info:
        scn.replace({path: 1.3})
    assert str(info.value) == f"{path} must be in [0, 1] (got 1.3)"


# -- round trip -----------------------------------------------------------------------------
def test_round_trip_of_valid() -> None:
    scn = read_scenario_text(VALID, source="mini.toml")
    text = scn.to_toml()
    assert read_scenario_text(text) == scn
    # Writing is stable: the written text writes itself again.
    assert read_scenario_text(text).to_toml() == text


@pytest.mark.parametrize("name", basesim.list_scenarios())
def test_round_trip_of_bundled(name: str) -> None:
    scn = basesim.load_scenario(name)
    assert read_scenario_text(scn.to_toml(), source=f"{name}-copy.toml") == scn


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    scn = read_scenario_text(VALID)
    path = basesim.save_scenario(scn, tmp_path / "saved.toml")
    assert basesim.load_scenario(path) == scn


def test_round_trip_keeps_issue_evidence_and_odd_text() -> None:
    scn = read_scenario_text(VALID)
    # DEL (U+007F) is the one control character JSON leaves raw; TOML refuses it raw.
    odd = 'quote " backslash \\ tab \t newline \n del \x7f bell \x07 \u00e9 \u2028 end'
    variant = dataclasses.replace(scn, title=odd, description=odd)
    variant = _with_issue(
        variant, "relief", label=odd, evidence=Evidence(sources=("S2",), confidence="high")
    )
    back = read_scenario_text(variant.to_toml())
    assert back == variant
    assert back.title == odd
    assert back.issue("relief").evidence.confidence == "high"


# -- files that are not scenario files ----------------------------------------------------
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d / ("a" * 300 + ".toml"), "cannot be read"),
        (lambda d: d, "is a folder, not a .toml file"),
        (lambda d: d / "missing.toml", "does not exist"),
    ],
    ids=["name-too-long", "folder", "missing"],
)
def test_a_path_that_is_no_scenario_file_is_a_scenario_error(
    make: Callable[[Path], Path], expected: str, tmp_path: Path
) -> None:
    with pytest.raises(ScenarioError, match=expected):
        basesim.load_scenario(make(tmp_path))


def test_an_empty_file_says_it_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="scenario file is empty"):
        basesim.load_scenario(path)


def test_a_file_name_with_a_newline_gives_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "two\nlines.toml"
    path.write_text('[scenario]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        basesim.load_scenario(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("rng", [-1, 3.5, True, "7"], ids=["negative", "float", "bool", "str"])
def test_a_bad_rng_is_a_basesim_error_naming_it(rng: Any, scenario: Scenario) -> None:
    with pytest.raises(basesim.BasesimError, match=r"rng must be"):
        basesim.simulate(scenario, n_runs=10, rng=rng)
