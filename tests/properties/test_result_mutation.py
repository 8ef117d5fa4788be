"""Random damage to a saved result gives the same result back or a ResultError, nothing else.

Two kinds of damage: to the bytes of the file (flip, cut, insert; the archive is
compressed, so most land in the zip structure or the deflate streams), and to the
fields of a well-formed file (any metadata key, or a nested provenance key, set to
any JSON value; any array replaced by another shape, type or sign).  Whatever comes
out of :func:`basesim.load_result` must be a result equal in its counts to the
original, or a :class:`~basesim.exceptions.ResultError`.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import basesim
from basesim.exceptions import ResultError

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, small_scenario):
    result = basesim.simulate(small_scenario, n_runs=40, keep_runs=8, rng=5)
    path = result.save(tmp_path_factory.mktemp("result") / "good.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    return result, path.read_bytes(), arrays


def _load_or_refuse(path, original):
    """Load ``path``: either a ResultError, or a result that counts what ``original`` counts."""
    try:
        loaded = basesim.load_result(path)
    except ResultError as exc:
        assert str(exc).startswith(str(path)) or repr(str(path)) in str(exc)
        return
    np.testing.assert_array_equal(loaded.tally.counts(), original.tally.counts())


@st.composite
def byte_damage(draw, size):
    kind = draw(st.sampled_from(["flip", "cut", "insert", "overwrite"]))
    at = draw(st.integers(0, size - 1))
    if kind == "flip":
        return kind, at, draw(st.integers(1, 255))
    if kind == "cut":
        return kind, at, draw(st.integers(1, size - at))
    return kind, at, draw(st.binary(min_size=1, max_size=64))


@SETTINGS
@given(data=st.data())
def test_damaged_bytes_are_refused(saved, tmp_path_factory, data):
    result, good, _ = saved
    kind, at, arg = data.draw(byte_damage(len(good)))
    if kind == "flip":
        bad = good[:at] + bytes([good[at] ^ arg]) + good[at + 1 :]
    elif kind == "cut":
        bad = good[:at] + good[at + arg :]
    elif kind == "insert":
        bad = good[:at] + arg + good[at:]
    else:
        bad = good[:at] + arg + good[at + len(arg) :]
    path = tmp_path_factory.mktemp("bytes") / "bad.npz"
    path.write_bytes(bad)
    _load_or_refuse(path, result)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["1", "0", "batch", "-1", "9" * 5000]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@SETTINGS
@given(data=st.data())
def test_damaged_fields_are_refused(saved, tmp_path_factory, data):
    result, _, arrays = saved
    arrays = dict(arrays)
    meta = json.loads(arrays["metadata"].tobytes())
    target = data.draw(st.sampled_from(["meta", "provenance", "array", "extra"]))
    if target == "meta":
        meta[data.draw(st.sampled_from(sorted(meta)))] = data.draw(JSON)
    elif target == "provenance":
        meta["provenance"][data.draw(st.sampled_from(sorted(meta["provenance"])))] = data.draw(
            JSON
        )
    elif target == "extra":
        meta[data.draw(st.sampled_from(["failures", "n_runs ", "Format"]))] = data.draw(JSON)
    else:
        name = data.draw(st.sampled_from(sorted(set(arrays) - {"metadata"})))
        value = arrays[name]
        change = data.draw(st.sampled_from(["float", "negate", "drop row", "double", "uint"]))
        if change == "float":
            value = value.astype(np.float64) + 0.5
        elif change == "negate":
            value = -value.astype(np.float64 if value.dtype.kind in "bf" else np.int64)
        elif change == "drop row":
            value = value[1:]
        elif change == "double":
            value = value * 2
        else:
            value = value.astype(np.uint64) * np.uint64(2**62)
        arrays[name] = value
    arrays["metadata"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path = tmp_path_factory.mktemp("fields") / "bad.npz"
    path.write_bytes(buffer.getvalue())
    _load_or_refuse(path, result)
