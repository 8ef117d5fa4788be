"""Sweep checkpoints: every chunk checked whole, only regular files read, one sweep per folder."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from contextlib import contextmanager

import numpy as np
import pytest

import basesim
from basesim.exceptions import CheckpointError
from basesim.experiments.checkpoints import SweepCheckpoint
from basesim.outcomes import OutcomeTable
from basesim.scenarios.toml_io import read_scenario_text
from basesim.testing import SMALL_SCENARIO_TOML, many_issues_scenario

SCENARIO = read_scenario_text(SMALL_SCENARIO_TOML)
# basing: 3 categories + unsettled, relief: 2 + unsettled -> a 4 x 3 joint table;
# columns: 12 joint cells, then 4 basing rows, then 3 relief rows.
TABLE = OutcomeTable.of(SCENARIO)
N_RUNS = 10
FINGERPRINT = {"scenario_toml": SMALL_SCENARIO_TOML, "n_runs": N_RUNS, "entropy": "1"}


def _row(cells: dict[tuple[int, int], int]) -> np.ndarray:
    """A point's counts from its joint cells: the issue tables are the joint table's sums."""
    joint = np.zeros(TABLE.shape, dtype=np.int64)
    for cell, count in cells.items():
        joint[cell] = count
    return np.concatenate([joint.ravel(), joint.sum(axis=1), joint.sum(axis=0)])


# Point 4: 6 runs withdrawal / little, 4 no agreement; point 5 failed (zero counts).
GOOD = np.stack([_row({(0, 0): 6, (3, 2): 4}), np.zeros(TABLE.n_columns, dtype=np.int64)])
FAILED = ((5, "ValueError", "influence weights sum above 1"),)


def _open(folder, **kwargs):
    args = {"n_points": 8, "n_runs": N_RUNS, "table": TABLE, **kwargs}
    return SweepCheckpoint.open(folder, FINGERPRINT, **args)


@contextmanager
def _deadline(seconds):
    """Fail, rather than hang the test run, if the block blocks (on a FIFO, say)."""

    def expire(signum, frame):
        raise AssertionError(f"blocked for more than {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_chunks_round_trip(tmp_path):
    with _open(tmp_path) as store:
        path = store.save((4, 5), GOOD, FAILED)
        assert path.name == "chunk-000000004-000000005.npz"
        counts, failures = store.load()
    assert sorted(counts) == [4, 5]
    np.testing.assert_array_equal(counts[4], GOOD[0])
    assert failures == {5: ("ValueError", "influence weights sum above 1")}


def _tamper(tmp_path, *, points=(4, 5), counts=GOOD, failures=FAILED, meta=None, name=None):
    """Write a chunk as the store would, then apply the changes, and return its path."""
    with _open(tmp_path) as store:
        path = store.save((4, 5), GOOD, FAILED)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    saved = json.loads(arrays["metadata"].tobytes())
    saved["failures"] = [list(f) for f in failures]
    saved.update(meta or {})
    arrays.update(points=np.asarray(points), counts=np.asarray(counts))
    arrays["metadata"] = np.frombuffer(json.dumps(saved).encode(), dtype=np.uint8)
    if name is not None:
        path.unlink()
        path = tmp_path / name
    np.savez(path, **arrays)
    return path


def _shift(row, frm, to):
    out = row.copy()
    out[frm] -= 1
    out[to] += 1
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"counts": np.stack([GOOD[0] + (np.arange(19) == 1), GOOD[1]])},
         r"point 4: the 'joint' counts add up to 11, not n_runs = 10"),
        ({"counts": np.stack([_shift(GOOD[0], 12, 13), GOOD[1]])},
         r"point 4: the 'basing' counts disagree with the joint table"),
        ({"counts": np.stack([GOOD[0] - 2 * (np.arange(19) == 1) + 2 * (np.arange(19) == 0),
                              GOOD[1]])}, r"counts must lie in \[0, n_runs = 10\]"),
        ({"counts": GOOD[:, :18]}, r"counts must have shape \(2, 19\) and integer type"),
        ({"counts": GOOD.astype(float)}, r"counts must have shape \(2, 19\) and integer type"),
        ({"failures": ()}, "point 5 has no counts and no recorded failure"),
        ({"failures": ((4, "ValueError", "x"), *FAILED)},
         r"failures\[0\] names point 4, which has counts"),
        ({"failures": (*FAILED, (6, "ValueError", "x"))},
         r"failures\[1\] names point 6, which the chunk does not hold"),
        ({"failures": (*FAILED, *FAILED)}, "names point 5 twice"),
        ({"failures": ((5, 3, "x"),)}, r"failures\[0\] must be \[point, error type, message\]"),
        ({"meta": {"failures": {"5": "x"}}}, "metadata.failures must be a list"),
        ({"meta": {"extra": 1}}, "metadata must be an object with keys"),
        ({"meta": {"fingerprint_sha256": "0" * 64}}, "belongs to another sweep"),
        ({"meta": {"format_version": 2}}, "not a chunk of this checkpoint format"),
        ({"points": (4, 4)}, "point indices must be distinct"),
        ({"points": (4, 8)}, r"point indices must lie in \[0, 8\)"),
        ({"points": (4.0, 5.0)}, "points must be a non-empty 1-D integer array"),
        ({"name": "chunk-000000000-000000001.npz"}, "the file name does not match its points"),
    ],
)  # fmt: skip
def test_inconsistent_chunks_are_refused(tmp_path, change, message):
    _tamper(tmp_path, **change)
    with _open(tmp_path) as store, pytest.raises(CheckpointError, match=message) as info:
        store.load()
    assert str(info.value).endswith("delete the file to simulate its points again")


@pytest.mark.parametrize(
    "data",
    [b"", b"PK\x03\x04 truncated", b"\x93NUMPY", b"\x80\x04K\x01."],
)
def test_damaged_chunks_are_refused(tmp_path, data):
    (tmp_path / "chunk-000000000-000000001.npz").write_bytes(data)
    with _open(tmp_path) as store, pytest.raises(CheckpointError, match="not a readable"):
        store.load()


def test_an_extra_array_is_refused(tmp_path):
    path = _tamper(tmp_path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez(path, **arrays, failures=np.arange(3))
    with _open(tmp_path) as store, pytest.raises(CheckpointError, match="unexpected entry"):
        store.load()


def test_a_fifo_named_like_a_chunk_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "chunk-000000000-000000003.npz")
    fifo = r"must be a regular file \(got a FIFO\)"
    with _deadline(20), _open(tmp_path) as store, pytest.raises(CheckpointError, match=fifo):
        store.load()


@pytest.mark.parametrize("name", ["sweep.json", "sweep.lock"])
def test_a_fifo_as_manifest_or_lock_is_refused(tmp_path, name):
    os.mkfifo(tmp_path / name)
    with _deadline(20), pytest.raises(CheckpointError, match="must be a regular file"):
        _open(tmp_path)


def test_a_manifest_with_another_field_is_refused(tmp_path):
    _open(tmp_path).close()
    manifest = tmp_path / "sweep.json"
    saved = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**saved, "failures": []}))
    with pytest.raises(CheckpointError, match="it has a field 'failures' this sweep does not"):
        _open(tmp_path)
    manifest.write_text("[" * 100_000)
    with pytest.raises(CheckpointError, match="is not valid JSON"):
        _open(tmp_path)


def test_a_second_opener_is_refused_and_told_who_holds_the_folder(tmp_path):
    first = _open(tmp_path)
    holder = json.loads((tmp_path / "sweep.lock").read_text())
    assert holder["pid"] == os.getpid()
    assert holder["host"] == socket.gethostname()
    message = (
        f"checkpoint '{tmp_path}' is in use by process {os.getpid()} on host "
        f"'{socket.gethostname()}' (since {holder['since']}): another sweep"
    )
    with pytest.raises(CheckpointError, match=re.escape(message)):
        _open(tmp_path)
    first.close()
    assert (tmp_path / "sweep.lock").read_text() == ""  # released: nobody named
    with _open(tmp_path):
        pass


def test_sweep_refuses_a_locked_or_unwritable_checkpoint(tmp_path):
    params = {"actors.syria.basing.position": (0.0, 0.5)}

    def sweep(folder):
        return basesim.sweep(SCENARIO, params, n_points=2, n_runs=5, checkpoint=folder, rng=1)

    held = tmp_path / "held"
    with _open(held), pytest.raises(CheckpointError, match="is in use by process"):
        sweep(held)
    # Now free, but holding another computation's checkpoint: refused, and the lock released.
    with pytest.raises(CheckpointError, match="holds another sweep's results"):
        sweep(held)
    _open(held).close()
    # A sweep that ran releases the lock too: a second one resumes everything.
    fresh = tmp_path / "fresh"
    assert sweep(fresh).resumed_points == 0
    assert (fresh / "sweep.lock").read_text() == ""
    assert sweep(fresh).resumed_points == 2
    with pytest.raises(CheckpointError, match="cannot create the checkpoint folder '/proc/nope'"):
        sweep("/proc/nope")


def test_chunks_of_a_joint_table_that_is_not_enumerated(tmp_path):
    # Eight issues of two categories: 3 ** 8 combinations, above MAX_JOINT_CELLS, so
    # the joint table is (every issue settled, some issues settled, no agreement).
    table = OutcomeTable.of(many_issues_scenario(n_issues=8))
    assert not table.enumerated and table.n_columns == 3 + 8 * 3
    # 6 runs settled every issue low, 4 settled none.
    good = np.array([[6, 0, 4] + [6, 0, 4] * 8], dtype=np.int64)
    fingerprint = {**FINGERPRINT, "scenario_toml": "eight issues"}
    with SweepCheckpoint.open(
        tmp_path / "ok", fingerprint, n_points=8, n_runs=N_RUNS, table=table
    ) as store:
        store.save((2,), good, ())
        counts, _ = store.load()
    np.testing.assert_array_equal(counts[2], good[0])
    # Six runs with no agreement, but issue i3 unsettled in only four: refused.
    bad = good.copy()
    bad[0, :3] = [4, 0, 6]
    for k in range(8):
        if k != 3:
            bad[0, 3 + 3 * k : 6 + 3 * k] = [4, 0, 6]
    with SweepCheckpoint.open(
        tmp_path / "bad", fingerprint, n_points=8, n_runs=N_RUNS, table=table
    ) as store:
        store.save((2,), bad, ())
        with pytest.raises(CheckpointError, match=r"point 2: the 'i3' counts disagree"):
            store.load()
