"""Settings: every knob Argosy reads from the environment (prefix ``ARGOSY_``), typed and checked.

Build one `Settings` at the edge (the CLI, `create_app`, the task entrypoint) and pass it down;
library code never reads the environment itself. Flags override by `Settings(**overrides)`.
Each field not given is read from ``ARGOSY_<FIELD>`` (the name in any case) and checked as the
field's type (``true``/``false``/``1``/``0`` for a flag); every field is a single value, so a
plain pydantic model does this (pydantic-settings took about 35 ms of every command's start,
mostly importing asyncio).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from argosy.errors import ConfigError

ENV_PREFIX = "ARGOSY_"


class Settings(BaseModel):
    """Where metadata and artifacts live, and how to reach the services."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    home: Path = Field(default_factory=lambda: Path.home() / ".argosy")
    """Embedded SQLite database and local artifact store live here."""
    metadata_url: str | None = None
    """Base URL of a metadata service; None uses the embedded database under `home`."""
    database_url: str | None = None
    """SQLAlchemy URL of the metadata database (for ``argosy server``, or embedded Postgres)."""
    token: SecretStr | None = None
    """Bearer token the metadata client sends."""
    admin_token: SecretStr | None = None
    """The metadata server's first token (write scope), given by the operator."""
    anonymous_reads: bool = False
    """Let the metadata server answer reads without a token."""
    argo_ui_url: str | None = None
    """Base URL of the Argo UI (``https://argo.example.com``): the web UI links each cluster run
    to its workflow there."""
    user: str | None = None
    """Whose runs this process starts and reads (owner ``user:<user>``); None: the login name."""

    s3_endpoint: str | None = None
    """``host:port`` of an S3 server; set it (with a bucket) to use S3 instead of `home`."""
    s3_bucket: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_secure: bool = True
    s3_region: str | None = None
    s3_create_bucket: bool = False
    """Create the bucket when it is missing, instead of failing."""

    metadata_retry_seconds: float = Field(default=300.0, ge=0)
    """How long a metadata write is retried while the service is unreachable."""
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    """How often a local runner records that it is alive."""
    lost_after_seconds: float = Field(default=60.0, gt=0)
    """A running run whose runner has not been heard from for this long reads as failed."""

    max_workers: int | None = None
    """Local worker processes; None means one per CPU core."""
    gpu_profiles: Path | None = None
    """YAML file of GPU profiles (node selector and tolerations per GPU type)."""
    max_log_bytes: int = Field(default=10 * 2**20, gt=0)
    """Bytes of a task's output its log keeps: the first and last ones, with a note between."""

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, given: Any) -> Any:
        """The fields not ``given`` that the environment sets."""
        if not isinstance(given, dict):
            return given
        environment = {
            name.upper(): value
            for name, value in os.environ.items()
            if name.upper().startswith(ENV_PREFIX)
        }
        found = {
            field: environment[f"{ENV_PREFIX}{field.upper()}"]
            for field in cls.model_fields
            if field not in given and f"{ENV_PREFIX}{field.upper()}" in environment
        }
        return found | given

    @model_validator(mode="after")
    def _check_s3(self) -> Settings:
        given = {
            "ARGOSY_S3_ENDPOINT": self.s3_endpoint,
            "ARGOSY_S3_BUCKET": self.s3_bucket,
        }
        missing = [name for name, value in given.items() if not value]
        if self.s3_endpoint and missing:
            raise ConfigError(
                f"S3 is half-configured: set {', '.join(missing)} as well, "
                "or unset ARGOSY_S3_ENDPOINT to use the local store"
            )
        if self.s3_bucket and not self.s3_endpoint:
            raise ConfigError(
                "ARGOSY_S3_BUCKET is set but ARGOSY_S3_ENDPOINT is not; set the endpoint "
                "(host:port) or unset the bucket to use the local store"
            )
        return self

    @property
    def uses_s3(self) -> bool:
        return self.s3_endpoint is not None

    @property
    def store_root(self) -> Path:
        """Root of the local artifact store."""
        return self.home / "store"

    @property
    def embedded_database_url(self) -> str:
        """The metadata database the embedded mode uses."""
        return self.database_url or f"sqlite:///{self.home / 'metadata.db'}"


__all__ = ["ENV_PREFIX", "Settings"]
