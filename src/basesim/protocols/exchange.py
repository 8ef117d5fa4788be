"""Stokman's exchange model: actors trade voting positions across pairs of issues.

Each actor ``i`` has a capability ``c_i`` and, on each issue ``k``, an ideal
point ``x_ik``, a salience ``s_ik`` and a *voting position* ``y_ik`` (at first
its ideal).  The expected outcome of an issue is the capability x salience
weighted mean of the voting positions (Stokman and Van Oosten 1994)::

    O_k = sum_i c_i s_ik y_ik / sum_i c_i s_ik = sum_i w_ik y_ik / W_k

and an actor's utility is linear in the distance of the outcome from its
ideal, ``U_i = -sum_k s_ik |x_ik - O_k|``.  Two actors ``u`` and ``v`` can
exchange on a pair of issues ``(p, q)`` when their ideals lie on opposite
sides of the expected outcome on both issues and their salience ratios
differ.  The one to whom ``p`` matters relatively more, ``v``
(``s_vp s_uq > s_up s_vq``), *demands* ``p`` and *supplies* ``q``: ``u``
moves its voting position on ``p`` toward ``v``, which shifts ``O_p`` toward
``v`` by ``dO_p``, and ``v`` moves on ``q`` toward ``u``, which shifts ``O_q``
toward ``u`` by ``dO_q``.  Their gains are::

    G_u = s_uq dO_q - s_up dO_p        G_v = s_vp dO_p - s_vq dO_q

The *equal-gain* exchange rate makes them equal (Stokman and Van Oosten
1994; Dijkstra, Van Assen and Stokman 2008)::

    dO_q / dO_p = (s_up + s_vp) / (s_uq + s_vq)
    G = G_u = G_v = dO_p (s_vp s_uq - s_up s_vq) / (s_uq + s_vq) > 0

and the exchange is as large as it can be without overshooting: a supplier's
voting position moves at most to its partner's ideal, and an outcome moves at
most to the demander's ideal (beyond it the demander would lose by further
shifts, and the linear gains above would no longer hold)::

    dO_p <= min(w_up / W_p * |x_vp - y_up|, |x_vp - O_p|)
    dO_q <= min(w_vq / W_q * |x_uq - y_vq|, |x_uq - O_q|)
    dO_p  = min(bound_p, bound_q (s_uq + s_vq) / (s_up + s_vp))

Within a round the exchange with the largest gain is realised first, the
table of exchanges is recomputed from the new voting positions and outcomes,
and the next largest is realised, and so on, each actor taking part in at
most one exchange per round by default (:class:`ExchangeOptions`
``per_round``); rounds repeat, from the voting positions reached (``carry``)
and with preferences fixed or partly adopted from the votes (``adoption``),
until a round realises no exchange gaining more than ``tolerance`` or
``max_rounds`` is reached.  The predicted outcome of each issue is its final
expected outcome ``O_k``.

With one issue no exchange is possible and the model is the compromise
model (the capability x salience weighted mean).  Decision rules, status quo
drift, recognition and the random ``noise`` inputs play no part: the model is
deterministic given each run's sampled capabilities, positions and
saliences.  It has no calendar: everything happens in month 1, which settles
every issue (``settled_round`` 1, ``settled_by`` -1).  ``docs/models/exchange.md``
writes out every equation and option.

An ideal within :data:`SIDE_MARGIN` of the run's range of positions from an
outcome counts as on it (on neither side), so that rounding does not decide
whom an actor left at the outcome by an exchange trades with next.

Everything is vectorised over runs (leading axis ``n``): each realised
exchange costs ``O(N^2 K^2)`` a run (the table of actor pairs x issue pairs
is recomputed), a round under ``per_round = "actor"`` realises at most
``N / 2``, so a run costs at most ``O(max_rounds N^3 K^2)`` and nothing grows
exponentially.  Sums over actors run in a fixed order, so a run's numbers do
not depend on the batch it is in.

References
----------
.. [1] Stokman, F. N. and Van Oosten, R. (1994). The exchange of voting
   positions: an object-oriented model of policy networks. In Bueno de
   Mesquita, B. and Stokman, F. N. (eds), European Community Decision
   Making: Models, Applications, and Comparisons, 105-127. Yale University
   Press.
.. [2] Van Assen, M. A. L. M., Stokman, F. N. and Van Oosten, R. (2003).
   Conflict measures in cooperative exchange models of collective
   decision-making. Rationality and Society 15(1), 85-112.
.. [3] Arregui, J., Stokman, F. N. and Thomson, R. (2006). Compromise,
   exchange and challenge in the European Union. In Thomson, R., Stokman,
   F. N., Achen, C. H. and Koenig, T. (eds), The European Union Decides.
   Cambridge University Press.
.. [4] Dijkstra, J., Van Assen, M. A. L. M. and Stokman, F. N. (2008).
   Outcomes of collective decisions with externalities predicted. Journal
   of Theoretical Politics 20(4), 415-441.
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

__all__ = [
    "CARRY",
    "PER_ROUND",
    "SIDE_MARGIN",
    "Exchange",
    "ExchangeOptions",
    "ExchangeResult",
    "ExchangeState",
    "ExchangeTable",
    "ExchangeTables",
    "ExchangeTerms",
    "candidate_pairs",
    "exchange_shifts",
    "exchange_table",
    "exchange_terms",
    "expected_outcome",
    "run_exchanges",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: How often an actor may trade in one round (``per_round``):
#: ``"actor"``: each actor in at most one exchange per round (a greedy
#: matching, largest gain first);
#: ``"stance"``: each actor's stance on each issue in at most one exchange per
#: round (an actor may trade issues 1 and 2 with one partner and issues 3 and
#: 4 with another in the same round);
#: ``"pair"``: each pair of actors on each pair of issues at most once per
#: round, an actor taking part in as many exchanges as stay profitable (the
#: reading of the Decide program's rounds; costlier: up to ``C`` exchanges a
#: round, ``C`` the number of actor pairs x issue pairs).
PER_ROUND = ("actor", "stance", "pair")
#: What actors vote at the start of the next round (``carry``):
#: ``"votes"``: the voting positions reached so far (votes cast stay cast);
#: ``"ideals"``: their ideals (after ``adoption``), so each round starts afresh
#: from what actors now want, as the Decide program's iterations do.
CARRY = ("votes", "ideals")

#: An ideal within this share of the run's range of positions from the expected
#: outcome counts as on it (on neither side).  An exchange capped by the outcome
#: leaves the demander there up to rounding; without the margin the order of a
#: sum would decide which side it is on, and with whom it may trade next.
SIDE_MARGIN = 1e-9

# Runs x candidate exchanges held in memory at once (bounds the work arrays).
_CHUNK_CELLS = 1 << 18


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeOptions:
    """The choices the literature leaves open, each named (see the module docstring).

    Parameters
    ----------
    max_rounds
        Rounds of exchanges at most (>= 1).  Each round realises exchanges,
        largest gain first, until none is left for the actors still free.
    per_round
        One of :data:`PER_ROUND`.
    adoption
        Share, in [0, 1], of the gap to its voting position that an actor
        adopts as its new ideal at the end of each round in which it traded
        (``x <- x + adoption (y - x)``): 0 (the default) keeps preferences
        fixed, so every gain is measured from the original ideals; 1 makes
        the voting position the ideal of the next round (actors come to
        want what they voted for).
    carry
        One of :data:`CARRY`.  With ``carry = "ideals"`` and ``adoption = 0``
        every round repeats the first, so the model is one round of
        exchanges.
    tolerance
        Exchanges gaining at most ``tolerance`` times the run's utility scale
        (its largest salience times its largest spread of ideals on an
        issue) are not realised: a guard against endless vanishing exchanges
        and rounding.
    """

    max_rounds: int = 100
    per_round: str = "actor"
    adoption: float = 0.0
    carry: str = "votes"
    tolerance: float = 1e-9

    def check(self) -> None:
        """Raise :class:`ProtocolError` for an option out of range."""
        rounds = self.max_rounds
        if isinstance(rounds, bool) or not isinstance(rounds, int | np.integer) or rounds < 1:
            raise ProtocolError(
                f"exchange: max_rounds must be a whole number >= 1 (got {rounds!r})"
            )
        if self.per_round not in PER_ROUND:
            raise ProtocolError(
                f"exchange: per_round must be one of {', '.join(PER_ROUND)} "
                f"(got {self.per_round!r})"
            )
        if self.carry not in CARRY:
            raise ProtocolError(
                f"exchange: carry must be one of {', '.join(CARRY)} (got {self.carry!r})"
            )
        if not 0.0 <= self.adoption <= 1.0:
            raise ProtocolError(f"exchange: adoption must be in [0, 1] (got {self.adoption!r})")
        if not 0.0 <= self.tolerance < 1.0:
            raise ProtocolError(f"exchange: tolerance must be in [0, 1) (got {self.tolerance!r})")


# -- the expected outcome ------------------------------------------------------------------
def expected_outcome(voting: FloatArray, weight: FloatArray, fallback: FloatArray) -> FloatArray:
    """The expected outcomes ``(n, K)``: ``sum_i w_ik y_ik / sum_i w_ik``.

    ``voting`` and ``weight`` are ``(n, N, K)``; an issue on which nobody has
    weight keeps ``fallback`` ``(n, K)`` (the status quo).  Summed actor by
    actor, in a fixed order.
    """
    total = weight[:, 0].copy()
    moment = weight[:, 0] * voting[:, 0]
    for i in range(1, voting.shape[1]):
        total += weight[:, i]
        moment += weight[:, i] * voting[:, i]
    safe = np.where(total > 0, total, 1.0)
    result: FloatArray = np.where(total > 0, moment / safe, fallback)
    return result


def _total_weight(weight: FloatArray) -> FloatArray:
    total = weight[:, 0].copy()
    for i in range(1, weight.shape[1]):
        total += weight[:, i]
    return total


# -- the table of possible exchanges ---------------------------------------------------------
def candidate_pairs(n_actors: int, n_issues: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Every unordered pair of actors x unordered pair of issues, as index arrays ``(C,)``.

    Ordered by first actor, second actor, first issue, second issue: this is
    the order in which ties of gain are broken (the first wins).
    """
    a, b, p, q = [], [], [], []
    for i in range(n_actors):
        for j in range(i + 1, n_actors):
            for k in range(n_issues):
                for m in range(k + 1, n_issues):
                    a.append(i)
                    b.append(j)
                    p.append(k)
                    q.append(m)
    return tuple(np.array(v, dtype=np.int64) for v in (a, b, p, q))  # type: ignore[return-value]


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeTerms:
    """The terms of every possible exchange that do not depend on the votes ``(n, C)``.

    For candidate ``(a, b, p, q)`` the actor ``u`` (``supplier_p``) supplies
    ``p`` and demands ``q``; ``v`` (``supplier_q``) supplies ``q`` and demands
    ``p``.  Fixed while ideals, saliences and capabilities are.
    """

    supplier_p: IntArray  # u
    supplier_q: IntArray  # v
    demand_p: FloatArray  # x_vp, where v wants O_p
    demand_q: FloatArray  # x_uq, where u wants O_q
    low_p: FloatArray  # min(x_ap, x_bp): O_p must lie strictly between ...
    high_p: FloatArray  # ... and max(x_ap, x_bp)
    low_q: FloatArray
    high_q: FloatArray
    share_p: FloatArray  # w_up / W_p, how far O_p moves per unit move of u
    share_q: FloatArray  # w_vq / W_q
    rate: FloatArray  # dO_q / dO_p = (s_up + s_vp) / (s_uq + s_vq)
    factor: FloatArray  # gain per unit of dO_p = s_vp - s_vq rate
    able: BoolArray  # salience ratios differ and both can move the outcomes
    margin: FloatArray  # (n, 1) an ideal closer than this to the outcome counts as on it


def exchange_terms(
    ideal: FloatArray,
    salience: FloatArray,
    weight: FloatArray,
    pairs: tuple[IntArray, IntArray, IntArray, IntArray],
) -> ExchangeTerms:
    """The vote-independent :class:`ExchangeTerms` of every candidate exchange."""
    a, b, p, q = pairs
    total = _total_weight(weight)
    x_ap, x_aq, x_bp, x_bq = ideal[:, a, p], ideal[:, a, q], ideal[:, b, p], ideal[:, b, q]
    s_ap, s_aq = salience[:, a, p], salience[:, a, q]
    s_bp, s_bq = salience[:, b, p], salience[:, b, q]
    # b demands p (a supplies p) when p matters relatively more to b.
    cross = s_bp * s_aq - s_ap * s_bq
    u_is_a = cross > 0

    def pick(on_a: FloatArray, on_b: FloatArray) -> FloatArray:
        result: FloatArray = np.where(u_is_a, on_a, on_b)
        return result

    s_up, s_uq, s_vp, s_vq = pick(s_ap, s_bp), pick(s_aq, s_bq), pick(s_bp, s_ap), pick(s_bq, s_aq)
    w_up = pick(weight[:, a, p], weight[:, b, p])
    w_vq = pick(weight[:, b, q], weight[:, a, q])
    w_p, w_q = total[:, p], total[:, q]
    share_p = np.where(w_p > 0, w_up / np.where(w_p > 0, w_p, 1.0), 0.0)
    share_q = np.where(w_q > 0, w_vq / np.where(w_q > 0, w_q, 1.0), 0.0)
    demand = s_uq + s_vq
    able = (cross != 0) & (share_p > 0) & (share_q > 0) & (demand > 0)
    rate = np.where(able, (s_up + s_vp) / np.where(demand > 0, demand, 1.0), 1.0)
    able &= rate > 0
    rate = np.where(able, rate, 1.0)
    return ExchangeTerms(
        supplier_p=np.where(u_is_a, a, b).astype(np.int64),
        supplier_q=np.where(u_is_a, b, a).astype(np.int64),
        demand_p=pick(x_bp, x_ap),
        demand_q=pick(x_aq, x_bq),
        low_p=np.minimum(x_ap, x_bp),
        high_p=np.maximum(x_ap, x_bp),
        low_q=np.minimum(x_aq, x_bq),
        high_q=np.maximum(x_aq, x_bq),
        share_p=share_p,
        share_q=share_q,
        rate=rate,
        factor=s_vp - s_vq * rate,
        able=able,
        margin=SIDE_MARGIN * (ideal.max(axis=(1, 2)) - ideal.min(axis=(1, 2)))[:, None],
    )


def exchange_shifts(
    terms: ExchangeTerms,
    voting: FloatArray,
    outcome: FloatArray,
    pairs: tuple[IntArray, IntArray, IntArray, IntArray],
    rows: NDArray[np.intp] | None = None,
    blocked: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The outcome shift ``dO_p >= 0`` of every candidate, and its gain, ``(len(rows), C)``.

    ``terms``, ``voting`` ``(n, N, K)`` and ``outcome`` ``(n, K)`` hold every
    run; ``rows`` picks the runs to compute (all by default) and ``blocked``
    ``(len(rows), C)`` the candidates out of play.  The gain is ``-inf`` (and
    the shift 0) where the pair is not on opposite sides of both outcomes or
    cannot trade.  Only the candidates that pass the side test are computed
    further.
    """
    _, _, p, q = pairs
    every = rows is None or rows.size == voting.shape[0]
    if rows is None:
        rows = np.arange(voting.shape[0])

    def of(values: NDArray[Any]) -> NDArray[Any]:
        return values if every else values[rows]

    here = of(outcome)
    o_p, o_q = here[:, p], here[:, q]
    margin = of(terms.margin)
    possible = (
        of(terms.able)
        & (of(terms.low_p) + margin < o_p)
        & (o_p < of(terms.high_p) - margin)
        & (of(terms.low_q) + margin < o_q)
        & (o_q < of(terms.high_q) - margin)
    )
    if blocked is not None:
        possible &= ~blocked
    local, cand = np.nonzero(possible)
    run = rows[local]
    n_cand = p.size
    flat = run * n_cand + cand  # into the (n, C) terms
    here_flat = local * n_cand + cand  # into the (len(rows), C) outcomes

    def at(values: NDArray[Any]) -> NDArray[Any]:
        return np.take(values.reshape(-1), flat)

    n_act, n_iss = voting.shape[1], voting.shape[2]
    votes = voting.reshape(-1)
    demand_p, demand_q = at(terms.demand_p), at(terms.demand_q)
    y_up = np.take(votes, (run * n_act + at(terms.supplier_p)) * n_iss + np.take(p, cand))
    y_vq = np.take(votes, (run * n_act + at(terms.supplier_q)) * n_iss + np.take(q, cand))
    gap_p = demand_p - np.take(o_p.reshape(-1), here_flat)
    gap_q = demand_q - np.take(o_q.reshape(-1), here_flat)
    # u's vote moves toward v's ideal at most up to it; O_p moves at most to v's ideal.
    reach_p = np.maximum(0.0, (demand_p - y_up) * np.sign(gap_p))
    reach_q = np.maximum(0.0, (demand_q - y_vq) * np.sign(gap_q))
    bound_p = np.minimum(at(terms.share_p) * reach_p, np.abs(gap_p))
    bound_q = np.minimum(at(terms.share_q) * reach_q, np.abs(gap_q))
    shift = np.minimum(bound_p, bound_q / at(terms.rate))
    gain = shift * at(terms.factor)
    good = shift > 0
    shifts = np.zeros(possible.shape)
    gains = np.full(possible.shape, -np.inf)
    shifts.reshape(-1)[here_flat[good]] = shift[good]
    gains.reshape(-1)[here_flat[good]] = gain[good]
    return shifts, gains


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeTable:
    """Every possible exchange of a batch of runs ``(n, C)``, as computed from one state.

    ``supplier_p`` moves its voting position on issue ``p`` by ``move_p`` (a
    signed change) and demands ``q``; ``supplier_q`` moves on ``q`` by
    ``move_q`` and demands ``p``; the outcomes move by ``shift_p`` and
    ``shift_q`` (signed).  ``gain`` is the equal gain of both, ``-inf`` where
    the exchange is not possible.
    """

    gain: FloatArray
    supplier_p: IntArray
    supplier_q: IntArray
    shift_p: FloatArray
    shift_q: FloatArray
    move_p: FloatArray
    move_q: FloatArray


def _moves(
    terms: ExchangeTerms,
    shift_p: FloatArray,
    voting: FloatArray,
    outcome: FloatArray,
    rows: NDArray[np.intp],
    cand: NDArray[np.intp],
    pairs: tuple[IntArray, IntArray, IntArray, IntArray],
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Signed outcome shifts and vote moves of candidates ``cand`` of runs ``rows`` (1-D).

    ``shift_p`` holds their unsigned shifts ``dO_p``.
    A supplier whose move takes it all the way (up to rounding) lands exactly
    on its partner's ideal.
    """
    p, q = pairs[2][cand], pairs[3][cand]
    u, v = terms.supplier_p[rows, cand], terms.supplier_q[rows, cand]
    demand_p, demand_q = terms.demand_p[rows, cand], terms.demand_q[rows, cand]
    dir_p = np.sign(demand_p - outcome[rows, p])
    dir_q = np.sign(demand_q - outcome[rows, q])
    shift_q = terms.rate[rows, cand] * shift_p
    share_p, share_q = terms.share_p[rows, cand], terms.share_q[rows, cand]
    y_up, y_vq = voting[rows, u, p], voting[rows, v, q]
    with np.errstate(divide="ignore", invalid="ignore"):
        full = 1.0 - 1e-12
        move_p = np.where(
            shift_p >= full * share_p * np.abs(demand_p - y_up),
            demand_p - y_up,
            dir_p * shift_p / share_p,
        )
        move_q = np.where(
            shift_q >= full * share_q * np.abs(demand_q - y_vq),
            demand_q - y_vq,
            dir_q * shift_q / share_q,
        )
    return dir_p * shift_p, dir_q * shift_q, move_p, move_q


def exchange_table(
    ideal: FloatArray,
    voting: FloatArray,
    salience: FloatArray,
    weight: FloatArray,
    outcome: FloatArray,
    pairs: tuple[IntArray, IntArray, IntArray, IntArray],
) -> ExchangeTable:
    """The equal-gain exchange of every actor pair on every issue pair.

    Parameters
    ----------
    ideal, voting, salience, weight
        ``(n, N, K)``: ideals ``x``, voting positions ``y``, saliences ``s``
        and weights ``w = c s`` (0 for an actor without a stance).
    outcome
        ``(n, K)`` the expected outcomes ``O`` of ``voting``.
    pairs
        :func:`candidate_pairs`.
    """
    terms = exchange_terms(ideal, salience, weight, pairs)
    shift, gain = exchange_shifts(terms, voting, outcome, pairs)
    n, c = gain.shape
    rows = np.repeat(np.arange(n), c)
    cand = np.tile(np.arange(c), n)
    moves = _moves(terms, shift.reshape(-1), voting, outcome, rows, cand, pairs)
    ok = np.isfinite(gain).reshape(-1)
    shift_p, shift_q, move_p, move_q = (np.where(ok, m, 0.0).reshape(n, c) for m in moves)
    return ExchangeTable(
        gain=gain,
        supplier_p=terms.supplier_p,
        supplier_q=terms.supplier_q,
        shift_p=shift_p,
        shift_q=shift_q,
        move_p=move_p,
        move_q=move_q,
    )


# -- the rounds ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeResult:
    """How the exchanges of a batch of runs ended (leading axis: run)."""

    voting: FloatArray  # (n, N, K) final voting positions
    ideal: FloatArray  # (n, N, K) final ideals (the initial ones unless ``adoption > 0``)
    outcome: FloatArray  # (n, K) final expected outcomes
    exchanges: IntArray  # (n,) exchanges realised
    rounds: IntArray  # (n,) rounds in which at least one exchange was realised


def _utility_scale(ideal: FloatArray, salience: FloatArray, present: BoolArray) -> FloatArray:
    """Each run's largest salience times its largest spread of ideals on one issue ``(n,)``."""
    high = np.where(present, ideal, -np.inf).max(axis=1)
    low = np.where(present, ideal, np.inf).min(axis=1)
    width = np.where(high >= low, high - low, 0.0).max(axis=1, initial=0.0)
    top = salience.max(axis=(1, 2), initial=0.0)
    result: FloatArray = width * top
    return result


def run_exchanges(
    position: FloatArray,
    salience: FloatArray,
    capability: FloatArray,
    fallback: FloatArray,
    options: ExchangeOptions,
) -> ExchangeResult:
    """Play the exchange model to its end on a batch of runs.

    Parameters
    ----------
    position, salience
        ``(n, N, K)`` ideals and saliences; a non-finite value marks an actor
        without a stance on the issue (no weight, no exchange).
    capability
        ``(n, N)``.
    fallback
        ``(n, K)`` the outcome of an issue on which nobody has weight (the
        status quo).
    options
        :class:`ExchangeOptions`.
    """
    n, n_act, n_iss = position.shape
    present = np.isfinite(position) & np.isfinite(salience)
    ideal = np.where(present, position, 0.0)
    sal = np.where(present, salience, 0.0)
    weight = capability[:, :, None] * sal
    voting = ideal.copy()
    outcome = expected_outcome(voting, weight, fallback)
    exchanges = np.zeros(n, dtype=np.int64)
    rounds = np.zeros(n, dtype=np.int64)
    pairs = candidate_pairs(n_act, n_iss)
    if pairs[0].size == 0:
        return ExchangeResult(
            voting=voting, ideal=ideal, outcome=outcome, exchanges=exchanges, rounds=rounds
        )
    a, b, p_all, q_all = pairs
    floor = options.tolerance * _utility_scale(ideal, sal, present)
    # An actor without a stance on an issue never trades on it.
    absent = ~(
        present[:, a, p_all] & present[:, a, q_all] & present[:, b, p_all] & present[:, b, q_all]
    )
    terms = exchange_terms(ideal, sal, weight, pairs)
    # Runs that realised an exchange in the last round (all, before the first).
    active = np.arange(n)
    # Rounds that restart from unchanged ideals would repeat the first.
    repeats = options.carry == "ideals" and options.adoption == 0
    for round_index in range(1 if repeats else options.max_rounds):
        if active.size == 0:
            break
        if round_index > 0 and options.carry == "ideals":
            voting[active] = ideal[active]
            outcome[active] = expected_outcome(voting[active], weight[active], fallback[active])
        blocked = absent[active].copy()  # (runs, C) candidates out of play this round
        traded = np.zeros(active.size, dtype=bool)
        live = np.arange(active.size)  # rows of ``active`` that may still trade this round
        while live.size:
            rows = active[live]
            shift, gains = exchange_shifts(terms, voting, outcome, pairs, rows, blocked[live])
            best = np.argmax(gains, axis=1)
            gain = gains[np.arange(live.size), best]
            go = gain > floor[rows]
            if not go.any():
                break
            g = np.flatnonzero(go)
            rg, bg, lg = rows[g], best[g], live[g]
            _, _, move_p, move_q = _moves(terms, shift[g, bg], voting, outcome, rg, bg, pairs)
            u, v = terms.supplier_p[rg, bg], terms.supplier_q[rg, bg]
            p, q = p_all[bg], q_all[bg]
            voting[rg, u, p] += move_p
            voting[rg, v, q] += move_q
            outcome[rg] = expected_outcome(voting[rg], weight[rg], fallback[rg])
            if options.per_round == "actor":
                used = np.zeros((g.size, n_act), dtype=bool)
                used[np.arange(g.size), u] = used[np.arange(g.size), v] = True
                blocked[lg] |= used[:, a] | used[:, b]
            elif options.per_round == "stance":
                used = np.zeros((g.size, n_act, n_iss), dtype=bool)
                k = np.arange(g.size)
                used[k, u, p] = used[k, u, q] = used[k, v, p] = used[k, v, q] = True
                blocked[lg] |= used[:, a, p_all] | used[:, a, q_all]
                blocked[lg] |= used[:, b, p_all] | used[:, b, q_all]
            else:
                blocked[lg, bg] = True
            exchanges[rg] += 1
            traded[lg] = True
            live = lg
        moved = active[traded]
        rounds[moved] += 1
        if options.adoption > 0 and moved.size:
            ideal[moved] = ideal[moved] + options.adoption * (voting[moved] - ideal[moved])
            part = exchange_terms(ideal[moved], sal[moved], weight[moved], pairs)
            for f in fields(terms):
                getattr(terms, f.name)[moved] = getattr(part, f.name)
        active = moved
    return ExchangeResult(
        voting=voting, ideal=ideal, outcome=outcome, exchanges=exchanges, rounds=rounds
    )


# -- the protocol ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeTables:
    """What the exchange protocol compiles from a scenario (its options, checked)."""

    options: ExchangeOptions


@dataclass(slots=True, kw_only=True)
class ExchangeState:
    """The state of a batch of runs (leading axis: run).

    ``stances`` are the voting positions; ``status_quo`` holds the expected
    outcomes once month 1 is played (the status quo before).
    """

    stances: FloatArray  # (n, N, K)
    status_quo: FloatArray  # (n, K)
    open: BoolArray  # (n, K)
    settled_round: IntArray  # (n, K)
    settled_by: IntArray  # (n, K)
    proposals: IntArray  # (n, N)
    exchanges: IntArray  # (n,)

    def take(self, rows: NDArray[np.intp]) -> ExchangeState:
        """The state of a subset of runs (copies)."""
        return ExchangeState(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def put(self, rows: NDArray[np.intp], part: ExchangeState) -> None:
        """Write the state of a subset of runs back."""
        for f in fields(self):
            getattr(self, f.name)[rows] = getattr(part, f.name)


@dataclass(frozen=True, slots=True)
class Exchange:
    """Stokman's exchange model of voting positions, as a protocol.

    Registered as ``"exchange"`` with the default :class:`ExchangeOptions`;
    register a variant under a name of your own, e.g.
    ``register("exchange-adopt", lambda: Exchange(ExchangeOptions(adoption=1.0)))``.
    No calendar: month 1 plays every round of exchanges and settles every
    issue at its final expected outcome (``settled_round`` 1, ``settled_by``
    -1); nobody proposes.

    Examples
    --------
    >>> import basesim
    >>> scn = basesim.load_scenario("syria-2025").replace({"protocol.model": "exchange"})
    >>> res = basesim.simulate(scn, n_runs=200, rng=1)
    >>> bool(res.runs.settled.all()), int(res.runs.settled_round.max())
    (True, 1)
    """

    options: ExchangeOptions = field(default_factory=ExchangeOptions)
    name: str = field(default="exchange")

    def compile(self, compiled: CompiledScenario) -> ExchangeTables:
        """Check the options (every scenario with at least one issue can be played)."""
        self.options.check()
        return ExchangeTables(options=self.options)

    def start(self, compiled: CompiledScenario, params: RunParameters) -> ExchangeState:
        """The state before month 1: everyone votes its ideal, nothing settled."""
        n = params.n_runs
        n_act, n_iss = compiled.n_actors, compiled.n_issues
        return ExchangeState(
            stances=params.position.copy(),
            status_quo=params.status_quo.copy(),
            open=np.ones((n, n_iss), dtype=bool),
            settled_round=np.zeros((n, n_iss), dtype=np.int64),
            settled_by=np.full((n, n_iss), -1, dtype=np.int64),
            proposals=np.zeros((n, n_act), dtype=np.int64),
            exchanges=np.zeros(n, dtype=np.int64),
        )

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: ExchangeState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """Month 1 plays the whole exchange model; later months do nothing."""
        n, n_act, n_iss = state.stances.shape
        todo = np.flatnonzero(state.open.any(axis=1))
        options: ExchangeOptions = tables.options
        pairs = max(1, n_act * (n_act - 1) // 2 * (n_iss * (n_iss - 1) // 2))
        step = max(1, _CHUNK_CELLS // pairs)
        for lo in range(0, todo.size, step):
            rows = todo[lo : lo + step]
            result = run_exchanges(
                params.position[rows],
                params.salience[rows],
                params.capability[rows],
                params.status_quo[rows],
                options,
            )
            state.stances[rows] = result.voting
            state.status_quo[rows] = result.outcome
            state.exchanges[rows] += result.exchanges
        state.settled_round[todo] = month
        state.open[todo] = False
        return RoundRecord(
            proposer=np.full(n, -1, dtype=np.intp),
            package=state.status_quo.copy(),
            settles=np.ones((n, n_iss), dtype=bool),
            offered=np.zeros(n, dtype=bool),
            accepted=np.zeros((n, n_act), dtype=bool),
            passed=np.ones(n, dtype=bool),
            reservation=np.full((n, n_act), np.nan),
            disagreement=np.full((n, n_act), np.nan),
        )

    @staticmethod
    def finished(state: ExchangeState) -> BoolArray:
        """Runs with nothing left to settle ``(n,)`` (all, after month 1)."""
        result: BoolArray = np.asarray(~state.open.any(axis=1))
        return result

    @staticmethod
    def outcome(state: ExchangeState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record: every issue settled at its final expected outcome."""
        return BatchOutcome(
            package=state.status_quo.copy(),
            settled=~state.open,
            settled_round=state.settled_round.copy(),
            settled_by=state.settled_by.copy(),
            proposals=state.proposals.copy(),
            sampled=sampled,
        )
