"""load_result on damaged, tampered and inconsistent files: a ResultError naming what is wrong."""

from __future__ import annotations

import hashlib
import json
import os

import numpy as np
import pytest

import basesim
from basesim.engine.outcome import BatchOutcome
from basesim.exceptions import ResultError
from basesim.results import Provenance, SimulationResult, Tally, scenario_digest


@pytest.fixture(scope="module")
def small(small_scenario) -> SimulationResult:
    """Three hand-made runs of the small scenario, all kept (a file of a few kilobytes)."""
    scenario = small_scenario
    k, n = len(scenario.issues), len(scenario.actors)
    outcome = BatchOutcome(
        package=np.full((3, k), 0.25),
        settled=np.array([[True] * k, [False] * k, [True] + [False] * (k - 1)]),
        settled_round=np.array([[1] * k, [0] * k, [2] + [0] * (k - 1)], dtype=np.int64),
        settled_by=np.array([[0] * k, [-1] * k, [1] + [-1] * (k - 1)], dtype=np.int64),
        proposals=np.zeros((3, n), dtype=np.int64),
        sampled=np.full((3, len(scenario.uncertain_parameters())), 0.5),
    )
    tally = Tally.empty(scenario)
    tally.add(outcome)
    provenance = Provenance(
        basesim_version=basesim.__version__,
        engine="batch",
        entropy=7,
        spawn_key=(),
        block_size=1024,
        created="2025-01-01T00:00:00+00:00",
    )
    return SimulationResult(
        scenario=scenario, n_runs=3, tally=tally, runs=outcome, provenance=provenance
    )


def _arrays(path):
    with np.load(path) as data:
        return {name: data[name] for name in data.files}


def _meta(arrays):
    return json.loads(arrays["metadata"].tobytes())


def _write(path, arrays, meta=None):
    if meta is not None:
        arrays = {**arrays, "metadata": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    np.savez(path, **arrays)
    return path


def test_the_small_result_round_trips(small, tmp_path):
    loaded = basesim.load_result(small.save(tmp_path / "r.npz"))
    assert loaded.probabilities().equals(small.probabilities())
    assert loaded.provenance == small.provenance
    meta = _meta(_arrays(tmp_path / "r.npz"))
    # The digest is that of the scenario's canonical TOML, which is what the file holds.
    assert meta["scenario_sha256"] == hashlib.sha256(meta["scenario_toml"].encode()).hexdigest()
    assert meta["scenario_sha256"] == scenario_digest(small.scenario)
    assert meta["outcomes"][-1] == [small.scenario.issue_names[-1], "unsettled"]


def _edit(key, value):
    def change(meta):
        meta[key] = value

    return change


def _provenance(key, value):
    def change(meta):
        meta["provenance"][key] = value

    return change


def _delete(key):
    def change(meta):
        del meta[key]

    return change


def _relabel(meta):
    """Rename the first category of the first issue, and fix up the digest: labels disagree."""
    first = meta["outcomes"][len(meta["outcomes"]) - 1]  # an issue row, to find a category
    assert first[1] == "unsettled"
    old = next(label for table, label in meta["outcomes"] if table == first[0])
    text = meta["scenario_toml"].replace(json.dumps(old), json.dumps(old + " (edited)"), 1)
    assert text != meta["scenario_toml"]
    meta["scenario_toml"] = text
    meta["scenario_sha256"] = hashlib.sha256(text.encode()).hexdigest()


def _edit_scenario_only(meta):
    meta["scenario_toml"] = meta["scenario_toml"].replace("horizon = ", "horizon = 1", 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_edit("n_runs", 0), r"metadata.n_runs must be a whole number >= 1 \(got 0\)"),
        (_edit("n_runs", True), r"metadata.n_runs must be a whole number >= 1 \(got True\)"),
        (_edit("n_runs", 2.5), r"metadata.n_runs must be a whole number >= 1 \(got 2.5\)"),
        (_edit("n_runs", 4), "tally_joint do not add up to n_runs = 4"),
        (
            _edit("target_precision", "0.01"),
            r"metadata.target_precision must be null or a number in \(0, 0.5\) \(got '0.01'\)",
        ),
        (_edit("target_precision", 1e308), r"target_precision must be null or a number"),
        (_edit("has_runs", 1), r"metadata.has_runs must be true or false \(got 1\)"),
        (_edit("has_runs", False), r"unexpected arrays 'runs_component', 'runs_package', .*has_runs is false"),
        (_edit("failures", [[0, "ValueError", "x"]]), r"metadata keys are wrong \(unknown 'failures'\)"),
        (_delete("outcomes"), r"metadata keys are wrong \(missing outcomes\)"),
        (_edit("format_version", 2), r"format_version must be 4 \(got 2\); .*older basesim.*digest"),
        (_edit("format_version", True), r"format_version must be 4 \(got True\)$"),
        (_edit("format", "other"), r"metadata.format must be 'basesim-result' \(got 'other'\)"),
        (_relabel, r"metadata.outcomes do not match the embedded scenario's outcome tables"),
        (_edit_scenario_only, "the embedded scenario was edited after the result was saved"),
        (_edit("scenario_toml", 3), r"metadata.scenario_toml must be a non-empty string"),
        (_edit("outcomes", "joint"), r"metadata.outcomes do not match .* columns expected"),
        (_provenance("entropy", "-1"), r"provenance.entropy must be a whole number >= 0"),
        (_provenance("entropy", 1e308), r"provenance.entropy must be a whole number >= 0"),
        (_provenance("entropy", "9" * 5000), r"provenance.entropy has too many digits \(5000\)"),
        (_provenance("entropy", []), r"provenance.entropy must not be an empty list"),
        (_provenance("spawn_key", [-1]), r"provenance.spawn_key must be a list of whole numbers"),
        (_provenance("block_size", 1e300), r"provenance.block_size must be a whole number in"),
        (_provenance("engine", "gpu"), r"provenance.engine must be one of batch, mesa, numpy \(got 'gpu'\)"),
        (_provenance("created", None), r"provenance.created must be a non-empty string"),
        (_provenance("extra", 1), r"metadata.provenance must be an object with keys"),
    ],
)  # fmt: skip
def test_inconsistent_metadata_is_refused(small, tmp_path, change, message):
    arrays = _arrays(small.save(tmp_path / "good.npz"))
    meta = _meta(arrays)
    change(meta)
    with pytest.raises(ResultError, match=message):
        basesim.load_result(_write(tmp_path / "bad.npz", arrays, meta))


def test_extra_arrays_and_odd_entries_are_refused(small, tmp_path):
    arrays = _arrays(small.save(tmp_path / "good.npz"))
    with pytest.raises(ResultError, match=r"unexpected arrays 'failures'"):
        basesim.load_result(_write(tmp_path / "a.npz", {**arrays, "failures": np.arange(2)}))
    with pytest.raises(ResultError, match=r"metadata entry must be 1-D bytes"):
        odd = {**arrays, "metadata": arrays["metadata"].astype(np.int64)}
        basesim.load_result(_write(tmp_path / "b.npz", odd))
    # Counts above n_runs, however they are typed, and sums out of range.
    huge = {**arrays, "tally_joint": arrays["tally_joint"].astype(np.uint64) * 2**62}
    with pytest.raises(ResultError, match=r"'tally_joint' holds a count above n_runs = 3"):
        basesim.load_result(_write(tmp_path / "c.npz", huge))
    sums = {**arrays, "tally_package_sum": -arrays["tally_package_sum"]}
    with pytest.raises(ResultError, match=r"'tally_package_sum' must hold sums .* \[0, 3\]"):
        basesim.load_result(_write(tmp_path / "d.npz", sums))
    package = {**arrays, "runs_package": arrays["runs_package"] + 1}
    with pytest.raises(ResultError, match=r"runs_package must hold issue values in \[0, 1\]"):
        basesim.load_result(_write(tmp_path / "e.npz", package))


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "metadata is not valid JSON"),
        (b'{"format": NaN}', r"metadata is not valid JSON \(ValueError: NaN is not a JSON number"),
        (b"\xff\xfe", "metadata is not valid JSON .*UnicodeDecodeError"),
        (b"[1, 2]", r"metadata.format must be 'basesim-result' \(got \[1, 2\]\)"),
    ],
)
def test_malformed_metadata_is_refused(small, tmp_path, metadata, message):
    arrays = _arrays(small.save(tmp_path / "good.npz"))
    arrays["metadata"] = np.frombuffer(metadata, dtype=np.uint8)
    with pytest.raises(ResultError, match=message):
        basesim.load_result(_write(tmp_path / "bad.npz", arrays))


def test_damaged_archives_are_refused(small, tmp_path):
    good = small.save(tmp_path / "good.npz").read_bytes()
    cases = {
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "flipped": good[:40] + bytes([good[40] ^ 0xFF]) + good[41:],
        "pickle": b"\x80\x04K\x01.",
    }
    for name, data in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(data)
        with pytest.raises(ResultError, match=rf"{name}.npz: not a readable result file"):
            basesim.load_result(path)


def test_a_fifo_or_a_folder_is_refused_without_blocking(tmp_path):
    # Opening a FIFO for reading blocks until a writer comes: load_result must not open it so.
    fifo = tmp_path / "result.npz"
    os.mkfifo(fifo)
    with pytest.raises(ResultError, match=r"result.npz' must be a regular file \(got a FIFO\)"):
        basesim.load_result(fifo)
    with pytest.raises(ResultError, match=r"must be a regular file \(got a folder\)"):
        basesim.load_result(tmp_path)
    with pytest.raises(ResultError, match="does not exist"):
        basesim.load_result(tmp_path / "missing.npz")
