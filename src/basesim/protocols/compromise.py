"""The compromise model: each issue settles at the weighted centre of the actors' positions.

Registered as ``"compromise"`` (the weighted mean) and ``"compromise-median"``
(the weighted median).  Actor ``i``'s weight on issue ``k`` is its capability
times its salience, ``w_ik = c_i s_ik``; an actor with no salience on an issue
has no say on it.

* mean: ``x_k = sum_i w_ik theta_ik / sum_i w_ik``;
* median: with the positions of issue ``k`` sorted, ``x_k`` is the first
  position at which the cumulative weight reaches half of the total (the
  lower weighted median).

Where nobody has weight on an issue (every salience zero), every actor
counts equally: the plain mean, or the plain lower median, of the positions.

The model has no calendar: every issue is settled in month 1, by nobody's
proposal (``settled_round`` 1, ``settled_by`` -1), whatever the decision rules
say (they play no part).  Randomness across runs comes only from the
scenario's uncertain parameters.

References
----------
.. [1] Achen, C. H. (2006). Evaluating political decision-making models. In
   R. Thomson, F. N. Stokman, C. H. Achen and T. Koenig (eds.), *The European
   Union Decides*, 264-298. Cambridge University Press.
.. [2] Thomson, R., Stokman, F. N., Achen, C. H. and Koenig, T. (eds.) (2006).
   *The European Union Decides*. Cambridge University Press.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.engine.compiled import CompiledScenario, RunParameters
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ProtocolError
from basesim.protocols.bargaining import RoundRecord
from basesim.protocols.static import StaticState, settle, start, static_outcome

__all__ = ["CENTRES", "Compromise", "compromise_package"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: The named centres of the compromise model.
CENTRES = ("mean", "median")
#: A cumulative weight within this share of half the total counts as reaching it
#: (rounding in the sums must not skip the median).
_HALF_TOL = 1e-12


def compromise_package(
    position: FloatArray,
    salience: FloatArray,
    capability: FloatArray,
    *,
    centre: str = "mean",
) -> FloatArray:
    """Each issue's capability x salience weighted mean or median ``(n, K)``.

    Parameters
    ----------
    position
        ``(n, N, K)`` the actors' positions.
    salience
        ``(n, N, K)`` their saliences.
    capability
        ``(n, N)`` their capabilities.
    centre
        ``"mean"`` or ``"median"`` (the first sorted position at which the
        cumulative weight reaches half of the total).

    Returns
    -------
    numpy.ndarray
        ``(n, K)``.  Where every weight of an issue is zero, the actors count
        equally.  Sums over actors run in actor order, so a run's value does
        not depend on its batch.

    Examples
    --------
    Weights 1, 1 and 2 at positions 0, 0.5 and 1: the mean is
    ``(0 + 0.5 + 2) / 4 = 0.625``; the cumulative weight, in sorted order,
    is 1, 2, 4, and reaches half of 4 at 0.5, the median.

    >>> import numpy as np
    >>> theta = np.array([[[0.0], [0.5], [1.0]]])
    >>> s = np.ones((1, 3, 1))
    >>> c = np.array([[1.0, 1.0, 2.0]])
    >>> float(compromise_package(theta, s, c)[0, 0])
    0.625
    >>> float(compromise_package(theta, s, c, centre="median")[0, 0])
    0.5
    """
    if centre not in CENTRES:
        raise ProtocolError(
            f"compromise centre must be one of {', '.join(CENTRES)} (got {centre!r})"
        )
    n_act = position.shape[1]
    # Only ratios of capabilities matter: divide by the largest (no overflow).
    top = capability.max(axis=1, keepdims=True)
    scaled = capability / np.where(top > 0, top, 1.0)
    weight = scaled[:, :, None] * salience
    total = weight[:, 0].copy()
    for i in range(1, n_act):
        total = total + weight[:, i]
    nobody = total <= 0
    weight = np.where(nobody[:, None, :], 1.0, weight)
    total = np.where(nobody, float(n_act), total)
    if centre == "mean":
        acc = weight[:, 0] * position[:, 0]
        for i in range(1, n_act):
            acc = acc + weight[:, i] * position[:, i]
        result: FloatArray = acc / total
        return result
    order = np.argsort(position, axis=1, kind="stable")
    sorted_pos = np.take_along_axis(position, order, axis=1)
    sorted_w = np.take_along_axis(weight, order, axis=1)
    cumulative = np.cumsum(sorted_w, axis=1)
    reached = cumulative >= 0.5 * total[:, None, :] * (1.0 - _HALF_TOL)
    first = np.argmax(reached, axis=1)  # (n, K): the first actor (sorted) reaching half
    result = np.take_along_axis(sorted_pos, first[:, None, :], axis=1)[:, 0]
    return result


@dataclass(frozen=True, slots=True)
class Compromise:
    """The compromise model: every issue at its capability x salience weighted centre.

    Registered as ``"compromise"`` (``centre="mean"``) and
    ``"compromise-median"`` (``centre="median"``); see
    :func:`compromise_package`.  A static model: everything happens in month
    1, where every issue is settled (``settled_by`` -1: nobody proposed).
    The month's record has proposer -1, every actor "accepting" (there is
    no vote), and NaN reservation and disagreement values (the model has
    none).
    """

    name: str = field(default="compromise")
    centre: str = field(default="mean")

    def compile(self, compiled: CompiledScenario) -> None:
        """Nothing to compile; checks the centre."""
        if self.centre not in CENTRES:
            raise ProtocolError(
                f"model {self.name!r}: centre must be one of {', '.join(CENTRES)} "
                f"(got {self.centre!r})"
            )

    def start(self, compiled: CompiledScenario, params: RunParameters) -> StaticState:
        """The state before month 1."""
        return start(compiled, params)

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
        """Month 1 settles every issue at its centre; later months change nothing."""
        n, n_act = params.capability.shape
        package = compromise_package(
            state.stances, params.salience, params.capability, centre=self.centre
        )
        missing = np.full((n, n_act), np.nan)
        return settle(
            state,
            package,
            np.ones(package.shape, dtype=bool),
            month,
            accepted=np.ones((n, n_act), dtype=bool),
            reservation=missing,
            disagreement=missing.copy(),
        )

    @staticmethod
    def finished(state: StaticState) -> BoolArray:
        """Runs that have played month 1 ``(n,)``."""
        return state.done.copy()

    @staticmethod
    def outcome(state: StaticState, sampled: FloatArray) -> BatchOutcome:
        """The per-run record of how the runs in ``state`` ended."""
        return static_outcome(state, sampled)
