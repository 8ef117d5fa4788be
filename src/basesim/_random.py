"""One way to be random: SPEC 7 normalisation of ``rng`` arguments."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from basesim.exceptions import SimulationError

__all__ = ["RNGLike", "as_generator", "as_seed_sequence"]

RNGLike: TypeAlias = (
    np.random.Generator | np.random.BitGenerator | np.random.SeedSequence | int | None
)


def as_generator(rng: RNGLike) -> np.random.Generator:
    """Normalise a SPEC 7 ``rng`` argument to a :class:`numpy.random.Generator`."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.BitGenerator):
        return np.random.Generator(rng)
    return np.random.default_rng(as_seed_sequence(rng))


def as_seed_sequence(rng: RNGLike) -> np.random.SeedSequence:
    """Normalise ``rng`` to the root :class:`numpy.random.SeedSequence` of a computation.

    An ``int`` or ``SeedSequence`` gives a reproducible root; ``None`` draws
    fresh entropy; a ``Generator`` contributes fresh entropy drawn from it, so
    passing the same generator state gives the same root.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, bool):
        raise _bad_rng(rng)
    if isinstance(rng, int | np.integer):
        if rng < 0:
            raise SimulationError(f"rng must be a non-negative integer seed (got {int(rng)})")
        return np.random.SeedSequence(int(rng))
    if isinstance(rng, np.random.BitGenerator):
        rng = np.random.Generator(rng)
    if isinstance(rng, np.random.Generator):
        entropy = rng.integers(0, 2**63, size=4, dtype=np.uint64)
        return np.random.SeedSequence([int(e) for e in entropy])
    raise _bad_rng(rng)


def _bad_rng(rng: object) -> SimulationError:
    return SimulationError(
        "rng must be a numpy Generator, BitGenerator, SeedSequence, non-negative int or None "
        f"(got {rng!r} of type {type(rng).__name__})"
    )
