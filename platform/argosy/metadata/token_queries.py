"""The service's bearer tokens in the database: stored as hashes (`argosy.metadata.tokens`),
named, with a scope; the admin token is the one named `ADMIN_NAME`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, or_, select

from argosy.errors import Conflict, MetadataError, NotFound
from argosy.metadata import database
from argosy.metadata.models import ApiTokenRow
from argosy.metadata.schemas import TokenPublic
from argosy.metadata.tokens import ADMIN_NAME, Scope, hash_token, is_token_id, token_id


def add_token(connection: Connection, token: str, scope: Scope, name: str) -> None:
    if name == ADMIN_NAME:
        raise MetadataError(
            f"the token name {ADMIN_NAME!r} is kept for ARGOSY_ADMIN_TOKEN; pick another name"
        )
    row = {"token_hash": hash_token(token), "scope": scope, "name": name}
    database.insert_ignore(connection, ApiTokenRow, [row])


def set_admin_token(connection: Connection, token: str) -> None:
    digest = hash_token(token)
    named, hashed = ApiTokenRow.name == ADMIN_NAME, ApiTokenRow.token_hash == digest
    row = {"token_hash": digest, "scope": "write", "name": ADMIN_NAME}
    connection.execute(delete(ApiTokenRow).where(or_(named & ~hashed, hashed & ~named)))
    database.insert_ignore(connection, ApiTokenRow, [row])


def list_tokens(connection: Connection) -> list[TokenPublic]:
    rows = connection.execute(
        select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.token_hash)
    ).all()
    return [_token_public(row) for row in rows]


def revoke_token(connection: Connection, id_or_name: str) -> TokenPublic:
    matches = ApiTokenRow.name == id_or_name
    if is_token_id(id_or_name):
        matches = matches | ApiTokenRow.token_hash.startswith(id_or_name)
    rows = connection.execute(select(ApiTokenRow).where(matches)).all()
    if not rows:
        raise NotFound(f"no token has id or name {id_or_name!r}; `argosy token list`")
    if len(rows) > 1:
        ids = ", ".join(token_id(row.token_hash) for row in rows)
        raise Conflict(f"{len(rows)} tokens match {id_or_name!r} (ids {ids}); revoke by id")
    connection.execute(delete(ApiTokenRow).where(matches))
    return _token_public(rows[0])


def token_scope(connection: Connection, token: str) -> str | None:
    return connection.execute(
        select(ApiTokenRow.scope).where(ApiTokenRow.token_hash == hash_token(token))
    ).scalar()


def _token_public(row: Any) -> TokenPublic:
    return TokenPublic(
        id=token_id(row.token_hash), name=row.name, scope=row.scope, created_at=row.created_at
    )


__all__ = ["add_token", "list_tokens", "revoke_token", "set_admin_token", "token_scope"]
