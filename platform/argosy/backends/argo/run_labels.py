"""A run's project, owner and tags on Argo: labels to select workflows by, annotations that
hand the exact values to the pods.

Labels are for people and tools: ``kubectl get wf -l argosy.io/project=fraud``,
``-l argosy.io/owner=production``, ``-l tags.argosy.io/nightly``. Kubernetes allows only
letters, digits, ``-``, ``_`` and ``.`` in them (63 at most, a letter or digit at each end),
so the owner and the tags appear in a label-safe form (`label_safe`): ``user:alice`` is
``user-alice``, the tag ``dataset:v2`` the label ``tags.argosy.io/dataset-v2: "true"``. A tag
with nothing label-safe in it gets no label; it is still recorded.

Annotations hold the exact values: ``argosy.io/project`` and ``argosy.io/owner`` (empty for
none) and ``argosy.io/tags`` (a JSON list). Every task reads them through Argo's simple tags
(``{{workflow.annotations.argosy.io/owner}}``: Argo looks the key up whole, dots and slash
included, and quotes the value for JSON) to record the run as it was submitted, so a
workflow created with ``kubectl create -f`` is recorded with the owner it was compiled for.
Both sit in ``workflowMetadata``, which Argo 4 applies to every workflow of the object (a
WorkflowTemplate's and a CronWorkflow's too) and knows when it validates such tags; the labels
are also on the object itself.
"""

from __future__ import annotations

import hashlib
import json
import re

from argosy.backends.argo import expressions
from argosy.errors import CompileError
from argosy.ownership import Ownership

LABEL_PROJECT = "argosy.io/project"
LABEL_OWNER = "argosy.io/owner"
TAG_LABEL_PREFIX = "tags.argosy.io/"
"""A tag's label is this prefix and the tag's label-safe form, with the value ``"true"``."""
ANNOTATION_PROJECT = "argosy.io/project"
ANNOTATION_OWNER = "argosy.io/owner"
ANNOTATION_TAGS = "argosy.io/tags"
MAX_LABEL = 63
"""Characters in a label value, and in the name part of a label key."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")
_ENDS = "-_."
_HASHED = 8
"""Hex digits of sha256 that keep two long texts apart once cut to fit."""


def label_safe(text: str) -> str:
    """``text`` as a label value: each run of other characters becomes one ``-``, the ends are
    trimmed to a letter or digit, and a text longer than 63 is cut and ends with a short hash
    of the whole. Empty when nothing is left."""
    safe = _UNSAFE.sub("-", text).strip(_ENDS)
    if len(safe) > MAX_LABEL:
        digest = hashlib.sha256(text.encode()).hexdigest()[:_HASHED]
        safe = f"{safe[: MAX_LABEL - _HASHED - 1].rstrip(_ENDS)}-{digest}"
    return safe


def labels(ownership: Ownership) -> dict[str, str]:
    """The project, owner and tag labels of a run's workflow."""
    found = {}
    if ownership.project is not None:
        found[LABEL_PROJECT] = ownership.project  # a project name is a label value already
    if ownership.owner is not None:
        found[LABEL_OWNER] = label_safe(ownership.owner)
    for tag in ownership.tags:
        if safe := label_safe(tag):
            found[f"{TAG_LABEL_PREFIX}{safe}"] = "true"
    return found


def annotations(ownership: Ownership) -> dict[str, str]:
    """The exact project, owner and tags, as the tasks read them.

    CompileError for a value holding ``{{`` or ``}}``: Argo would read it as a template tag.
    """
    values = {
        ANNOTATION_PROJECT: ownership.project or "",
        ANNOTATION_OWNER: ownership.owner or "",
        ANNOTATION_TAGS: json.dumps(list(ownership.tags), ensure_ascii=False),
    }
    for value in (ownership.owner or "", *ownership.tags):
        if "{{" in value or "}}" in value:
            raise CompileError(
                f"{value!r} holds '{{{{' or '}}}}', which Argo reads as a variable; a run on "
                "Argo cannot start with it as its owner or a tag (`argosy tag add` adds it later)"
            )
    return values


def task_args() -> list[str]:
    """The options of ``argosy task`` that tell a pod the run's project, owner and tags."""
    return [
        "--project",
        expressions.workflow_annotation(ANNOTATION_PROJECT),
        "--owner",
        expressions.workflow_annotation(ANNOTATION_OWNER),
        "--tags",
        expressions.workflow_annotation(ANNOTATION_TAGS),
    ]


__all__ = [
    "ANNOTATION_OWNER",
    "ANNOTATION_PROJECT",
    "ANNOTATION_TAGS",
    "LABEL_OWNER",
    "LABEL_PROJECT",
    "MAX_LABEL",
    "TAG_LABEL_PREFIX",
    "annotations",
    "label_safe",
    "labels",
    "task_args",
]
