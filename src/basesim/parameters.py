"""Numbers with their uncertainty and their evidence.

Any numeric parameter of a scenario is a :class:`Parameter`: a nominal value,
optionally a :class:`Distribution` describing how uncertain it is, and the
:class:`Evidence` it rests on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from basesim._random import RNGLike, as_generator

__all__ = [
    "CHOICE",
    "CONFIDENCE_LEVELS",
    "DISTRIBUTION_KINDS",
    "Distribution",
    "Evidence",
    "Parameter",
]

#: The kinds of distribution a numeric parameter may have.
DISTRIBUTION_KINDS = ("uniform", "triangular", "beta", "truncnorm")
#: The kind of a distribution over a list of options (``weights``): its values are
#: the indices 0, 1, ... of the options.  Only a choice parameter (such as
#: ``protocol.reservation``) takes it.
CHOICE = "choice"
# The shape keys each kind uses, besides low and high.
_SHAPES = {"uniform": (), "triangular": ("mode",), "beta": ("a", "b"), "truncnorm": ("mean", "sd")}
_SHAPE_KEYS = ("mode", "a", "b", "mean", "sd", "weights")
CONFIDENCE_LEVELS = ("high", "medium", "low")

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Distribution:
    """A bounded probability distribution for an uncertain parameter.

    Parameters
    ----------
    kind
        ``"uniform"`` on ``[low, high]``; ``"triangular"`` with peak ``mode``;
        ``"beta"`` with shapes ``a``, ``b`` rescaled to ``[low, high]``;
        ``"truncnorm"``, a normal with ``mean`` and ``sd`` truncated to
        ``[low, high]``; ``"choice"``, a pick among options with
        probabilities proportional to ``weights`` (its values are the
        option indices 0, 1, ...).
    low, high
        The support.  Every kind is bounded, so a parameter's range is always
        known and can be checked against the rules of its field.  A choice
        fills them in itself: 0 and the last index.
    mode, a, b, mean, sd
        Shape parameters of the kinds that need them.
    weights
        The options' weights, for ``"choice"`` only: non-negative, with a
        positive sum.

    Examples
    --------
    >>> d = Distribution(kind="triangular", low=0.0, mode=0.2, high=0.5)
    >>> round(float(d.ppf(0.5)), 4)
    0.2261
    >>> d.sample(3, rng=1).round(3)
    array([0.229, 0.414, 0.12 ])
    >>> c = Distribution(kind="choice", weights=(0.7, 0.3))
    >>> c.low, c.high, c.ppf([0.1, 0.69, 0.7, 0.99]).tolist()
    (0.0, 1.0, [0.0, 0.0, 1.0, 1.0])
    """

    kind: str
    low: float = math.nan
    high: float = math.nan
    mode: float | None = None
    a: float | None = None
    b: float | None = None
    mean: float | None = None
    sd: float | None = None
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.weights, list):
            object.__setattr__(self, "weights", tuple(self.weights))
        if self.kind == CHOICE and isinstance(self.weights, tuple):
            # The values of a choice are the option indices.
            if _is_nan(self.low):
                object.__setattr__(self, "low", 0.0)
            if _is_nan(self.high):
                object.__setattr__(self, "high", float(len(self.weights) - 1))

    def check(self) -> list[tuple[str, str, Any]]:
        """List the rules this distribution breaks, as ``(field, rule, value)``.

        An empty list means the distribution is well formed.
        """
        problems: list[tuple[str, str, Any]] = []
        if self.kind == CHOICE:
            return self._check_choice()
        if self.kind not in DISTRIBUTION_KINDS:
            problems.append(("dist", f"must be one of {', '.join(DISTRIBUTION_KINDS)}", self.kind))
            return problems
        takes = ("low", "high", *_SHAPES[self.kind])
        for name in _SHAPE_KEYS:
            value = getattr(self, name)
            if value is not None and name not in takes:
                rule = f"is not used by a {self.kind} distribution, which takes only {', '.join(takes)}"
                problems.append((name, rule, value))
        if problems:
            return problems
        for name in ("low", "high", "mode", "a", "b", "mean", "sd"):
            value = getattr(self, name)
            if (value is not None or name in ("low", "high")) and not _is_finite_number(value):
                problems.append((name, "must be a finite number", value))
        if problems:
            return problems
        if not self.low < self.high:
            problems.append(("low", f"must be below high ({self.high!r})", self.low))
            return problems
        if self.kind == "triangular":
            if self.mode is None:
                problems.append(("mode", "is required for a triangular distribution", None))
            elif not self.low <= self.mode <= self.high:
                problems.append(("mode", f"must be in [{self.low!r}, {self.high!r}]", self.mode))
        elif self.kind == "beta":
            for name in ("a", "b"):
                value = getattr(self, name)
                if value is None:
                    problems.append((name, "is required for a beta distribution", None))
                elif value <= 0:
                    problems.append((name, "must be positive", value))
        elif self.kind == "truncnorm":
            if self.mean is None:
                problems.append(("mean", "is required for a truncnorm distribution", None))
            if self.sd is None:
                problems.append(("sd", "is required for a truncnorm distribution", None))
            elif self.sd <= 0:
                problems.append(("sd", "must be positive", self.sd))
        return problems

    def _check_choice(self) -> list[tuple[str, str, Any]]:
        for name in _SHAPE_KEYS[:-1]:
            value = getattr(self, name)
            if value is not None:
                return [
                    (name, "is not used by a choice distribution, which takes only weights", value)
                ]
        weights = self.weights
        if weights is None:
            return [("weights", "is required for a choice distribution", None)]
        if not isinstance(weights, tuple):
            return [("weights", "must be a list of numbers", weights)]
        if not weights:
            return [("weights", "must give at least one weight", [])]
        for w in weights:
            if not _is_finite_number(w):
                return [("weights", "must be finite numbers", w)]
            if w < 0:
                return [("weights", "must be >= 0", w)]
        total = float(sum(weights))
        if not total > 0:
            return [("weights", "must sum to a positive number", total)]
        if self.low != 0:
            return [("low", "must be 0 for a choice distribution (the first index)", self.low)]
        if self.high != len(weights) - 1:
            last = len(weights) - 1
            return [
                ("high", f"must be {last} for a choice distribution (the last index)", self.high)
            ]
        return []

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """A choice's probability of each option: its weights, normalised."""
        if self.kind != CHOICE or self.weights is None:
            raise ValueError(f"a {self.kind} distribution has no option probabilities")
        w = np.asarray(self.weights, dtype=np.float64)
        return np.asarray(w / w.sum(), dtype=np.float64)

    @property
    def frozen(self) -> Any:
        """The equivalent frozen :mod:`scipy.stats` distribution."""
        return _frozen(self)

    def _make_frozen(self) -> Any:
        width = self.high - self.low
        if self.kind == "uniform":
            return stats.uniform(loc=self.low, scale=width)
        if self.kind == "triangular":
            assert self.mode is not None
            return stats.triang(c=(self.mode - self.low) / width, loc=self.low, scale=width)
        if self.kind == "beta":
            return stats.beta(self.a, self.b, loc=self.low, scale=width)
        if self.kind == "truncnorm":
            assert self.mean is not None and self.sd is not None
            lo = (self.low - self.mean) / self.sd
            hi = (self.high - self.mean) / self.sd
            return stats.truncnorm(lo, hi, loc=self.mean, scale=self.sd)
        if self.kind == CHOICE:
            p = self.probabilities
            return stats.rv_discrete(values=(np.arange(len(p)), p))
        raise ValueError(f"unknown distribution kind {self.kind!r}")

    def ppf(self, quantile: ArrayLike) -> NDArray[np.float64]:
        """Quantile function: map uniform draws in [0, 1) to this distribution.

        For a choice, a draw ``u`` picks the option ``k`` whose slice
        ``[c[k-1], c[k])`` of the cumulative probabilities ``c`` holds it, as a
        float index; options of weight 0 are never picked.
        """
        q = np.asarray(quantile, dtype=np.float64)
        if self.kind == "uniform":
            return np.asarray(self.low + q * (self.high - self.low), dtype=np.float64)
        if self.kind == CHOICE:
            p = self.probabilities
            cumulative = np.cumsum(p)
            cumulative[-1] = 1.0
            index = np.searchsorted(cumulative, q, side="right")
            # u = 1 (outside [0, 1)) takes the last option with a positive weight.
            last = int(np.flatnonzero(p > 0)[-1])
            return np.minimum(index, last).astype(np.float64)
        values = np.asarray(self.frozen.ppf(q), dtype=np.float64)
        return np.clip(values, self.low, self.high)

    def sample(self, size: int | tuple[int, ...], *, rng: RNGLike = None) -> NDArray[np.float64]:
        """Draw ``size`` values reproducibly (inverse-CDF of uniform draws)."""
        return self.ppf(as_generator(rng).random(size))

    def mean_value(self) -> float:
        """The distribution's mean (for a choice: the mean index)."""
        if self.kind == CHOICE:
            p = self.probabilities
            return float(np.dot(np.arange(len(p)), p))
        return float(self.frozen.mean())

    def describe(self) -> str:
        """A short human-readable description, e.g. ``triangular(0, 0.2, 0.5)``."""
        if self.kind == "uniform":
            return f"uniform({_g(self.low)}, {_g(self.high)})"
        if self.kind == "triangular":
            return f"triangular({_g(self.low)}, {_g(self.mode)}, {_g(self.high)})"
        if self.kind == "beta":
            return f"beta(a={_g(self.a)}, b={_g(self.b)}) on [{_g(self.low)}, {_g(self.high)}]"
        if self.kind == CHOICE:
            return f"choice({', '.join(_g(w) for w in self.weights or ())})"
        return f"truncnorm(mean={_g(self.mean)}, sd={_g(self.sd)}) on [{_g(self.low)}, {_g(self.high)}]"


def _is_finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except OverflowError:  # an int beyond the float range
        return False


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


@lru_cache(maxsize=1024)
def _frozen(dist: Distribution) -> Any:
    # Building a frozen scipy distribution costs far more than evaluating it.
    return dist._make_frozen()


def _g(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Where a number comes from.

    Parameters
    ----------
    sources
        Identifiers of the evidence: ``"S7"`` for sentence 7 of the source
        report, ``"E4"`` for item 4 of the later evidence.
    rationale
        Why the number has its value, in the scenario author's own words.
    confidence
        ``"high"``, ``"medium"`` or ``"low"``.
    assumption
        True when the source material does not speak to the number and it is
        the modeller's assumption.
    """

    sources: tuple[str, ...] = ()
    rationale: str = ""
    confidence: str | None = None
    assumption: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.sources, list):
            # Only a list becomes a tuple: a string stays whole, for validation to refuse.
            object.__setattr__(self, "sources", tuple(self.sources))

    @property
    def is_documented(self) -> bool:
        """True if the parameter cites a source or is marked as an assumption."""
        return bool(self.sources) or self.assumption

    def __bool__(self) -> bool:
        return bool(self.sources or self.rationale or self.confidence or self.assumption)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parameter:
    """A numeric parameter: nominal value, optional uncertainty, evidence.

    Parameters
    ----------
    value
        The nominal (point) value, used when uncertainty is switched off and
        shown in tables.
    distribution
        If given, each simulated run draws the parameter from it.
    evidence
        What the value rests on.

    Examples
    --------
    >>> p = Parameter(value=0.15, distribution=Distribution(kind="uniform", low=0.0, high=0.4))
    >>> p.is_uncertain, p.support
    (True, (0.0, 0.4))
    """

    value: float
    distribution: Distribution | None = None
    evidence: Evidence = field(default_factory=Evidence)

    @classmethod
    def fixed(cls, value: float, **evidence: Any) -> Parameter:
        """A parameter without uncertainty; keyword arguments build its evidence."""
        return cls(value=float(value), evidence=Evidence(**evidence))

    @property
    def is_uncertain(self) -> bool:
        """Whether runs draw this parameter from a distribution."""
        return self.distribution is not None

    @property
    def support(self) -> tuple[float, float]:
        """The smallest and largest value the parameter can take."""
        if self.distribution is None:
            return (self.value, self.value)
        return (self.distribution.low, self.distribution.high)
