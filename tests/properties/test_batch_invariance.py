"""Same rng, same answer to the bit, whatever the batch size.

Run i of a computation always gets the same random inputs (they are drawn in
fixed blocks of runs, whatever the batches), and nothing in a month depends on
the other runs of a batch.  So every entry point, run in one batch (the
default batch size exceeds every run count here) and in batches that do not
divide the block size, must give the same result: every array of every
result, compared exactly.  The only field left out is the wall-clock time of
creation in the provenance.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import basesim
from basesim.engine.batch import run_batch
from basesim.engine.compiled import compile_scenario, draw_inputs
from basesim.engine.outcome import BatchOutcome

POSITION = "actors.syria.basing.position"
TURKEY = "actors.turkey.influence.syria"
# Not compared: when a result was made.
UNCOMPARED = frozenset({"created"})


def _simulate(scenario: basesim.Scenario, batch_size: int | None) -> Any:
    return basesim.simulate(
        scenario, n_runs=1_500, keep_runs=1_500, rng=8, batch_size=batch_size, progress=False
    )


def _compare(scenario: basesim.Scenario, batch_size: int | None) -> Any:
    return basesim.compare(
        {"report": scenario, "quiet": scenario.replace({TURKEY: 0.0})},
        n_runs=1_200,
        keep_runs=300,
        rng=5,
        batch_size=batch_size,
        progress=False,
    )


def _sweep(scenario: basesim.Scenario, batch_size: int | None) -> Any:
    # Turkish pulls above about 0.8 make invalid scenarios: some points fail.
    result = basesim.sweep(
        scenario,
        {POSITION: (0.0, 0.6), TURKEY: (0.0, 0.9)},
        design="sobol",
        n_points=16,
        n_runs=30,
        rng=5,
        batch_size=batch_size,
        progress=False,
    )
    assert 0 < len(result.failures) < 16
    return result


def _sensitivity(scenario: basesim.Scenario, batch_size: int | None) -> Any:
    return basesim.sensitivity(
        scenario,
        {POSITION: (0.0, 0.6), "actors.russia.concession": (0.6, 3.0)},
        outcome="basing=reduced presence",
        n=4,
        n_runs=40,
        n_resamples=99,
        rng=5,
        batch_size=batch_size,
        progress=False,
    )


def _engine(scenario: basesim.Scenario, batch_size: int | None) -> Any:
    # The engine alone: one batch of every run, or a batch of one run and then
    # batches of ``batch_size``, joined.
    n_runs = 1_100
    compiled = compile_scenario(scenario)
    root = np.random.SeedSequence(99)
    if batch_size is None:
        return run_batch(compiled, draw_inputs(compiled, root, 0, n_runs))
    edges = [0, *range(1, n_runs, batch_size), n_runs]
    parts = [
        run_batch(compiled, draw_inputs(compiled, root, lo, hi))
        for lo, hi in itertools.pairwise(edges)
    ]
    joined = {}
    for field in dataclasses.fields(BatchOutcome):
        arrays = [getattr(part, field.name) for part in parts]
        joined[field.name] = None if arrays[0] is None else np.concatenate(arrays)
    return BatchOutcome(**joined)


ENTRY_POINTS: dict[str, Callable[[basesim.Scenario, int | None], Any]] = {
    "simulate": _simulate,
    "compare": _compare,
    "sweep": _sweep,
    "sensitivity": _sensitivity,
    "engine": _engine,
}

# Runs per batch (sweep and sensitivity: per task, in whole points: 200 runs
# are six points of 30, so the 16 points of the sweep make tasks of 6, 6 and 4;
# 100 runs are two points of 40).  333 and 700 do not divide the block of
# 1,024 runs, so batches start and end inside blocks.
CASES = [
    ("simulate", 333),
    ("compare", 700),
    ("sweep", 200),
    ("sensitivity", 100),
    ("engine", 333),
]


@pytest.fixture(scope="module")
def in_one_batch(scenario):
    """Each entry point's result in one batch, computed once for the module."""
    cache: dict[str, Any] = {}

    def get(entry: str) -> Any:
        if entry not in cache:
            cache[entry] = ENTRY_POINTS[entry](scenario, None)
        return cache[entry]

    return get


def assert_identical(a: Any, b: Any, where: str = "result") -> None:
    """Every field of ``a`` and ``b``, recursively, equal to the bit."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)
    elif dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for field in dataclasses.fields(a):
            if field.name not in UNCOMPARED:
                assert_identical(
                    getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}"
                )
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float):
        assert isinstance(b, float) and (a == b or (np.isnan(a) and np.isnan(b))), where
    else:
        assert a == b, where


@pytest.mark.parametrize(("entry", "batch_size"), CASES, ids=[f"{e}-{b}" for e, b in CASES])
def test_results_do_not_depend_on_the_batch_size(scenario, in_one_batch, entry, batch_size):
    whole = in_one_batch(entry)
    batched = ENTRY_POINTS[entry](scenario, batch_size)
    assert_identical(whole, batched)
    if entry == "simulate":
        # The tables printed from the float sums, too.
        assert whole.probabilities().equals(batched.probabilities())
        assert whole.package_summary().equals(batched.package_summary())


def test_the_comparison_covers_every_field():
    # A field added to a result later is compared too: the check walks the
    # dataclass fields, so it fails on a difference in any of them.
    outcome = BatchOutcome(
        package=np.zeros((2, 1)),
        settled=np.zeros((2, 1), dtype=bool),
        settled_round=np.zeros((2, 1), dtype=np.int64),
        settled_by=np.zeros((2, 1), dtype=np.int64),
        proposals=np.zeros((2, 3), dtype=np.int64),
        sampled=np.zeros((2, 0)),
    )
    assert_identical(outcome, outcome)
    nudged = dataclasses.replace(outcome, package=np.array([[0.0], [np.nextafter(0.0, 1.0)]]))
    with pytest.raises(AssertionError, match=r"result\.package"):
        assert_identical(outcome, nudged)
    with pytest.raises(AssertionError, match=r"result\[1\]\.proposals"):
        assert_identical(
            (outcome, outcome),
            (outcome, dataclasses.replace(outcome, proposals=1 + outcome.proposals)),
        )


MODELS = [m for m in basesim.scenario.KNOWN_MODELS if m != "bargaining"]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_gives_the_same_runs_whatever_the_batch_size(scenario, model):
    # The other models chunk, iterate or mix runs in their own ways (smp in
    # cache-sized chunks, nash by Newton steps, ensemble by components): run i
    # must still come out the same in any batch.
    def run(batch_size: int | None) -> Any:
        return basesim.simulate(
            scenario,
            model=model,
            n_runs=200,
            keep_runs=200,
            rng=3,
            batch_size=batch_size,
            progress=False,
        )

    assert_identical(run(None), run(37))
