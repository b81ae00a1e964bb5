"""`RangeHasher`: the sha256 of a file that parallel downloads fill, computed as the bytes land.

A blob is downloaded as a few ranges in parallel, each written at its offset of one file. The
hasher follows the writes: it hashes the file in order, reading each byte back (from the page
cache, just written) as soon as every byte before it is there, so checking a download against
its digest overlaps the transfer instead of following it. Each byte of the file must be written
once: a retried range resumes where it stopped, never rewrites what was hashed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence

_CHUNK = 1 << 20


class RangeHasher:
    """Hashes the file behind ``fd``, made of ``ranges`` (start, length), as writers fill them."""

    def __init__(self, fd: int, ranges: Sequence[tuple[int, int]]) -> None:
        self._fd = fd
        self._ranges = list(ranges)
        self._filled = [0] * len(self._ranges)
        self._stopped = False
        self._changed = threading.Condition()

    def filled(self, index: int, length: int) -> None:
        """A writer reports that the first ``length`` bytes of range ``index`` are written."""
        with self._changed:
            self._filled[index] = length
            self._changed.notify_all()

    def stop(self) -> None:
        """A writer failed: the file will never be whole, `hexdigest` gives up."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def hexdigest(self) -> str | None:
        """The file's sha256 once every range is written; None if a writer stopped it first."""
        digest = hashlib.sha256()
        for index, (start, length) in enumerate(self._ranges):
            done = 0
            while done < length:
                ready = self._written(index, done)
                if ready is None:
                    return None
                while done < ready:
                    chunk = os.pread(self._fd, min(_CHUNK, ready - done), start + done)
                    if not chunk:
                        return None
                    digest.update(chunk)
                    done += len(chunk)
        return digest.hexdigest()

    def _written(self, index: int, done: int) -> int | None:
        """Bytes written of range ``index`` once over ``done``; None once a writer stopped."""
        with self._changed:
            while self._filled[index] <= done and not self._stopped:
                self._changed.wait()
            return None if self._stopped else self._filled[index]


__all__ = ["RangeHasher"]
