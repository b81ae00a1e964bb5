"""Bearer tokens of the metadata service: minting, hashing, ids, scopes, the admin token.

A token is shown once, when minted; the database keeps only its sha256, and a token is named
by its id (the hash's first 8 hex digits). A ``write`` token can also read. The operator's
``ARGOSY_ADMIN_TOKEN`` is the write token named ``admin``; it must be long enough to resist
guessing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Literal

from argosy.errors import ConfigError

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
ADMIN_NAME = "admin"
"""The name of the ARGOSY_ADMIN_TOKEN row, which each start of the service replaces."""
MIN_ADMIN_LENGTH = 32
_PREFIX = "argosy_"
_ID = re.compile(r"^[0-9a-f]{8}$")


def new_token() -> str:
    """A fresh random token (``argosy_`` and 43 url-safe characters)."""
    return _PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database stores for ``token``: its sha256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token_hash: str) -> str:
    """The short id a token is listed and revoked by."""
    return token_hash[:8]


def is_token_id(text: str) -> bool:
    """Whether ``text`` has the form of a token id (8 lowercase hex digits)."""
    return _ID.match(text) is not None


def check_admin_token(token: str) -> None:
    """ConfigError unless ``token`` is long enough to be the admin token."""
    if len(token) < MIN_ADMIN_LENGTH:
        raise ConfigError(
            f"ARGOSY_ADMIN_TOKEN has {len(token)} characters; it needs at least "
            f"{MIN_ADMIN_LENGTH}. Make one with: python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'"
        )


def allows(granted: str, needed: Scope) -> bool:
    """Whether a token of scope ``granted`` may do what needs ``needed``."""
    return granted == "write" or granted == needed


__all__ = [
    "ADMIN_NAME",
    "MIN_ADMIN_LENGTH",
    "SCOPES",
    "Scope",
    "allows",
    "check_admin_token",
    "hash_token",
    "is_token_id",
    "new_token",
    "token_id",
]
