"""Scenario discovery: where in parameter space an outcome is likely (PRIM).

The Patient Rule Induction Method (Friedman and Fisher 1999) looks for a box
(a range per parameter) in which the outcome of interest is much more likely
than overall.  It starts from the box holding all the data and *peels*: at
each step it considers cutting off a thin slice (a fraction ``peel_alpha`` of
the points still inside) at the low or the high end of each parameter, and
makes the cut that leaves the highest mean outcome inside.  It stops when the
next cut would leave fewer than ``min_mass`` of the points.  Each step is a box
on the *peeling trajectory*, described by

* coverage: the share of all cases of interest that fall inside the box,
  ``sum(y in box) / sum(y)``;
* density: the share of the box's points that are cases of interest,
  ``mean(y in box)``;
* mass: the share of all points inside the box.

Peeling trades coverage for density; the analyst picks a box on the trajectory.
This implementation peels (no pasting) and uses NumPy only.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from basesim.exceptions import ResultError, SimulationError
from basesim.expressions import OutcomeExpression, RunOutcomes, parse_outcome

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

__all__ = ["DiscoveryResult", "discover", "prim_peel", "quasi_p_values"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeelingTrajectory:
    """The boxes of a peeling run, step 0 being the box around all the data."""

    limits: NDArray[np.float64]  # (steps, d, 2): low and high of each parameter
    coverage: NDArray[np.float64]  # (steps,)
    density: NDArray[np.float64]  # (steps,)
    mass: NDArray[np.float64]  # (steps,)
    count: NDArray[np.int64]  # (steps,) points inside
    peeled: tuple[tuple[int, str], ...]  # (parameter index, "low" / "high") of each step after 0


def prim_peel(
    x: NDArray[np.float64], y: NDArray[np.float64], *, peel_alpha: float, min_mass: float
) -> PeelingTrajectory:
    """PRIM's top-down peeling of the box around ``x`` ``(n, d)`` for ``y`` ``(n,)`` in [0, 1].

    Each step removes, at the low or high end of one parameter, the points
    below (above) the ``peel_alpha`` quantile of the points still inside,
    choosing the cut that leaves the highest mean ``y``; ties go to the cut
    keeping more points, then to the first parameter, low end first.  With
    tied values (a grid), a cut that would remove nothing removes instead
    every point at the extreme value.  Peeling stops when no cut leaves at
    least ``ceil(min_mass * n)`` points.

    References
    ----------
    Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional
    data. Statistics and Computing 9(2), 123-143.
    """
    n, d = x.shape
    total = float(y.sum())
    min_count = max(1, math.ceil(min_mass * n))
    box = np.column_stack([x.min(axis=0), x.max(axis=0)]).astype(np.float64)
    inside = np.ones(n, dtype=bool)
    limits = [box.copy()]
    count = [n]
    sums = [total]
    peeled: list[tuple[int, str]] = []
    while True:
        idx = np.flatnonzero(inside)
        xs, ys = x[idx], y[idx]
        m = len(idx)
        k = max(1, int(peel_alpha * m))
        best: tuple[float, int, int, int, float, NDArray[np.bool_]] | None = None
        for j in range(d):
            col = xs[:, j]
            values = np.sort(col)
            if values[0] == values[-1]:
                continue
            for side in (0, 1):
                if side == 0:
                    cut = values[min(k, m - 1)]
                    if cut == values[0]:
                        cut = values[np.searchsorted(values, values[0], side="right")]
                    keep = col >= cut
                else:
                    cut = values[max(m - 1 - k, 0)]
                    if cut == values[-1]:
                        cut = values[np.searchsorted(values, values[-1], side="left") - 1]
                    keep = col <= cut
                kept = int(keep.sum())
                if kept < min_count:
                    continue
                mean = float(ys[keep].mean())
                key = (mean, kept, -j, -side)
                if best is None or key > best[:4]:
                    best = (mean, kept, -j, -side, float(cut), keep)
        if best is None:
            break
        _, kept, neg_j, neg_side, cut, keep = best
        j, side = -neg_j, -neg_side
        inside[idx[~keep]] = False
        box[j, side] = cut
        limits.append(box.copy())
        count.append(kept)
        sums.append(float(ys[keep].sum()))
        peeled.append((j, "low" if side == 0 else "high"))
    counts = np.asarray(count, dtype=np.int64)
    in_box = np.asarray(sums)
    return PeelingTrajectory(
        limits=np.stack(limits),
        coverage=in_box / total if total > 0 else np.zeros(len(counts)),
        density=in_box / counts,
        mass=counts / n,
        count=counts,
        peeled=tuple(peeled),
    )


def choose_step(trajectory: PeelingTrajectory, threshold: float | None) -> tuple[int, bool]:
    """The step to report: ``(step, whether it reaches the threshold)``.

    Without a threshold, the densest box (the first such step if several tie).
    With one, the box of highest coverage (the earliest step) whose density
    reaches it; if none does, the densest box.
    """
    density = trajectory.density
    densest = int(np.flatnonzero(density == density.max())[0])
    if threshold is None:
        return densest, True
    reaching = np.flatnonzero(density >= threshold)
    if len(reaching):
        return int(reaching[0]), True
    return densest, False


def quasi_p_values(
    x: NDArray[np.float64], y: NDArray[np.float64], trajectory: PeelingTrajectory
) -> NDArray[np.float64]:
    """Quasi-p-value of each restriction of each box, ``(steps, d)`` (NaN where unrestricted).

    For a box and one of its restricted parameters: drop that restriction,
    and ask how likely a random subset of the relaxed box's points, as large
    as the box, would hold at least as many cases of interest as the box
    does (a one-sided hypergeometric test).  A large value says the
    restriction adds little; a small one, that it separates cases from the
    rest.  The boxes were chosen by looking at the same data, so these are
    guides, not significance tests (Bryant and Lempert 2010).  Defined for
    0/1 outcomes only (all NaN otherwise).
    """
    from scipy import stats

    steps, d = trajectory.limits.shape[:2]
    out = np.full((steps, d), np.nan)
    if not np.all((y == 0) | (y == 1)):
        return out
    low_data, high_data = trajectory.limits[0, :, 0], trajectory.limits[0, :, 1]
    for s in range(steps):
        lim = trajectory.limits[s]
        outside = (x < lim[:, 0]) | (x > lim[:, 1])  # (n, d)
        violated = outside.sum(axis=1)
        in_box = violated == 0
        n_box, k_box = int(in_box.sum()), int(y[in_box].sum())
        for j in np.flatnonzero((lim[:, 0] > low_data) | (lim[:, 1] < high_data)):
            relaxed = in_box | ((violated == 1) & outside[:, j])
            big_n, big_k = int(relaxed.sum()), int(y[relaxed].sum())
            out[s, j] = float(stats.hypergeom.sf(k_box - 1, big_n, big_k, n_box))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryResult:
    """A PRIM peeling trajectory and the box chosen on it.

    Attributes
    ----------
    parameters
        The parameters peeled over (columns of the data).
    outcome
        The outcome of interest.
    n_points
        How many data points (runs or design points) were used.
    base_density
        Mean outcome over all points: the density of the whole-data box.
    trajectory
        The boxes of every peeling step.
    data_range
        ``(d, 2)`` smallest and largest value of each parameter in the data.
    quasi_p
        ``(steps, d)`` quasi-p-value of each restriction of each box (see
        :func:`quasi_p_values`; NaN for unrestricted parameters, and for
        outcomes that are probabilities rather than 0/1).
    step
        The chosen step on the trajectory (see :meth:`select`).
    threshold
        The density threshold the box was chosen with (or ``None``).
    threshold_met
        Whether the chosen box reaches the threshold (always true without one).
    peel_alpha, min_mass
        The peeling settings.
    """

    parameters: tuple[str, ...]
    outcome: str
    n_points: int
    base_density: float
    trajectory: PeelingTrajectory
    data_range: NDArray[np.float64]
    quasi_p: NDArray[np.float64]
    step: int
    threshold: float | None
    threshold_met: bool
    peel_alpha: float
    min_mass: float

    @property
    def limits(self) -> NDArray[np.float64]:
        """``(d, 2)`` low and high limit of each parameter in the chosen box."""
        return np.asarray(self.trajectory.limits[self.step], dtype=np.float64)

    @property
    def coverage(self) -> float:
        """Share of all cases of interest inside the chosen box."""
        return float(self.trajectory.coverage[self.step])

    @property
    def density(self) -> float:
        """Share of the chosen box's points that are cases of interest."""
        return float(self.trajectory.density[self.step])

    @property
    def mass(self) -> float:
        """Share of all points inside the chosen box."""
        return float(self.trajectory.mass[self.step])

    def _restricted_at(self, step: int) -> NDArray[np.bool_]:
        lim = self.trajectory.limits[step]
        return np.asarray(
            (lim[:, 0] > self.data_range[:, 0]) | (lim[:, 1] < self.data_range[:, 1])
        )

    @property
    def restricted(self) -> tuple[str, ...]:
        """The parameters that bound the chosen box (limits inside the data's range)."""
        mask = self._restricted_at(self.step)
        return tuple(name for name, r in zip(self.parameters, mask, strict=True) if r)

    def select(self, step: int) -> DiscoveryResult:
        """The same trajectory with another step chosen."""
        steps = len(self.trajectory.density)
        if (
            isinstance(step, bool)
            or not isinstance(step, int | np.integer)
            or not 0 <= step < steps
        ):
            raise ResultError(f"step must be a whole number in [0, {steps - 1}] (got {step!r})")
        met = self.threshold is None or bool(self.trajectory.density[step] >= self.threshold)
        return dataclasses.replace(self, step=int(step), threshold_met=met)

    def box(self, step: int | None = None) -> pd.DataFrame:
        """Limits of every parameter in the chosen box (or the box of ``step``).

        Columns ``parameter``, ``low``, ``high``, ``data_low``, ``data_high``,
        ``restricted``, ``quasi_p``; restricted parameters first, the most
        telling (smallest quasi-p-value) first among them.
        """
        import pandas as pd

        s = self.step if step is None else self.select(step).step
        lim = self.trajectory.limits[s]
        frame = pd.DataFrame(
            {
                "parameter": list(self.parameters),
                "low": lim[:, 0],
                "high": lim[:, 1],
                "data_low": self.data_range[:, 0],
                "data_high": self.data_range[:, 1],
                "restricted": self._restricted_at(s),
                "quasi_p": self.quasi_p[s],
            }
        )
        order = np.lexsort((frame.quasi_p.fillna(2.0).to_numpy(), ~frame.restricted.to_numpy()))
        return frame.iloc[order].reset_index(drop=True)

    def peeling(self) -> pd.DataFrame:
        """The peeling trajectory, a row per step.

        Columns ``step``, ``coverage``, ``density``, ``mass``, ``count`` (points
        inside), ``n_restricted`` (parameters bounding the box) and ``peeled``
        (the cut that made the step).
        """
        import pandas as pd

        t = self.trajectory
        cuts = [""]
        for s, (j, side) in enumerate(t.peeled, start=1):
            sign = ">=" if side == "low" else "<="
            cuts.append(
                f"{self.parameters[j]} {sign} {t.limits[s, j, 0 if side == 'low' else 1]:.4g}"
            )
        return pd.DataFrame(
            {
                "step": np.arange(len(t.density)),
                "coverage": t.coverage,
                "density": t.density,
                "mass": t.mass,
                "count": t.count,
                "n_restricted": [int(self._restricted_at(s).sum()) for s in range(len(t.density))],
                "peeled": cuts,
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """Tidy long form of every box on the trajectory: a row per step and parameter.

        Columns ``step``, ``parameter``, ``low``, ``high``, ``restricted``,
        ``coverage``, ``density``, ``mass``, ``chosen``.
        """
        import pandas as pd

        t = self.trajectory
        steps, d = t.limits.shape[:2]
        restricted = np.stack([self._restricted_at(s) for s in range(steps)])
        return pd.DataFrame(
            {
                "step": np.repeat(np.arange(steps), d),
                "parameter": np.tile(np.array(self.parameters, dtype=object), steps),
                "low": t.limits[:, :, 0].ravel(),
                "high": t.limits[:, :, 1].ravel(),
                "restricted": restricted.ravel(),
                "coverage": np.repeat(t.coverage, d),
                "density": np.repeat(t.density, d),
                "mass": np.repeat(t.mass, d),
                "chosen": np.repeat(np.arange(steps) == self.step, d),
            }
        )

    def plot_tradeoff(self, *, ax: Axes | None = None) -> Axes:
        """Coverage against density along the trajectory, the chosen box marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        t = self.trajectory
        ax.plot(t.coverage, t.density, marker=".", linestyle="-", label="peeling trajectory")
        ax.plot(
            [self.coverage],
            [self.density],
            marker="o",
            markersize=10,
            fillstyle="none",
            label="chosen box",
        )
        ax.set_xlabel("coverage")
        ax.set_ylabel("density")
        ax.set_title(f"PRIM: {self.outcome}")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        lines = [
            f"DiscoveryResult(outcome={self.outcome!r}, points={self.n_points:,}, "
            f"base density={self.base_density:.3f}, steps={len(self.trajectory.density)})",
            f"  box at step {self.step}: coverage {self.coverage:.3f}, "
            f"density {self.density:.3f}, mass {self.mass:.3f}",
        ]
        if self.threshold is not None and not self.threshold_met:
            lines.append(f"  no box reaches density {self.threshold:g}: this is the densest")
        box = self.box()
        restricted = box[box.restricted]
        if len(restricted) == 0:
            lines.append("  no parameter restricted")
        width = max([len(p) for p in restricted.parameter] + [9])
        for row in restricted.itertuples():
            quasi = "" if np.isnan(row.quasi_p) else f"  quasi-p {row.quasi_p:.2g}"
            lines.append(
                f"  {row.parameter:<{width}}  [{row.low:.4g}, {row.high:.4g}]  "
                f"(data [{row.data_low:.4g}, {row.data_high:.4g}]){quasi}"
            )
        return "\n".join(lines)

    def plot(self, *, x: str, y: str, data: Any = None, ax: Axes | None = None) -> Axes:
        """The chosen box on parameters ``x`` and ``y`` (over ``data`` if given); returns the Axes."""
        from basesim.plotting import plot_prim_box

        return plot_prim_box(self, x=x, y=y, data=data, ax=ax)

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>DiscoveryResult</b>: PRIM box for <code>{html.escape(self.outcome)}</code> "
            f"over {self.n_points:,} points (base density {self.base_density:.3f}); step "
            f"{self.step}: coverage {self.coverage:.3f}, density {self.density:.3f}, "
            f"mass {self.mass:.3f}</p>"
        )
        fmt = {"float_format": lambda x: f"{x:.4g}", "index": False}
        return head + str(self.box().to_html(**fmt)) + str(self.peeling().to_html(**fmt))


# -- getting X and y --------------------------------------------------------------------
_FIELD_PREFIXES = ("actors.", "issues.", "protocol.")
#: What marks an outcome expression rather than a name: a quantity, a comparison
#: or a logical word.
_EXPRESSION = re.compile(r"\b(?:settled|value|month):|[<>!]|==|\s(?:and|or)\s|^not\s|[()]")


def _from_frame(
    frame: Any, outcome: str, parameters: Sequence[str] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], tuple[str, ...], str]:
    if outcome in frame.columns:
        column = frame[outcome]
        if column.dtype.kind not in "biuf":
            raise SimulationError(
                f"outcome column {outcome!r} must hold booleans or numbers (got {column.dtype})"
            )
        y = column.to_numpy(dtype=np.float64)
        name = outcome
    else:
        text = str(outcome).strip()
        if "=" in text:
            table, _, label = (part.strip() for part in text.partition("="))
        else:
            table, label = "joint", text
        source = "outcome" if table == "joint" else f"{table}_category"
        if _EXPRESSION.search(text) and (
            source not in frame.columns or not (frame[source].astype(str) == label).any()
        ):
            raise SimulationError(
                f"outcome {text!r} is not a column of the frame nor an outcome name; "
                "expressions are read from a SimulationResult or a SweepResult, so for a "
                "frame compute the expression as a column (frame['hit'] = ...) and pass its name"
            )
        if source not in frame.columns:
            raise SimulationError(
                "outcome must name a column of the frame, or an outcome such as "
                f"'basing=retention' or 'no agreement' whose column ({source!r}) the frame has "
                f"(got {outcome!r})"
            )
        values = frame[source].astype(str)
        if not (values == label).any():
            found = sorted(values.unique())
            raise SimulationError(
                f"outcome {outcome!r} matches no row: column {source!r} holds "
                f"{', '.join(map(repr, found))}"
            )
        y = (values == label).to_numpy(dtype=np.float64)
        name = text if table == "joint" else f"{table}={label}"
    x, names = _parameters_from_frame(frame, parameters)
    return x, y, names, name


def _parameters_from_frame(
    frame: Any, parameters: Sequence[str] | None
) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    if parameters is None:
        names = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and c.startswith(_FIELD_PREFIXES)
            and frame[c].dtype.kind in "iuf"
        ]
        if not names:
            raise SimulationError(
                "parameters: the frame has no numeric column named by a field path ('actors...', "
                "'issues...', 'protocol...'); pass parameters=[column, ...]"
            )
    else:
        names = list(parameters)
        missing = [p for p in names if p not in frame.columns]
        if missing:
            raise SimulationError(
                f"parameters must be columns of the frame (got {missing[0]!r}, not a column)"
            )
    return frame[names].to_numpy(dtype=np.float64), tuple(names)


def _condition(scenario: Any, outcome: str) -> OutcomeExpression:
    """``outcome`` parsed for ``scenario``; PRIM needs a condition, not a number."""
    expression = parse_outcome(scenario, outcome)
    if not expression.is_condition:
        raise SimulationError(
            f"outcome {expression.text!r} is a number, and PRIM looks for where a condition "
            f"holds: compare it with a cut-off, e.g. '{expression.text} > 0.5' (threshold= "
            "is the box's minimum density, not a cut-off of the outcome)"
        )
    return expression


def discover(
    data: Any,
    *,
    outcome: str,
    threshold: float | None = None,
    parameters: Sequence[str] | None = None,
    peel_alpha: float = 0.05,
    min_mass: float = 0.05,
) -> DiscoveryResult:
    """Find a box of parameter values where an outcome is likely (PRIM).

    Parameters
    ----------
    data
        One of

        * a :class:`~basesim.SimulationResult` that kept runs: the points are
          runs, the parameters the uncertain parameters drawn run by run, and
          ``y`` is 1 for a run with the outcome, 0 otherwise;
        * a :class:`~basesim.experiments.sweep.SweepResult`: the points are the
          design points that did not fail, the parameters the swept ones, and
          ``y`` the outcome's probability at the point (the share of the
          point's runs in which the condition holds) (PRIM then maximises the
          mean probability in the box);
        * a :class:`pandas.DataFrame`, such as ``SimulationResult.to_frame()``:
          ``outcome`` is a column of 0/1 or probabilities (or booleans), or
          an outcome name read from the ``outcome`` / ``<issue>_category``
          columns (which hold ``"unsettled"`` for an unsettled issue); the
          parameters default to the numeric columns named by field paths.
    outcome
        For a result or a sweep, a condition (see
        :func:`basesim.expressions.parse_outcome`): an outcome name,
        ``"issue=category"`` (``"basing=retention"``), ``"issue=unsettled"``
        (the issue never settled), ``"joint=a / b"`` (``"joint=withdrawal /
        unsettled"``), ``"no agreement"`` (no issue settled), or an
        expression over them, ``settled:ISSUE`` and comparisons of the
        numbers ``value:ISSUE`` (final value) and ``month:ISSUE`` (settlement
        round, ``horizon + 1`` if never settled) with ``and``, ``or``,
        ``not`` (``"basing=withdrawal and sanctions_relief=substantial"``,
        ``"value:basing < 0.3 or not settled:basing"``).  A number alone
        (``"value:basing"``) is refused: PRIM needs a condition, so give it a
        cut-off (``"value:basing > 0.5"``).  A sweep keeps only outcome
        counts, so there ``value:`` and ``month:`` cannot be used.  For a
        frame, a column name (such as ``"settled_basing"``) or an outcome
        name.
    threshold
        Minimum density of the reported box: the box of highest coverage
        (earliest step) whose density reaches it.  ``None`` reports the
        densest box.  Any step can be chosen afterwards with
        :meth:`DiscoveryResult.select`.
    parameters
        The parameters (columns) to peel over; default: all of them.
    peel_alpha
        Share of the points inside the box that one peel removes, in (0, 0.5).
    min_mass
        Smallest share of all points a box may keep, in (0, 1).

    Returns
    -------
    DiscoveryResult

    References
    ----------
    Friedman, J. H. and Fisher, N. I. (1999). Bump hunting in high-dimensional
    data. Statistics and Computing 9(2), 123-143.

    Bryant, B. P. and Lempert, R. J. (2010). Thinking inside the box: a
    participatory, computer-assisted approach to scenario discovery.
    Technological Forecasting and Social Change 77(1), 34-49.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import basesim
    >>> rng = np.random.default_rng(7)
    >>> frame = pd.DataFrame(rng.random((2_000, 2)), columns=["a", "b"])
    >>> frame["hit"] = (frame.a > 0.7) & (frame.b < 0.4)
    >>> res = basesim.discover(frame, outcome="hit", parameters=["a", "b"], threshold=0.95)
    >>> res.restricted
    ('a', 'b')
    >>> [round(float(v), 1) for v in (res.box().low[0], res.box().high[1])]
    [0.7, 0.4]
    """
    from basesim.experiments.sweep import SweepResult
    from basesim.results import SimulationResult

    for name, value, low, high in (
        ("peel_alpha", peel_alpha, 0.0, 0.5),
        ("min_mass", min_mass, 0.0, 1.0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value < high:
            raise SimulationError(
                f"{name} must be a number in ({low:g}, {high:g}) (got {value!r})"
            )
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        raise SimulationError(f"threshold must be None or a number in [0, 1] (got {threshold!r})")

    if isinstance(data, SimulationResult):
        expression = _condition(data.scenario, outcome)
        name = expression.text
        frame = data.to_frame()
        if parameters is None:
            parameters = data.scenario.uncertain_parameters()
            if not parameters:
                raise SimulationError("the scenario has no uncertain parameter to peel over")
        x, names = _parameters_from_frame(frame, parameters)
        assert data.runs is not None  # to_frame() raised otherwise
        y = expression.evaluate(RunOutcomes.of(data.scenario, data.runs))
    elif isinstance(data, SweepResult):
        expression = _condition(data.scenario, outcome)
        name = expression.text
        if not expression.is_categorical:
            raise SimulationError(
                f"outcome {name!r} reads values or settlement months, which a sweep does not "
                "keep (it counts outcomes per point): discover on a SimulationResult that kept "
                "runs, or use a condition on outcome names and settled:ISSUE"
            )
        ok = data.ok
        if not ok.any():
            raise SimulationError("the sweep has no point that was simulated (every point failed)")
        all_names = data.parameter_names
        names = all_names if parameters is None else tuple(parameters)
        missing = [p for p in names if p not in all_names]
        if missing:
            raise SimulationError(
                f"parameters must be swept parameters ({', '.join(all_names)}) "
                f"(got {missing[0]!r})"
            )
        x = data.points[ok][:, [all_names.index(p) for p in names]]
        y = expression.probability(data.counts[ok], data.n_runs)
    elif hasattr(data, "columns") and hasattr(data, "to_numpy"):
        x, y, names, name = _from_frame(data, outcome, parameters)
    else:
        raise SimulationError(
            "data must be a SimulationResult, a SweepResult or a pandas DataFrame "
            f"(got {type(data).__name__})"
        )

    if len(y) == 0 or not np.all(np.isfinite(x)):
        raise SimulationError("the data must have at least one point and finite parameter values")
    if np.any((y < 0) | (y > 1)) or not np.all(np.isfinite(y)):
        raise SimulationError(
            f"outcome {name!r} must take values in [0, 1] (0/1 or probabilities)"
        )
    if y.sum() == 0:
        raise SimulationError(
            f"outcome {name!r} never occurs in the data: there is nothing to find a box for"
        )
    trajectory = prim_peel(x, y, peel_alpha=float(peel_alpha), min_mass=float(min_mass))
    step, met = choose_step(trajectory, None if threshold is None else float(threshold))
    return DiscoveryResult(
        parameters=tuple(names),
        outcome=name,
        n_points=len(y),
        base_density=float(y.mean()),
        trajectory=trajectory,
        data_range=np.column_stack([x.min(axis=0), x.max(axis=0)]),
        quasi_p=quasi_p_values(x, y, trajectory),
        step=step,
        threshold=None if threshold is None else float(threshold),
        threshold_met=met,
        peel_alpha=float(peel_alpha),
        min_mass=float(min_mass),
    )
