"""The cache key of a task: what makes two tasks compute the same output.

sha256 over the step's code digest, its image, the digests of the artifacts it reads (with the
item taken from each), the parameter and literal values it receives, the field of each item it
takes and the named outputs it returns. What a step reads of `argosy.current` (its run id, its
scheduled time) is not in it: a step that depends on those must not be cached.
"""

from __future__ import annotations

import hashlib
import json

from argosy import ir
from argosy.runtime.inputs import ResolvedInputs


def cache_key(step: ir.Step, inputs: ResolvedInputs) -> str:
    """The key under which this task's output is found again by a later task."""
    payload = {
        "code": step.code_digest,
        "image": step.image,
        "artifacts": [[i.argument, i.artifact.digest, i.item] for i in inputs.artifacts],
        "values": inputs.plain,
        "item_fields": step.item_fields,
        "outputs": step.outputs,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()


__all__ = ["cache_key"]
