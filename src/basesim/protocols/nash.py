"""The asymmetric Nash bargaining solution over the package, disagreement at the status quo.

Registered as ``"nash"`` (bargaining weights from capability) and
``"nash-salience"`` (capability times the actor's total salience).  Each run's
package solves

    maximise    sum_{i in C} w_i log(u_i(x) - u_i(d))
    over        x in [0, 1]**K,  u_i(x) > u_i(d) for every i in C,

with ``u_i(x) = -sum_k s_ik |x_k - theta_ik|**p`` the scenario's utility
(``p`` its ``utility_exponent``), ``d`` the status quo and ``C`` the actors
whose consent the package needs:

* a ``unanimity`` issue needs every voter, a ``unilateral`` one its authority;
  an issue without voters, every actor;
* a ``qualified`` or ``majority`` issue needs the voters on the winning side
  of its status quo: if the voters whose ideal lies above ``d_k`` meet the
  rule, those voters (everyone who gains from a small move up); else, if
  those below do, those; if neither side does, no winning coalition wants
  the issue moved, and it stays at its status quo (its voters are needed
  for nothing).  The voters on the other side are outvoted.  This is the
  largest coalition that gains from moving the issue the way a winning
  coalition wants, found run by run; bargaining within the winning
  coalition that maximises the product instead would be a search over
  coalitions.

The package is one bargain: an actor needed on one issue weighs in on every
issue it cares about.  An actor in ``C`` with no salience on any issue is
indifferent to every package and drops out; an issue on which nobody in
``C`` has salience stays at its status quo.  The weights are
``w_i = c_i`` (``"nash"``) or ``w_i = c_i sum_k s_ik`` (``"nash-salience"``);
only their ratios matter.

Where no package in the box makes every actor in ``C`` strictly better off
than the status quo (the status quo is Pareto-optimal for ``C``), nothing is
settled: every issue stays at its status quo.  Otherwise the issues the
solution moves are settled at its values, in month 1, by nobody's proposal
(``settled_by`` -1); an issue it leaves at the status quo stays unsettled.
The model has no calendar; randomness across runs comes only from the
scenario's uncertain parameters.

With quadratic utilities and a status quo far from every actor (at distance
``D``), each gain ``u_i(x) - u_i(d)`` is ``S_i D**2 (1 + O(1/D))`` with
``S_i = sum_k s_ik``, so the first-order condition
``sum_i w_i grad u_i(x) / (u_i(x) - u_i(d)) = 0`` tends to
``sum_i (w_i / S_i) s_ik (x_k - theta_ik) = 0``: the solution tends to the
mean of positions weighted by ``w_i s_ik / S_i``.  For ``"nash-salience"``
(``w_i = c_i S_i``) that is the ``c_i s_ik`` weighted mean, the compromise
model; for ``"nash"`` on one issue, the capability-weighted mean.

Solution method
---------------
One issue (any exponent): the objective is concave on the interval of
packages every actor in ``C`` prefers to ``d``; bisection on the sign of its
(right) derivative, :data:`N_BISECTION` steps.  Two or more issues
(quadratic utilities): projected Newton ascent on the box, started at the
weighted mean, on the objective with ``log g`` continued below ``g = eps`` by
its second-order Taylor expansion (concave and smooth everywhere), with
``eps`` decreasing over :data:`EPS_STAGES` (gains normalised by each
actor's total salience).  Iteration counts are fixed and sums over actors and
issues run in a fixed order, so a run's numbers do not depend on its batch.

References
----------
.. [1] Nash, J. F. (1950). The bargaining problem. *Econometrica* 18(2),
   155-162.
.. [2] Kalai, E. (1977). Nonsymmetric Nash solutions and replications of
   2-person bargaining. *International Journal of Game Theory* 6(3),
   129-133.
.. [3] Achen, C. H. (2006). Evaluating political decision-making models. In
   R. Thomson et al. (eds.), *The European Union Decides*, 264-298.
   Cambridge University Press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.engine.solver import utility
from basesim.exceptions import ProtocolError
from basesim.protocols.bargaining import RoundRecord
from basesim.protocols.rules import RULE_CODES, RuleTable, issue_rule_met, rule_table
from basesim.protocols.static import StaticState, settle, start, static_outcome

__all__ = ["WEIGHTINGS", "Nash", "NashTables", "consent", "nash_package"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: The named bargaining weights: ``w_i = c_i`` or ``w_i = c_i sum_k s_ik``.
WEIGHTINGS = ("capability", "capability_salience")
#: Bisection steps of the one-issue solution (the interval shrinks 2**-60).
N_BISECTION = 60
#: Thresholds (on gains normalised by total salience) below which ``log`` is
#: continued quadratically, one Newton stage each, for two or more issues.
EPS_STAGES = (1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12)
#: Newton steps per stage.
N_NEWTON = 10
#: Step halvings tried by the line search.
N_HALVINGS = 16
#: A package improves on the status quo for an actor if its normalised gain
#: exceeds this.
GAIN_TOL = 1e-10
#: An issue the solution moves by less than this stays at its status quo, unsettled.
MOVE_TOL = 1e-9
#: Floor of a gain, and cap of a term of the slope, in the one-issue bisection
#: (no overflow however close to an end of the interval).
_GAIN_FLOOR = 1e-300
_SLOPE_CAP = 1e250


@dataclass(frozen=True, slots=True, kw_only=True)
class NashTables:
    """What the Nash model compiles from a scenario."""

    rules: RuleTable
    fixed_consent: BoolArray  # (N, K) consent every run needs (unanimity, unilateral, no voters)
    weighted: NDArray[np.intp]  # issues under a qualified or majority rule


def _tables(rules: RuleTable) -> NashTables:
    fixed = np.array(rules.forced)
    nobody = ~rules.voters.any(axis=0) & (rules.code == RULE_CODES["unanimity"])
    fixed[:, nobody] = True
    fixed.setflags(write=False)
    weighted = np.flatnonzero(
        np.isin(rules.code, (RULE_CODES["qualified"], RULE_CODES["majority"]))
    )
    return NashTables(rules=rules, fixed_consent=fixed, weighted=weighted)


def consent(
    tables: NashTables, position: FloatArray, status_quo: FloatArray
) -> tuple[BoolArray, BoolArray]:
    """Whose consent each run's package needs ``(n, N)``, and the issues held at the status quo ``(n, K)``.

    See the module's notes: unanimity and unilateral issues need their
    voters (authority), weighted issues the voters on the winning side of
    the status quo; a weighted issue with no winning side is held.
    """
    n = position.shape[0]
    needed = np.repeat(tables.fixed_consent[None], n, axis=0)
    held = np.zeros(status_quo.shape, dtype=bool)
    voters = tables.rules.voters
    for k in tables.weighted:
        k = int(k)
        up = voters[None, :, k] & (position[:, :, k] > status_quo[:, None, k])
        down = voters[None, :, k] & (position[:, :, k] < status_quo[:, None, k])
        met_up = issue_rule_met(tables.rules, up, k)
        met_down = issue_rule_met(tables.rules, down, k) & ~met_up
        needed[:, :, k] = np.where(met_up[:, None], up, np.where(met_down[:, None], down, False))
        held[:, k] = ~(met_up | met_down)
    return needed, held


def _gain_one_issue(diff: FloatArray, reach: FloatArray, exponent: int) -> FloatArray:
    """``L(d - theta) - L(x - theta)`` per unit salience (``reach = |d - theta|``)."""
    if exponent == 2:
        result: FloatArray = reach * reach - diff * diff
        return result
    result = reach - np.abs(diff)
    return result


def _solve_one_issue(
    theta: FloatArray, weight: FloatArray, status_quo: FloatArray, exponent: int
) -> tuple[FloatArray, BoolArray]:
    """The one-issue solution ``(n,)`` and whether some package beats ``d`` for all ``(n,)``.

    ``theta`` and ``weight`` are ``(n, N)`` (weight 0: no say); ``status_quo`` ``(n,)``.
    """
    n, n_act = theta.shape
    reach = np.abs(status_quo[:, None] - theta)
    has = weight > 0
    # Actor i prefers x to d iff |x - theta_i| < |d - theta_i|.
    lo = np.where(has, theta - reach, -np.inf).max(axis=1)
    hi = np.where(has, theta + reach, np.inf).min(axis=1)
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
    feasible = has.any(axis=1) & (hi - lo > MOVE_TOL)
    a, b = np.where(feasible, lo, 0.0), np.where(feasible, hi, 1.0)
    for _ in range(N_BISECTION):
        mid = 0.5 * (a + b)
        slope = np.zeros(n)
        for i in range(n_act):
            diff = mid - theta[:, i]
            # Inside the interval every gain is positive; rounding can make one
            # vanish at an end, where the slope's sign is still that of its term.
            gain = np.maximum(_gain_one_issue(diff, reach[:, i], exponent), _GAIN_FLOOR)
            # Right derivative of the gain: -2 (x - theta) or -sign(x - theta) (+1 at the kink).
            rate = -2.0 * diff if exponent == 2 else np.where(diff >= 0, -1.0, 1.0)
            term = np.clip(weight[:, i] * rate / gain, -_SLOPE_CAP, _SLOPE_CAP)
            slope = slope + np.where(has[:, i], term, 0.0)
        up = slope > 0
        a, b = np.where(up, mid, a), np.where(up, b, mid)
    package = np.where(feasible, 0.5 * (a + b), status_quo)
    return package, feasible


def _smoothed_log(g: FloatArray, eps: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log g`` continued below ``eps`` by its Taylor expansion: value, first, second derivative."""
    above = g >= eps
    safe = np.where(above, g, eps)
    below = g - eps
    value = np.where(
        above, np.log(safe), np.log(eps) + below / eps - below * below / (2.0 * eps * eps)
    )
    first = np.where(above, 1.0 / safe, 1.0 / eps - below / (eps * eps))
    second = np.where(above, -1.0 / (safe * safe), -1.0 / (eps * eps))
    return value, first, second


def _gains(x: FloatArray, theta: FloatArray, rel: FloatArray, base: FloatArray) -> FloatArray:
    """Normalised gains ``(n, N)``: ``base_i - sum_k rel_ik (x_k - theta_ik)**2``."""
    diff = x[:, None, :] - theta
    loss = rel[:, :, 0] * diff[:, :, 0] * diff[:, :, 0]
    for k in range(1, theta.shape[2]):
        loss = loss + rel[:, :, k] * diff[:, :, k] * diff[:, :, k]
    result: FloatArray = base - loss
    return result


def _objective(
    x: FloatArray,
    theta: FloatArray,
    rel: FloatArray,
    base: FloatArray,
    weight: FloatArray,
    eps: float,
) -> FloatArray:
    value, _, _ = _smoothed_log(_gains(x, theta, rel, base), eps)
    total = weight[:, 0] * value[:, 0]
    for i in range(1, theta.shape[1]):
        total = total + weight[:, i] * value[:, i]
    result: FloatArray = total
    return result


def _sum_actors(a: FloatArray) -> FloatArray:
    """Sum over the actor axis (axis 1), in actor order (batch-independent rounding)."""
    total = a[:, 0].copy()
    for i in range(1, a.shape[1]):
        total = total + a[:, i]
    return total


def _solve_many_issues(
    theta: FloatArray,
    salience: FloatArray,
    weight: FloatArray,
    status_quo: FloatArray,
    held: BoolArray,
) -> tuple[FloatArray, BoolArray]:
    """The solution ``(n, K)`` for quadratic utilities, and whether it beats ``d`` for all."""
    n, n_act, n_iss = theta.shape
    total_salience = salience[:, :, 0].copy()
    for k in range(1, n_iss):
        total_salience = total_salience + salience[:, :, k]
    rel = salience / np.where(total_salience > 0, total_salience, 1.0)[:, :, None]
    # Each actor's normalised loss at the status quo: its gain at x is base - loss(x).
    base = -_gains(status_quo, theta, rel, np.zeros((n, n_act)))
    pull = weight[:, :, None] * rel
    cares = _sum_actors(pull)  # (n, K)
    frozen = (cares <= 0) | held
    # Start at the weighted mean of positions (clipped to the box).
    mean = _sum_actors(pull * theta) / np.where(frozen, 1.0, cares)
    x = np.where(frozen, status_quo, np.clip(mean, 0.0, 1.0))
    eye = np.eye(n_iss)
    for eps in EPS_STAGES:
        for _ in range(N_NEWTON):
            g = _gains(x, theta, rel, base)
            value, first, second = _smoothed_log(g, eps)
            f = _sum_actors(weight * value)
            grad_g = -2.0 * rel * (x[:, None, :] - theta)  # (n, N, K)
            a = weight * first
            grad = _sum_actors(a[:, :, None] * grad_g)
            curv = (weight * second)[:, :, None, None] * (
                grad_g[:, :, :, None] * grad_g[:, :, None, :]
            )
            hess = _sum_actors(curv) - 2.0 * _sum_actors(a[:, :, None] * rel)[:, :, None] * eye
            fixed = frozen | ((x <= 0.0) & (grad < 0.0)) | ((x >= 1.0) & (grad > 0.0))
            keep = ~fixed
            system = np.where(keep[:, :, None] & keep[:, None, :], -hess, 0.0) + np.where(
                fixed[:, :, None], eye, 0.0
            )
            rhs = np.where(keep, grad, 0.0)
            step = np.linalg.solve(system, rhs[:, :, None])[:, :, 0]
            new = x.copy()
            moved = np.zeros(n, dtype=bool)
            alpha = 1.0
            for _ in range(N_HALVINGS):
                cand = np.where(fixed, x, np.clip(x + alpha * step, 0.0, 1.0))
                gain = _objective(cand, theta, rel, base, weight, eps)
                change = (cand - x) * grad
                rise = change[:, 0].copy()
                for k in range(1, n_iss):
                    rise = rise + change[:, k]
                # Armijo's sufficient ascent, up to rounding (at the optimum a
                # step changes the objective by rounding only).
                slack = 1e-13 * (1.0 + np.abs(f))
                ok = ~moved & (gain >= f + 1e-4 * np.maximum(rise, 0.0) - slack)
                new = np.where(ok[:, None], cand, new)
                moved |= ok
                if moved.all():  # rows that moved are done: stopping early changes no row
                    break
                alpha *= 0.5
            x = new
    g = _gains(x, theta, rel, base)
    feasible = (np.where(weight > 0, g, np.inf).min(axis=1) > GAIN_TOL) & (weight > 0).any(axis=1)
    package = np.where(feasible[:, None], x, status_quo)
    return package, feasible


def nash_package(
    position: FloatArray,
    salience: FloatArray,
    weight: FloatArray,
    status_quo: FloatArray,
    *,
    held: BoolArray | None = None,
    exponent: int = 2,
) -> tuple[FloatArray, BoolArray]:
    """The asymmetric Nash bargaining solution of each run, disagreement at ``status_quo``.

    Parameters
    ----------
    position
        ``(n, N, K)`` ideal points.
    salience
        ``(n, N, K)`` saliences.
    weight
        ``(n, N)`` bargaining weights, 0 for actors whose consent is not
        needed (only ratios matter).
    status_quo
        ``(n, K)`` the disagreement package ``d``.
    held
        ``(n, K)`` issues held at the status quo (default: none).
    exponent
        The utility exponent ``p``: 2, or 1 with a single issue.

    Returns
    -------
    package : numpy.ndarray
        ``(n, K)`` the solution; the status quo where no package in the box
        makes every weighted actor (with some salience) strictly better off.
    feasible : numpy.ndarray
        ``(n,)`` whether such a package exists.

    Examples
    --------
    Two equal players on one issue, status quo 0, ideals 0.2 and 0.4.  The
    gains factor as ``x (0.4 - x)`` and ``x (0.8 - x)``; the first-order
    condition ``2 / x = 1 / (0.4 - x) + 1 / (0.8 - x)`` is
    ``4 x**2 - 3.6 x + 0.32 = 0``, whose root in ``(0, 0.4)`` is
    ``(3.6 - sqrt(2.72)) / 8``.

    >>> import numpy as np
    >>> x, ok = nash_package(np.array([[[0.2], [0.4]]]), np.ones((1, 2, 1)),
    ...                      np.ones((1, 2)), np.zeros((1, 1)))
    >>> round(float(x[0, 0]), 9), round((3.6 - 2.72 ** 0.5) / 8, 9), bool(ok[0])
    (0.243844719, 0.243844719, True)
    """
    n_iss = position.shape[2]
    if exponent not in (1, 2) or (exponent == 1 and n_iss > 1):
        raise ProtocolError(
            f"model 'nash': utility_exponent must be 2, or 1 with one issue "
            f"(got {exponent!r} with {n_iss} issues)"
        )
    cares = salience.sum(axis=2) > 0
    weight = np.where(cares, weight, 0.0)
    top = weight.max(axis=1, keepdims=True)
    weight = weight / np.where(top > 0, top, 1.0)
    if held is None:
        held = np.zeros(status_quo.shape, dtype=bool)
    if n_iss == 1:
        # The salience of an actor's only issue scales its gain: it cancels in the log's slope.
        x, feasible = _solve_one_issue(position[:, :, 0], weight, status_quo[:, 0], exponent)
        feasible = feasible & ~held[:, 0]
        return np.where(feasible, x, status_quo[:, 0])[:, None], feasible
    return _solve_many_issues(position, salience, weight, status_quo, held)


@dataclass(frozen=True, slots=True)
class Nash:
    """The asymmetric Nash bargaining solution over the package (see :func:`nash_package`).

    Registered as ``"nash"`` (``weighting="capability"``) and
    ``"nash-salience"`` (``weighting="capability_salience"``).  A static
    model: everything happens in month 1.  The month's record has proposer
    -1; each actor "accepts" if the package is worth at least its status
    quo to it; the reservation and disagreement values are both ``u_i(d)``,
    the disagreement point.
    """

    name: str = field(default="nash")
    weighting: str = field(default="capability")

    def compile(self, compiled: CompiledScenario) -> NashTables:
        """The actors whose consent the package needs."""
        if self.weighting not in WEIGHTINGS:
            raise ProtocolError(
                f"model {self.name!r}: weighting must be one of {', '.join(WEIGHTINGS)} "
                f"(got {self.weighting!r})"
            )
        rules = rule_table(compiled.scenario)
        return _tables(rules)

    def start(self, compiled: CompiledScenario, params: RunParameters) -> StaticState:
        """The state before month 1."""
        return start(compiled, params)

    def weights(self, params: RunParameters, needed: BoolArray) -> FloatArray:
        """Each run's bargaining weights ``(n, N)``, 0 outside the consent set ``needed`` ``(n, N, K)``."""
        weight = params.capability
        if self.weighting == "capability_salience":
            weight = weight * params.salience.sum(axis=2)
        result: FloatArray = np.where(needed.any(axis=2), weight, 0.0)
        return result

    def play_round(
        self,
        compiled: CompiledScenario,
        tables: Any,
        params: RunParameters,
        state: StaticState,
        month: int,
        recognition: FloatArray,
        noise: FloatArray,
    ) -> RoundRecord:
        """Month 1 settles the issues the solution moves; later months change nothing."""
        exponent = compiled.exponent
        quo = state.status_quo
        needed, held = consent(tables, state.stances, quo)
        package, feasible = nash_package(
            state.stances,
            params.salience,
            self.weights(params, needed),
            quo,
            held=held,
            exponent=exponent,
        )
        settles = feasible[:, None] & (np.abs(package - quo) > MOVE_TOL)
        package = np.where(settles, package, quo)
        d = utility(state.stances, params.salience, quo[:, None, :], exponent=exponent)
        value = utility(state.stances, params.salience, package[:, None, :], exponent=exponent)
        scale = np.maximum(1.0, params.salience.sum(axis=2))
        return settle(
            state,
            package,
            settles,
            month,
            accepted=value >= d - 1e-9 * scale,
            reservation=d,
            disagreement=d.copy(),
        )

    @staticmethod
    def finished(state: StaticState) -> BoolArray:
        """Runs that have played month 1 ``(n,)``."""
        return state.done.copy()

    @staticmethod
    def outcome(state: StaticState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record of how the runs in ``state`` ended."""
        return static_outcome(state, sampled)
