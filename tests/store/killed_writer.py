"""A process that is killed mid-write, for the staging tests.

    python -m tests.store.killed_writer ROOT READY

saves a value into the `LocalStore` at ROOT whose pickling stops halfway: a few megabytes are in
its staging file when it creates the file READY and waits, until the test kills it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from argosy.store import LocalStore, save

WRITTEN = 4 << 20
"""Bytes in the staging file when the writer stops."""


class _Halfway:
    """Pickling it signals READY and never returns."""

    def __init__(self, ready: str) -> None:
        self.ready = ready

    def __reduce__(self) -> Any:
        Path(self.ready).touch()
        while True:
            time.sleep(60)


def main() -> None:
    root, ready = sys.argv[1:3]
    save(LocalStore(root), [os.urandom(WRITTEN), _Halfway(ready)])


if __name__ == "__main__":
    main()
