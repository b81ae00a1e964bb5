"""Run ids: how a fresh one is made, and which strings are run ids at all.

A fresh id reads ``<pipeline>-<yyyymmdd-hhmmss>-<10 random chars>``: readable, sorted by start
time, with 50 random bits per second, and a valid Kubernetes name and label value everywhere
(lowercase, at most 63 characters, no underscores), so the local and the Argo backend make
the same kind of id. Any run id, fresh or given, must match `RUN_ID_PATTERN`: it is a URL path
segment of the metadata service and the first part of task ids (``run.step.index``). The
process that starts a run records it with a `new_nonce`, so that two runs that drew the same id
are told apart from one run's retried request.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
"""Letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit, at most 128."""
RANDOM_CHARS = 10
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
"""Crockford's base32, lowercase: 5 bits a character, no look-alikes (i, l, o, u)."""
_MAX_NAME = 63
"""Kubernetes' limit on a label value (the run id labels the Workflow and its pods)."""
_STAMP = "%Y%m%d-%H%M%S"


def new_run_id(pipeline: str) -> str:
    """A fresh run id for ``pipeline`` (its name shortened to fit 63 characters)."""
    stamp = datetime.now(UTC).strftime(_STAMP)
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(RANDOM_CHARS))
    room = _MAX_NAME - len(stamp) - len(suffix) - 2
    return f"{pipeline.replace('_', '-')[:room]}-{stamp}-{suffix}"


def new_nonce() -> str:
    """What the one creator of a run records with it: a second create under the same id with
    another nonce is a collision, refused; the creator's own retry repeats it, and passes."""
    return secrets.token_hex(16)


__all__ = ["RANDOM_CHARS", "RUN_ID_PATTERN", "new_nonce", "new_run_id"]
