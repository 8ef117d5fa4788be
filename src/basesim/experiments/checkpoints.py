"""Sweep checkpoints: finished chunks of design points on disk, so a killed sweep resumes.

A checkpoint folder holds

* ``sweep.json``: the sweep's *fingerprint* (scenario TOML, swept parameters,
  design, ``n_points``, ``n_runs``, seed entropy, basesim version and a digest of
  the design points), written once when the sweep starts;
* ``chunk-<first>-<last>.npz``: one file per finished task, with the indices of
  its points, their outcome counts and (as JSON) the points that failed.

Every file is written atomically (a temporary file, then a rename), so a sweep
killed at any moment leaves only whole files; NumPy arrays and JSON, never
pickle.  A sweep started again with the same arguments reads the finished
points and simulates only the others; a folder written by a different sweep is
refused with :class:`~basesim.exceptions.CheckpointError`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim._io import write_bytes_atomic, write_text_atomic
from basesim.exceptions import CheckpointError

__all__ = ["SweepCheckpoint", "fingerprint_digest"]

_FORMAT = "basesim-sweep-checkpoint"
_FORMAT_VERSION = 1
_MANIFEST = "sweep.json"

# Fingerprint fields, in the order a mismatch is reported, with how to name them.
_FIELDS = {
    "format": "checkpoint format",
    "format_version": "checkpoint format version",
    "basesim_version": "basesim version",
    "scenario_toml": "scenario",
    "parameters": "parameters",
    "design": "design",
    "n_points": "n_points",
    "n_runs": "n_runs",
    "entropy": "rng entropy",
    "spawn_key": "rng spawn key",
    "points_sha256": "design points (same arguments, other points: another SciPy version?)",
}


def fingerprint_digest(fingerprint: Mapping[str, Any]) -> str:
    """SHA-256 of the fingerprint's canonical JSON."""
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class SweepCheckpoint:
    """A checkpoint folder opened for one sweep (see the module docstring)."""

    directory: Path
    digest: str
    n_points: int
    n_columns: int

    @classmethod
    def open(
        cls,
        directory: str | PathLike[str],
        fingerprint: Mapping[str, Any],
        *,
        n_points: int,
        n_columns: int,
    ) -> SweepCheckpoint:
        """Open (or start) the checkpoint of the sweep with this ``fingerprint``.

        Raises
        ------
        CheckpointError
            If the folder holds another sweep's checkpoint, or is not a folder.
        """
        directory = Path(directory)
        fingerprint = {"format": _FORMAT, "format_version": _FORMAT_VERSION, **fingerprint}
        if directory.exists() and not directory.is_dir():
            raise CheckpointError(f"checkpoint must be a folder (got the file {str(directory)!r})")
        manifest = directory / _MANIFEST
        if manifest.exists():
            try:
                saved = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CheckpointError(
                    f"checkpoint {str(manifest)!r} is not readable JSON ({exc})"
                ) from None
            if not isinstance(saved, dict):
                raise CheckpointError(
                    f"checkpoint {str(manifest)!r} must hold a JSON object (got {saved!r})"
                )
            _check_same(directory, saved, fingerprint)
        else:
            write_text_atomic(manifest, json.dumps(fingerprint, indent=1, sort_keys=True) + "\n")
        return cls(
            directory=directory,
            digest=fingerprint_digest(fingerprint),
            n_points=n_points,
            n_columns=n_columns,
        )

    def load(self) -> tuple[dict[int, NDArray[np.int64]], dict[int, tuple[str, str]]]:
        """The finished points: counts by point, and failures ``point -> (error, message)``.

        Raises
        ------
        CheckpointError
            If a chunk file is damaged or does not belong to this sweep.
        """
        counts: dict[int, NDArray[np.int64]] = {}
        failures: dict[int, tuple[str, str]] = {}
        for path in sorted(self.directory.glob("chunk-*.npz")):
            points, rows, failed = self._read(path)
            for j, point in enumerate(points):
                if point in counts:
                    raise CheckpointError(f"{path}: point {point} is also in another chunk file")
                counts[point] = rows[j]
            failures.update(failed)
        return counts, failures

    def save(
        self,
        points: tuple[int, ...],
        counts: NDArray[np.int64],
        failures: tuple[tuple[int, str, str], ...],
    ) -> Path:
        """Write one finished chunk, atomically."""
        meta = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "fingerprint_sha256": self.digest,
            "failures": [list(f) for f in failures],
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            points=np.asarray(points, dtype=np.int64),
            counts=np.asarray(counts, dtype=np.int64),
            metadata=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
        )
        name = f"chunk-{min(points):09d}-{max(points):09d}.npz"
        return write_bytes_atomic(self.directory / name, buffer.getvalue())

    def _read(self, path: Path) -> tuple[list[int], NDArray[np.int64], dict[int, tuple[str, str]]]:
        hint = "delete the file to simulate its points again"
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(arrays["metadata"].tobytes().decode("utf-8"))
            points = [int(p) for p in arrays["points"]]
            rows = arrays["counts"]
        except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
            raise CheckpointError(
                f"{path}: not a readable checkpoint chunk ({exc!r}); {hint}"
            ) from None
        if not isinstance(meta, dict) or meta.get("fingerprint_sha256") != self.digest:
            raise CheckpointError(
                f"{path}: the chunk belongs to another sweep (fingerprint differs); {hint}"
            )
        if rows.shape != (len(points), self.n_columns) or rows.dtype.kind not in "iu":
            raise CheckpointError(
                f"{path}: counts must have shape {(len(points), self.n_columns)} and integer type "
                f"(got {rows.shape}, {rows.dtype}); {hint}"
            )
        if any(not 0 <= p < self.n_points for p in points) or len(set(points)) != len(points):
            raise CheckpointError(
                f"{path}: point indices must be distinct and in [0, {self.n_points}); {hint}"
            )
        failed: dict[int, tuple[str, str]] = {}
        try:
            for point, error, message in meta.get("failures", []):
                failed[int(point)] = (str(error), str(message))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(
                f"{path}: failures metadata is malformed ({exc}); {hint}"
            ) from None
        if not set(failed) <= set(points):
            raise CheckpointError(f"{path}: failures name points the chunk does not hold; {hint}")
        return points, rows.astype(np.int64), failed


def _check_same(directory: Path, saved: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    for key, label in _FIELDS.items():
        old, new = saved.get(key), now.get(key)
        if old == new:
            continue
        if key == "scenario_toml":
            detail = "scenario differs (its TOML text is not the same)"
        elif key == "points_sha256":
            detail = f"{label} differ"
        else:
            detail = f"{label} differs (checkpoint {old!r}, now {new!r})"
        raise CheckpointError(
            f"checkpoint {str(directory)!r} holds another sweep's results: {detail}; "
            "pass another checkpoint folder, or delete this one to start afresh"
        )
