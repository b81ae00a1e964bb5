"""Container images: which image each step runs in, and building and loading Argosy's own.

`resolve` names images (content-derived tags, `image_for`, `default_image`), `build` builds
them with docker, podman or buildah, `kind` loads their archives into a kind cluster.
"""

from __future__ import annotations

from argosy.images.build import Builder, BuiltImage, build_images, find_builder
from argosy.images.kind import load_into_kind
from argosy.images.resolve import (
    IMAGES,
    content_tag,
    default_image,
    image_for,
    images_for,
    reference,
)

__all__ = [
    "IMAGES",
    "Builder",
    "BuiltImage",
    "build_images",
    "content_tag",
    "default_image",
    "find_builder",
    "image_for",
    "images_for",
    "load_into_kind",
    "reference",
]
