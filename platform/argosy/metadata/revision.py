"""`SCHEMA_REVISION`: the Alembic head this Argosy's metadata code writes and reads.

Bump it together with a new revision in ``migrations/versions`` (and the models in
`argosy.metadata.models`). A database opened embedded is migrated to it; `require_revision`
refuses one at another revision, saying how to migrate it.
"""

from __future__ import annotations

from argosy.errors import MetadataUnavailable

SCHEMA_REVISION = "0006"
"""The Alembic head the models match; a database at another revision gets migrated."""


def require_revision(revision: str | None) -> None:
    """MetadataUnavailable unless a database at ``revision`` is at `SCHEMA_REVISION`."""
    if revision != SCHEMA_REVISION:
        raise MetadataUnavailable(
            f"the metadata database is at schema revision {revision}, this Argosy needs "
            f"{SCHEMA_REVISION}; run `argosy server --migrate` (or open it embedded once)"
        )


__all__ = ["SCHEMA_REVISION", "require_revision"]
