"""A scenario compiled to arrays, and each run's random inputs.

Both engines (the Mesa model and the batch engine) consume exactly these
arrays, which is what lets them be compared run by run.

Random inputs are drawn in blocks of :data:`BLOCK_SIZE` runs, each block from
children of the computation's root :class:`numpy.random.SeedSequence` (see
:func:`draw_block`).  Run ``i`` therefore gets the same inputs whatever batch
it is simulated in, serially or in parallel.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.parameters import CHOICE, Distribution, Parameter
from basesim.posterior_sample import PARTICLE_PATH
from basesim.scenario import BEHAVIOUR_FIELDS, RESERVATION_FORMS, Scenario

__all__ = [
    "BATCH_BYTES",
    "BLOCK_SIZE",
    "CompiledScenario",
    "RandomInputs",
    "RunParameters",
    "batch_size_for",
    "compile_scenario",
    "draw_block",
    "draw_inputs",
    "path_key",
    "run_bytes",
    "sampled_values",
]

#: Runs per child seed.  Part of the reproducibility contract: changing it
#: changes which random numbers each run gets.
BLOCK_SIZE = 1024

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunParameters:
    """Every numeric parameter of a batch of runs (leading axis: run)."""

    position: FloatArray  # (n, N, K) initial ideal points
    salience: FloatArray  # (n, N, K)
    capability: FloatArray  # (n, N)
    anchoring: FloatArray  # (n, N)
    discount: FloatArray  # (n, N)
    concession: FloatArray  # (n, N)
    noise: FloatArray  # (n, N)
    opening: FloatArray  # (n, N) share of the possible gain demanded at the start
    concession_months: FloatArray  # (n, N) months until the demand reaches the disagreement value
    disagreement: FloatArray  # (n, N); NaN where the breakdown package defines it
    influence: FloatArray  # (n, N, N): influence[r, i, j] is j's pull on i
    status_quo: FloatArray  # (n, K)
    breakdown: FloatArray  # (n, K)
    drift: FloatArray  # (n, K) monthly share of the gap to the breakdown value that closes
    reservation_form: FloatArray  # (n,) index of each run's form in RESERVATION_FORMS
    # The scenario's events (E of them): each run's month (before flooring) and new value
    # (NaN for events without one); see basesim.engine.events.
    event_month: FloatArray = field(default_factory=lambda: np.zeros((1, 0)))  # (n, E)
    event_value: FloatArray = field(default_factory=lambda: np.zeros((1, 0)))  # (n, E)

    def __post_init__(self) -> None:
        # Built without events (event fields left at their defaults): one empty row per run.
        n = self.capability.shape[0]
        for name in ("event_month", "event_value"):
            given = getattr(self, name)
            if given.shape == (1, 0) and n != 1:
                object.__setattr__(self, name, np.zeros((n, 0)))

    @property
    def n_runs(self) -> int:
        """Number of runs in the batch."""
        return int(self.capability.shape[0])

    def take(self, rows: NDArray[np.intp] | slice) -> RunParameters:
        """The parameters of a subset of runs."""
        return RunParameters(**{name: getattr(self, name)[rows] for name in self.__slots__})


@dataclass(frozen=True, slots=True, kw_only=True)
class RandomInputs:
    """Each run's random inputs (leading axis: run)."""

    quantiles: FloatArray  # (n, P) uniform draws for the uncertain parameters
    recognition: FloatArray  # (n, T) uniform draws choosing the proposer
    noise: FloatArray  # (n, T, N) standard normal perception errors

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.recognition.shape[0])

    def take(self, rows: NDArray[np.intp] | slice) -> RandomInputs:
        """The inputs of a subset of runs."""
        return RandomInputs(
            quantiles=self.quantiles[rows],
            recognition=self.recognition[rows],
            noise=self.noise[rows],
        )

    @staticmethod
    def concatenate(parts: list[RandomInputs]) -> RandomInputs:
        """Join the inputs of consecutive run ranges."""
        return RandomInputs(
            quantiles=np.concatenate([p.quantiles for p in parts]),
            recognition=np.concatenate([p.recognition for p in parts]),
            noise=np.concatenate([p.noise for p in parts]),
        )


# Where an uncertain parameter lands: (array name, index without the run axis);
# a parameter may feed several places (a breakdown that is the status quo).
_Target = tuple[str, tuple[int, ...]]
_Slot = tuple[_Target, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompiledScenario:
    """The arrays and tables the engines need, derived once from a scenario."""

    scenario: Scenario
    actor_names: tuple[str, ...]
    issue_names: tuple[str, ...]
    horizon: int
    exponent: int
    model: str
    recognition: str
    rotation: NDArray[np.intp]  # actor indices, for recognition = "rotation"
    reservation_forms: tuple[str, ...]  # the reservation forms that runs may use
    lookahead: int
    can_propose: NDArray[np.bool_]  # (N,) actors who may be recognised to propose
    nominal: RunParameters  # n = 1
    uncertain_paths: tuple[str, ...]
    uncertain_distributions: tuple[Distribution, ...]
    uncertain_slots: tuple[_Slot, ...]
    # The scenario's posterior particles ``(M, len(posterior.paths))``, if it has one.
    posterior_values: FloatArray | None = None

    @property
    def n_actors(self) -> int:
        """N."""
        return len(self.actor_names)

    @property
    def n_issues(self) -> int:
        """K."""
        return len(self.issue_names)

    @property
    def n_uncertain(self) -> int:
        """P, the number of uncertain parameters."""
        return len(self.uncertain_paths)

    def parameters(self, quantiles: FloatArray) -> RunParameters:
        """Each run's parameters from its uncertain parameters' quantiles ``(n, P)``."""
        return self.parameters_from_values(sampled_values(self, quantiles))

    def parameters_from_values(self, values: FloatArray) -> RunParameters:
        """Each run's parameters from its uncertain parameters' values ``(n, P)``.

        The values are those :func:`sampled_values` maps the quantiles to.
        """
        n = values.shape[0]
        arrays = {
            name: np.repeat(getattr(self.nominal, name), n, axis=0)
            for name in RunParameters.__slots__
        }
        for p, targets in enumerate(self.uncertain_slots):
            for name, index in targets:
                key: tuple[Any, ...] = (slice(None), *index)
                arrays[name][key] = values[:, p]
        return RunParameters(**arrays)


def compile_scenario(scenario: Scenario) -> CompiledScenario:
    """Turn a validated scenario into arrays for the engines."""
    actors = scenario.actors
    issues = scenario.issues
    a_index = {a.name: i for i, a in enumerate(actors)}
    k_index = {k.name: i for i, k in enumerate(issues)}
    n_act, n_iss = len(actors), len(issues)

    arrays: dict[str, FloatArray] = {
        "position": np.zeros((1, n_act, n_iss)),
        "salience": np.zeros((1, n_act, n_iss)),
        "capability": np.zeros((1, n_act)),
        "anchoring": np.zeros((1, n_act)),
        "discount": np.zeros((1, n_act)),
        "concession": np.zeros((1, n_act)),
        "noise": np.zeros((1, n_act)),
        "opening": np.ones((1, n_act)),
        "concession_months": np.full((1, n_act), 24.0),
        "disagreement": np.full((1, n_act), np.nan),
        "influence": np.zeros((1, n_act, n_act)),
        "status_quo": np.zeros((1, n_iss)),
        "breakdown": np.zeros((1, n_iss)),
        "drift": np.zeros((1, n_iss)),
        "reservation_form": np.zeros(1),
        "event_month": np.zeros((1, len(scenario.events))),
        "event_value": np.full((1, len(scenario.events)), np.nan),
    }
    paths: list[str] = []
    dists: list[Distribution] = []
    slots: list[_Slot] = []

    def put(path: str, param: Parameter, *targets: _Target) -> None:
        for name, index in targets:
            arrays[name][(0, *index)] = param.value
        if param.distribution is not None:
            paths.append(path)
            dists.append(param.distribution)
            slots.append(targets)

    for k, issue in enumerate(issues):
        path = f"issues.{issue.name}"
        if issue.breakdown is None:
            # The breakdown is the status quo: one draw feeds both.
            put(f"{path}.status_quo", issue.status_quo, ("status_quo", (k,)), ("breakdown", (k,)))
        else:
            put(f"{path}.status_quo", issue.status_quo, ("status_quo", (k,)))
            put(f"{path}.breakdown", issue.breakdown, ("breakdown", (k,)))
        put(f"{path}.drift", issue.drift, ("drift", (k,)))
    for i, actor in enumerate(actors):
        base = f"actors.{actor.name}"
        put(f"{base}.capability", actor.capability, ("capability", (i,)))
        for issue_name in scenario.issue_names:
            stance = actor.stances[issue_name]
            k = k_index[issue_name]
            put(f"{base}.{issue_name}.position", stance.position, ("position", (i, k)))
            put(f"{base}.{issue_name}.salience", stance.salience, ("salience", (i, k)))
        for behaviour in BEHAVIOUR_FIELDS:
            value = getattr(actor, behaviour.name)
            if value is not None:  # an optional field (disagreement) that is absent
                put(f"{base}.{behaviour.name}", value, (behaviour.name, (i,)))
        for target, weight in actor.influence.items():
            put(f"{base}.influence.{target}", weight, ("influence", (a_index[target], i)))

    proto = scenario.protocol
    forms: tuple[str, ...]
    reservation = proto.reservation
    if isinstance(reservation, Parameter):
        put("protocol.reservation", reservation, ("reservation_form", ()))
        forms = RESERVATION_FORMS
    else:
        arrays["reservation_form"][0] = RESERVATION_FORMS.index(reservation)
        forms = (reservation,)
    for e, event in enumerate(scenario.events):
        # Events' months and values are drawn like any parameter (after the
        # reservation form: the order of Scenario.parameters()).
        put(f"events.{event.name}.month", event.month_parameter(scenario), ("event_month", (e,)))
        if event.value is not None:
            put(f"events.{event.name}.value", event.value, ("event_value", (e,)))

    can_propose = np.array([a.proposer for a in actors], dtype=bool)
    can_propose.setflags(write=False)
    posterior_values = None
    if scenario.posterior is not None:
        # One choice parameter picks each run's particle; the calibrated
        # paths take its values (see sampled_values).
        paths.append(PARTICLE_PATH)
        dists.append(Distribution(kind=CHOICE, weights=scenario.posterior.weights))
        slots.append(())
        posterior_values = np.array(scenario.posterior.values, dtype=np.float64)
        posterior_values.setflags(write=False)
    return CompiledScenario(
        scenario=scenario,
        actor_names=scenario.actor_names,
        issue_names=scenario.issue_names,
        horizon=scenario.horizon,
        exponent=proto.utility_exponent,
        model=proto.model,
        recognition=proto.recognition,
        rotation=np.array([a_index[name] for name in proto.rotation], dtype=np.intp),
        reservation_forms=forms,
        lookahead=proto.lookahead,
        can_propose=can_propose,
        nominal=RunParameters(**arrays),
        uncertain_paths=tuple(paths),
        uncertain_distributions=tuple(dists),
        uncertain_slots=tuple(slots),
        posterior_values=posterior_values,
    )


def _stream(root: np.random.SeedSequence, *key: int) -> np.random.Generator:
    return np.random.Generator(
        np.random.PCG64(
            np.random.SeedSequence(
                root.entropy, spawn_key=(*root.spawn_key, *key), pool_size=root.pool_size
            )
        )
    )


def path_key(path: str) -> int:
    """A stable 32-bit key of a parameter path (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(path.encode("utf-8"))


def draw_block(
    compiled: CompiledScenario, root: np.random.SeedSequence, block: int, n: int = BLOCK_SIZE
) -> RandomInputs:
    """Draw the random inputs of block ``block``.

    ``n`` is :data:`BLOCK_SIZE` except for an empty draw: a shorter block would
    not be a prefix of the full one.

    Recognition and noise come from the stream ``spawn_key + (block, 0)``,
    month by month: month 1's recognition draws ``(n,)``, then its noise
    ``(n, N)``, then month 2's, and so on.  So the first ``t`` months of every
    run get the same draws whatever the horizon: what happens by month ``t``
    does not depend on how far the scenario looks.  Each uncertain parameter's
    quantiles come from a stream of its own,
    ``spawn_key + (block, 1, crc32(path))``, so scenarios that share a
    parameter path share its draws: comparisons between variants use common
    random numbers even when one variant adds or removes parameters.
    """
    main = _stream(root, block, 0)
    recognition = np.empty((n, compiled.horizon))
    noise = np.empty((n, compiled.horizon, compiled.n_actors))
    for t in range(compiled.horizon):
        recognition[:, t] = main.random(n)
        noise[:, t] = main.standard_normal((n, compiled.n_actors))
    quantiles = np.empty((n, compiled.n_uncertain))
    for p, path in enumerate(compiled.uncertain_paths):
        quantiles[:, p] = _stream(root, block, 1, path_key(path)).random(n)
    return RandomInputs(quantiles=quantiles, recognition=recognition, noise=noise)


#: About how much memory one batch of runs may hold; batch sizes adapt to it.
BATCH_BYTES = 256 * 2**20


def run_bytes(compiled: CompiledScenario) -> int:
    """About how many bytes one run holds while its batch is played.

    Its random inputs (a recognition draw and a perception error per actor per
    month, a quantile per uncertain parameter), its parameters (influence
    weights grow with the square of the number of actors), its state and an
    equilibrium table over the look-ahead, three times over: parameters and
    state are copied as finished runs retire.
    """
    n_act, n_iss = compiled.n_actors, compiled.n_issues
    words = (
        compiled.horizon * (n_act + 1)
        + n_act * n_act
        + 8 * n_act * n_iss
        + compiled.lookahead * n_act
        + 3 * compiled.n_uncertain
        + 16 * (n_act + n_iss)
    )
    return 3 * 8 * words


def batch_size_for(compiled: CompiledScenario, largest: int) -> int:
    """The default runs per batch: ``largest``, or fewer where runs are big.

    Keeps a batch within about :data:`BATCH_BYTES` (at least 64 runs).  A
    run's numbers never depend on its batch, so this changes memory and speed
    only.

    Examples
    --------
    >>> import basesim
    >>> compiled = compile_scenario(basesim.load_scenario("syria-2025"))
    >>> batch_size_for(compiled, 16_384)
    16384
    """
    return max(64, min(largest, BATCH_BYTES // run_bytes(compiled)))


def draw_inputs(
    compiled: CompiledScenario, root: np.random.SeedSequence, start: int, stop: int
) -> RandomInputs:
    """The random inputs of runs ``start`` to ``stop - 1`` of the computation seeded by ``root``.

    Run ``i`` is row ``i % BLOCK_SIZE`` of block ``i // BLOCK_SIZE``; so any
    range of runs gives the same rows, whatever the batch it belongs to.
    """
    if stop <= start:
        return draw_block(compiled, root, 0, 0)
    first, last = start // BLOCK_SIZE, (stop - 1) // BLOCK_SIZE
    parts = []
    for b in range(first, last + 1):
        lo = max(start - b * BLOCK_SIZE, 0)
        hi = min(stop - b * BLOCK_SIZE, BLOCK_SIZE)
        block = draw_block(compiled, root, b)
        parts.append(block.take(slice(lo, hi)))
    return parts[0] if len(parts) == 1 else RandomInputs.concatenate(parts)


def sampled_values(
    compiled: CompiledScenario, quantiles: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The uncertain parameters' values ``(n, P)`` from their quantiles.

    In a scenario with a posterior, the ``posterior.particle`` column picks
    each run's particle and the calibrated paths take its values (their own
    quantiles are ignored).
    """
    out = np.empty(quantiles.shape)
    for p, dist in enumerate(compiled.uncertain_distributions):
        out[:, p] = dist.ppf(quantiles[:, p])
    posterior = compiled.scenario.posterior
    table = compiled.posterior_values
    if posterior is not None and table is not None and PARTICLE_PATH in compiled.uncertain_paths:
        column = {path: p for p, path in enumerate(compiled.uncertain_paths)}
        particle = out[:, column[PARTICLE_PATH]].astype(np.intp)
        for j, path in enumerate(posterior.paths):
            out[:, column[path]] = table[particle, j]
    return out
