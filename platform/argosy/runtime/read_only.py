"""A note on a step's failure when it wrote into an input array that arrived read-only.

Arrays reach steps as read-only memory maps of their stored blobs (format ``npy``): every task
on a machine shares one copy in the page cache and nothing is read before it is used. A step
that writes into one fails deep inside numpy with "assignment destination is read-only" (or
"output array is read-only" for a ufunc's ``out=``), which does not say why the array is
read-only. `note_read_only_inputs` adds a note to that error naming the arguments that
arrived read-only and saying what to do; the note is part of the recorded error and the log.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

_MESSAGES = ("assignment destination is read-only", "output array is read-only")


def note_read_only_inputs(failure: BaseException, arguments: Mapping[str, Any]) -> None:
    """If ``failure`` is numpy refusing a write into a read-only array, add a note naming the
    arguments (or their items) that are read-only arrays."""
    if not isinstance(failure, ValueError) or not any(m in str(failure) for m in _MESSAGES):
        return
    names = [name for argument, value in arguments.items() for name in _read_only(argument, value)]
    if not names:
        return
    listed = ", ".join(names)
    example = names[0] if names[0].isidentifier() else "x"
    failure.add_note(
        f"argosy: {listed} arrived as read-only arrays (inputs are mapped from the store, or "
        f"read from it when small, shared by every task, never written to). Copy one before "
        f"changing it: "
        f"`{example} = {example}.copy()` or `{example} = np.array({example})`."
    )


def _read_only(name: str, value: Any) -> Iterator[str]:
    """``name`` if ``value`` is a read-only array; for a list, tuple or dict of values, the
    items that are (``name[2]``, ``name['train']``)."""
    if _is_read_only_array(value):
        yield name
    elif isinstance(value, list | tuple):
        yield from (f"{name}[{n}]" for n, item in enumerate(value) if _is_read_only_array(item))
    elif isinstance(value, dict):
        yield from (f"{name}[{k!r}]" for k, item in value.items() if _is_read_only_array(item))


def _is_read_only_array(value: Any) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray) and not value.flags.writeable


__all__ = ["note_read_only_inputs"]
