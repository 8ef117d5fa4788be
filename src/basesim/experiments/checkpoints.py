"""Sweep checkpoints: finished chunks of design points on disk, so a killed sweep resumes.

A checkpoint folder holds

* ``sweep.json``: the sweep's *fingerprint* (scenario TOML, swept parameters,
  design, ``n_points``, ``n_runs``, seed entropy, basesim version and a digest of
  the design points), written once when the sweep starts;
* ``chunk-<first>-<last>.npz``: one file per finished task, with the indices of
  its points, their outcome counts and (as JSON) the points that failed.

* ``sweep.lock``: locked (``flock``, on POSIX systems) by the sweep filling the
  folder, and naming it (process id, host, start time), so that a second sweep
  on the same folder is refused instead of corrupting it.

Every file is written atomically (a temporary file, then a rename), so a sweep
killed at any moment leaves only whole files; NumPy arrays and JSON, never
pickle.  A sweep started again with the same arguments reads the finished
points and simulates only the others.  Only regular files are read (a FIFO
named like a chunk is refused, not waited on), and every chunk is checked
whole: its metadata, its points, counts adding up to ``n_runs`` in every
table of a simulated point, the issue tables agreeing with the joint one,
failures only for points without counts.  A folder written by a different
sweep, or a damaged or inconsistent file, is refused with
:class:`~basesim.exceptions.CheckpointError`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import socket
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim._io import (
    parse_json,
    read_npz,
    read_regular_file,
    write_bytes_atomic,
    write_text_atomic,
)
from basesim.exceptions import CheckpointError
from basesim.outcomes import OutcomeTable

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["SweepCheckpoint", "fingerprint_digest"]

_FORMAT = "basesim-sweep-checkpoint"
_FORMAT_VERSION = 1
_MANIFEST = "sweep.json"
_LOCK = "sweep.lock"
_ARRAYS = frozenset({"points", "counts", "metadata"})
_CHUNK_KEYS = frozenset({"format", "format_version", "fingerprint_sha256", "failures"})

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


class _FolderLock:
    """An exclusive ``flock`` on ``sweep.lock`` in a checkpoint folder, naming its holder."""

    __slots__ = ("fd", "path")

    def __init__(self, path: Path, fd: int | None) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def acquire(cls, directory: Path) -> _FolderLock:
        path = directory / _LOCK
        if fcntl is None:  # no POSIX file locks (Windows): the folder is not locked
            return cls(path, None)
        flags = os.O_RDWR | os.O_CREAT | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o666)
        except OSError as exc:
            raise CheckpointError(
                f"cannot create the lock file {str(path)!r} of the checkpoint: "
                f"{exc.strerror or exc}"
            ) from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise CheckpointError(
                    f"{str(path)!r} must be a regular file (the checkpoint lock)"
                )
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise CheckpointError(
                    f"checkpoint {str(directory)!r} is in use by {_holder(fd)}: another sweep "
                    "is filling it; wait for it to finish, or pass another checkpoint folder"
                ) from None
            except OSError as exc:
                raise CheckpointError(
                    f"cannot lock the checkpoint {str(directory)!r} ({exc.strerror or exc}); "
                    "its file system may not support locks: pass a folder on a local disk"
                ) from None
            holder = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "since": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    def release(self) -> None:
        if self.fd is None:
            return
        fd, self.fd = self.fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the file releases the lock


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it in the lock file."""
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f"process {int(info['pid'])} on host {str(info['host'])!r} (since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it has not written its name yet)"


@dataclass(frozen=True, slots=True)
class SweepCheckpoint:
    """A checkpoint folder opened, and locked, for one sweep (see the module docstring).

    Use it as a context manager, or call :meth:`close`, to release the lock.
    """

    directory: Path
    digest: str
    n_points: int
    n_runs: int
    table: OutcomeTable
    lock: _FolderLock = field(repr=False, compare=False)

    @property
    def n_columns(self) -> int:
        """Outcome columns of each point's counts."""
        return self.table.n_columns

    @classmethod
    def open(
        cls,
        directory: str | PathLike[str],
        fingerprint: Mapping[str, Any],
        *,
        n_points: int,
        n_runs: int,
        table: OutcomeTable,
    ) -> SweepCheckpoint:
        """Open (or start) the checkpoint of the sweep with this ``fingerprint``, and lock it.

        Parameters
        ----------
        directory
            The checkpoint folder; created if missing.
        fingerprint
            What identifies the sweep (see the module docstring).
        n_points, n_runs
            Design points, and runs per point.
        table
            The layout of each point's counts.

        Raises
        ------
        CheckpointError
            If the folder cannot be created or locked, is locked by another
            process (the message names it), or holds another sweep's
            checkpoint.
        """
        directory = Path(directory)
        fingerprint = {"format": _FORMAT, "format_version": _FORMAT_VERSION, **fingerprint}
        if directory.exists() and not directory.is_dir():
            raise CheckpointError(f"checkpoint must be a folder (got the file {str(directory)!r})")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(
                f"cannot create the checkpoint folder {str(directory)!r}: {exc.strerror or exc}"
            ) from None
        lock = _FolderLock.acquire(directory)
        try:
            manifest = directory / _MANIFEST
            if os.path.lexists(manifest):
                data = read_regular_file(manifest, error=CheckpointError, what="checkpoint file")
                saved = parse_json(
                    data, error=CheckpointError, where=f"checkpoint {str(manifest)!r}"
                )
                if not isinstance(saved, dict):
                    raise CheckpointError(
                        f"checkpoint {str(manifest)!r} must hold a JSON object (got {saved!r})"
                    )
                _check_same(directory, saved, fingerprint)
            else:
                text = json.dumps(fingerprint, indent=1, sort_keys=True) + "\n"
                try:
                    write_text_atomic(manifest, text)
                except OSError as exc:
                    raise CheckpointError(
                        f"cannot write the checkpoint {str(manifest)!r}: {exc.strerror or exc}"
                    ) from None
        except BaseException:
            lock.release()
            raise
        return cls(
            directory=directory,
            digest=fingerprint_digest(fingerprint),
            n_points=n_points,
            n_runs=n_runs,
            table=table,
            lock=lock,
        )

    def close(self) -> None:
        """Release the folder's lock (the files stay, for a later resume)."""
        self.lock.release()

    def __enter__(self) -> SweepCheckpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(self) -> tuple[dict[int, NDArray[np.int64]], dict[int, tuple[str, str]]]:
        """The finished points: counts by point, and failures ``point -> (error, message)``.

        Raises
        ------
        CheckpointError
            If a chunk file is damaged, is not a regular file, is inconsistent
            (counts that do not add up to ``n_runs``, a failure for a point
            with counts, ...) or does not belong to this sweep.
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
        return write_bytes_atomic(self.directory / _chunk_name(points), buffer.getvalue())

    def _read(self, path: Path) -> tuple[list[int], NDArray[np.int64], dict[int, tuple[str, str]]]:
        hint = "delete the file to simulate its points again"
        try:
            arrays = read_npz(path, error=CheckpointError, what="checkpoint chunk", names=_ARRAYS)
            missing = sorted(_ARRAYS - set(arrays))
            if missing:
                raise CheckpointError(f"{path}: array {missing[0]!r} is missing")
            meta = _chunk_metadata(path, arrays["metadata"], self.digest)
            points, rows = self._counts(path, arrays["points"], arrays["counts"])
            failed = _failures(path, meta["failures"], points, rows)
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; {hint}") from None
        return points, rows, failed

    def _counts(
        self, path: Path, points_array: NDArray[Any], rows: NDArray[Any]
    ) -> tuple[list[int], NDArray[np.int64]]:
        """The chunk's point indices and counts, checked against the design and the table."""
        if points_array.ndim != 1 or points_array.dtype.kind not in "iu" or not len(points_array):
            raise CheckpointError(
                f"{path}: points must be a non-empty 1-D integer array (got {points_array.dtype}, "
                f"shape {points_array.shape})"
            )
        if np.any(points_array < 0) or np.any(points_array >= self.n_points):
            raise CheckpointError(f"{path}: point indices must lie in [0, {self.n_points})")
        points = [int(p) for p in points_array]
        if len(set(points)) != len(points):
            raise CheckpointError(f"{path}: point indices must be distinct")
        if path.name != _chunk_name(points):
            raise CheckpointError(
                f"{path}: the file name does not match its points (they make {_chunk_name(points)!r})"
            )
        shape = (len(points), self.n_columns)
        if rows.shape != shape or rows.dtype.kind not in "iu":
            raise CheckpointError(
                f"{path}: counts must have shape {shape} and integer type "
                f"(got {rows.shape}, {rows.dtype})"
            )
        if np.any(rows < 0) or np.any(rows > self.n_runs):
            raise CheckpointError(f"{path}: counts must lie in [0, n_runs = {self.n_runs}]")
        rows = rows.astype(np.int64)
        # Every table of a simulated point counts its n_runs runs; a failed point is all zeros.
        table = self.table
        for name, _, columns in table.tables():
            sums = rows[:, columns].sum(axis=1)
            bad = np.flatnonzero((sums != self.n_runs) & (rows.sum(axis=1) != 0))
            if len(bad):
                raise CheckpointError(
                    f"{path}: point {points[bad[0]]}: the {name!r} counts add up to "
                    f"{int(sums[bad[0]])}, not n_runs = {self.n_runs}"
                )
        joint = rows[:, : table.n_joint]
        if table.enumerated:
            joint = joint.reshape(len(points), *table.shape)
        for k, (issue, _, columns) in enumerate(list(table.tables())[1:]):
            if table.enumerated:
                others = tuple(1 + j for j in range(len(table.shape)) if j != k)
                wrong = np.any(joint.sum(axis=others) != rows[:, columns], axis=1)
            else:
                # Only bounds: "no agreement" left the issue unsettled, "every
                # issue settled" settled it.
                unsettled = rows[:, columns][:, -1]
                wrong = (joint[:, -1] > unsettled) | (joint[:, 0] > self.n_runs - unsettled)
            bad = np.flatnonzero(wrong)
            if len(bad):
                raise CheckpointError(
                    f"{path}: point {points[bad[0]]}: the {issue!r} counts disagree with the "
                    "joint table"
                )
        return points, rows


def _chunk_name(points: Sequence[int]) -> str:
    return f"chunk-{min(points):09d}-{max(points):09d}.npz"


def _chunk_metadata(path: Path, raw: NDArray[Any], digest: str) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(f"{path}: metadata must be 1-D bytes (got {raw.dtype}, {raw.shape})")
    meta = parse_json(raw.tobytes(), error=CheckpointError, where=f"{path}: metadata")
    if not isinstance(meta, dict) or set(meta) != _CHUNK_KEYS:
        got = sorted(meta) if isinstance(meta, dict) else meta
        raise CheckpointError(
            f"{path}: metadata must be an object with keys {', '.join(sorted(_CHUNK_KEYS))} "
            f"(got {got!r})"
        )
    if meta["format"] != _FORMAT or meta["format_version"] != _FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: not a chunk of this checkpoint format ({_FORMAT!r} version "
            f"{_FORMAT_VERSION}; got {meta['format']!r} version {meta['format_version']!r})"
        )
    if meta["fingerprint_sha256"] != digest:
        raise CheckpointError(f"{path}: the chunk belongs to another sweep (fingerprint differs)")
    return meta


def _failures(
    path: Path, raw: Any, points: list[int], rows: NDArray[np.int64]
) -> dict[int, tuple[str, str]]:
    """The failed points of a chunk: each one of its points, with zero counts, named once."""
    if not isinstance(raw, list):
        raise CheckpointError(f"{path}: metadata.failures must be a list (got {raw!r})")
    failed: dict[int, tuple[str, str]] = {}
    for i, entry in enumerate(raw):
        if (
            not isinstance(entry, list)
            or len(entry) != 3
            or isinstance(entry[0], bool)
            or not isinstance(entry[0], int)
            or not all(isinstance(e, str) for e in entry[1:])
        ):
            raise CheckpointError(
                f"{path}: metadata.failures[{i}] must be [point, error type, message] "
                f"(got {entry!r})"
            )
        point, error, message = entry
        if point not in points:
            raise CheckpointError(
                f"{path}: metadata.failures[{i}] names point {point}, which the chunk does not hold"
            )
        if point in failed:
            raise CheckpointError(f"{path}: metadata.failures names point {point} twice")
        if np.any(rows[points.index(point)] != 0):
            raise CheckpointError(
                f"{path}: metadata.failures[{i}] names point {point}, which has counts: "
                "a failed point has none"
            )
        failed[point] = (error, message)
    empty = [p for j, p in enumerate(points) if not rows[j].any() and p not in failed]
    if empty:
        raise CheckpointError(f"{path}: point {empty[0]} has no counts and no recorded failure")
    return failed


def _check_same(directory: Path, saved: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    keys = [*_FIELDS, *sorted((set(saved) | set(now)) - set(_FIELDS))]
    for key in keys:
        old, new = saved.get(key), now.get(key)
        if old == new and (key in saved) == (key in now):
            continue
        label = _FIELDS.get(key, key)
        if key == "scenario_toml":
            detail = "scenario differs (its TOML text is not the same)"
        elif key == "points_sha256":
            detail = f"{label} differ"
        elif key not in now:
            detail = f"it has a field {key!r} this sweep does not"
        elif key == "outcomes":
            detail = "outcome columns differ"
        else:
            detail = f"{label} differs (checkpoint {old!r}, now {new!r})"
        raise CheckpointError(
            f"checkpoint {str(directory)!r} holds another sweep's results: {detail}; "
            "pass another checkpoint folder, or delete this one to start afresh"
        )
