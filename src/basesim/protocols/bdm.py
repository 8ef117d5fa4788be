"""Bueno de Mesquita's expected-utility model, as reconstructed by Scholz, Calbert and Smith.

A one-issue model of group decisions [1]_ [2]_: actors with a capability
``c``, a position ``x`` and a salience ``s`` challenge each other, round
after round.  Each round,

1. *risk*: every actor's security level (the sum of the others' expected
   utilities of challenging it, valued risk-neutrally) gives its risk
   exponent ``r``;
2. *probabilities*: the chance that ``i`` prevails over ``j`` is the share
   of the capability x salience weighted votes for ``x_i`` in a contest
   with ``x_j``;
3. *expected utilities*: ``EU_i(i -> j)``, what ``i`` expects from
   challenging ``j``;
4. *offers*: every actor looks at what the others could demand of it and
   moves (to the challenger's position after a lost confrontation or a
   capitulation, part of the way after a compromise), all at once.

The model has no calendar: every round happens in month 1, and every issue
is decided in month 1 (``settled_round`` 1, ``settled_by`` -1).  A scenario
with several issues is run as that many independent one-issue models (the
model has no linkage between issues).  The predicted outcome of an issue is
the capability x salience weighted mean of the final positions (or their
weighted median, :attr:`BdmOptions.outcome`).  Decision rules, status quo,
breakdown values and the bargaining model's behaviour parameters play no
part.  The model is deterministic: runs differ only through the scenario's
uncertain parameters (positions, saliences, capabilities).

The published reconstruction leaves choices open, and two public readings
of it disagree on the same input.  Every such choice is a field of
:class:`BdmOptions`, with the two readings as presets
(:meth:`BdmOptions.reading1`, :meth:`BdmOptions.reading2`); ``docs/models/bdm.md``
writes out every equation and option.

Everything is vectorised over rows (a run's issue), computed with
elementwise operations and reductions along the actor axes only, so a
row's numbers do not depend on the batch it is in.

References
----------
.. [1] Bueno de Mesquita, B. (1994). Political forecasting: an expected
   utility method.  In Bueno de Mesquita, B. and Stokman, F. N. (eds.),
   European Community Decision Making: Models, Applications, and
   Comparisons, 71-104.  Yale University Press.
.. [2] Scholz, J. B., Calbert, G. J. and Smith, G. A. (2011). Unravelling
   Bueno De Mesquita's group decision model.  Journal of Theoretical
   Politics 23(4), 510-531.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ProtocolError
from basesim.protocols.bargaining import RoundRecord
from basesim.scenario import suggest

__all__ = [
    "CAPITULATION",
    "COMPROMISE",
    "CONFRONTATION",
    "NO_MOVE",
    "PROTOCOLS",
    "Bdm",
    "BdmOptions",
    "BdmState",
    "BdmTrajectory",
    "contest_utilities",
    "expected_utility",
    "play_bdm_round",
    "risk_exponents",
    "run_bdm",
    "status_quo_utility",
    "weighted_mean",
    "weighted_median",
    "win_probability",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: What an actor did in a round (:attr:`BdmTrajectory.kind`).
NO_MOVE, CONFRONTATION, COMPROMISE, CAPITULATION = 0, 1, 2, 3


# -- options -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BdmOptions:
    """Every choice the published reconstruction leaves open, by name.

    The defaults are reading 1 (:meth:`reading1`).  Notation: actor ``k``
    has capability ``c_k``, salience ``s_k``, position ``x_k`` and risk
    exponent ``r_k``; ``w_k = c_k s_k``; ``R`` is the scale's range.

    Parameters
    ----------
    numerator
        The votes for ``x_i`` in its contest with ``x_j``: ``"positive"``,
        the sum of the positive votes ``sum_k max(0, v_k(x_i, x_j))``
        (reading 1), or ``"net"``, the net vote clipped at zero
        ``max(0, sum_k v_k(x_i, x_j))`` (reading 2).
    denominator
        What the votes are divided by: ``"global"``, the absolute votes of
        every actor over every ordered pair of actors' positions
        ``sum_k sum_a sum_b |v_k(x_a, x_b)|`` (reading 1), or
        ``"pairwise"``, the absolute votes in this contest only
        ``sum_k |v_k(x_i, x_j)|`` (reading 2).
    vote_risk
        Whether a vote weighs distances with the voter's risk exponent,
        ``v_k(a, b) = w_k ((|x_k - b| / R)^r_k - (|x_k - a| / R)^r_k)``
        (reading 1), or linearly, ``r_k = 1`` (reading 2).
    perspective
        Whose risk exponent values the two expected utilities of a pair:
        ``"receiver"``, the actor deciding whether to move values both
        ``EU_i(i -> j)`` and ``EU_j(j -> i)`` with its own ``r_i``
        (reading 1); ``"own"``, each challenger values its own challenge
        with its own exponent (reading 2).
    offer_choice
        Which of its offers an actor acts on: ``"by_kind"``, lost
        confrontations first, then compromises, then capitulations, each
        kind ranked as below (reading 1); ``"highest_eu"``, the offer of
        the challenger with the highest ``EU_j(j -> i)`` (ties: the nearest
        challenger, then actor order), acted on only if it means a move
        (reading 2).
    compromise_choice
        With ``offer_choice = "by_kind"``, which compromise an actor takes:
        ``"smallest_move"``, the one that moves it least, or
        ``"lowest_eu_weighted_point"``, the one whose point
        ``(|EU_ij| x_i + |EU_ji| x_j) / (|EU_ij| + |EU_ji|)`` is lowest on
        the scale (reading 1).  Confrontations and capitulations are always
        ranked by the smallest move; ties go to the first actor.
    capitulation
        Whether an actor capitulates (moves all the way to ``x_j``) when
        ``EU_ij < 0 < EU_ji < |EU_ij|`` (reading 2).  Reading 1 never does:
        its condition for capitulation can never hold.
    risk
        ``"every_round"``: risk exponents are recomputed at the start of
        every round from the current positions (both readings);
        ``"first_round"``: computed in round 1 and kept; ``"neutral"``:
        ``r = 1`` throughout.
    passes
        How a round's exponents are found: ``2``, a first pass values every
        expected utility risk-neutrally (``r = 1``) to get the security
        levels and exponents, and a second values the round's offers with
        them (both readings); ``1``, the security levels are valued with the
        exponents of the previous round (``r = 1`` in round 1), in the same
        pass as the offers of the round before.
    status_quo_probability
        ``Q``, the probability each actor gives to nothing changing if it
        does not challenge (1 in both readings).
    improvement_probability
        ``T``, the probability that a change without a challenge is for the
        better (used only if ``Q < 1``).
    reference_point
        ``mu`` of the better and worse utilities ``U_b``, ``U_w`` (used
        only if ``Q < 1``): ``"mean"``, the weighted mean of the current
        positions, or ``"median"``, their weighted median.
    scale
        ``R``: ``"positions"``, the range of the actors' initial positions
        on the issue (both readings), or ``"unit"``, the whole issue scale
        ``[0, 1]``.
    rounds
        The number of rounds (10).
    tolerance
        A run stops early once no actor moves more than ``tolerance R`` in
        a round.  The default 0 stops only at an exact fixed point, from
        which further rounds would change nothing, so it gives the same
        answer as playing every round.
    outcome
        The predicted outcome of an issue: ``"mean"``, the weighted mean of
        the final positions, or ``"median"``, their weighted median (the
        first position, in increasing order, at which the cumulative
        weight reaches half the total).

    Examples
    --------
    >>> BdmOptions() == BdmOptions.reading1()
    True
    >>> BdmOptions.reading2().denominator
    'pairwise'
    >>> BdmOptions(rounds=0)
    Traceback (most recent call last):
    ...
    basesim.exceptions.ProtocolError: bdm option rounds must be a whole number >= 1 (got 0)
    """

    numerator: str = "positive"
    denominator: str = "global"
    vote_risk: bool = True
    perspective: str = "receiver"
    offer_choice: str = "by_kind"
    compromise_choice: str = "lowest_eu_weighted_point"
    capitulation: bool = False
    risk: str = "every_round"
    passes: int = 2
    status_quo_probability: float = 1.0
    improvement_probability: float = 1.0
    reference_point: str = "mean"
    scale: str = "positions"
    rounds: int = 10
    tolerance: float = 0.0
    outcome: str = "mean"

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "numerator": ("positive", "net"),
        "denominator": ("global", "pairwise"),
        "perspective": ("receiver", "own"),
        "offer_choice": ("by_kind", "highest_eu"),
        "compromise_choice": ("smallest_move", "lowest_eu_weighted_point"),
        "risk": ("every_round", "first_round", "neutral"),
        "reference_point": ("mean", "median"),
        "scale": ("positions", "unit"),
        "outcome": ("mean", "median"),
    }

    def __post_init__(self) -> None:
        for name, choices in self.CHOICES.items():
            value = getattr(self, name)
            if value not in choices:
                raise ProtocolError(
                    f"bdm option {name} must be one of {', '.join(map(repr, choices))} "
                    f"(got {value!r}){suggest(value, choices)}"
                )
        for name in ("vote_risk", "capitulation"):
            if not isinstance(getattr(self, name), bool):
                raise ProtocolError(
                    f"bdm option {name} must be true or false (got {getattr(self, name)!r})"
                )
        for name in ("status_quo_probability", "improvement_probability"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= 1
            ):
                raise ProtocolError(f"bdm option {name} must be in [0, 1] (got {value!r})")
        if self.passes not in (1, 2) or isinstance(self.passes, bool):
            raise ProtocolError(f"bdm option passes must be 1 or 2 (got {self.passes!r})")
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or self.rounds < 1:
            raise ProtocolError(
                f"bdm option rounds must be a whole number >= 1 (got {self.rounds!r})"
            )
        tol = self.tolerance
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol >= 0:
            raise ProtocolError(f"bdm option tolerance must be a number >= 0 (got {tol!r})")

    @classmethod
    def reading1(cls) -> BdmOptions:
        """Reading 1: global denominator, the receiver's perspective, offers ranked by kind.

        The reading of a public Python replication that reports matching
        Scholz et al. on the car-emission case for ten rounds.
        """
        return cls()

    @classmethod
    def reading2(cls) -> BdmOptions:
        """Reading 2: net votes over a pairwise denominator, own perspectives, highest-EU offer.

        An independent public Python reading of the same paper.
        """
        return cls(
            numerator="net",
            denominator="pairwise",
            vote_risk=False,
            perspective="own",
            offer_choice="highest_eu",
            compromise_choice="smallest_move",
            capitulation=True,
        )


# -- the pieces of a round ------------------------------------------------------------------
def weighted_median(position: FloatArray, weight: FloatArray) -> FloatArray:
    """The weighted median ``(rows,)`` of positions ``(rows, N)``.

    The first position, in increasing order, at which the cumulative weight
    reaches half the total weight.

    Examples
    --------
    >>> weighted_median(np.array([[4.0, 7.0, 10.0]]), np.array([[0.3, 0.3, 0.4]])).tolist()
    [7.0]
    """
    order = np.argsort(position, axis=-1, kind="stable")
    sorted_x = np.take_along_axis(position, order, axis=-1)
    cumulative = np.cumsum(np.take_along_axis(weight, order, axis=-1), axis=-1)
    first = np.argmax(cumulative >= 0.5 * cumulative[:, -1:], axis=-1)
    result: FloatArray = sorted_x[np.arange(position.shape[0]), first]
    return result


def weighted_mean(position: FloatArray, weight: FloatArray) -> FloatArray:
    """The weighted mean ``(rows,)`` of positions ``(rows, N)`` (0 weight in total: plain mean)."""
    total = weight.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    mean: FloatArray = np.where(
        total > 0, (weight * position).sum(axis=-1) / safe, position.mean(axis=-1)
    )
    return mean


def win_probability(
    position: FloatArray,
    weight: FloatArray,
    exponent: FloatArray | None,
    scale: FloatArray,
    options: BdmOptions,
) -> FloatArray:
    """``P[i, j]`` ``(rows, N, N)``: the probability that ``i`` prevails over ``j``.

    With ``u_ka = (|x_k - x_a| / R)^e_k`` and the vote of ``k`` for ``a``
    over ``b`` ``v_k(a, b) = w_k (u_kb - u_ka)``, the numerator is
    ``sum_k max(0, v_k(x_i, x_j))`` (``"positive"``) or
    ``max(0, sum_k v_k(x_i, x_j))`` (``"net"``), the denominator
    ``sum_k sum_a sum_b |v_k(x_a, x_b)|`` (``"global"``) or
    ``sum_k |v_k(x_i, x_j)|`` (``"pairwise"``).  ``P`` is 0 between equal
    positions and wherever the denominator is 0.  ``exponent`` ``(rows, N)``
    are the voters' ``e_k`` (``None``: all 1).
    """
    n_act = position.shape[1]
    gap = np.abs(position[:, :, None] - position[:, None, :]) / scale[:, None, None]
    # votes_for[r, k, a] = w_k u_ka, so v_k(a, b) = votes_for[k, b] - votes_for[k, a].
    votes_for = weight[:, :, None] * (gap if exponent is None else gap ** exponent[:, :, None])
    if options.numerator == "positive":
        numerator = _vote_sums(votes_for, np.maximum)
    else:
        total = votes_for.sum(axis=1)  # sum_k w_k u_ka
        numerator = np.maximum(total[:, None, :] - total[:, :, None], 0.0)
    if options.denominator == "pairwise":
        denominator = _vote_sums(votes_for, np.abs)
    else:
        # sum_a sum_b |y_a - y_b| = 2 sum_m (2m - N + 1) y_(m) over y sorted.
        ranks = 2.0 * np.arange(n_act) - n_act + 1.0
        spread = 2.0 * (np.sort(votes_for, axis=-1) * ranks).sum(axis=-1)  # (rows, N)
        denominator = np.broadcast_to(spread.sum(axis=-1)[:, None, None], gap.shape)
    distinct = position[:, :, None] != position[:, None, :]
    ok = distinct & (denominator > 0)
    result: FloatArray = np.where(ok, numerator / np.where(ok, denominator, 1.0), 0.0)
    return result


#: Rows played together by the protocol (keeps the ``(rows, N, N)`` arrays in cache).
_BLOCK = 256

#: Elements of the ``(rows, N, N, N)`` vote tensor held at once (a few MB).
_CHUNK = 1 << 18


def _vote_sums(votes_for: FloatArray, part: Any) -> FloatArray:
    """``sum_k part(v_k(a, b))`` ``(rows, N, N)``, with ``part`` ``np.maximum`` (positive part) or ``np.abs``.

    The vote tensor is made a few rows at a time, and summed over voters in
    actor order, so a row's sums do not depend on the rows around it.
    """
    rows, n_act, _ = votes_for.shape
    out = np.empty((rows, n_act, n_act))
    step = max(1, _CHUNK // n_act**3)
    for lo in range(0, rows, step):
        block = votes_for[lo : lo + step]
        votes = block[:, :, None, :] - block[:, :, :, None]  # [r, k, a, b] = v_k(a, b)
        if part is np.maximum:
            np.maximum(votes, 0.0, out=votes)
        else:
            np.abs(votes, out=votes)
        out[lo : lo + step] = votes.sum(axis=1)
    return out


def contest_utilities(distance: FloatArray, exponent: Any) -> tuple[FloatArray, FloatArray]:
    """``(U_s, U_f)``: the utility of winning and of losing a contest over distance ``d`` (broadcast).

    ``U_s = 2 - 4 (0.5 - 0.5 d)^r`` and ``U_f = 2 - 4 (0.5 + 0.5 d)^r``, with
    ``d = |x_i - x_j| / R`` and ``r`` the exponent of the actor valuing them.
    """
    success: FloatArray = 2.0 - 4.0 * (0.5 - 0.5 * distance) ** exponent
    failure: FloatArray = 2.0 - 4.0 * (0.5 + 0.5 * distance) ** exponent
    return success, failure


def status_quo_utility(
    distance: FloatArray, reference_distance: FloatArray, exponent: Any, options: BdmOptions
) -> FloatArray:
    """What a challenger expects if it does not challenge (broadcast).

    ``Q U_sq + (1 - Q) (T U_b + (1 - T) U_w)`` with ``U_sq = 2 - 4 (0.5)^r``,
    ``U_b = 2 - 4 (0.5 - 0.25 (m + d))^r``, ``U_w = 2 - 4 (0.5 + 0.25 (m + d))^r``,
    ``d = |x_i - x_j| / R`` and ``m = |x_i - mu| / R``.
    """
    q = options.status_quo_probability
    value = q * (2.0 - 4.0 * 0.5**exponent) + np.zeros_like(distance)
    if q < 1.0:
        t = options.improvement_probability
        reach = 0.25 * (reference_distance + distance)
        better = 2.0 - 4.0 * (0.5 - reach) ** exponent
        worse = 2.0 - 4.0 * (0.5 + reach) ** exponent
        value = value + (1.0 - q) * (t * better + (1.0 - t) * worse)
    result: FloatArray = np.asarray(value, dtype=float)
    return result


def expected_utility(
    probability: FloatArray,
    target_salience: FloatArray,
    success: FloatArray,
    failure: FloatArray,
    status_quo: FloatArray,
) -> FloatArray:
    """``EU_i(i -> j)``: what a challenger expects from challenging a target (broadcast).

    ``EU = s_j (P U_s + (1 - P) U_f) + (1 - s_j) U_s - [Q U_sq + (1 - Q) (T U_b
    + (1 - T) U_w)]``: the target resists with probability ``s_j``, and the
    challenger then wins with probability ``P``; the bracket is
    :func:`status_quo_utility`, the utilities come from :func:`contest_utilities`.

    Examples
    --------
    With ``r = 1``: ``U_s = 2 d``, ``U_f = -2 d``, ``U_sq = 0``, so at ``Q = 1``
    ``EU = 2 d (1 - 2 s_j (1 - P))``: here ``2 (0.5) (1 - 2 (0.5) (0.5)) = 0.5``.

    >>> d = np.array(0.5)
    >>> success, failure = contest_utilities(d, 1.0)
    >>> quo = status_quo_utility(d, np.array(0.0), 1.0, BdmOptions())
    >>> float(expected_utility(np.array(0.5), np.array(0.5), success, failure, quo))
    0.5
    """
    result: FloatArray = (
        target_salience * (probability * success + (1.0 - probability) * failure)
        + (1.0 - target_salience) * success
        - status_quo
    )
    return result


def _reference_distance(
    position: FloatArray, weight: FloatArray, scale: FloatArray, options: BdmOptions
) -> FloatArray:
    """``|x_i - mu| / R`` ``(rows, N)``, ``mu`` the weighted mean or median of positions."""
    if options.reference_point == "mean":
        mu = weighted_mean(position, weight)
    else:
        mu = weighted_median(position, weight)
    result: FloatArray = np.abs(position - mu[:, None]) / scale[:, None]
    return result


def risk_exponents(
    position: FloatArray,
    capability: FloatArray,
    salience: FloatArray,
    scale: FloatArray,
    options: BdmOptions,
    previous: FloatArray | None = None,
) -> FloatArray:
    """Each actor's risk exponent ``r`` ``(rows, N)`` from its security level.

    Actor ``i``'s security level is ``D_i = sum_{j != i} EU_j(j -> i)``,
    every expected utility valued risk-neutrally (``r = 1``; ``previous``
    ``None``) or with the exponents ``previous`` ``(rows, N)`` (option
    ``passes = 1``: votes with the voters' exponents if ``vote_risk``, each
    ``EU_j(j -> i)`` with ``r_j`` or ``r_i`` as ``perspective`` says).  Then
    ``R_i = (2 D_i - D_max - D_min) / (D_max - D_min)`` and
    ``r_i = (1 - R_i / 3) / (1 + R_i / 3)``, in ``[0.5, 2]``.  All actors
    equally secure: ``r = 1``.
    """
    n_act = position.shape[1]
    weight = capability * salience
    votes = previous if previous is not None and options.vote_risk else None
    probability = win_probability(position, weight, votes, scale, options)
    distance = np.abs(position[:, :, None] - position[:, None, :]) / scale[:, None, None]
    reference = _reference_distance(position, weight, scale, options)
    exponent: Any = 1.0
    if previous is not None:
        # Row j of challenge[r, j, i] is valued by the challenger j or the target i.
        exponent = previous[:, :, None] if options.perspective == "own" else previous[:, None, :]
    success, failure = contest_utilities(distance, exponent)
    quo = status_quo_utility(distance, reference[:, :, None], exponent, options)
    # challenge[r, j, i] = EU_j(j -> i)
    challenge = expected_utility(probability, salience[:, None, :], success, failure, quo)
    off_diagonal = ~np.eye(n_act, dtype=bool)
    security = np.where(off_diagonal, challenge, 0.0).sum(axis=1)  # D_i
    high = security.max(axis=1, keepdims=True)
    low = security.min(axis=1, keepdims=True)
    span = high - low
    relative = np.where(
        span > 0, (2.0 * security - high - low) / np.where(span > 0, span, 1.0), 0.0
    )
    result: FloatArray = (1.0 - relative / 3.0) / (1.0 + relative / 3.0)
    return result


def play_bdm_round(
    position: FloatArray,
    capability: FloatArray,
    salience: FloatArray,
    scale: FloatArray,
    risk: FloatArray,
    options: BdmOptions,
) -> tuple[FloatArray, IntArray, IntArray]:
    """One round of challenges: the new positions, each actor's move and partner.

    ``position``, ``capability``, ``salience`` and ``risk`` (the round's
    exponents) are ``(rows, N)``, ``scale`` ``(rows,)``.  Returns the
    positions after the round ``(rows, N)``, what each actor did
    (:data:`NO_MOVE`, :data:`CONFRONTATION` lost, :data:`COMPROMISE`,
    :data:`CAPITULATION`) and whose offer it took (-1 if none).

    For receiver ``i`` and challenger ``j`` at another position, with
    ``a = EU_i(i -> j)`` and ``b = EU_j(j -> i)`` valued as
    :attr:`BdmOptions.perspective` says, ``i`` loses a confrontation if
    ``0 < a < b`` (it moves to ``x_j``), compromises if ``a < 0 < b`` and
    ``|a| < b`` (it moves to ``x_i + (x_j - x_i) |a / b|``) and capitulates
    if ``a < 0 < b < |a|`` (to ``x_j``, if :attr:`BdmOptions.capitulation`).
    Every actor moves at once.
    """
    rows, n_act = position.shape
    weight = capability * salience
    probability = win_probability(
        position, weight, risk if options.vote_risk else None, scale, options
    )
    distance = np.abs(position[:, :, None] - position[:, None, :]) / scale[:, None, None]
    reference = _reference_distance(position, weight, scale, options)
    exponent = risk[:, :, None]  # row i's utilities are valued with r_i
    success, failure = contest_utilities(distance, exponent)
    # own[r, i, j] = EU_i(i -> j) valued with r_i
    quo = status_quo_utility(distance, reference[:, :, None], exponent, options)
    own = expected_utility(probability, salience[:, None, :], success, failure, quo)
    if options.perspective == "own":
        theirs = own.transpose(0, 2, 1)  # theirs[i, j] = EU_j(j -> i) valued with r_j
    else:
        # theirs[i, j] = EU_j(j -> i) valued with r_i: the same U_s, U_f (d is symmetric).
        quo = status_quo_utility(distance, reference[:, None, :], exponent, options)
        theirs = expected_utility(
            probability.transpose(0, 2, 1), salience[:, :, None], success, failure, quo
        )
    a, b = own, theirs
    x_i = position[:, :, None]
    x_j = position[:, None, :]
    other = x_i != x_j
    challenged = other & (b > 0)
    lost = challenged & (a > 0) & (a < b)
    compromise = challenged & (a < 0) & (-a < b)
    capitulate = challenged & (a < 0) & (-a > b) & options.capitulation
    ratio = np.abs(a) / np.where(compromise, b, 1.0)
    target = np.where(compromise, x_i + (x_j - x_i) * ratio, x_j)
    move = np.abs(target - x_i)

    kind = np.zeros((rows, n_act), dtype=np.int64)
    partner = np.full((rows, n_act), -1, dtype=np.int64)
    kinds = ((CONFRONTATION, lost), (COMPROMISE, compromise), (CAPITULATION, capitulate))
    if options.offer_choice == "by_kind":
        for code, mask in kinds:
            key = move
            if code == COMPROMISE and options.compromise_choice == "lowest_eu_weighted_point":
                weights = np.abs(a) + np.abs(b)
                key = (np.abs(a) * x_i + np.abs(b) * x_j) / np.where(mask, weights, 1.0)
            best = np.argmin(np.where(mask, key, np.inf), axis=-1)
            take = (kind == NO_MOVE) & mask.any(axis=-1)
            kind = np.where(take, code, kind)
            partner = np.where(take, best, partner)
    else:
        top = np.where(challenged, b, -np.inf).max(axis=-1, keepdims=True)
        tied = challenged & (b == top)
        best = np.argmin(np.where(tied, distance, np.inf), axis=-1)
        has = challenged.any(axis=-1)
        for code, mask in kinds:
            hit = has & np.take_along_axis(mask, best[:, :, None], axis=-1)[:, :, 0]
            kind = np.where(hit, code, kind)
            partner = np.where(hit, best, partner)
    moved = kind != NO_MOVE
    landing = np.take_along_axis(target, np.maximum(partner, 0)[:, :, None], axis=-1)[:, :, 0]
    new_position: FloatArray = np.where(moved, landing, position)
    return new_position, kind, partner


# -- whole runs ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class BdmTrajectory:
    """Every round of a batch of one-issue runs (leading axes: round, then row).

    Attributes
    ----------
    position
        ``(T + 1, rows, N)`` positions before round 1 and after each round.
    risk
        ``(T, rows, N)`` the risk exponents each round was played with.
    kind
        ``(T, rows, N)`` what each actor did in each round (:data:`NO_MOVE`,
        :data:`CONFRONTATION` lost, :data:`COMPROMISE`, :data:`CAPITULATION`).
    partner
        ``(T, rows, N)`` the actor whose offer it took, -1 if none.
    rounds
        ``(rows,)`` the rounds played before the stopping rule held (``T``
        if it never did); later rounds repeat the last positions.
    weight
        ``(rows, N)`` capability x salience.
    options
        The options the runs were played with.
    """

    position: FloatArray
    risk: FloatArray
    kind: IntArray
    partner: IntArray
    rounds: IntArray
    weight: FloatArray
    options: BdmOptions

    def weighted_mean(self) -> FloatArray:
        """``(T + 1, rows)`` the weighted mean position before round 1 and after each round."""
        return np.stack([weighted_mean(p, self.weight) for p in self.position])

    def weighted_median(self) -> FloatArray:
        """``(T + 1, rows)`` the weighted median position before round 1 and after each round."""
        return np.stack([weighted_median(p, self.weight) for p in self.position])

    def outcome(self) -> FloatArray:
        """``(rows,)`` the predicted outcome: the final weighted mean or median (the option)."""
        final = self.position[-1]
        if self.options.outcome == "median":
            return weighted_median(final, self.weight)
        return weighted_mean(final, self.weight)


def _scale(position: FloatArray, options: BdmOptions) -> FloatArray:
    if options.scale == "unit":
        return np.ones(position.shape[0])
    span = position.max(axis=-1) - position.min(axis=-1)
    # All actors agree: nothing can move, any positive scale will do.
    result: FloatArray = np.where(span > 0, span, 1.0)
    return result


class _Round(NamedTuple):
    risk: FloatArray  # (rows, N) the exponents the round was played with
    kind: IntArray  # (rows, N)
    partner: IntArray  # (rows, N)
    position: FloatArray  # (rows, N) after the round
    active: BoolArray  # (rows,) rows still playing when the round began


def _rounds(
    position: FloatArray,
    capability: FloatArray,
    salience: FloatArray,
    options: BdmOptions,
) -> Iterator[_Round]:
    """Play every round of every row, yielding each; stopped rows keep their positions."""
    rows = position.shape[0]
    scale = _scale(position, options)
    active = np.ones(rows, dtype=bool)
    risk = np.ones(position.shape)
    for t in range(options.rounds):
        # Only rows still playing are computed: a row's numbers never depend on the others.
        live = np.flatnonzero(active)
        if live.size == 0:
            yield _Round(
                risk,
                np.zeros(position.shape, dtype=np.int64),
                np.full(position.shape, -1, dtype=np.int64),
                position,
                active,
            )
            continue
        if options.risk == "every_round" or (options.risk == "first_round" and t == 0):
            risk = risk.copy()
            risk[live] = risk_exponents(
                position[live],
                capability[live],
                salience[live],
                scale[live],
                options,
                None if options.passes == 2 else risk[live],
            )
        new_position = position.copy()
        kind = np.zeros(position.shape, dtype=np.int64)
        partner = np.full(position.shape, -1, dtype=np.int64)
        new_position[live], kind[live], partner[live] = play_bdm_round(
            position[live], capability[live], salience[live], scale[live], risk[live], options
        )
        yield _Round(risk, kind, partner, new_position, active)
        largest = np.abs(new_position - position).max(axis=-1)
        active = active & (largest > options.tolerance * scale)
        position = new_position


def _as_rows(name: str, value: ArrayLike, shape: tuple[int, ...] | None) -> FloatArray:
    array = np.array(value, dtype=float, ndmin=2)
    if array.ndim != 2 or (shape is not None and array.shape != shape):
        want = "(rows, N)" if shape is None else str(shape)
        raise ProtocolError(f"bdm {name} must have shape {want} (got {array.shape})")
    if not np.isfinite(array).all():
        raise ProtocolError(f"bdm {name} must be finite (got {array[~np.isfinite(array)][0]})")
    return array


def run_bdm(
    position: ArrayLike,
    capability: ArrayLike,
    salience: ArrayLike,
    *,
    options: BdmOptions | None = None,
) -> BdmTrajectory:
    """Play the expected-utility model on one issue for every row.

    Parameters
    ----------
    position, capability, salience
        ``(rows, N)`` (or ``(N,)`` for one row): positions on the issue's
        scale (any units: ``R`` rescales them), capabilities (any positive
        scale) and saliences in ``[0, 1]``.  With ``scale = "unit"``
        positions must lie in ``[0, 1]``.
    options
        The reading; :meth:`BdmOptions.reading1` by default.

    Returns
    -------
    BdmTrajectory
        Every round's positions, risk exponents and moves.

    Examples
    --------
    Two actors: the weaker one compromises with the stronger (reading 1),
    or capitulates to it (reading 2).

    >>> run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=BdmOptions(rounds=1))
    >>> run.position[1].round(4).tolist(), run.kind[0].tolist()
    ([[0.2932, 1.0]], [[2, 0]])
    >>> run = run_bdm([0.0, 1.0], [1.0, 3.0], [0.5, 0.9], options=BdmOptions.reading2())
    >>> run.position[1].tolist(), run.kind[0].tolist()
    ([[1.0, 1.0]], [[3, 0]])
    """
    options = BdmOptions() if options is None else options
    x = _as_rows("position", position, None)
    c = _as_rows("capability", capability, x.shape)
    s = _as_rows("salience", salience, x.shape)
    if (c < 0).any():
        raise ProtocolError(f"bdm capability must be >= 0 (got {c.min():g})")
    if ((s < 0) | (s > 1)).any():
        bad = s[(s < 0) | (s > 1)][0]
        raise ProtocolError(f"bdm salience must be in [0, 1] (got {bad:g})")
    if options.scale == "unit" and ((x < 0) | (x > 1)).any():
        bad = x[(x < 0) | (x > 1)][0]
        raise ProtocolError(f"bdm position must be in [0, 1] with scale = 'unit' (got {bad:g})")
    positions = [x]
    risks, kinds, partners = [], [], []
    rounds = np.zeros(x.shape[0], dtype=np.int64)
    for step in _rounds(x, c, s, options):
        rounds += step.active
        risks.append(step.risk)
        kinds.append(step.kind)
        partners.append(step.partner)
        positions.append(step.position)
    return BdmTrajectory(
        position=np.stack(positions),
        risk=np.stack(risks),
        kind=np.stack(kinds),
        partner=np.stack(partners),
        rounds=rounds,
        weight=c * s,
        options=options,
    )


# -- the protocol ------------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class BdmState:
    """The state of a batch of runs (leading axis: run)."""

    stances: FloatArray  # (n, N, K) positions: initial, then final after month 1
    status_quo: FloatArray  # (n, K) the predicted outcome once decided
    open: BoolArray  # (n, K)
    settled_round: IntArray  # (n, K)
    settled_by: IntArray  # (n, K)
    proposals: IntArray  # (n, N), always 0: nobody proposes

    def take(self, rows: NDArray[np.intp]) -> BdmState:
        """The state of a subset of runs (copies)."""
        return BdmState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows: NDArray[np.intp], part: BdmState) -> None:
        """Write the state of a subset of runs back."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


@dataclass(frozen=True, slots=True)
class Bdm:
    """Bueno de Mesquita's expected-utility model as a protocol (:mod:`basesim.protocols.bdm`).

    Registered as ``"bdm"`` (reading 1) and ``"bdm-reading2"``; any other
    reading can be registered with its own :class:`BdmOptions`.  Every
    issue is modelled on its own, all rounds are played in month 1, and
    every issue is decided in month 1 at the predicted outcome
    (``settled_by`` -1: no actor's proposal).

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025").replace({"protocol.model": "bdm"})
    >>> result = basesim.simulate(scn, n_runs=50, rng=1)
    >>> bool((result.runs.settled_round == 1).all())
    True
    """

    name: str = field(default="bdm")
    options: BdmOptions = field(default_factory=BdmOptions)

    def compile(self, compiled: CompiledScenario) -> None:
        """Nothing beyond the shared arrays: the model reads positions, saliences, capabilities."""
        return None

    def start(self, compiled: CompiledScenario, params: RunParameters) -> BdmState:
        """The state before month 1: every issue open, at its status quo."""
        n = params.n_runs
        n_iss = compiled.n_issues
        return BdmState(
            stances=params.position.copy(),
            status_quo=params.status_quo.copy(),
            open=np.ones((n, n_iss), dtype=bool),
            settled_round=np.zeros((n, n_iss), dtype=np.int64),
            settled_by=np.full((n, n_iss), -1, dtype=np.int64),
            proposals=np.zeros((n, compiled.n_actors), dtype=np.int64),
        )

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: BdmState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """Play every round of the model on every open issue (in place); decide them all.

        The record has no proposer (-1) and no offer; ``passed`` and
        ``settles`` say which runs and issues the model decided this month.
        """
        n, n_act, n_iss = state.stances.shape
        rows = np.flatnonzero(state.open.any(axis=1))
        decided = np.zeros((n, n_iss), dtype=bool)
        if rows.size:
            # Each (run, issue) is one row of a one-issue model.
            x = state.stances[rows].transpose(0, 2, 1).reshape(-1, n_act)
            s = params.salience[rows].transpose(0, 2, 1).reshape(-1, n_act)
            c = np.repeat(params.capability[rows], n_iss, axis=0)
            # Rows with the same inputs play the same game (a row's numbers never
            # depend on the others): play each distinct one once.
            distinct, index = np.unique(
                np.concatenate([x, c, s], axis=1), axis=0, return_inverse=True
            )
            xu, cu, su = np.split(distinct, 3, axis=1)
            final = xu.copy()
            for lo in range(0, len(xu), _BLOCK):
                block = slice(lo, lo + _BLOCK)
                for step in _rounds(xu[block], cu[block], su[block], self.options):
                    final[block] = step.position
            final = final[index.reshape(-1)]
            weight = c * s
            if self.options.outcome == "median":
                outcome = weighted_median(final, weight)
            else:
                outcome = weighted_mean(final, weight)
            opened = state.open[rows]
            stances = final.reshape(rows.size, n_iss, n_act).transpose(0, 2, 1)
            state.stances[rows] = np.where(opened[:, None, :], stances, state.stances[rows])
            state.status_quo[rows] = np.where(
                opened, outcome.reshape(rows.size, n_iss), state.status_quo[rows]
            )
            state.settled_round[rows] = np.where(opened, month, state.settled_round[rows])
            decided[rows] = opened
            state.open[rows] = False
        blank = np.full((n, n_act), np.nan)
        return RoundRecord(
            proposer=np.full(n, -1, dtype=np.intp),
            package=state.status_quo.copy(),
            settles=decided,
            offered=np.zeros(n, dtype=bool),
            accepted=np.zeros((n, n_act), dtype=bool),
            passed=np.asarray(decided.any(axis=1)),  # decided by the model this month
            reservation=blank,
            disagreement=blank.copy(),
        )

    @staticmethod
    def finished(state: BdmState) -> BoolArray:
        """Runs with every issue decided ``(n,)`` (all of them after month 1)."""
        result: BoolArray = np.asarray(~state.open.any(axis=1))
        return result

    @staticmethod
    def outcome(state: BdmState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record: every issue settled in month 1 at its predicted outcome."""
        return BatchOutcome(
            package=state.status_quo.copy(),
            settled=~state.open,
            settled_round=state.settled_round.copy(),
            settled_by=state.settled_by.copy(),
            proposals=state.proposals.copy(),
            sampled=sampled,
        )


def _reading2() -> Bdm:
    return Bdm(name="bdm-reading2", options=BdmOptions.reading2())


#: The registered names of the model and their factories.
PROTOCOLS: dict[str, Any] = {"bdm": Bdm, "bdm-reading2": _reading2}
