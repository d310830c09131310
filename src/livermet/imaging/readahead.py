"""Read-ahead: inflate a gzip-compressed label map while the program is still starting.

A ``livermet volumetry`` run spends about as long importing numpy and the imaging modules
as it does decompressing a 512x512x600 ``.nii.gz`` (ISA-L inflate, ~0.09 s). Decompression
runs without Python's global interpreter lock, so the two can overlap on two cores:
:func:`start` is called by the command as soon as its arguments are parsed, and the NIfTI
reader (:mod:`livermet.imaging.io`) takes the inflated bytes with :func:`take` instead of
reading the file again.

Nothing here changes what is read: :func:`take` hands the bytes over only when the file's
size and modification time are those it had when the read-ahead began, and on any error it
hands over nothing, so that the reader reads the file itself and reports the problem as
usual. This module imports no numpy (it must be cheap to import before numpy is).
"""

from __future__ import annotations

import os
import threading
import zlib
from pathlib import Path

_lock = threading.Lock()
_pending: dict[str, "_Job"] = {}


def inflate(comp: bytes) -> bytes:
    """Decompress a whole gzip stream (CRC checked); ISA-L when installed (about 2x zlib)."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib.decompress(comp, wbits=31)
    try:
        return isal_zlib.decompress(comp, wbits=31)
    except Exception as exc:  # noqa: BLE001 - isal's IsalError: report as zlib's
        raise zlib.error(str(exc)) from exc


def _key(path: str | Path) -> tuple[str, tuple[int, int]] | None:
    try:
        real = os.path.realpath(path)
        st = os.stat(real)
    except (OSError, ValueError):
        return None
    if not os.path.isfile(real):
        return None
    return real, (st.st_size, st.st_mtime_ns)


class _Job:
    def __init__(self, stamp: tuple[int, int]):
        self.stamp = stamp
        self.data: bytes | None = None
        self.thread: threading.Thread | None = None

    def run(self, path: str) -> None:
        try:
            with open(path, "rb") as fh:
                comp = fh.read()
            self.data = inflate(comp)
        except Exception:  # noqa: BLE001 - the reader reads the file again and reports it
            self.data = None


def start(path: str | Path | None) -> bool:
    """Begin inflating ``path`` in a background thread when it is a ``.gz`` file.

    Returns True when a read-ahead was started. Anything else (a folder, a DICOM series, an
    uncompressed file, a missing path) is left to the reader.
    """
    if path is None or not str(path).lower().endswith(".gz"):
        return False
    key = _key(path)
    if key is None:
        return False
    real, stamp = key
    job = _Job(stamp)
    with _lock:
        if real in _pending:
            return False
        _pending[real] = job
    job.thread = threading.Thread(target=job.run, args=(real,), name="livermet-readahead", daemon=True)
    job.thread.start()
    return True


def take(path: str | Path) -> bytes | None:
    """The inflated bytes of ``path`` if a read-ahead of this very file is under way or done
    (waiting for it to finish); None otherwise. Each read-ahead is handed over once."""
    key = _key(path)
    if key is None:
        return None
    real, stamp = key
    with _lock:
        job = _pending.pop(real, None)
    if job is None:
        return None
    if job.thread is not None:
        job.thread.join()
    if job.stamp != stamp:  # the file changed since: read it again
        return None
    return job.data


def pending() -> int:
    """How many read-aheads have not been taken (for tests)."""
    with _lock:
        return len(_pending)
