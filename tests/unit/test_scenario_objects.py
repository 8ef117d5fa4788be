"""The scenario's building blocks: distributions, parameters, issues, and Scenario's methods."""

from __future__ import annotations

import math

import numpy as np
import pytest

import basesim
from basesim import (
    Actor,
    Distribution,
    Evidence,
    Issue,
    Parameter,
    Scenario,
    ScenarioError,
    Stance,
)

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
    # 3 issue numbers (basing status quo, relief status quo; no breakdowns), then per actor:
    # capability, 2 issues x (position, salience), anchoring, discount, concession, noise
    # = 9, plus russia's disagreement and its influence on syria.
    assert len(paths) == 2 + 9 + 11
    assert paths[:3] == [
        "issues.basing.status_quo",
        "issues.relief.status_quo",
        "actors.syria.capability",
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


def test_explain_of_bundled_scenario_covers_its_parameters() -> None:
    scn = basesim.load_scenario("syria-2025")
    table = scn.explain()
    assert list(table.columns) == EXPLAIN_COLUMNS
    assert table["path"].tolist() == [path for path, _ in scn.parameters()]
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
            "scenario.horizon must be a whole number >= 1 (got 0)",
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
