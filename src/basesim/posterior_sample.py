"""A calibrated scenario's posterior: weighted particles over some of its parameters.

:class:`PosteriorSample` is the ``posterior`` field of a
:class:`~basesim.Scenario` (TOML: a ``[posterior]`` table).  When present, the
scenario's compiled form gains one uncertain choice parameter,
``posterior.particle``, that picks each run's particle with probability its
weight; the calibrated parameters (``paths``) then take that particle's values
instead of draws from their own distributions, so they follow the posterior
jointly, correlations included.  :func:`basesim.calibrate` makes it (see
:meth:`basesim.Posterior.scenario`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from basesim.exceptions import ScenarioError

if TYPE_CHECKING:
    from basesim.scenario import Scenario

__all__ = [
    "CALIBRATION_METHODS",
    "PARTICLE_PATH",
    "PosteriorSample",
    "check_posterior",
    "parse_posterior",
    "posterior_toml_lines",
]

#: The calibration methods a posterior may come from.
CALIBRATION_METHODS = ("rejection", "importance", "smc")
#: The path of the choice parameter that picks each run's particle.
PARTICLE_PATH = "posterior.particle"

_KEYS = ("method", "observations", "n_simulations", "entropy", "paths", "weights", "values")


@dataclass(frozen=True, slots=True, kw_only=True)
class PosteriorSample:
    """Weighted particles over a scenario's calibrated parameters, with their provenance.

    Parameters
    ----------
    paths
        The calibrated parameters' paths (uncertain parameters of the scenario).
    values
        One row per particle: the value of each path, in ``paths`` order.
    weights
        One non-negative weight per particle (normalised when used).
    method
        The calibration method that made it (one of :data:`CALIBRATION_METHODS`).
    observations
        The observations it was conditioned on, one line of text each.
    n_simulations
        How many runs the calibration simulated.
    entropy
        The entropy of the calibration's root seed, as decimal text
        (``""`` if unknown).

    Examples
    --------
    >>> p = PosteriorSample(paths=("actors.a.policy.position",), values=((0.7,), (0.9,)),
    ...                     weights=(0.5, 0.5), method="rejection")
    >>> p.n_particles
    2
    """

    paths: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]
    weights: tuple[float, ...]
    method: str
    observations: tuple[str, ...] = ()
    n_simulations: int = 0
    entropy: str = ""

    def __post_init__(self) -> None:
        for name in ("paths", "weights", "observations"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.values, list | tuple):
            object.__setattr__(
                self,
                "values",
                tuple(tuple(row) if isinstance(row, list | tuple) else row for row in self.values),
            )

    @property
    def n_particles(self) -> int:
        """Number of particles."""
        return len(self.values)


def _bad(path: str, rule: str, value: Any) -> ScenarioError:
    return ScenarioError(f"posterior.{path} {rule} (got {value!r})")


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def check_posterior(scn: Scenario) -> None:
    """Validate ``scn.posterior`` against the scenario; raise :class:`~basesim.ScenarioError`."""
    post = scn.posterior
    if post is None:
        return
    if not isinstance(post, PosteriorSample):
        raise ScenarioError(
            f"posterior must be a PosteriorSample or None (got {type(post).__name__})"
        )
    if not isinstance(post.method, str) or post.method not in CALIBRATION_METHODS:
        raise _bad("method", f"must be one of {', '.join(CALIBRATION_METHODS)}", post.method)
    if not isinstance(post.observations, tuple) or not all(
        isinstance(o, str) for o in post.observations
    ):
        raise _bad("observations", "must be a list of texts", post.observations)
    n_sim = post.n_simulations
    if isinstance(n_sim, bool) or not isinstance(n_sim, int) or n_sim < 0:
        raise _bad("n_simulations", "must be a whole number >= 0", n_sim)
    if not isinstance(post.entropy, str) or not (post.entropy == "" or post.entropy.isdigit()):
        raise _bad("entropy", "must be decimal digits or empty", post.entropy)
    paths = post.paths
    if not isinstance(paths, tuple) or not paths or not all(isinstance(p, str) for p in paths):
        raise _bad("paths", "must be a non-empty list of parameter paths", paths)
    if len(set(paths)) != len(paths):
        raise _bad("paths", "must not list a parameter twice", list(paths))
    params = dict(scn.parameters())
    for path in paths:
        param = params.get(path)
        if param is None or not param.is_uncertain:
            raise _bad(
                "paths",
                "must name uncertain parameters of the scenario "
                f"({path!r} is {'fixed' if param is not None else 'not a parameter'})",
                path,
            )
    values, weights = post.values, post.weights
    if not isinstance(values, tuple) or not values:
        raise _bad("values", "must give at least one particle", values)
    if not isinstance(weights, tuple) or len(weights) != len(values):
        n_weights = len(weights) if isinstance(weights, tuple) else weights
        raise _bad("weights", f"must give one weight per particle ({len(values)})", n_weights)
    for i, w in enumerate(weights):
        if not _finite(w) or w < 0:
            raise _bad(f"weights[{i}]", "must be a finite number >= 0", w)
    if not sum(weights) > 0:
        raise _bad("weights", "must sum to a positive number", sum(weights))
    supports = [params[p].support for p in paths]
    for i, row in enumerate(values):
        if not isinstance(row, tuple) or len(row) != len(paths):
            raise _bad(f"values[{i}]", f"must give one value per path ({len(paths)})", row)
        for j, (x, (low, high)) in enumerate(zip(row, supports, strict=True)):
            if not _finite(x):
                raise _bad(f"values[{i}][{j}]", "must be a finite number", x)
            if not low <= x <= high:
                raise _bad(
                    f"values[{i}][{j}]",
                    f"must lie in the range [{low:g}, {high:g}] of {paths[j]}",
                    x,
                )


def _text(value: Any) -> str:
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "[" + ", ".join(_text(v) for v in value) + "]"


def posterior_toml_lines(post: PosteriorSample) -> list[str]:
    """The ``[posterior]`` table as TOML lines (one particle per line)."""
    out = [
        "[posterior]",
        f"method = {_text(post.method)}",
        f"observations = {_text(list(post.observations))}",
        f"n_simulations = {post.n_simulations}",
        f"entropy = {_text(post.entropy)}",
        f"paths = {_text(list(post.paths))}",
        f"weights = {_text([float(w) for w in post.weights])}",
        "values = [",
    ]
    out += [f"  {_text([float(x) for x in row])}," for row in post.values]
    out.append("]")
    return out


def parse_posterior(value: Any) -> PosteriorSample:
    """Build a :class:`PosteriorSample` from a parsed ``[posterior]`` table (checked by the scenario)."""
    if not isinstance(value, Mapping):
        raise ScenarioError(f"posterior must be a table (got {value!r})")
    for key in value:
        if key not in _KEYS:
            raise ScenarioError(
                f"posterior.{key} is not a known field; expected one of {', '.join(_KEYS)}"
            )
    for key in ("method", "paths", "weights", "values"):
        if key not in value:
            raise ScenarioError(f"posterior.{key} is required but missing")
    for key in ("observations", "paths", "weights", "values"):
        if key in value and not isinstance(value[key], list):
            raise _bad(key, "must be an array", value[key])
    rows = value["values"]
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise _bad(f"values[{i}]", "must be an array of numbers", row)
    return PosteriorSample(
        paths=tuple(value["paths"]),
        values=tuple(tuple(float(x) if _finite(x) else x for x in row) for row in rows),
        weights=tuple(float(w) if _finite(w) else w for w in value["weights"]),
        method=value["method"],
        observations=tuple(value.get("observations", ())),
        n_simulations=value.get("n_simulations", 0),
        entropy=value.get("entropy", ""),
    )
