"""A spatial model of politics: challenges, bargains and Condorcet-style coalitions.

The Spatial Model of Politics of KTAB, KAPSARC's open-source toolkit for
agent-based models of negotiation, written anew for basesim and vectorised
over runs.  Every issue of a scenario is one
dimension of one policy space (basesim issues already live on KTAB's internal
[0, 1] scale).  Actor ``i`` has capability ``c_i``, an ideal point and a
position ``x_i`` in that space (the two coincide: KTAB's identity
accommodation), and per-dimension saliences ``s_ik`` with ``sum_k s_ik <= 1``.

A turn (docs/models/smp.md writes out every equation):

1. *utilities*: the salience-weighted distance from ``i``'s ideal to ``j``'s
   position, ``d_ij = sqrt(sum_k s_ik^2 (x_ik - x_jk)^2 / sum_k s_ik^2)``,
   gives the utility ``u_ij = (1 - d_ij)(1 + d_ij R_i)``;
2. *risk attitudes*: a Probabilistic Condorcet Election (PCE) over the
   actors' positions with risk-neutral utilities gives each position's
   probability ``p_i`` of winning; ``R_i`` rescales ``p_i`` linearly from the
   least to the most likely, onto [-1/2, 1] (an actor whose position is likely
   to win can afford to be risk-averse); actor ``h`` perceives ``i``'s attitude
   as ``(2 R_h + R_i) / 3``;
3. *challenges*: each actor ``i`` estimates, for every other ``j``, the
   probability that ``i`` defeats ``j`` when third parties join the side they
   prefer, and its expected gain from challenging ``j``; it challenges the
   ``j`` with the largest gain, if that gain is positive;
4. *bargains*: a challenge becomes a bargain in which ``i`` and ``j`` move
   toward each other, dimension by dimension, with weights salience^2 x
   win-probability^2;
5. *choice*: every actor's queue holds the status quo and the bargains it
   takes part in; a PCE among all actors over the states those bargains would
   produce picks the one it adopts; all actors move at once.

Turns repeat until a turn moves the actors less than 2 % of the first turn's
move (after at least two turns), or 100 turns.  The model has no calendar: it
does all its work in month 1 and settles every issue in month 1
(``settled_round`` 1, ``settled_by`` -1).  It is deterministic given a run's
parameters (KTAB's deterministic state transitions); spread across runs comes
from the scenario's uncertain parameters.  Status quo, decision rules,
behaviour parameters and influence play no part.

This is an independent reimplementation in NumPy, vectorised over runs,
written from KTAB's documentation and a reading of its source (MIT licence,
copyright KAPSARC); no KTAB code is included.  Its arithmetic takes the same
steps as KTAB's, with sums and products accumulated in the same order, so
that KTAB's published reference runs are reproduced to the printed digits.

References
----------
.. [1] KAPSARC (2015-2017). KTAB: the Spatial Model of Politics
   (``examples/smp``), open source under the MIT licence,
   github.com/KAPSARC/KTAB.  Its reference
   runs ``dummyData_3Dim`` and ``SOE-Pol-Comp`` are reproduced in the tests.
.. [2] Wise, B. and Bankes, S. (2015). Non-spatial Probabilistic Condorcet
   Election Methodology. arXiv preprint (11 May 2015).
.. [3] Bueno de Mesquita, B. (1994). Political forecasting: an expected
   utility method. In Bueno de Mesquita, B. and Stokman, F. N. (eds.),
   European Community Decision Making, Yale University Press, 71-104.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ProtocolError
from basesim.protocols.bargaining import RoundRecord
from basesim.scenario import suggest

__all__ = [
    "BARGAIN_WEIGHTS",
    "PREDICTIONS",
    "RISK_ADJUSTMENTS",
    "RISK_RANGES",
    "THIRD_PARTY",
    "Smp",
    "SmpResult",
    "SmpState",
    "bargain_positions",
    "coalition_strengths",
    "condorcet_probabilities",
    "predicted_package",
    "risk_attitudes",
    "run_smp",
    "scaled_salience",
    "spatial_utility",
    "victory_probabilities",
    "weighted_distance",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: How the predicted package is read from the final state (``Smp.prediction``).
PREDICTIONS = ("expected", "most_probable", "weighted_mean")
#: Range of the inferred risk attitudes (KTAB's ``BigRRange``): min [0, 1], mid [-1/2, 1], max [-1, 1].
RISK_RANGES = ("min", "mid", "max")
#: Weight of ``h``'s own attitude in its estimate of ``i``'s (KTAB's ``BigRAdjust``).
RISK_ADJUSTMENTS = ("full", "two_thirds", "half", "one_third", "none")
#: How committed a third party is to the side it joins (KTAB's ``ThirdPartyCommit``).
THIRD_PARTY = ("full", "semi", "none")
#: How a bargain interpolates between the two positions (KTAB's ``InterVecBrgn``).
BARGAIN_WEIGHTS = ("s1p1", "s2p2", "s2pmax")

# KTAB's small constants, kept so that its reference runs are reproduced.
_MIN_COALITION = 1e-8  # floor of a coalition's strength when options are compared
_MIN_CONTEST = 1e-10  # floor of a coalition's strength in a challenge
_MIN_GAIN = 1e-5  # a challenge must be worth more than this
_MIN_WEIGHT = 1e-6  # keeps a bargain defined when neither side has weight
_GRID = 1e4  # bargains are rounded to 1e-4 of the scale
_SAME_POSITION = 1e-3  # positions closer than this count as one option in the final PCE
_FIRST_MOVE_FLOOR = 1e-4  # added to the first turn's move before the ratio is taken
# Runs are played in chunks: at most this many elements in a (runs, actors, actors)
# array (cache-sized, measured fastest) and in a (runs, actors, actors, actors) one.
_CHUNK_PAIRS = 16_384
_CHUNK_ELEMENTS = 4_000_000


# -- utilities -----------------------------------------------------------------------------
def weighted_distance(ideal: FloatArray, position: FloatArray, salience: FloatArray) -> FloatArray:
    """Salience-weighted distances ``(n, N, M)`` from each actor's ideal to each position.

    ``d_ij = sqrt(sum_k (s_ik (ideal_ik - x_jk))^2 / sum_k s_ik^2)``, summed over
    dimensions in order.  ``ideal`` and ``salience`` are ``(n, N, K)``,
    ``position`` is ``(n, M, K)``.  An actor with no salience anywhere is at
    distance 0 from everything.
    """
    ds2 = np.zeros((ideal.shape[0], ideal.shape[1], position.shape[1]))
    ss2 = np.zeros(ideal.shape[:2])
    for k in range(ideal.shape[2]):
        s = salience[:, :, k]
        d = (ideal[:, :, None, k] - position[:, None, :, k]) * s[:, :, None]
        ds2 = ds2 + d * d
        ss2 = ss2 + s * s
    safe = np.where(ss2 > 0, ss2, 1.0)
    result: FloatArray = np.sqrt(ds2 / safe[:, :, None])
    return result


def spatial_utility(distance: FloatArray, risk: FloatArray) -> FloatArray:
    """KTAB's utility of a position at weighted distance ``d`` for risk attitude ``R``.

    ``u = (1 - d)(1 + d R)`` for ``d <= 1`` (``(1 - d)(1 + R)`` beyond): concave
    for ``R > 0`` (risk-averse), convex for ``R < 0``, ``u(0) = 1``, ``u(1) = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> spatial_utility(np.array([0.0, 0.5, 0.5, 1.0]), np.array([0.0, 1.0, -0.5, 1.0])).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    inside: FloatArray = (1.0 - distance) * (1.0 + distance * risk)
    if (distance <= 1.0).all():
        return inside
    result: FloatArray = np.where(distance <= 1.0, inside, (1.0 - distance) * (1.0 + risk))
    return result


def coalition_strengths(weight: FloatArray, utility: FloatArray) -> FloatArray:
    """Strength ``C[a, b]`` ``(n, M, M)`` of the coalition preferring option ``a`` to ``b``.

    ``C_ab = 1e-8 + sum_k max(0, w_k (u_ka - u_kb))`` (proportional voting),
    summed over actors ``k`` in order; ``weight`` is ``(n, N)``, ``utility``
    ``(n, N, M)``.
    """
    n, n_act, m = utility.shape
    strength = np.full((n, m, m), _MIN_COALITION)
    for k in range(n_act):
        u = utility[:, k, :]
        vote = u[:, :, None] - u[:, None, :]
        vote *= weight[:, k, None, None]
        strength += np.maximum(vote, 0.0)
    return strength


def victory_probabilities(strength: FloatArray, exponent: int) -> FloatArray:
    """``P[a beats b] = C_ab^nu / (C_ab^nu + C_ba^nu)`` ``(n, M, M)``, 1/2 on the diagonal."""
    if exponent == 1:
        x = strength
    elif exponent == 2:
        x = strength * strength
    else:  # KTAB's order of products: x^4 = ((x x) x) x, x^8 = (x^4)^2
        x = strength * strength * strength * strength
        if exponent == 8:
            x = x * x
    xt = np.swapaxes(x, -1, -2)
    prob = x / (x + xt)
    m = strength.shape[-1]
    prob[..., np.arange(m), np.arange(m)] = 0.5
    result: FloatArray = prob
    return result


def condorcet_probabilities(victory: FloatArray, valid: BoolArray) -> FloatArray:
    """The conditional PCE: each valid option's probability of beating all the others.

    ``p_a = prod_b P[a beats b] / sum_a' prod_b P[a' beats b]`` over the valid
    options (products and sums in option order).  ``victory`` is
    ``(..., M, M)``, ``valid`` ``(..., M)``; invalid options get 0.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.8], [0.3, 0.2, 0.5]])
    >>> condorcet_probabilities(v, np.ones(3, dtype=bool)).round(3).tolist()
    [0.525, 0.4, 0.075]
    """
    m = victory.shape[-1]
    prod = np.ones(np.broadcast_shapes(victory.shape[:-1], valid.shape))
    for b in range(m):
        prod = prod * np.where(valid[..., b, None], victory[..., b], 1.0)
    prod = np.where(valid, prod, 0.0)
    total = np.zeros(prod.shape[:-1])
    for a in range(m):
        total = total + prod[..., a]
    result: FloatArray = prod / total[..., None]
    return result


def risk_attitudes(prob: FloatArray, risk_range: str) -> FloatArray:
    """Risk attitudes ``(n, N)`` from the positions' PCE probabilities ``(n, N)``.

    ``mid``: ``R_i = (3 p_i - p_max - 2 p_min) / (2 (p_max - p_min))`` in
    [-1/2, 1]; ``min``: ``(p_i - p_min) / (p_max - p_min)`` in [0, 1]; ``max``:
    ``(2 p_i - p_max - p_min) / (p_max - p_min)`` in [-1, 1].  All zero
    (risk-neutral) when every position is equally likely.
    """
    p_min = prob.min(axis=1, keepdims=True)
    p_max = prob.max(axis=1, keepdims=True)
    spread = p_max - p_min
    safe = np.where(spread > 0, spread, 1.0)
    if risk_range == "mid":
        r = (3 * prob - (p_max + 2 * p_min)) / (2 * safe)
    elif risk_range == "min":
        r = (prob - p_min) / safe
    else:
        r = (2 * prob - (p_max + p_min)) / safe
    result: FloatArray = np.where(spread > 0, r, 0.0)
    return result


def perceived_risk(risk: FloatArray, adjustment: str) -> FloatArray:
    """``(n, H, N)``: ``h``'s estimate of ``i``'s risk attitude, anchored on its own."""
    rh = risk[:, :, None]
    ri = risk[:, None, :]
    if adjustment == "full":
        out = np.broadcast_to(ri, (risk.shape[0], risk.shape[1], risk.shape[1]))
    elif adjustment == "two_thirds":
        out = (rh + (2.0 * ri)) / 3.0
    elif adjustment == "half":
        out = (rh + ri) / 2
    elif adjustment == "one_third":
        out = ((2.0 * rh) + ri) / 3.0
    else:
        out = np.broadcast_to(rh, (risk.shape[0], risk.shape[1], risk.shape[1]))
    result: FloatArray = np.array(out)
    return result


def _sum_last(x: FloatArray) -> FloatArray:
    total = np.zeros(x.shape[:-1])
    for k in range(x.shape[-1]):
        total = total + x[..., k]
    return total


# -- options -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class _Options:
    victory_exponent: int
    risk_range: str
    risk_adjustment: str
    third_party: str
    bargain_weights: str
    max_turns: int
    min_turns: int
    stop_ratio: float


# -- one turn ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Assessment:
    risk: FloatArray  # (n, N)
    perceived: FloatArray  # (n, H, N, N): perceived[r, h, i, j] = h's estimate of u_ij


def _assess(
    position: FloatArray, salience: FloatArray, capability: FloatArray, opts: _Options
) -> _Assessment:
    """Utilities, the risk-neutral PCE, risk attitudes, and every actor's utility estimates."""
    distance = weighted_distance(position, position, salience)
    neutral = spatial_utility(distance, np.zeros(distance.shape[:2])[:, :, None])
    strength = coalition_strengths(capability, neutral)
    n_act = position.shape[1]
    prob = condorcet_probabilities(
        victory_probabilities(strength, opts.victory_exponent), np.ones((1, n_act), dtype=bool)
    )
    risk = risk_attitudes(prob, opts.risk_range)
    perceived = spatial_utility(
        distance[:, None, :, :], perceived_risk(risk, opts.risk_adjustment)[:, :, :, None]
    )
    return _Assessment(risk=risk, perceived=perceived)


@dataclass(frozen=True, slots=True)
class _Challenges:
    target: IntArray  # (n, N) whom each actor challenges (-1: nobody)
    win: FloatArray  # (n, N) the challenger's estimate that it wins


def _challenges(
    perceived: FloatArray, weight: FloatArray, total_salience: FloatArray, third_party: str
) -> _Challenges:
    """Each actor's expected gain from challenging each other actor, and its best target.

    ``perceived[r, i]`` is ``i``'s estimate of the utility matrix; ``weight``
    is ``sum_k s_k x c`` ``(n, N)``; ``total_salience`` ``(n, N)``.
    """
    n, n_act = weight.shape
    idx = np.arange(n_act)
    ii, jj = idx[:, None], idx[None, :]
    own = perceived[:, idx, idx, :]  # (n, i, b): i's estimate of u_ib
    u_ii = own[:, idx, idx][:, :, None]
    u_ij = own
    u_ji = perceived[:, ii, jj, ii]
    u_jj = perceived[:, ii, jj, jj]
    contrib_i = weight[:, :, None] * (u_ii - u_ij)
    contrib_j = weight[:, None, :] * (u_ji - u_jj)
    for_i = np.full((n, n_act, n_act), _MIN_CONTEST)
    for_j = np.full((n, n_act, n_act), _MIN_CONTEST)
    for_i = np.where(contrib_i > 0.0, for_i + contrib_i, for_i)
    for_j = np.where(contrib_i < 0.0, for_j - contrib_i, for_j)
    for_i = np.where(contrib_j > 0.0, for_i + contrib_j, for_i)
    for_j = np.where(contrib_j < 0.0, for_j - contrib_j, for_j)
    base_i, base_j = for_i, for_j
    for_i, for_j = for_i.copy(), for_j.copy()
    by_third = np.ascontiguousarray(perceived.transpose(0, 2, 1, 3))  # [r, m, i, j] = u^i_mj
    # A third party m joins the side it prefers in the little contest (i, j, m);
    # adding max(v, 0) is adding v where v > 0 and exactly nothing elsewhere.
    for m in range(n_act):
        u_mi = perceived[:, idx, m, idx][:, :, None]
        u_mj = by_third[:, m]
        u_mm = by_third[:, m, :, m, None]
        w_m = weight[:, m, None, None]
        alone = u_mi - u_mj
        alone *= w_m
        side_i = np.maximum(alone, 0.0)
        side_i += base_i
        side_j = np.minimum(alone, 0.0)
        np.subtract(base_j, side_j, out=side_j)
        total = side_i + side_j
        p_i = np.divide(side_i, total, out=side_i)
        p_j = np.subtract(1.0, p_i, out=side_j)
        # (u + u) + u is exactly 3u: doubling is exact, and both round the exact 3u once.
        if third_party == "full":
            a1, a2 = 3.0 * u_mi, 3.0 * u_mj
            a3, a4 = a1, a2
        elif third_party == "semi":
            a1, a2 = u_mi + u_mi + u_mm, 3.0 * u_mj
            a3, a4 = 3.0 * u_mi, u_mj + u_mj + u_mm
        else:
            a1, a2 = u_mi + u_mi + u_mm, u_mj + u_mj + u_mm
            a3, a4 = a1, a2
        with_i = p_i * a1
        with_i += p_j * a2
        with_j = p_i * a3
        with_j += p_j * a4
        with_i -= with_j
        vote = np.multiply(with_i, w_m, out=with_i)
        vote[:, m, :] = 0.0  # m is a principal, not a third party
        vote[:, :, m] = 0.0
        for_i += np.maximum(vote, 0.0)
        for_j -= np.minimum(vote, 0.0)
    p_win = for_i / (for_i + for_j)
    p_lose = for_j / (for_i + for_j)
    u_vict = u_ii + u_ii
    u_loss = u_ij + u_ij
    u_sq = u_ii + u_ij
    contest = p_win * u_vict + p_lose * u_loss
    s_j = total_salience[:, None, :]
    gain = ((1 - s_j) * u_vict + s_j * contest) - u_sq
    valid = (ii != jj)[None] & (gain > _MIN_GAIN)
    best = np.argmax(np.where(valid, gain, -np.inf), axis=2)
    has = valid.any(axis=2)
    rows = np.arange(n)[:, None]
    target = np.where(has, best, -1).astype(np.int64)
    win = np.where(has, p_win[rows, idx[None, :], best], np.nan)
    return _Challenges(target=target, win=win)


def _round4(x: FloatArray) -> FloatArray:
    result: FloatArray = np.trunc(0.5 + x * _GRID) / _GRID
    return result


def bargain_positions(
    position: FloatArray,
    salience: FloatArray,
    target: IntArray,
    win: FloatArray,
    how: str,
) -> tuple[FloatArray, FloatArray]:
    """The positions ``(n, N, K)`` each challenger and its target would adopt.

    For challenger ``i`` with target ``j = target[i]`` (-1: none) and win
    probability ``p = win[i]``, on each dimension (``"s2p2"``):
    ``w_i = s_ik^2 p^2``, ``w_j = s_jk^2 (1 - p)^2``, and ``i`` and ``j`` adopt
    ``((w_i + e) x_ik + w_j x_jk) / (w_i + e + w_j)`` and
    ``(w_i x_ik + (e + w_j) x_jk) / (w_i + e + w_j)`` with ``e = 1e-6``, both
    rounded to 1e-4 (so both land on the weighted mean unless neither side has
    weight).  ``"s1p1"`` uses ``s p`` and ``s (1 - p)``; ``"s2pmax"`` moves only
    the likely loser, by ``d s_j^2 / (d s_j^2 + e + (1 - d) s_i^2)`` of the gap,
    ``d`` the excess of the other's win probability.
    """
    n, n_act, _ = position.shape
    rows = np.arange(n)[:, None]
    t = np.where(target >= 0, target, np.arange(n_act)[None, :])
    x_i, s_i = position, salience
    x_j, s_j = position[rows, t], salience[rows, t]
    p_i = np.where(target >= 0, win, 0.5)[:, :, None]
    p_j = 1 - p_i
    if how == "s2pmax":
        d_i = np.where(p_j > p_i, p_j - p_i, 0.0)
        d_j = np.where(p_i > p_j, p_i - p_j, 0.0)
        s_i2, s_j2 = s_i * s_i, s_j * s_j
        f_i = (d_i * s_j2) / ((d_i * s_j2) + _MIN_WEIGHT + ((1 - d_i) * s_i2))
        f_j = (d_j * s_i2) / ((d_j * s_i2) + _MIN_WEIGHT + ((1 - d_j) * s_j2))
        return x_i + f_i * (x_j - x_i), x_j + f_j * (x_i - x_j)
    if how == "s2p2":
        w_i = (s_i * s_i) * (p_i * p_i)
        w_j = (s_j * s_j) * (p_j * p_j)
    else:
        w_i = s_i * p_i
        w_j = s_j * p_j
    denominator = w_i + _MIN_WEIGHT + w_j
    b_i = _round4(((w_i + _MIN_WEIGHT) * x_i + w_j * x_j) / denominator)
    b_j = _round4((w_i * x_i + (_MIN_WEIGHT + w_j) * x_j) / denominator)
    return b_i, b_j


def _turn(
    position: FloatArray,
    salience: FloatArray,
    capability: FloatArray,
    assessment: _Assessment,
    opts: _Options,
) -> FloatArray:
    """The positions ``(n, N, K)`` after one turn of challenges and bargains."""
    n, n_act, _ = position.shape
    idx = np.arange(n_act)
    total_salience = _sum_last(salience)
    weight = total_salience * capability
    chal = _challenges(assessment.perceived, weight, total_salience, opts.third_party)
    b_init, b_recv = bargain_positions(
        position, salience, chal.target, chal.win, opts.bargain_weights
    )
    # Each actor's (true) utility of every state a bargain would produce, averaged
    # over the actors' positions: option 0 is the status quo, option 1 + i the
    # bargain that actor i initiated.
    own = assessment.perceived[:, idx, idx, :]  # (n, a, m) a's utility of m's position
    risk = assessment.risk[:, :, None]
    u_init = spatial_utility(weighted_distance(position, b_init, salience), risk)
    u_recv = spatial_utility(weighted_distance(position, b_recv, salience), risk)
    t = chal.target[:, None, :]
    u_bargain = u_init + u_recv
    u_sq = np.zeros((n, n_act))
    for m in range(n_act):
        untouched = (idx[None, None, :] != m) & (t != m)
        u_bargain = np.where(untouched, u_bargain + own[:, :, m, None], u_bargain)
        u_sq = u_sq + own[:, :, m]
    options = np.concatenate([u_sq[:, :, None], u_bargain], axis=2) / n_act
    has = chal.target >= 0
    options[:, :, 1:] = np.where(has[:, None, :], options[:, :, 1:], options[:, :, :1])
    victory = victory_probabilities(
        coalition_strengths(capability, options), opts.victory_exponent
    )
    # Queue of actor k: the status quo and the bargains k initiated or received.
    queue = np.zeros((n, n_act, n_act + 1), dtype=bool)
    queue[:, :, 0] = True
    queue[:, :, 1:] = has[:, None, :] & (
        (idx[None, :, None] == idx[None, None, :])
        | (chal.target[:, None, :] == idx[None, :, None])
    )
    prob = condorcet_probabilities(victory[:, None, :, :], queue)
    choice = np.argmax(prob, axis=2)  # (n, k)
    rows = np.arange(n)[:, None]
    initiator = np.maximum(choice - 1, 0)
    moved = np.where(
        (initiator == idx[None, :])[:, :, None],
        b_init[rows, initiator],
        b_recv[rows, initiator],
    )
    result: FloatArray = np.where((choice > 0)[:, :, None], moved, position)
    return result


def _move(before: FloatArray, after: FloatArray) -> FloatArray:
    """Sum over actors of the Euclidean distance each moved ``(n,)``."""
    diff = after - before
    sq = np.zeros(diff.shape[:2])
    for k in range(diff.shape[2]):
        sq = sq + diff[:, :, k] * diff[:, :, k]
    return _sum_last(np.sqrt(sq))


def _position_probabilities(
    position: FloatArray, capability: FloatArray, assessment: _Assessment, opts: _Options
) -> tuple[FloatArray, BoolArray]:
    """PCE probability of each distinct final position ``(n, N)`` and which are distinct."""
    n, n_act, _ = position.shape
    idx = np.arange(n_act)
    distinct = np.zeros((n, n_act), dtype=bool)
    for i in range(n_act):
        gap = position[:, :i] - position[:, i, None]
        near = np.sqrt(_sum_last(gap * gap)) < _SAME_POSITION
        distinct[:, i] = ~(near & distinct[:, :i]).any(axis=1)
    own = assessment.perceived[:, idx, idx, :]
    victory = victory_probabilities(coalition_strengths(capability, own), opts.victory_exponent)
    return condorcet_probabilities(victory, distinct), distinct


@dataclass(frozen=True, slots=True, kw_only=True)
class SmpResult:
    """What :func:`run_smp` returns (leading axis: run).

    Attributes
    ----------
    position
        ``(n, N, K)`` final positions.
    first
        ``(n, N, K)`` positions after the first turn.
    turns
        ``(n,)`` turns played.
    probability
        ``(n, N)`` PCE probability that each distinct final position wins (0
        for a position that repeats an earlier actor's).
    distinct
        ``(n, N)`` whether each actor's final position is distinct from every
        earlier actor's (within 1e-3 of the scale).
    """

    position: FloatArray
    first: FloatArray
    turns: IntArray
    probability: FloatArray
    distinct: BoolArray


def _options(**kwargs: Any) -> _Options:
    opts = _Options(**kwargs)
    checks = (
        ("victory_exponent", opts.victory_exponent, (1, 2, 4, 8)),
        ("risk_range", opts.risk_range, RISK_RANGES),
        ("risk_adjustment", opts.risk_adjustment, RISK_ADJUSTMENTS),
        ("third_party", opts.third_party, THIRD_PARTY),
        ("bargain_weights", opts.bargain_weights, BARGAIN_WEIGHTS),
    )
    for name, value, allowed in checks:
        if value not in allowed:
            raise ProtocolError(
                f"smp: {name} must be one of {allowed} (got {value!r}){suggest(str(value), allowed)}"
            )
    if opts.max_turns < 1 or opts.min_turns < 1:
        raise ProtocolError(
            f"smp: max_turns and min_turns must be >= 1 (got {opts.max_turns}, {opts.min_turns})"
        )
    return opts


def run_smp(
    position: FloatArray,
    salience: FloatArray,
    capability: FloatArray,
    *,
    victory_exponent: int = 1,
    risk_range: str = "mid",
    risk_adjustment: str = "one_third",
    third_party: str = "semi",
    bargain_weights: str = "s2p2",
    max_turns: int = 100,
    min_turns: int = 2,
    stop_ratio: float = 0.02,
) -> SmpResult:
    """Play the spatial model of politics to a stable state, for many runs at once.

    Parameters
    ----------
    position
        ``(n, N, K)`` starting positions on the [0, 1] scale of each dimension.
    salience
        ``(n, N, K)`` saliences; each actor's must sum to at most 1.
    capability
        ``(n, N)`` positive capabilities.
    victory_exponent
        ``nu`` in ``P[a beats b] = C_ab^nu / (C_ab^nu + C_ba^nu)``: 1, 2, 4 or 8
        (KTAB's linear, square, quartic, octic).
    risk_range
        ``"mid"`` (risk attitudes in [-1/2, 1]), ``"min"`` ([0, 1]) or ``"max"`` ([-1, 1]).
    risk_adjustment
        How ``h`` estimates ``i``'s risk attitude: ``"one_third"``
        (``(2 R_h + R_i) / 3``), ``"half"``, ``"two_thirds"``, ``"full"``
        (``R_i``) or ``"none"`` (``R_h``).
    third_party
        ``"semi"``, ``"full"`` or ``"none"``: how committed a third party is
        to the side it joins in a challenge.
    bargain_weights
        ``"s2p2"`` (weights salience^2 x probability^2), ``"s1p1"`` or
        ``"s2pmax"``.
    max_turns, min_turns, stop_ratio
        Stop after ``max_turns``, or once at least ``min_turns`` are played and
        a turn moves the actors less than ``stop_ratio`` times the first turn.

    Returns
    -------
    SmpResult

    Examples
    --------
    Three actors on one issue: after five turns the actors who started at 0.4
    and 0.9 share one position, and the strongest actor (capability 3) has
    moved toward them:

    >>> import numpy as np
    >>> r = run_smp(np.array([[[0.1], [0.4], [0.9]]]), np.array([[[0.9], [0.5], [0.6]]]),
    ...             np.array([[3.0, 1.0, 2.0]]))
    >>> r.turns.tolist(), r.position[0, :, 0].round(4).tolist()
    ([5], [0.2683, 0.3248, 0.3248])
    """
    opts = _options(
        victory_exponent=victory_exponent,
        risk_range=risk_range,
        risk_adjustment=risk_adjustment,
        third_party=third_party,
        bargain_weights=bargain_weights,
        max_turns=max_turns,
        min_turns=min_turns,
        stop_ratio=stop_ratio,
    )
    position = np.asarray(position, dtype=np.float64)
    salience = np.asarray(salience, dtype=np.float64)
    capability = np.asarray(capability, dtype=np.float64)
    n, n_act, _ = position.shape
    chunk = max(1, min(_CHUNK_PAIRS // n_act**2, _CHUNK_ELEMENTS // n_act**3))
    parts = [
        _run_chunk(
            position[a : a + chunk], salience[a : a + chunk], capability[a : a + chunk], opts
        )
        for a in range(0, n, chunk)
    ]
    if len(parts) == 1:
        return parts[0]
    return SmpResult(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(SmpResult)}
    )


def _run_chunk(
    position: FloatArray, salience: FloatArray, capability: FloatArray, opts: _Options
) -> SmpResult:
    n = position.shape[0]
    current = position.copy()
    first = position.copy()
    turns = np.zeros(n, dtype=np.int64)
    first_move = np.zeros(n)
    active = np.arange(n)
    probability = np.zeros(capability.shape)
    distinct = np.zeros(capability.shape, dtype=bool)
    assessment = _assess(current, salience, capability, opts)
    turn = 0
    while active.size:
        turn += 1
        x, s, c = current[active], salience[active], capability[active]
        after = _turn(x, s, c, assessment, opts)
        move = _move(x, after)
        current[active] = after
        turns[active] = turn
        if turn == 1:
            first[active] = after
            first_move[active] = move + _FIRST_MOVE_FLOOR
        assessment = _assess(after, s, c, opts)
        quiet = (move / first_move[active]) < opts.stop_ratio
        done = (turn >= opts.max_turns) | ((turn >= opts.min_turns) & quiet)
        if done.any():
            p, d = _position_probabilities(
                after[done], c[done], _take(assessment, np.flatnonzero(done)), opts
            )
            probability[active[done]] = p
            distinct[active[done]] = d
        keep = np.flatnonzero(~done)
        active = active[keep]
        assessment = _take(assessment, keep)
    return SmpResult(
        position=current, first=first, turns=turns, probability=probability, distinct=distinct
    )


def _take(a: _Assessment, rows: NDArray[np.intp]) -> _Assessment:
    return _Assessment(risk=a.risk[rows], perceived=a.perceived[rows])


def predicted_package(
    result: SmpResult, salience: FloatArray, capability: FloatArray, prediction: str
) -> FloatArray:
    """The predicted value of each dimension ``(n, K)`` from the final state.

    ``"expected"``: the mean of the distinct final positions weighted by their
    PCE probabilities; ``"most_probable"``: the most probable final position;
    ``"weighted_mean"``: ``sum_i c_i s_ik x_ik / sum_i c_i s_ik`` over the final
    positions.
    """
    x = result.position
    if prediction == "expected":
        out = np.einsum("rn,rnk->rk", result.probability, x)
    elif prediction == "most_probable":
        best = np.argmax(result.probability, axis=1)
        out = x[np.arange(x.shape[0]), best]
    else:
        w = capability[:, :, None] * salience
        total = w.sum(axis=1)
        out = np.where(total > 0, (w * x).sum(axis=1) / np.where(total > 0, total, 1.0), 0.5)
    result_: FloatArray = np.asarray(out, dtype=np.float64)
    return result_


# -- the protocol ----------------------------------------------------------------------------
@dataclass(slots=True, kw_only=True)
class SmpState:
    """The state of a batch of runs (leading axis: run)."""

    stances: FloatArray  # (n, N, K) positions (initial, then final)
    proposals: IntArray  # (n, N) always 0: nobody proposes
    status_quo: FloatArray  # (n, K) the status quo, then the predicted package
    open: BoolArray  # (n, K) True before month 1, False after
    settled_round: IntArray  # (n, K) 0, then 1
    turns: IntArray  # (n,) turns played (0 before month 1)

    def take(self, rows: NDArray[np.intp]) -> SmpState:
        """The state of a subset of runs (copies)."""
        return SmpState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows: NDArray[np.intp], part: SmpState) -> None:
        """Write the state of a subset of runs back."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


@dataclass(frozen=True, slots=True)
class Smp:
    """KTAB's spatial model of politics, registered as ``"smp"``.

    All turns are played in month 1 (the model has no calendar); every issue
    is settled in month 1 at the predicted outcome (``settled_round`` 1,
    ``settled_by`` -1).  The fields are the model's options (see
    :func:`run_smp`) and ``prediction``, one of :data:`PREDICTIONS`:
    ``"expected"`` (default), ``"most_probable"`` or ``"weighted_mean"``
    (see :func:`predicted_package`).  Saliences of an actor that sum to more
    than 1 over the issues are divided by their sum (KTAB requires at most 1).
    """

    name: str = field(default="smp")
    prediction: str = "expected"
    victory_exponent: int = 1
    risk_range: str = "mid"
    risk_adjustment: str = "one_third"
    third_party: str = "semi"
    bargain_weights: str = "s2p2"
    max_turns: int = 100
    min_turns: int = 2
    stop_ratio: float = 0.02

    def compile(self, compiled: CompiledScenario) -> NDArray[np.intp]:
        """The actors that take part (a positive nominal salience somewhere); checks the scenario."""
        if self.prediction not in PREDICTIONS:
            raise ProtocolError(
                f"smp: prediction must be one of {PREDICTIONS} (got {self.prediction!r})"
                f"{suggest(self.prediction, PREDICTIONS)}"
            )
        _options(**self._run_options())
        if compiled.n_actors < 2:
            raise ProtocolError(
                f"smp: actors must number at least 2 (got {compiled.n_actors}) in scenario "
                f"{compiled.scenario.name!r}"
            )
        if compiled.n_issues < 1:
            raise ProtocolError(f"smp: issues must number at least 1 (got {compiled.n_issues})")
        # An actor with no salience on any issue has no stake in the outcome
        # (KTAB needs a positive salience): it takes no part in the model.
        present = compiled.nominal.salience[0].sum(axis=1) > 0
        if present.sum() < 2:
            raise ProtocolError(
                f"smp: at least 2 actors need a positive salience on some issue "
                f"(got {int(present.sum())}) in scenario {compiled.scenario.name!r}"
            )
        return np.flatnonzero(present)

    def _run_options(self) -> dict[str, Any]:
        return {
            "victory_exponent": self.victory_exponent,
            "risk_range": self.risk_range,
            "risk_adjustment": self.risk_adjustment,
            "third_party": self.third_party,
            "bargain_weights": self.bargain_weights,
            "max_turns": self.max_turns,
            "min_turns": self.min_turns,
            "stop_ratio": self.stop_ratio,
        }

    def start(self, compiled: CompiledScenario, params: RunParameters) -> SmpState:
        """The state before month 1."""
        n = params.n_runs
        return SmpState(
            stances=params.position.copy(),
            proposals=np.zeros((n, compiled.n_actors), dtype=np.int64),
            status_quo=params.status_quo.copy(),
            open=np.ones((n, compiled.n_issues), dtype=bool),
            settled_round=np.zeros((n, compiled.n_issues), dtype=np.int64),
            turns=np.zeros(n, dtype=np.int64),
        )

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: SmpState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """Month 1: play every turn to the stable state; later months change nothing."""
        n, n_act, n_iss = state.stances.shape
        if month == 1:
            who = tables
            salience = scaled_salience(params.salience[:, who])
            position, capability = params.position[:, who], params.capability[:, who]
            result = run_smp(position, salience, capability, **self._run_options())
            state.stances[:, who] = result.position
            state.status_quo = predicted_package(result, salience, capability, self.prediction)
            state.turns = result.turns
            state.open = np.zeros((n, n_iss), dtype=bool)
            state.settled_round = np.ones((n, n_iss), dtype=np.int64)
        return RoundRecord(
            proposer=np.full(n, -1, dtype=np.intp),
            package=state.status_quo.copy(),
            settles=np.ones((n, n_iss), dtype=bool),
            offered=np.zeros(n, dtype=bool),
            accepted=np.zeros((n, n_act), dtype=bool),
            passed=np.full(n, month == 1),
            reservation=np.full((n, n_act), np.nan),
            disagreement=np.full((n, n_act), np.nan),
        )

    @staticmethod
    def finished(state: SmpState) -> BoolArray:
        """Runs already played ``(n,)``."""
        result: BoolArray = np.asarray(~state.open.any(axis=1))
        return result

    @staticmethod
    def outcome(state: SmpState, sampled: FloatArray) -> BatchOutcome:
        """Every issue settled in month 1 at the predicted package."""
        return BatchOutcome(
            package=state.status_quo.copy(),
            settled=~state.open,
            settled_round=state.settled_round.copy(),
            settled_by=np.full(state.open.shape, -1, dtype=np.int64),
            proposals=state.proposals.copy(),
            sampled=sampled,
        )


def scaled_salience(salience: FloatArray) -> FloatArray:
    """Saliences ``(n, N, K)`` divided by their sum where an actor's sum exceeds 1."""
    total = _sum_last(salience)[:, :, None]
    result: FloatArray = np.where(
        total > 1.0, salience / np.where(total > 0, total, 1.0), salience
    )
    return result
