"""Outside data a run imports when it starts (`Import`): a file, a folder or an S3 object.

The submitter copies it into the artifact store by content digest before any task runs, so
every task of the run, and a resumed run, reads the same bytes, and a cached step runs again
when the data changed.
"""

from __future__ import annotations

from pydantic import model_validator

from argosy.ir.model import Model


class Import(Model):
    """One piece of outside data: a constant location, or a pipeline parameter holding one."""

    name: str
    """What steps read it by (`ImportInput.name`)."""
    uri: str | None = None
    """A local path (relative to the directory the run is started from) or ``s3://bucket/key``."""
    parameter: str | None = None
    """The pipeline parameter whose value is the location, when it is given per run."""

    @model_validator(mode="after")
    def _one_location(self) -> Import:
        if (self.uri is None) == (self.parameter is None):
            raise ValueError("an import needs a location or a parameter holding one, not both")
        return self


__all__ = ["Import"]
