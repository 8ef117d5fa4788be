"""Small scenarios with closed-form answers, for tests and for checking the engine.

Examples
--------
>>> from basesim.testing import alternating_offers_scenario
>>> scn = alternating_offers_scenario(first_discount=0.9, second_discount=0.8, horizon=60)
>>> scn.protocol.recognition, scn.protocol.reservation
('rotation', 'equilibrium')
"""

from __future__ import annotations

from basesim.actors import Actor, Stance
from basesim.issues import Budget, Issue
from basesim.parameters import Distribution, Parameter
from basesim.scenario import ProtocolSettings, Scenario

__all__ = [
    "SMALL_SCENARIO_TOML",
    "alternating_offers_scenario",
    "baron_ferejohn_shares",
    "divide_the_dollar_scenario",
    "many_issues_scenario",
    "pivotal_outcome",
    "pivotal_scenario",
    "romer_rosenthal_outcome",
    "rubinstein_share",
    "setter_scenario",
    "spatial_scenario",
]


#: A small scenario file that uses every kind of field: two issues, three actors,
#: influence, vetoes, a direct disagreement value, issue-level evidence and all
#: four distributions.  Tests mutate it to check validation.
SMALL_SCENARIO_TOML = """\
[scenario]
name = "mini"
title = "A small scenario for tests"
horizon = 5
start = "2025-02"

[protocol]
recognition = "weighted"
reservation = "concession"
utility_exponent = 2

[issues.basing]
label = "Basing"
anchors = ["none", "some", "all"]
status_quo = 1.0
breakdown = { value = 0.0, evidence = ["S16"], rationale = "evacuation", confidence = "medium" }
categories = ["withdrawal", "reduced presence", "retention"]
cuts = [0.25, 0.75]
evidence = ["S1", "S6"]
confidence = "medium"

[issues.relief]
label = "Sanctions relief"
anchors = ["in force", "partial", "lifted"]
status_quo = { value = 0.1, dist = "truncnorm", sd = 0.1, low = 0.0, high = 0.3 }
categories = ["little", "much"]
cuts = [0.5]
rule = "majority"

[actors.syria]
label = "Syria"
capability = { value = 1.0, dist = "uniform", low = 0.8, high = 1.2, confidence = "low" }
veto = ["basing"]
discount = { value = 0.9, dist = "beta", a = 2.0, b = 3.0, low = 0.8, high = 1.0 }

[actors.syria.basing]
position = 0.15
salience = { value = 0.5, dist = "triangular", low = 0.3, high = 0.8 }

[actors.syria.relief]
position = 1.0
salience = 0.9

[actors.russia]
label = "Russia"
capability = 1.0
disagreement = -0.2

[actors.russia.influence]
syria = 0.2

[actors.russia.basing]
position = 1.0
salience = 0.8

[actors.russia.relief]
position = 0.6
salience = 0.1

[actors.turkey]
label = "Turkey"
capability = 0.8
noise = 0.05
anchoring = 0.3

[actors.turkey.influence]
syria = { value = 0.3, dist = "uniform", low = 0.1, high = 0.5, assumption = true }

[actors.turkey.basing]
position = 0.0
salience = 0.7

[actors.turkey.relief]
position = 0.7
salience = 0.3
"""


def _fixed(value: float) -> Parameter:
    return Parameter(value=float(value))


def many_issues_scenario(*, n_issues: int, n_actors: int = 4, horizon: int = 12) -> Scenario:
    """A bargaining scenario of ``n_issues`` issues, each with two categories, and ``n_actors`` actors.

    Issue ``k`` (``i0``, ``i1``, ...) is decided by unanimity of actors ``k``
    and ``k + 1`` (modulo ``n_actors``), with status quo 0 and categories
    ``low`` and ``high`` split at 0.5.  Positions and saliences are uncertain
    (uniform on an interval of width at most 0.4 around fixed centres), so
    runs differ; every actor proposes.  With 7 issues or more the joint
    outcome table (``3 ** n_issues`` combinations) is not enumerated.

    Examples
    --------
    >>> scn = many_issues_scenario(n_issues=16)
    >>> len(scn.issues), len(scn.actors)
    (16, 4)
    """

    def uncertain(centre: float) -> Parameter:
        lo, hi = max(0.0, centre - 0.2), min(1.0, centre + 0.2)
        return Parameter(value=centre, distribution=Distribution(kind="uniform", low=lo, high=hi))

    issues = tuple(
        Issue(
            name=f"i{k}",
            label=f"Issue {k}",
            status_quo=_fixed(0.0),
            categories=("low", "high"),
            cuts=(0.5,),
            rule="unanimity",
            voters=tuple(dict.fromkeys((f"a{k % n_actors}", f"a{(k + 1) % n_actors}"))),
        )
        for k in range(n_issues)
    )
    actors = tuple(
        Actor(
            name=f"a{i}",
            label=f"Actor {i}",
            capability=_fixed(1.0),
            stances={
                issue.name: Stance(
                    position=uncertain(0.1 + 0.8 * ((3 * i + 5 * k) % 7) / 6),
                    salience=uncertain(0.3 + 0.5 * ((2 * i + k) % 5) / 4),
                )
                for k, issue in enumerate(issues)
            },
            concession=_fixed(0.5 + 1.5 * i / max(n_actors - 1, 1)),
            noise=_fixed(0.05),
        )
        for i in range(n_actors)
    )
    return Scenario(
        name="many-issues",
        title=f"{n_issues} issues, {n_actors} actors",
        issues=issues,
        actors=actors,
        horizon=horizon,
    )


def setter_scenario(
    *, setter: float, vetoer: float, status_quo: float, exponent: int = 2
) -> Scenario:
    """One take-it-or-leave-it round in one dimension (Romer and Rosenthal 1978).

    The setter proposes once; the vetoer, whose consent the issue's unanimity
    rule needs, demands nothing beyond the status quo (``opening = 0``), so it
    accepts anything at least as good as the status quo.
    """
    return pivotal_scenario(
        setter=setter, voters=(vetoer,), status_quo=status_quo, rule="unanimity", exponent=exponent
    )


def pivotal_scenario(
    *,
    setter: float,
    voters: tuple[float, ...],
    status_quo: float,
    rule: str = "qualified",
    threshold: float | None = None,
    exponent: int = 2,
) -> Scenario:
    """An agenda setter and a committee of voters, one issue, one round (Krehbiel 1998).

    The setter proposes once and does not vote; each voter accepts anything
    at least as good as the status quo.  With ``rule = "qualified"`` the
    accepting voters (one vote each) must be at least ``threshold`` of them.
    """
    issue = Issue(
        name="policy",
        label="Policy",
        anchors=("left", "centre", "right"),
        status_quo=_fixed(status_quo),
        categories=("low", "high"),
        cuts=(0.5,),
        rule=rule,
        voters=tuple(f"voter{i}" for i in range(len(voters))),
        threshold=threshold if rule == "qualified" else None,
    )
    setter_actor = Actor(
        name="setter",
        label="Agenda setter",
        capability=_fixed(1.0),
        opening=_fixed(0.0),
        stances={"policy": Stance(position=_fixed(setter), salience=_fixed(1.0))},
    )
    voter_actors = tuple(
        Actor(
            name=f"voter{i}",
            label=f"Voter {i}",
            capability=_fixed(1.0),
            proposer=False,
            opening=_fixed(0.0),
            stances={"policy": Stance(position=_fixed(ideal), salience=_fixed(1.0))},
        )
        for i, ideal in enumerate(voters)
    )
    return Scenario(
        name="setter-model",
        title="Agenda setter and voters",
        issues=(issue,),
        actors=(setter_actor, *voter_actors),
        horizon=1,
        protocol=ProtocolSettings(utility_exponent=exponent),
    )


def pivotal_outcome(
    *, setter: float, voters: tuple[float, ...], status_quo: float, needed: int
) -> float:
    """The closed-form outcome of :func:`pivotal_scenario` when ``needed`` voters must accept.

    Voter ``v`` accepts ``x`` iff ``|x - theta_v| <= |q - theta_v|``.  Moving
    from ``q`` toward the setter, voters on the setter's side of ``q`` accept
    up to their reflection ``2 theta_v - q``; the pivot is the ``needed``-th
    voter counted from the setter's side (among those voters, the one
    furthest from the setter), and the setter gets its ideal clipped to the
    pivot's reflection of ``q`` (nothing changes if fewer than ``needed``
    voters lie on the setter's side).
    """
    if setter == status_quo:
        return status_quo
    toward = -1.0 if setter < status_quo else 1.0
    # Distance each voter lets the setter move from q toward it: 2 |theta_v - q| on its side.
    reach = sorted(
        (
            2 * (theta - status_quo) * toward
            for theta in voters
            if (theta - status_quo) * toward > 0
        ),
        reverse=True,
    )
    if len(reach) < needed:
        return status_quo
    if needed == 0:
        return setter
    step = min(reach[needed - 1], abs(setter - status_quo))
    return status_quo + toward * step


def spatial_scenario(
    *,
    positions: dict[str, tuple[float, ...]],
    saliences: dict[str, tuple[float, ...]],
    capabilities: dict[str, float],
    status_quo: tuple[float, ...],
    rules: tuple[str | None, ...] | None = None,
    authority: str | None = None,
    model: str = "bargaining",
    exponent: int = 2,
) -> Scenario:
    """Actors with fixed positions and saliences on issues ``i0, i1, ...``; for static models.

    ``positions`` and ``saliences`` map each actor to one value per issue.
    Every actor votes on every issue; an issue's rule is ``rules[k]``
    (``None``, the default: unanimity of every actor), with ``authority``
    deciding the ``"unilateral"`` ones and a two-thirds threshold for the
    ``"qualified"`` ones.  Each issue has categories ``low`` and ``high``
    split at 0.5.
    """
    n_iss = len(status_quo)
    kinds = rules if rules is not None else (None,) * n_iss
    names = tuple(positions)
    issues = tuple(
        Issue(
            name=f"i{k}",
            label=f"Issue {k}",
            status_quo=_fixed(status_quo[k]),
            categories=("low", "high"),
            cuts=(0.5,),
            rule=kinds[k],
            authority=authority if kinds[k] == "unilateral" else None,
            threshold=2 / 3 if kinds[k] == "qualified" else None,
        )
        for k in range(n_iss)
    )
    actors = tuple(
        Actor(
            name=name,
            label=name.capitalize(),
            capability=_fixed(capabilities[name]),
            veto=tuple(f"i{k}" for k in range(n_iss) if kinds[k] is None),
            stances={
                f"i{k}": Stance(
                    position=_fixed(positions[name][k]), salience=_fixed(saliences[name][k])
                )
                for k in range(n_iss)
            },
        )
        for name in names
    )
    return Scenario(
        name="spatial",
        title="Actors with fixed positions and saliences",
        issues=issues,
        actors=actors,
        horizon=3,
        protocol=ProtocolSettings(model=model, utility_exponent=exponent),
    )


def romer_rosenthal_outcome(*, setter: float, vetoer: float, status_quo: float) -> float:
    """The setter model's closed-form outcome: the setter's ideal, clipped to the vetoer's acceptable set."""
    reach = abs(status_quo - vetoer)
    return min(max(setter, vetoer - reach), vetoer + reach)


def alternating_offers_scenario(
    *, first_discount: float, second_discount: float, horizon: int
) -> Scenario:
    """Two players alternate offers over a unit pie (Rubinstein 1982, finite horizon).

    The issue is the first player's share x; utilities are linear (x and
    1 - x, shifted by a constant), disagreement is a zero share, and
    reservation values come from backward induction.
    """
    issue = Issue(
        name="share",
        label="First player's share",
        anchors=("nothing", "half", "everything"),
        status_quo=_fixed(0.5),
        categories=("second ahead", "first ahead"),
        cuts=(0.5,),
    )

    def player(name: str, ideal: float, discount: float) -> Actor:
        return Actor(
            name=name,
            label=name.capitalize(),
            capability=_fixed(1.0),
            veto=("share",),
            discount=_fixed(discount),
            disagreement=_fixed(-1.0),
            stances={"share": Stance(position=_fixed(ideal), salience=_fixed(1.0))},
        )

    # Backward induction over ``horizon`` months from month 1.
    return Scenario(
        name="alternating-offers",
        title="Rubinstein alternating offers over a unit pie",
        issues=(issue,),
        actors=(player("first", 1.0, first_discount), player("second", 0.0, second_discount)),
        horizon=horizon,
        protocol=ProtocolSettings(
            recognition="rotation",
            rotation=("first", "second"),
            reservation="equilibrium",
            utility_exponent=1,
            lookahead=horizon,
        ),
    )


def rubinstein_share(*, first_discount: float, second_discount: float) -> float:
    """The first proposer's share in Rubinstein's infinite-horizon equilibrium."""
    return (1 - second_discount) / (1 - first_discount * second_discount)


def divide_the_dollar_scenario(*, n_players: int, discount: float, lookahead: int) -> Scenario:
    """Closed-rule majority bargaining over a unit pie (Baron and Ferejohn 1989).

    Issue ``share_i`` is player ``i``'s share, in one budget with total 1,
    status quo 0 (nobody gets anything until a division passes); player ``i``
    cares only about its own share (position 1, salience 1, linear loss, so
    ``u_i = x_i - 1``), each share is decided by a majority of all players,
    every player proposes with the same capability (equal recognition
    chances), and reservation values come from backward induction over
    ``lookahead`` months.
    """
    names = [f"p{i + 1}" for i in range(n_players)]
    issues = tuple(
        Issue(
            name=f"share_{name}",
            label=f"Share of {name}",
            anchors=("nothing", "half", "everything"),
            status_quo=_fixed(0.0),
            rule="majority",
            categories=("none", "some"),
            cuts=(1e-6,),
        )
        for name in names
    )
    actors = tuple(
        Actor(
            name=name,
            label=name.upper(),
            capability=_fixed(1.0),
            discount=_fixed(discount),
            stances={
                f"share_{other}": Stance(
                    position=_fixed(1.0), salience=_fixed(1.0 if other == name else 0.0)
                )
                for other in names
            },
        )
        for name in names
    )
    return Scenario(
        name="divide-the-dollar",
        title="Closed-rule majority bargaining over a unit pie",
        issues=issues,
        actors=actors,
        horizon=lookahead,
        budgets=(Budget(name="pie", issues=tuple(i.name for i in issues), total=1.0),),
        protocol=ProtocolSettings(
            reservation="equilibrium", utility_exponent=1, lookahead=lookahead
        ),
    )


def baron_ferejohn_shares(*, n_players: int, discount: float) -> tuple[float, float]:
    """The proposer's share and each coalition partner's in the stationary equilibrium.

    ``(1 - discount (n - 1) / (2 n), discount / n)`` for an odd number ``n`` of
    players (Baron and Ferejohn 1989, closed rule).
    """
    n = n_players
    return 1 - discount * (n - 1) / (2 * n), discount / n
