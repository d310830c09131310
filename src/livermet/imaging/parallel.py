"""Worker threads for the numpy passes of the volumetry.

numpy releases Python's global interpreter lock inside its loops over large arrays, so a
pass over a label map split into slabs runs on several cores from plain threads: no
processes, no copies. :func:`for_ranges` splits ``range(n)`` into contiguous parts and runs
them at once, the calling thread taking the first part.

The number of threads is ``LIVERMET_THREADS`` when set (1 turns threading off, e.g. on a
shared server), otherwise the machine's cores, at most :data:`MAX_THREADS`. Results never
depend on it: each part writes only its own rows.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

MAX_THREADS = 4  # beyond 4 the passes are bound by memory bandwidth, not by cores

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_local = threading.local()


def thread_count() -> int:
    """Threads used for one pass (>= 1)."""
    raw = os.environ.get("LIVERMET_THREADS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            pass  # not a number: ignore the setting rather than fail a clinical computation
    return max(1, min(MAX_THREADS, os.cpu_count() or 1))


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers < workers:  # noqa: SLF001 - grow when the setting grows
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="livermet-numpy")
        return _pool


def _run_marked(fn: Callable[[int, int], None], a: int, b: int) -> None:
    _local.inside = True
    try:
        fn(a, b)
    finally:
        _local.inside = False


def for_ranges(fn: Callable[[int, int], None], n: int, min_part: int = 1) -> None:
    """Call ``fn(start, stop)`` over contiguous parts covering ``range(n)``, in parallel.

    Parts have at least ``min_part`` items; with too little work, or inside a part already
    running on a worker (no nested parallelism), ``fn(0, n)`` runs on the calling thread.
    An exception in any part is raised here after all parts have finished.
    """
    if n <= 0:
        return
    k = min(thread_count(), n // max(min_part, 1))
    if k <= 1 or getattr(_local, "inside", False):
        fn(0, n)
        return
    bounds = [n * i // k for i in range(k + 1)]
    pool = _executor(k - 1)
    futures = [pool.submit(_run_marked, fn, bounds[i], bounds[i + 1]) for i in range(1, k)]
    error: BaseException | None = None
    try:
        _run_marked(fn, bounds[0], bounds[1])
    except BaseException as exc:  # noqa: BLE001 - re-raised below once the workers are done
        error = exc
    for fut in futures:
        exc = fut.exception()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error
