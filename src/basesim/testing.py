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
from basesim.issues import Issue
from basesim.parameters import Parameter
from basesim.scenario import ProtocolSettings, Scenario

__all__ = [
    "alternating_offers_scenario",
    "romer_rosenthal_outcome",
    "rubinstein_share",
    "setter_scenario",
]


def _fixed(value: float) -> Parameter:
    return Parameter(value=float(value))


def setter_scenario(
    *, setter: float, vetoer: float, status_quo: float, exponent: int = 2
) -> Scenario:
    """One take-it-or-leave-it round in one dimension (Romer and Rosenthal 1978).

    The setter proposes once; the vetoer accepts anything at least as good as
    the status quo, which is also the reversion point.
    """
    issue = Issue(
        name="policy",
        label="Policy",
        anchors=("left", "centre", "right"),
        status_quo=_fixed(status_quo),
        categories=("low", "high"),
        cuts=(0.5,),
    )
    actors = (
        Actor(
            name="setter",
            label="Agenda setter",
            capability=_fixed(1.0),
            stances={"policy": Stance(position=_fixed(setter), salience=_fixed(1.0))},
        ),
        Actor(
            name="vetoer",
            label="Veto player",
            capability=_fixed(1.0),
            veto=("policy",),
            stances={"policy": Stance(position=_fixed(vetoer), salience=_fixed(1.0))},
        ),
    )
    return Scenario(
        name="setter-model",
        title="Romer-Rosenthal setter model",
        issues=(issue,),
        actors=actors,
        horizon=1,
        protocol=ProtocolSettings(
            recognition="rotation", rotation=("setter",), utility_exponent=exponent
        ),
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
        ),
    )


def rubinstein_share(*, first_discount: float, second_discount: float) -> float:
    """The first proposer's share in Rubinstein's infinite-horizon equilibrium."""
    return (1 - second_discount) / (1 - first_discount * second_discount)
