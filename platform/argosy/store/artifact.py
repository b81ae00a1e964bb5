"""`Artifact`: a step's output together with what the step says of it (``argosy.Artifact``).

    @step
    def train(X: np.ndarray) -> Artifact:
        model = fit(X)
        return Artifact(model.coef_, metadata={"auc": 0.93, "framework": "sklearn"})

`argosy.store.save` stores the value as it would store it returned bare (the same format and
digest: metadata describes an output, not its bytes) and puts the metadata on the
`ArtifactInfo`; the task records it on its output edge, and ``Client().run(...).output(...)``
gives it back as ``.metadata`` (Kubeflow's ``Output[Model].metadata``). An `Artifact` is a
whole output, or one field of a step's named outputs; inside another value (a list, a dict) it
cannot be stored.
"""

from __future__ import annotations

from typing import Any, NoReturn

from pydantic import JsonValue

from argosy.errors import StoreError
from argosy.store.base import json_metadata


class Artifact:
    """A value a step returns with metadata: JSON (str keys; numbers, text, lists, dicts)."""

    __slots__ = ("metadata", "value")

    value: Any
    metadata: dict[str, JsonValue]

    def __init__(self, value: Any, metadata: dict[str, Any] | None = None) -> None:
        if isinstance(value, Artifact):
            raise StoreError(
                "Artifact(...) was given another Artifact as its value; merge their metadata "
                "into one Artifact(value, metadata={...})"
            )
        try:
            checked = json_metadata({} if metadata is None else metadata)
        except ValueError as error:
            raise StoreError(
                f"the metadata of an Artifact must be JSON: {error}. It is recorded with the "
                "output, in the metadata database, so give it plain numbers, text, lists and "
                "dicts with str keys"
            ) from None
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "metadata", checked)

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"an Artifact is read-only: make a new one to change {name!r}")

    def __repr__(self) -> str:
        return f"Artifact({self.value!r}, metadata={self.metadata!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "an argosy.Artifact is stored only as a step's whole output (or one of its named "
            "outputs), not inside a list, dict or other value"
        )


__all__ = ["Artifact"]
