"""Files: written whole or not at all, read only when they are regular files.

Writing goes through a temporary file and a rename; reading refuses FIFOs and
devices (which would block) and turns every way a damaged file can fail to
parse into the caller's :class:`~basesim.exceptions.BasesimError`.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from basesim.exceptions import BasesimError

__all__ = [
    "check_writable",
    "parse_json",
    "read_npz",
    "read_regular_file",
    "write_atomic_with",
    "write_bytes_atomic",
    "write_text_atomic",
]


def _new_file_mode(path: Path) -> int:
    """The permissions ``path`` gets: its present ones, else what the umask allows."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        pass
    # The umask can only be read by setting it; put it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    The file gets the permissions any other tool would give it (those of the
    file it replaces, else ``0o666`` less the umask), not the owner-only mode
    of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_atomic_with(path: Path, write: Callable[[Path], None]) -> Path:
    """Have ``write`` write a temporary file beside ``path``, then rename it to ``path``.

    For writers that want a file name rather than bytes (Parquet engines).
    The file gets the same permissions as with :func:`write_bytes_atomic`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _new_file_mode(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


# -- reading ------------------------------------------------------------------------------
def read_regular_file(path: Path, *, error: type[BasesimError], what: str) -> bytes:
    """The bytes of ``path``, refusing anything but a regular file.

    The file is opened without blocking and checked with ``fstat`` before it
    is read, so a FIFO or a device named like the file (a FIFO would block
    ``open`` and ``read`` forever) is refused instead of waited on.

    Parameters
    ----------
    path
        The file to read.
    error
        The :class:`~basesim.exceptions.BasesimError` subclass to raise.
    what
        What the file should be, for messages (``"result file"``).

    Raises
    ------
    BasesimError
        ``error``, if the file is missing, is not a regular file, or cannot be read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise error(f"{what} {str(path)!r} does not exist") from None
    except OSError as exc:
        raise error(f"cannot open {what} {str(path)!r}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{what} {str(path)!r} must be a regular file (got {_file_kind(info)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    except OSError as exc:
        raise error(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _file_kind(info: os.stat_result) -> str:
    mode = info.st_mode
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_npz(
    path: Path, *, error: type[BasesimError], what: str, names: Collection[str] | None = None
) -> dict[str, NDArray[Any]]:
    """The arrays of an ``.npz`` file (never unpickling), or ``error`` naming what is wrong.

    A damaged archive (truncated, bytes flipped, an unknown compression) fails
    in many ways inside :mod:`zipfile`, :mod:`zlib` and NumPy; every one is
    reported as ``error``, with the file and the low-level reason.

    Parameters
    ----------
    path
        The file, read with :func:`read_regular_file`.
    error, what
        As for :func:`read_regular_file`.
    names
        The array names the file may hold; any other is refused.  ``None``
        accepts any name.
    """
    data = read_regular_file(path, error=error, what=what)
    arrays: dict[str, NDArray[Any]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                name = info.filename.removesuffix(".npy")
                if not info.filename.endswith(".npy") or (names is not None and name not in names):
                    raise error(
                        f"{path}: unexpected entry {info.filename!r} in the {what} "
                        f"(it may hold {', '.join(sorted(names or ()))})"
                    )
                if name in arrays:
                    raise error(f"{path}: entry {info.filename!r} appears twice in the {what}")
                with archive.open(info) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    except BasesimError:
        raise
    except Exception as exc:  # every failure to parse the bytes is the file's fault
        raise error(
            f"{path}: not a readable {what} (a damaged .npz file: {type(exc).__name__}: {exc})"
        ) from None
    return arrays


def parse_json(text: bytes, *, error: type[BasesimError], where: str) -> Any:
    """JSON from UTF-8 ``text``, refusing non-standard constants and absurd nesting."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        return json.loads(text.decode("utf-8"), parse_constant=refuse)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise error(f"{where} is not valid JSON ({type(exc).__name__}: {exc})") from None


# -- checking outputs before any work ------------------------------------------------------
def check_writable(path: Path, *, what: str, folder: bool = False) -> None:
    """Raise :class:`~basesim.exceptions.BasesimError` unless ``path`` could be written.

    ``path`` (a file, or with ``folder`` a folder) may exist or not; if it
    does, it must be of its kind; its nearest existing folder (itself, for an
    existing folder) must let this process create a file, which is tried with
    a probe file that is removed at once (permission bits alone do not tell:
    a read-only file system, ``/proc``, or a privileged user).  Missing
    folders are created when the output is written.  This reports early,
    before any simulation, what would otherwise fail at the end.
    """
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise BasesimError(f"{what} {str(path)!r} must be a folder (it is a file)")
        existing = path
    else:
        if path.is_dir() or (path.exists() and not path.is_file()):
            raise BasesimError(f"{what} {str(path)!r} exists and is not a regular file")
        existing = path.parent
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise BasesimError(f"cannot write {what} {str(path)!r}: {str(existing)!r} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".basesim-probe-", dir=existing)
    except OSError as exc:
        raise BasesimError(
            f"cannot write {what} {str(path)!r}: cannot create a file in {str(existing)!r} "
            f"({exc.strerror or exc})"
        ) from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
