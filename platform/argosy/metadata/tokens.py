"""Bearer tokens of the metadata service: minting, hashing and scopes.

A token is shown once, when minted; the database keeps only its sha256. A ``write`` token
can also read.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
_PREFIX = "argosy_"


def new_token() -> str:
    """A fresh random token (``argosy_`` and 43 url-safe characters)."""
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database stores for ``token``: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def allows(granted: str, needed: Scope) -> bool:
    """Whether a token of scope ``granted`` may do what needs ``needed``."""
    return granted == "write" or granted == needed


__all__ = ["SCOPES", "Scope", "allows", "hash_token", "new_token"]
