"""The exceptions Argosy raises, one family per part, so callers can catch precisely.

    ArgosyError
    ├── PipelineError                   a pipeline definition or its parameters are wrong
    ├── ConfigError                     settings are missing, half-given or contradictory
    ├── TagError (ValueError)           a run's project, owner or tag breaks its rule
    ├── CompileError (ValueError)       a pipeline cannot become an Argo workflow
    ├── ResourceError                   the machine cannot give what a step asks for
    ├── StoreError                      the artifact store failed
    │   ├── StoreUnavailable            unreachable endpoint, bad credentials, missing bucket
    │   ├── ArtifactNotFound (LookupError)
    │   ├── ArtifactCorrupted           a blob's bytes do not hash to its digest
    │   └── PickleNotAllowed            a pickled value, loaded without opting in
    ├── MetadataError                   the metadata layer failed
    │   ├── MetadataUnavailable         database or service unreachable
    │   ├── NotFound (LookupError)      no run, task or artifact with that id
    │   │   └── Ambiguous               an id prefix several runs or artifacts share
    │   ├── Conflict                    a write contradicts what is recorded
    │   └── AuthError                   missing, unknown or under-scoped token
    ├── ClusterError                    the Kubernetes or Argo API refused or failed
    ├── ImageError                      building, exporting or loading an image failed
    └── TaskFailed                      a task failed after its retries; names run, step, index

Every message says what is wrong and what to do about it.
"""

from __future__ import annotations


class ArgosyError(Exception):
    """Base of every error Argosy raises on purpose."""


class PipelineError(ArgosyError):
    """A pipeline definition, or the parameters given to it, is wrong.

    Not a ValueError on purpose: pydantic would wrap a ValueError raised while the IR
    validates itself, and the caller should see this error, not a wrapper.
    """

    def __init__(
        self,
        message: str,
        *,
        pipeline: str | None = None,
        step: str | None = None,
        argument: str | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.step = step
        self.argument = argument
        where = ", ".join(
            f"{label} {value!r}"
            for label, value in (("pipeline", pipeline), ("step", step), ("argument", argument))
            if value is not None
        )
        super().__init__(f"{where}: {message}" if where else message)


class ConfigError(ArgosyError):
    """Settings are missing, half-given or contradictory (not a ValueError: see PipelineError)."""


class TagError(ArgosyError, ValueError):
    """A run's project, owner or tag breaks its rule (see `argosy.ownership`).

    A ValueError, so a pydantic model holding a bad tag fails validation with this message.
    """


class CompileError(ArgosyError, ValueError):
    """A pipeline cannot be compiled to an Argo workflow."""


class ResourceError(ArgosyError):
    """This machine cannot provide the resources a step asks for."""


class StoreError(ArgosyError):
    """The artifact store failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or used (endpoint, credentials, bucket)."""


class ArtifactNotFound(StoreError, LookupError):
    """No artifact or record exists under the requested digest or key."""


class ArtifactCorrupted(StoreError):
    """A blob's bytes do not hash to its digest: changed or damaged after it was written."""


class PickleNotAllowed(StoreError):
    """A value stored with pickle was loaded without ``allow_pickle=True``: unpickling runs code."""


class MetadataError(ArgosyError):
    """The metadata layer failed."""


class MetadataUnavailable(MetadataError):
    """The metadata database or service cannot be reached."""


class NotFound(MetadataError, LookupError):
    """No run, task, artifact or pipeline with that id."""


class Ambiguous(NotFound):
    """An id prefix is shared by several runs or artifacts; the message lists them."""


class Conflict(MetadataError):
    """A write contradicts what is already recorded."""


class AuthError(MetadataError):
    """A token is missing, unknown, or lacks the scope for the request."""

    def __init__(self, message: str, *, status_code: int = 401) -> None:
        self.status_code = status_code
        super().__init__(message)


class ClusterError(ArgosyError):
    """The Kubernetes API or the Argo Server refused or failed a request."""


class ImageError(ArgosyError):
    """A container image could not be built, exported or loaded into a cluster."""


class TaskFailed(ArgosyError):
    """A task failed after its retries were used up."""

    def __init__(self, message: str, *, run_id: str, step: str, index: int = 0) -> None:
        self.run_id = run_id
        self.step = step
        self.index = index
        super().__init__(message)


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP stopped a run; it was recorded as cancelled and can resume.

    A KeyboardInterrupt, so code that stops on Ctrl-C stops on it too.
    """

    def __init__(self, run_id: str, signal_name: str) -> None:
        self.run_id = run_id
        self.signal_name = signal_name
        super().__init__(
            f"run {run_id} was stopped by {signal_name} and recorded as cancelled; its "
            f"finished tasks are kept: continue it with `argosy resume {run_id}`"
        )


__all__ = [
    "Ambiguous",
    "ArgosyError",
    "ArtifactCorrupted",
    "ArtifactNotFound",
    "AuthError",
    "ClusterError",
    "CompileError",
    "ConfigError",
    "Conflict",
    "ImageError",
    "MetadataError",
    "MetadataUnavailable",
    "NotFound",
    "PickleNotAllowed",
    "PipelineError",
    "ResourceError",
    "RunInterrupted",
    "StoreError",
    "StoreUnavailable",
    "TagError",
    "TaskFailed",
]
