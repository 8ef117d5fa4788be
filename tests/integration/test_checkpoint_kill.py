"""A sweep killed with SIGKILL resumes from its checkpoint, losing and repeating nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import basesim

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

N_POINTS = 64
PARAMETERS = {
    "actors.syria.basing.position": (0.0, 0.6),
    # Up to 0.9: with the investors' 0.3 some points are invalid, and their
    # failures must survive the checkpoint too.
    "actors.turkey.influence.syria": (0.0, 0.9),
}
# Two points per chunk (a task), a fraction of a second each.
ARGS = {"design": "lhs", "n_points": N_POINTS, "n_runs": 100, "batch_size": 200, "rng": 2024}

CHILD = textwrap.dedent(
    """
    import sys
    import basesim

    basesim.sweep(
        basesim.load_scenario("syria-2025"),
        {parameters!r},
        checkpoint=sys.argv[1],
        progress=False,
        **{args!r},
    )
    """
)


def _chunks(folder: Path) -> list[Path]:
    return sorted(folder.glob("chunk-*.npz"))


def _points(path: Path) -> list[int]:
    with np.load(path) as data:
        return data["points"].tolist()


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path):
    folder = tmp_path / "checkpoint"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(parameters=PARAMETERS, args=ARGS), encoding="utf-8")
    env = dict(os.environ)
    src = str(Path(basesim.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [src, env.get("PYTHONPATH", "")] if p)
    child = subprocess.Popen(
        [sys.executable, str(script), str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_chunks(folder)) < 3:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the sweep wrote no checkpoint in two minutes"
            time.sleep(0.01)
        # Killed mid-sweep: still running, some chunks written, not all.
        assert child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    written = {path: path.stat().st_mtime_ns for path in _chunks(folder)}
    with_points = sum(len(_points(path)) for path in written)
    assert 0 < with_points < N_POINTS

    scenario = basesim.load_scenario("syria-2025")
    resumed = basesim.sweep(scenario, PARAMETERS, checkpoint=folder, progress=False, **ARGS)
    # Nothing repeated: the chunks on disk were read, not rewritten ...
    assert resumed.resumed_points == with_points
    assert {path: path.stat().st_mtime_ns for path in written} == written
    # ... and nothing lost: every point is on disk exactly once.
    on_disk = [point for path in _chunks(folder) for point in _points(path)]
    assert sorted(on_disk) == list(range(N_POINTS))

    uninterrupted = basesim.sweep(scenario, PARAMETERS, progress=False, **ARGS)
    np.testing.assert_array_equal(resumed.points, uninterrupted.points)
    np.testing.assert_array_equal(resumed.counts, uninterrupted.counts)
    assert resumed.failures == uninterrupted.failures
    assert 0 < len(uninterrupted.failures) < N_POINTS
