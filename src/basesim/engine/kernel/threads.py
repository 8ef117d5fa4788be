"""The threads the compiled month plays on.

The compiled month (:func:`basesim.engine.kernel.bargaining.play_month`) is
compiled without a Numba threading layer: it releases the GIL and this module
hands its chunks of runs to a pool of ordinary Python threads.  That keeps the
process free of an OpenMP runtime, so a process pool may fork after a
simulation has run, and several threads of one process (a Dask worker with
more than one thread, say) may simulate at the same time.

The number of threads is per calling thread, like Numba's own setting: a
task that limits itself to one thread (tasks sent to an executor do) leaves
the other threads of its process alone.  The default is the number of cores
this process may run on, or ``NUMBA_NUM_THREADS`` if it is set.  Results do
not depend on the number of threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from basesim.exceptions import SimulationError

__all__ = ["get_threads", "limited_threads", "run_pieces", "set_threads"]


def _available() -> int:
    """Cores this process may run on, or ``NUMBA_NUM_THREADS`` if it is set."""
    given = os.environ.get("NUMBA_NUM_THREADS", "")
    if given.strip().isdigit() and int(given) > 0:
        return int(given)
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


_DEFAULT = _available()
_local = threading.local()
_lock = threading.Lock()
# One pool per process (a forked child makes its own) and size.
_pool: tuple[int, int, ThreadPoolExecutor] | None = None


def get_threads() -> int:
    """How many threads the compiled month uses when called from this thread."""
    return int(getattr(_local, "threads", _DEFAULT))


def set_threads(threads: int) -> None:
    """Let the compiled month use ``threads`` threads when called from this thread.

    Raises :class:`~basesim.SimulationError` unless ``threads`` is a whole
    number >= 1.
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise SimulationError(f"threads must be a whole number >= 1 (got {threads!r})")
    _local.threads = threads


@contextmanager
def limited_threads(threads: int) -> Iterator[None]:
    """At most ``threads`` threads inside the block, for this thread (0: unchanged)."""
    if threads <= 0:
        yield
        return
    before = get_threads()
    set_threads(min(threads, before))
    try:
        yield
    finally:
        set_threads(before)


def _executor(size: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        pid = os.getpid()
        if _pool is None or _pool[0] != pid or _pool[1] < size:
            # A pool inherited through fork has no threads in this process: never reuse it.
            if _pool is not None and _pool[0] == pid:
                _pool[2].shutdown(wait=False)
            _pool = (pid, size, ThreadPoolExecutor(size, thread_name_prefix="basesim-month"))
        return _pool[2]


def run_pieces(play: Callable[[int, int], None], n_items: int, *, per_thread: int = 4) -> None:
    """Call ``play(lo, hi)`` over ``0 .. n_items - 1`` cut into pieces, on :func:`get_threads` threads.

    ``play`` must release the GIL and write only what its own items own.
    With one thread, or one item, it is called once here.  The pieces are
    about ``per_thread`` per thread, so threads that finish early take more.
    """
    threads = min(get_threads(), n_items)
    if threads <= 1:
        play(0, n_items)
        return
    pieces = min(n_items, threads * per_thread)
    bounds = [n_items * p // pieces for p in range(pieces + 1)]
    pool = _executor(threads)
    futures = [pool.submit(play, bounds[p], bounds[p + 1]) for p in range(pieces)]
    for future in futures:
        future.result()
