"""The scenario's building blocks: distributions, parameters, issues, and Scenario's methods."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

import basesim
from basesim import (
    Actor,
    Distribution,
    Evidence,
    Issue,
    Parameter,
    ProtocolSettings,
    Scenario,
    ScenarioError,
    Stance,
)
from basesim.scenario import (
    ACTOR_FIELDS,
    BEHAVIOUR_FIELDS,
    DECISION_RULES,
    KNOWN_MODELS,
    RESERVATION_FORMS,
    DecisionRule,
)
from basesim.scenarios.toml_io import read_scenario_text

DISTRIBUTIONS = {
    "uniform": Distribution(kind="uniform", low=0.2, high=0.6),
    "triangular": Distribution(kind="triangular", low=0.0, mode=0.2, high=0.5),
    "beta": Distribution(kind="beta", a=2.0, b=5.0, low=0.1, high=0.9),
    "truncnorm": Distribution(kind="truncnorm", mean=0.3, sd=0.2, low=0.0, high=1.0),
}

# Closed-form means (hand-derived):
#   uniform on [0.2, 0.6]:          (0.2 + 0.6) / 2 = 0.4
#   triangular(0, 0.2, 0.5):        (0 + 0.2 + 0.5) / 3 = 0.7 / 3
#   beta(2, 5) on [0.1, 0.9]:       0.1 + 0.8 * 2 / 7
#   truncnorm(0.3, 0.2) on [0, 1]:  mu + sd * (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha)),
#                                   alpha = -1.5, beta = 3.5
_phi = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
_Phi = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
MEANS = {
    "uniform": 0.4,
    "triangular": 0.7 / 3,
    "beta": 0.1 + 0.8 * 2 / 7,
    "truncnorm": 0.3 + 0.2 * (_phi(-1.5) - _phi(3.5)) / (_Phi(3.5) - _Phi(-1.5)),
}
KINDS = sorted(DISTRIBUTIONS)


@pytest.mark.parametrize("kind", KINDS)
def test_distribution_is_well_formed(kind: str) -> None:
    assert DISTRIBUTIONS[kind].check() == []


@pytest.mark.parametrize("kind", KINDS)
def test_ppf_stays_within_support_and_rises(kind: str) -> None:
    dist = DISTRIBUTIONS[kind]
    q = np.array([0.0, 1e-12, 0.01, 0.25, 0.5, 0.75, 0.99, 1 - 1e-12, 1.0])
    x = dist.ppf(q)
    assert np.all(x >= dist.low)
    assert np.all(x <= dist.high)
    assert np.all(np.diff(x) >= 0)
    assert x[0] == pytest.approx(dist.low)
    assert x[-1] == pytest.approx(dist.high)


def test_ppf_hand_values() -> None:
    # uniform: 0.2 + 0.25 * (0.6 - 0.2) = 0.3
    assert float(DISTRIBUTIONS["uniform"].ppf(0.25)) == pytest.approx(0.3)
    # triangular(0, 0.2, 0.5): F(mode) = 0.2 / 0.5 = 0.4 < 0.5, so the median is on the
    # falling side: 0.5 - sqrt((1 - 0.5) * 0.5 * (0.5 - 0.2)) = 0.5 - sqrt(0.075)
    assert float(DISTRIBUTIONS["triangular"].ppf(0.5)) == pytest.approx(0.5 - math.sqrt(0.075))


@pytest.mark.parametrize("kind", KINDS)
def test_mean_value_matches_closed_form(kind: str) -> None:
    assert DISTRIBUTIONS[kind].mean_value() == pytest.approx(MEANS[kind], rel=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_is_reproducible_and_in_support(kind: str) -> None:
    dist = DISTRIBUTIONS[kind]
    a = dist.sample(500, rng=7)
    b = dist.sample(500, rng=np.random.default_rng(7))
    c = dist.sample(500, rng=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all((a >= dist.low) & (a <= dist.high))
    assert dist.sample((3, 4), rng=1).shape == (3, 4)


@pytest.mark.parametrize("kind", KINDS)
def test_sample_mean_within_five_standard_errors(kind: str) -> None:
    dist = DISTRIBUTIONS[kind]
    n = 20_000
    x = dist.sample(n, rng=2024)
    standard_error = x.std(ddof=1) / math.sqrt(n)
    assert abs(x.mean() - dist.mean_value()) <= 5 * standard_error


@pytest.mark.parametrize(
    ("dist", "problem"),
    [
        pytest.param(
            Distribution(kind="uniform", low=0.0, high=1.0, mode=0.5),
            ("mode", "is not used by a uniform distribution, which takes only low, high", 0.5),
            id="uniform-mode",
        ),
        pytest.param(
            Distribution(kind="triangular", low=0.0, high=1.0, mode=0.5, sd=0.1),
            (
                "sd",
                "is not used by a triangular distribution, which takes only low, high, mode",
                0.1,
            ),
            id="triangular-sd",
        ),
        pytest.param(
            Distribution(kind="beta", low=0.0, high=1.0, a=1.0, b=1.0, mode=0.5),
            ("mode", "is not used by a beta distribution, which takes only low, high, a, b", 0.5),
            id="beta-mode",
        ),
        pytest.param(
            Distribution(kind="truncnorm", low=0.0, high=1.0, mean=0.5, sd=0.1, b=2.0),
            (
                "b",
                "is not used by a truncnorm distribution, which takes only low, high, mean, sd",
                2.0,
            ),
            id="truncnorm-b",
        ),
        pytest.param(
            Distribution(kind="uniform", low=None, high=1.0),  # type: ignore[arg-type]
            ("low", "must be a finite number", None),
            id="low-none",
        ),
        pytest.param(
            Distribution(kind="uniform", low="0", high=1.0),  # type: ignore[arg-type]
            ("low", "must be a finite number", "0"),
            id="low-string",
        ),
        pytest.param(
            Distribution(kind="beta", low=0.0, high=1.0, a=0.0, b=1.0),
            ("a", "must be positive", 0.0),
            id="beta-a-zero",
        ),
        pytest.param(
            Distribution(kind="uniform", low=1.0, high=1.0),
            ("low", "must be below high (1.0)", 1.0),
            id="empty-support",
        ),
    ],
)
def test_distribution_check_names_the_problem(
    dist: Distribution, problem: tuple[str, str, object]
) -> None:
    assert dist.check()[0] == problem


def test_parameter_support() -> None:
    fixed = Parameter.fixed(0.3, sources=("S1",), confidence="high")
    assert fixed.support == (0.3, 0.3)
    assert not fixed.is_uncertain
    assert fixed.evidence == Evidence(sources=("S1",), confidence="high")
    uncertain = Parameter(value=0.3, distribution=DISTRIBUTIONS["uniform"])
    assert uncertain.support == (0.2, 0.6)
    assert uncertain.is_uncertain


# -- issues ---------------------------------------------------------------------------------
@pytest.fixture
def basing() -> Issue:
    return Issue(
        name="basing",
        label="Basing",
        anchors=("none", "some", "all"),
        status_quo=Parameter(value=1.0),
        categories=("withdrawal", "reduced", "retention"),
        cuts=(0.25, 0.75),
    )


def test_categorize_at_cut_boundaries(basing: Issue) -> None:
    # A value falls in categories[i], i = number of cuts <= value: a cut itself
    # belongs to the category above it.
    values = [0.0, 0.2499, 0.25, 0.5, 0.7499, 0.75, 1.0]
    expected = [
        "withdrawal",
        "withdrawal",
        "reduced",
        "reduced",
        "reduced",
        "retention",
        "retention",
    ]
    assert basing.categorize(values).tolist() == expected
    assert basing.category_index(values).tolist() == [0, 0, 1, 1, 1, 2, 2]
    assert basing.categorize(0.75).tolist() == "retention"


def test_categorize_with_one_cut_and_with_none() -> None:
    two = Issue(
        name="x", label="X", status_quo=Parameter(value=0.0), categories=("no", "yes"), cuts=(0.5,)
    )
    assert two.categorize([0.4999, 0.5, 0.5001]).tolist() == ["no", "yes", "yes"]
    one = Issue(name="x", label="X", status_quo=Parameter(value=0.0), categories=("all",), cuts=())
    assert one.categorize([0.0, 0.5, 1.0]).tolist() == ["all", "all", "all"]


def test_default_cuts_are_thirds() -> None:
    issue = Issue(name="x", label="X", status_quo=Parameter(value=0.0))
    # 1/3 and 2/3 themselves start the middle and high categories.
    assert issue.categorize([1 / 3 - 1e-9, 1 / 3, 2 / 3 - 1e-9, 2 / 3]).tolist() == [
        "low",
        "middle",
        "middle",
        "high",
    ]


# -- a scenario built in Python ---------------------------------------------------------------
def _stance(position: float, salience: float) -> Stance:
    return Stance(position=Parameter(value=position), salience=Parameter(value=salience))


@pytest.fixture
def scn(basing: Issue) -> Scenario:
    relief = Issue(
        name="relief",
        label="Relief",
        status_quo=Parameter(
            value=0.1,
            distribution=Distribution(kind="triangular", low=0.0, mode=0.1, high=0.3),
            evidence=Evidence(sources=("S20",), rationale="still in force", confidence="medium"),
        ),
        categories=("little", "much"),
        cuts=(0.5,),
        rule="majority",
    )
    syria = Actor(
        name="syria",
        label="Syria",
        capability=Parameter(
            value=1.0,
            distribution=Distribution(kind="uniform", low=0.8, high=1.2),
            evidence=Evidence(sources=("S1", "S2")),
        ),
        stances={"basing": _stance(0.15, 0.5), "relief": _stance(1.0, 0.9)},
        veto=("basing",),
        discount=Parameter(value=0.9, evidence=Evidence(assumption=True)),
    )
    russia = Actor(
        name="russia",
        label="Russia",
        capability=Parameter(value=1.0),
        stances={"basing": _stance(1.0, 0.8), "relief": _stance(0.6, 0.1)},
        influence={"syria": Parameter(value=0.2)},
        disagreement=Parameter(value=-0.2),
    )
    return Scenario(
        name="mini",
        issues=(basing, relief),
        actors=(syria, russia),
        horizon=5,
        start="2025-02",
    )


def test_parameters_lists_every_number(scn: Scenario) -> None:
    paths = [path for path, _ in scn.parameters()]
    # 4 issue numbers (status quo and drift of each; no breakdowns), then per actor:
    # capability, 2 issues x (position, salience), anchoring, discount, concession,
    # concession_months, opening, noise = 11, plus russia's disagreement and its
    # influence on syria.
    assert len(paths) == 4 + 11 + 13
    assert paths[:5] == [
        "issues.basing.status_quo",
        "issues.basing.drift",
        "issues.relief.status_quo",
        "issues.relief.drift",
        "actors.syria.capability",
    ]
    assert paths[9:15] == [
        "actors.syria.anchoring",
        "actors.syria.discount",
        "actors.syria.concession",
        "actors.syria.concession_months",
        "actors.syria.opening",
        "actors.syria.noise",
    ]
    assert "actors.russia.disagreement" in paths
    assert "actors.syria.disagreement" not in paths
    assert paths[-1] == "actors.russia.influence.syria"
    assert scn.uncertain_parameters() == ("issues.relief.status_quo", "actors.syria.capability")


EXPLAIN_COLUMNS = [
    "actor",
    "issue",
    "field",
    "value",
    "low",
    "high",
    "uncertainty",
    "evidence",
    "rationale",
    "confidence",
    "assumption",
    "path",
]


def test_explain_has_a_row_per_parameter(scn: Scenario) -> None:
    table = scn.explain()
    assert list(table.columns) == EXPLAIN_COLUMNS
    params = list(scn.parameters())
    assert table["path"].tolist() == [path for path, _ in params]
    assert table["value"].tolist() == [p.value for _, p in params]
    assert table["low"].tolist() == [p.support[0] for _, p in params]
    assert table["high"].tolist() == [p.support[1] for _, p in params]
    rows = table.set_index("path")
    assert rows.loc["issues.relief.status_quo", ["actor", "issue", "field"]].tolist() == [
        "",
        "relief",
        "status_quo",
    ]
    assert rows.loc["actors.syria.basing.salience", ["actor", "issue", "field"]].tolist() == [
        "syria",
        "basing",
        "salience",
    ]
    assert rows.loc["actors.russia.influence.syria", ["actor", "issue", "field"]].tolist() == [
        "russia",
        "",
        "influence on syria",
    ]
    relief = rows.loc["issues.relief.status_quo"]
    assert relief["uncertainty"] == "triangular(0, 0.1, 0.3)"
    assert relief["evidence"] == "S20"
    assert relief["rationale"] == "still in force"
    assert relief["confidence"] == "medium"
    assert rows.loc["actors.syria.capability", "evidence"] == "S1, S2"
    assert rows.loc["actors.syria.discount", "evidence"] == "assumption"
    assert bool(rows.loc["actors.syria.discount", "assumption"])
    assert rows.loc["actors.russia.capability", "uncertainty"] == "fixed"


def test_explain_of_bundled_scenario_covers_its_parameters(scenario: Scenario) -> None:
    table = scenario.explain()
    assert list(table.columns) == EXPLAIN_COLUMNS
    assert table["path"].tolist() == [path for path, _ in scenario.parameters()]
    assert table["path"].is_unique


# -- Scenario.replace --------------------------------------------------------------------------
def test_replace_changes_a_copy(scn: Scenario) -> None:
    v = scn.replace({"actors.syria.basing.position": 0.6}, horizon=12)
    assert v.actor("syria").stances["basing"].position.value == 0.6
    assert v.horizon == 12
    assert scn.actor("syria").stances["basing"].position.value == 0.15
    assert scn.horizon == 5
    # A bare number set in code no longer carries the old evidence.
    evidence = v.actor("syria").stances["basing"].position.evidence
    assert evidence.assumption
    assert evidence.rationale == "set in code (was 0.15)"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"actors.syria.basing.salience": 1.3},
            "actors.syria.basing.salience must be in [0, 1] (got 1.3)",
            id="salience-above-1",
        ),
        pytest.param(
            {"actors.syria.influence.syria": 0.1},
            "actors.syria.influence.syria: an actor cannot influence itself",
            id="self-influence",
        ),
        pytest.param(
            {"actors.syria.capability": Distribution(kind="uniform", low=0.5, high=1.5, mode=1.0)},
            "actors.syria.capability.mode is not used by a uniform distribution, "
            "which takes only low, high (got 1.0)",
            id="uniform-with-mode",
        ),
        pytest.param(
            {"actors.syria.noise": Distribution(kind="uniform", low=-0.1, high=0.1)},
            "actors.syria.noise.low must be >= 0 (got -0.1)",
            id="distribution-below-range",
        ),
        pytest.param(
            {"issues.basing.cuts": (0.75, 0.25)},
            "issues.basing.cuts must be strictly increasing inside (0, 1) (got [0.75, 0.25])",
            id="cuts-out-of-order",
        ),
        pytest.param(
            {"horizon": 0},
            "scenario.horizon must be a whole number of months in [1, 10000] (got 0); "
            "the engines hold every month's random draws of a batch",
            id="horizon-zero",
        ),
        pytest.param(
            {"actors.syria.basing.salince": 0.3},
            "actors.syria.basing.salince: Stance has no field 'salince' "
            "(did you mean 'salience'?)",
            id="unknown-field",
        ),
        pytest.param(
            {"actors.syra.capability": 2.0},
            "actors.syra.capability: no actor 'syra' (did you mean 'syria'?)",
            id="unknown-actor",
        ),
    ],
)
def test_replace_validates(scn: Scenario, changes: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scn.replace(changes)
    assert str(info.value) == message


# -- choice distributions -----------------------------------------------------------------------
CHOICE = Distribution(kind="choice", weights=(0.7, 0.3))


def test_choice_distribution_fills_in_its_range() -> None:
    assert CHOICE.check() == []
    assert (CHOICE.low, CHOICE.high) == (0.0, 1.0)
    assert CHOICE.describe() == "choice(0.7, 0.3)"
    assert CHOICE.mean_value() == pytest.approx(0.3)
    np.testing.assert_allclose(CHOICE.probabilities, [0.7, 0.3])
    # A list of weights becomes a tuple, so the distribution stays hashable.
    assert Distribution(kind="choice", weights=[0.7, 0.3]) == CHOICE
    assert hash(Distribution(kind="choice", weights=[0.7, 0.3])) == hash(CHOICE)


def test_choice_ppf_maps_quantiles_to_indices() -> None:
    # Cumulative weights 0.7, 1.0: [0, 0.7) -> 0 and [0.7, 1) -> 1.
    q = [0.0, 0.5, 0.6999, 0.7, 0.99, 1.0]
    assert CHOICE.ppf(q).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert CHOICE.ppf(q).dtype == np.float64
    # An option of weight 0 is never picked, not even at the ends.
    three = Distribution(kind="choice", weights=(0.0, 2.0, 0.0))
    assert three.ppf([0.0, 0.5, 1 - 1e-12, 1.0]).tolist() == [1.0, 1.0, 1.0, 1.0]
    draws = CHOICE.sample(20_000, rng=3)
    assert set(np.unique(draws)) == {0.0, 1.0}
    # Share of 1s: 0.3 within five standard errors (sqrt(0.3 * 0.7 / 20000) = 0.0032).
    assert abs(draws.mean() - 0.3) < 5 * math.sqrt(0.3 * 0.7 / 20_000)
    assert float(CHOICE.frozen.ppf(0.5)) == 0.0


@pytest.mark.parametrize(
    ("dist", "problem"),
    [
        pytest.param(
            Distribution(kind="choice"),
            ("weights", "is required for a choice distribution", None),
            id="no-weights",
        ),
        pytest.param(
            Distribution(kind="choice", weights=(0.5, -0.1)),
            ("weights", "must be >= 0", -0.1),
            id="negative",
        ),
        pytest.param(
            Distribution(kind="choice", weights=(0.0, 0.0)),
            ("weights", "must sum to a positive number", 0.0),
            id="zero-sum",
        ),
        pytest.param(
            Distribution(kind="choice", weights=(float("nan"), 1.0)),
            ("weights", "must be finite numbers", float("nan")),
            id="nan",
        ),
        pytest.param(
            Distribution(kind="choice", weights=()),
            ("weights", "must give at least one weight", []),
            id="empty",
        ),
        pytest.param(
            Distribution(kind="choice", weights=(0.5, 0.5), mode=0.5),
            ("mode", "is not used by a choice distribution, which takes only weights", 0.5),
            id="with-mode",
        ),
        pytest.param(
            Distribution(kind="choice", weights=(0.5, 0.5), high=3.0),
            ("high", "must be 1 for a choice distribution (the last index)", 3.0),
            id="wrong-high",
        ),
        pytest.param(
            Distribution(kind="uniform", low=0.0, high=1.0, weights=(0.5, 0.5)),
            (
                "weights",
                "is not used by a uniform distribution, which takes only low, high",
                (0.5, 0.5),
            ),
            id="uniform-with-weights",
        ),
        pytest.param(
            Distribution(kind="uniform", high=1.0),
            ("low", "must be a finite number", float("nan")),
            id="uniform-without-low",
        ),
    ],
)
def test_choice_check_names_the_problem(
    dist: Distribution, problem: tuple[str, str, object]
) -> None:
    name, what, bad = dist.check()[0]
    assert (name, what) == problem[:2]
    if isinstance(bad, float) and math.isnan(bad):
        assert math.isnan(problem[2])  # type: ignore[arg-type]
    else:
        assert bad == problem[2]


# -- the behavioural fields, declared once ---------------------------------------------------
def test_behaviour_fields_are_declared_once() -> None:
    names = [f.name for f in BEHAVIOUR_FIELDS]
    assert names == [
        "anchoring",
        "discount",
        "concession",
        "concession_months",
        "opening",
        "noise",
        "disagreement",
    ]
    assert set(names) <= set(ACTOR_FIELDS)
    assert {"votes", "proposer", "veto", "influence"} <= set(ACTOR_FIELDS)
    actor = Actor(name="a", label="A", capability=Parameter(value=1.0), stances={})
    for declared in BEHAVIOUR_FIELDS:
        # The Actor's default is the declared one, documented as an assumption.
        assert getattr(actor, declared.name) == declared.default_parameter()
        if declared.default is None:
            continue
        param = getattr(actor, declared.name)
        assert param.value == declared.default
        assert param.evidence.assumption
        assert param.evidence.rationale.startswith("Format default")
    assert (actor.votes, actor.proposer) == (1.0, True)
    assert (actor.opening.value, actor.concession_months.value) == (1.0, 24.0)
    issue = Issue(name="x", label="X", status_quo=Parameter(value=0.5))
    assert issue.drift.value == 0.0
    assert issue.drift.evidence.assumption


# -- decision rules ---------------------------------------------------------------------------
def _variant(scn: Scenario, **relief: object) -> Scenario:
    changes = {f"issues.relief.{k}": v for k, v in relief.items()}
    return scn.replace(changes)


def test_decision_rule_of_legacy_vetoes(scn: Scenario) -> None:
    # basing has no rule: unanimity among the actors whose veto names it, in actor order.
    both = scn.replace({"actors.russia.veto": ("basing",)})
    assert both.decision_rule("basing") == DecisionRule(
        rule="unanimity", voters=("syria", "russia"), threshold=1.0
    )
    assert scn.decision_rule("basing").voters == ("syria",)


@pytest.mark.parametrize(
    ("relief", "expected"),
    [
        pytest.param(
            {"rule": "unanimity"},
            DecisionRule(rule="unanimity", voters=("syria", "russia"), threshold=1.0),
            id="unanimity-of-everyone",
        ),
        pytest.param(
            {"rule": "unanimity", "voters": ("russia",)},
            DecisionRule(rule="unanimity", voters=("russia",), threshold=1.0),
            id="unanimity-of-voters",
        ),
        pytest.param(
            {"rule": "majority"},
            DecisionRule(rule="majority", voters=("syria", "russia"), threshold=0.5, strict=True),
            id="majority",
        ),
        pytest.param(
            {"rule": "qualified", "threshold": 0.65, "voters": ["russia", "syria"]},
            DecisionRule(rule="qualified", voters=("russia", "syria"), threshold=0.65),
            id="qualified",
        ),
        pytest.param(
            {"rule": "qualified", "threshold": 0.65, "min_voter_share": 0.55},
            DecisionRule(
                rule="qualified",
                voters=("syria", "russia"),
                threshold=0.65,
                min_voter_share=0.55,
            ),
            id="double-majority",
        ),
        pytest.param(
            {"rule": "unilateral", "authority": "russia"},
            DecisionRule(rule="unilateral", voters=("russia",), threshold=1.0, authority="russia"),
            id="unilateral",
        ),
    ],
)
def test_decision_rule_resolution(
    scn: Scenario, relief: dict[str, object], expected: DecisionRule
) -> None:
    assert _variant(scn, **relief).decision_rule("relief") == expected


def test_decision_rule_of_an_unknown_issue(scn: Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"^no issue 'releif' \(did you mean 'relief'\?\)$"):
        scn.decision_rule("releif")


def test_decision_rules_are_the_four_documented_ones() -> None:
    assert DECISION_RULES == ("unanimity", "qualified", "majority", "unilateral")


# -- every new field, written and read back ---------------------------------------------------
def _everything(scn: Scenario) -> Scenario:
    """The fixture with every new field away from its default."""
    return scn.replace(
        {
            "issues.basing.drift": Parameter(
                value=0.05,
                distribution=Distribution(kind="uniform", low=0.0, high=0.1),
                evidence=Evidence(sources=("S3",), rationale="erodes", confidence="low"),
            ),
            "issues.relief.rule": "qualified",
            "issues.relief.voters": ["russia", "syria"],
            "issues.relief.threshold": 0.65,
            "issues.relief.min_voter_share": 0.55,
            "actors.syria.votes": 2.5,
            "actors.russia.proposer": False,
            "actors.syria.opening": Distribution(kind="triangular", low=0.5, mode=0.8, high=1.0),
            "actors.russia.concession_months": 12,
            "protocol.model": "bargaining",
            "protocol.lookahead": 36,
            "protocol.reservation": Parameter(
                value=1.0,
                distribution=Distribution(kind="choice", weights=(0.25, 0.75)),
                evidence=Evidence(rationale="mostly forward-looking", assumption=True),
            ),
        }
    )


def test_every_new_field_round_trips(scn: Scenario) -> None:
    variant = _everything(scn)
    text = variant.to_toml()
    back = read_scenario_text(text)
    assert back == variant
    assert back.to_toml() == text
    assert back.issue("basing").drift.distribution == Distribution(
        kind="uniform", low=0.0, high=0.1
    )
    relief = back.issue("relief")
    assert (relief.rule, relief.voters, relief.threshold, relief.min_voter_share) == (
        "qualified",
        ("russia", "syria"),
        0.65,
        0.55,
    )
    assert back.actor("syria").votes == 2.5
    assert back.actor("russia").proposer is False
    assert back.actor("russia").concession_months.value == 12
    assert back.actor("syria").opening.distribution is not None
    assert (back.protocol.model, back.protocol.lookahead) == ("bargaining", 36)
    assert back.protocol.reservation == variant.protocol.reservation
    assert "weights = { concession = 0.25, equilibrium = 0.75 }" in text
    # A unilateral issue and a plain reservation form round-trip too.
    other = variant.replace(
        {
            "issues.relief.rule": "unilateral",
            "issues.relief.voters": None,
            "issues.relief.threshold": None,
            "issues.relief.min_voter_share": None,
            "issues.relief.authority": "russia",
            "protocol.reservation": "equilibrium",
        }
    )
    assert read_scenario_text(other.to_toml()) == other
    assert 'authority = "russia"' in other.to_toml()


def test_a_documented_fixed_reservation_round_trips(scn: Scenario) -> None:
    fixed = Parameter(value=1.0, evidence=Evidence(sources=("S4",), confidence="medium"))
    variant = scn.replace({"protocol.reservation": fixed})
    assert variant.protocol.nominal_reservation == "equilibrium"
    assert variant.protocol.reservation_forms == ("equilibrium",)
    assert read_scenario_text(variant.to_toml()) == variant
    assert dict(variant.parameters())["protocol.reservation"] == fixed
    assert "protocol.reservation" not in variant.uncertain_parameters()


def test_reservation_choice_is_an_uncertain_parameter(scn: Scenario) -> None:
    variant = _everything(scn)
    params = list(variant.parameters())
    assert params[-1][0] == "protocol.reservation"
    assert params[-1][1].value == 1.0
    assert "protocol.reservation" in variant.uncertain_parameters()
    assert "issues.basing.drift" in variant.uncertain_parameters()
    assert variant.protocol.reservation_forms == RESERVATION_FORMS
    assert variant.protocol.nominal_reservation == "equilibrium"
    row = variant.explain().set_index("path").loc["protocol.reservation"]
    assert row[["actor", "issue", "field"]].tolist() == ["", "", "reservation"]
    assert row["value"] == 1.0
    assert (row["low"], row["high"]) == (0.0, 1.0)
    assert row["uncertainty"] == "choice(concession 0.25, equilibrium 0.75)"
    assert row["evidence"] == "assumption"
    # A plain form is not a parameter.
    assert "protocol.reservation" not in dict(scn.parameters())
    assert scn.protocol.reservation_forms == ("concession",)
    assert scn.protocol.nominal_reservation == "concession"
    assert KNOWN_MODELS == (
        "bargaining",
        "compromise",
        "compromise-median",
        "nash",
        "nash-salience",
        "bdm",
        "bdm-reading2",
        "smp",
        "exchange",
        "ensemble",
    )


def test_reservation_weights_can_leave_a_form_out(scn: Scenario) -> None:
    one = Parameter(value=0.0, distribution=Distribution(kind="choice", weights=(1.0, 0.0)))
    variant = scn.replace({"protocol.reservation": one})
    assert variant.protocol.reservation_forms == ("concession",)
    assert read_scenario_text(variant.to_toml()) == variant


# -- Scenario.replace on the new fields ------------------------------------------------------
def test_replace_new_fields(scn: Scenario) -> None:
    v = scn.replace(
        {
            "issues.relief.drift": 0.2,
            "actors.russia.opening": 0.6,
            "actors.russia.concession_months": Distribution(kind="uniform", low=6, high=18),
            "actors.syria.votes": 3,
            "actors.syria.proposer": False,
            "protocol.lookahead": 12,
        }
    )
    drift = v.issue("relief").drift
    assert drift.value == 0.2
    assert drift.evidence.rationale == "set in code (was 0)"
    assert v.actor("russia").opening.value == 0.6
    # A distribution keeps the old nominal value where its range allows.
    assert v.actor("russia").concession_months.value == 18
    assert (v.actor("syria").votes, v.actor("syria").proposer) == (3, False)
    assert v.protocol.lookahead == 12
    assert scn.actor("syria").proposer is True
    # A choice distribution keeps the old form where it has weight, else the heaviest.
    kept = scn.replace({"protocol.reservation": Distribution(kind="choice", weights=(0.4, 0.6))})
    assert kept.protocol.reservation.value == 0.0
    assert kept.protocol.reservation.evidence.rationale == "set in code (was concession)"
    moved = scn.replace({"protocol.reservation": Distribution(kind="choice", weights=(0.0, 1.0))})
    assert moved.protocol.nominal_reservation == "equilibrium"
    plain = kept.replace({"protocol.reservation": "equilibrium"})
    assert plain.protocol.reservation == "equilibrium"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"issues.relief.drift": 1.5},
            "issues.relief.drift must be in [0, 1] (got 1.5)",
            id="drift-above-1",
        ),
        pytest.param(
            {"issues.relief.threshold": 0.6},
            "issues.relief.threshold is only allowed with rule = 'qualified' "
            "(got threshold = 0.6 with rule = 'majority')",
            id="threshold-with-majority",
        ),
        pytest.param(
            {"issues.relief.rule": "qualified", "issues.relief.threshold": 0.0},
            "issues.relief.threshold must be in (0, 1] (got 0)",
            id="threshold-zero",
        ),
        pytest.param(
            {"issues.relief.voters": ["syria", "sryia"]},
            "issues.relief.voters refers to an actor that does not exist (got 'sryia') "
            "(did you mean 'syria'?)",
            id="unknown-voter",
        ),
        pytest.param(
            {"issues.basing.rule": "majority"},
            "issues.basing.rule cannot be combined with vetoes on the issue "
            "(got rule = 'majority' while actors.syria.veto names 'basing'); "
            "list those actors in issues.basing.voters instead",
            id="rule-with-veto",
        ),
        pytest.param(
            {"actors.syria.votes": 0, "actors.russia.votes": 0.0},
            "issues.relief.voters carry no voting weight: rule = 'majority' needs their "
            "votes to sum to more than 0 (got 0)",
            id="no-voting-weight",
        ),
        pytest.param(
            {"actors.syria.votes": -2},
            "actors.syria.votes must be >= 0 (got -2)",
            id="negative-votes",
        ),
        pytest.param(
            {"actors.syria.proposer": False, "actors.russia.proposer": False},
            "actors must include at least one proposer (got proposer = false for every actor)",
            id="no-proposer",
        ),
        pytest.param(
            {
                "protocol.recognition": "rotation",
                "protocol.rotation": ("syria", "russia"),
                "actors.russia.proposer": False,
            },
            "protocol.rotation may only name proposers "
            "(got 'russia', whose actors.russia.proposer is false)",
            id="rotation-non-proposer",
        ),
        pytest.param(
            {"actors.syria.opening": 1.1},
            "actors.syria.opening must be in [0, 1] (got 1.1)",
            id="opening-above-1",
        ),
        pytest.param(
            {"actors.syria.concession_months": 0},
            "actors.syria.concession_months must be > 0 (got 0)",
            id="concession-months-zero",
        ),
        pytest.param(
            {"protocol.reservation": Distribution(kind="choice", weights=(-1.0, 2.0))},
            "protocol.reservation.weights must be >= 0 (got -1.0)",
            id="choice-negative-weight",
        ),
        pytest.param(
            {"protocol.reservation": "equilbrium"},
            "protocol.reservation must be one of concession, equilibrium (got 'equilbrium') "
            "(did you mean 'equilibrium'?)",
            id="reservation-typo",
        ),
        pytest.param(
            {"protocol.model": "bargain"},
            "protocol.model must be one of bargaining, compromise, compromise-median, nash, "
            "nash-salience, bdm, bdm-reading2, smp, exchange, ensemble (got 'bargain') "
            "(did you mean 'bargaining'?)",
            id="model-typo",
        ),
        pytest.param(
            {"protocol.lookahead": 0},
            "protocol.lookahead must be a whole number of months in [1, 10000] (got 0)",
            id="lookahead-zero",
        ),
        pytest.param(
            {"protocol.lookahed": 5},
            "protocol.lookahed: ProtocolSettings has no field 'lookahed' "
            "(did you mean 'lookahead'?)",
            id="unknown-protocol-field",
        ),
        pytest.param(
            {"issues.relief.treshold": 0.5},
            "issues.relief.treshold: Issue has no field 'treshold' (did you mean 'threshold'?)",
            id="unknown-issue-field",
        ),
    ],
)
def test_replace_new_fields_validates(
    scn: Scenario, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        scn.replace(changes)
    assert str(info.value) == message


def test_protocol_settings_defaults() -> None:
    p = ProtocolSettings()
    assert (p.model, p.reservation, p.lookahead) == ("bargaining", "concession", 60)


# -- replace with the wrong kind of argument ----------------------------------------------
@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda s: s.replace({3: 1.0}), "a field path must be a string .*got int: 3"),
        (lambda s: s.replace(5), "changes must be a mapping .*got int: 5"),
        (
            lambda s: s.replace({"actors.syria.veto": "basing"}),
            "actors.syria.veto must be a list of issue names .*got str: 'basing'",
        ),
        (
            lambda s: s.replace({"issues.basing.voters": "syria"}),
            "issues.basing.voters must be a list of actor names",
        ),
    ],
    ids=["non-string-path", "not-a-mapping", "veto-string", "voters-string"],
)
def test_replace_with_the_wrong_kind_of_argument_is_a_scenario_error(
    call: Callable[[Scenario], Scenario], expected: str, scenario: Scenario
) -> None:
    with pytest.raises(ScenarioError, match=expected):
        call(scenario)


def test_evidence_sources_given_as_one_string_are_refused_not_split(scenario: Scenario) -> None:
    param = basesim.Parameter(value=0.5, evidence=basesim.Evidence(sources="S1"))  # type: ignore[arg-type]
    with pytest.raises(
        ScenarioError, match=r"must be a list of source identifiers .*got str: 'S1'"
    ):
        scenario.replace({"actors.syria.basing.position": param})
