"""Running independent pieces of work (batches of files) in several processes.

The pieces are handed to forked workers, which inherit the inputs instead of
receiving them pickled; only results travel back. Results come back in input
order, so that whatever is summed from them is summed in the same order as in
one process: the output is identical, bit for bit, whatever the number of jobs.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# the function the forked workers run: set in the parent just before the fork
_TASK: Callable | None = None


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def resolve_jobs(jobs: int) -> int:
    """``jobs`` as a number of processes: 0 means every core; negative is an error."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        from .segments import OptionError

        raise OptionError("jobs", f"must be a whole number >= 0 (0 = all cores), not {jobs!r}")
    return cores() if jobs == 0 else jobs


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def ordered_map(function: Callable[[T], R], items: Sequence[T], jobs: int = 1) -> Iterator[R]:
    """``map(function, items)`` in up to ``jobs`` processes (0: all cores), results in order.

    One process where ``jobs`` is 1, there is a single item, or the platform
    cannot fork (Windows, where workers would have to re-import and receive the
    inputs pickled): the result is the same, only slower.
    """
    global _TASK
    jobs = min(resolve_jobs(jobs), len(items))
    if jobs <= 1 or not can_fork():
        yield from map(function, items)
        return
    import multiprocessing

    if _TASK is not None:  # a worker asked to fan out again: stay in this process
        yield from map(function, items)
        return
    _TASK = function
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=_default_signals) as pool:
            yield from pool.imap(_run_task, items, chunksize=1)
    finally:
        _TASK = None


def pair(first: Callable[[], R], second: Callable[[], T], jobs: int = 1, room: int = 0) -> tuple[R, T]:
    """``(first(), second())``: where ``jobs`` allows two processes, ``second`` runs in a
    forked worker while this process runs ``first``.

    The worker's result comes back through memory both processes share (``room``
    bytes of it, reserved before the fork; untouched pages cost nothing): its arrays'
    data is written there once and read in place here, not sent through a pipe (two
    sides read at once: the tables are the largest objects teer moves). What does not
    fit travels pickled as usual.
    """
    global _TASK
    if resolve_jobs(jobs) <= 1 or not can_fork() or _TASK is not None:
        return first(), second()
    import mmap
    import multiprocessing

    shared = mmap.mmap(-1, max(room, 1))  # anonymous, and shared with forked children
    _TASK = lambda _: _into(shared, second())  # noqa: E731 -- the worker's task, as in ordered_map
    try:
        with multiprocessing.get_context("fork").Pool(1, initializer=_default_signals) as pool:
            other = pool.apply_async(_run_task, (None,))
            mine = first()
            payload, places = other.get()
    finally:
        _TASK = None
    import pickle

    view = memoryview(shared)
    return mine, pickle.loads(payload, buffers=[view[at:at + size] for at, size in places])


def _into(shared, result) -> tuple[bytes, list[tuple[int, int]]]:
    """``result`` pickled with its large buffers (numpy arrays' data) written into ``shared``:
    the pickle, and where each buffer lies there."""
    import pickle

    places: list[tuple[int, int]] = []
    end = 0

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        nonlocal end
        raw = buffer.raw()
        if raw.nbytes < 1 << 16 or end + raw.nbytes > len(shared):
            return True  # small, or no room: in the pickle
        shared[end:end + raw.nbytes] = raw
        places.append((end, raw.nbytes))
        end += raw.nbytes
        return False

    return pickle.dumps(result, protocol=5, buffer_callback=out_of_band), places


def _default_signals() -> None:
    # A worker inherits the parent's handlers: the CLI's SIGTERM handler raises in the
    # worker when the pool ends it (Pool.terminate), and the worker can then hang on a
    # lock while exiting, with the parent waiting for it forever. Workers die at once.
    import signal

    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)


def _run_task(item):
    return _TASK(item)
