"""Random damage to a sweep checkpoint chunk gives its points back unchanged or a CheckpointError.

The chunk holds two points of the small scenario, one simulated and one failed.
Damage to its bytes (flip, cut, insert) or to its fields (any metadata key set to
any JSON value, any array replaced by another shape, type or sign) must never
escape as anything but :class:`~basesim.exceptions.CheckpointError`, and what
does load must count what was saved.
"""

from __future__ import annotations

import io
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from basesim.exceptions import CheckpointError
from basesim.experiments.checkpoints import SweepCheckpoint
from basesim.outcomes import OutcomeTable
from basesim.scenarios.toml_io import read_scenario_text
from basesim.testing import SMALL_SCENARIO_TOML

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
TABLE = OutcomeTable.of(read_scenario_text(SMALL_SCENARIO_TOML))
N_RUNS = 10
FINGERPRINT = {"scenario_toml": SMALL_SCENARIO_TOML, "n_runs": N_RUNS}
NAME = "chunk-000000002-000000003.npz"


def _good_chunk(tmp_path_factory):
    joint = np.zeros(TABLE.shape, dtype=np.int64)
    joint[0, 0], joint[-1, -1] = 7, 3  # 7 runs withdrawal / little, 3 no agreement
    row = np.concatenate([joint.ravel(), joint.sum(axis=1), joint.sum(axis=0)])
    counts = np.stack([row, np.zeros_like(row)])
    folder = tmp_path_factory.mktemp("good")
    with SweepCheckpoint.open(folder, FINGERPRINT, n_points=4, n_runs=N_RUNS, table=TABLE) as s:
        path = s.save((2, 3), counts, ((3, "ValueError", "bad point"),))
        expected = s.load()
    return path.read_bytes(), expected


def _load_or_refuse(folder, data, expected):
    (folder / NAME).write_bytes(data)
    with SweepCheckpoint.open(folder, FINGERPRINT, n_points=4, n_runs=N_RUNS, table=TABLE) as s:
        try:
            counts, failures = s.load()
        except CheckpointError as exc:
            assert NAME in str(exc)
            return
    # The failed points are the same (a consistent edit may change a failure's message).
    assert set(failures) == set(expected[1])
    assert sorted(counts) == sorted(expected[0])
    for point, row in counts.items():
        np.testing.assert_array_equal(row, expected[0][point])


@SETTINGS
@given(data=st.data())
def test_damaged_chunk_bytes_are_refused(tmp_path_factory, data):
    good, expected = _good_chunk(tmp_path_factory)
    at = data.draw(st.integers(0, len(good) - 1))
    kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if kind == "flip":
        bad = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1 :]
    elif kind == "cut":
        bad = good[:at] + good[at + data.draw(st.integers(1, len(good) - at)) :]
    else:
        bad = good[:at] + data.draw(st.binary(min_size=1, max_size=32)) + good[at:]
    _load_or_refuse(tmp_path_factory.mktemp("bytes"), bad, expected)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@SETTINGS
@given(data=st.data())
def test_damaged_chunk_fields_are_refused(tmp_path_factory, data):
    good, expected = _good_chunk(tmp_path_factory)
    with np.load(io.BytesIO(good)) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["metadata"].tobytes())
    target = data.draw(st.sampled_from(["meta", "failure", "array"]))
    if target == "meta":
        meta[data.draw(st.sampled_from([*sorted(meta), "extra"]))] = data.draw(JSON)
    elif target == "failure":
        meta["failures"].append(data.draw(JSON))
    else:
        name = data.draw(st.sampled_from(["points", "counts"]))
        value = arrays[name]
        change = data.draw(st.sampled_from(["float", "negate", "drop", "double", "shift", "uint"]))
        if change == "float":
            value = value.astype(np.float64)
        elif change == "negate":
            value = -value
        elif change == "drop":
            value = value[1:]
        elif change == "double":
            value = value * 2
        elif change == "shift":
            value = value + 1
        else:
            value = value.astype(np.uint64) + np.uint64(2**63)
        arrays[name] = value
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _load_or_refuse(tmp_path_factory.mktemp("fields"), buffer.getvalue(), expected)
