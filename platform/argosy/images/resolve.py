"""Which container image a step runs in, and the content-derived tags of Argosy's own images.

Two images are built from a checkout (``components/images/``):

* ``argosy/base`` - the Argosy runtime and its dependencies, on a base image given as the build
  argument ``BASE_IMAGE``;
* ``argosy/components`` - ``argosy/base`` plus the scientific stack (scipy, scikit-learn,
  numba) and the ``components`` package.

A tag is the sha256 of what goes into the image: the Containerfile, every source file copied
in, the dependency pins, and the parent image's tag. The same checkout always gives the same
reference and any change gives a new one, so a reference never needs ``:latest``. A step runs
in its ``@step(image=...)`` when it names one, else in the components image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path

from argosy import ir
from argosy.errors import ConfigError

TAG_LENGTH = 16
"""Hex digits of the content digest kept in a tag."""

_SKIPPED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
_SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo", ".nbi", ".nbc"})  # bytecode, numba's cache


@dataclass(frozen=True)
class ImageSpec:
    """One image Argosy builds: where its Containerfile is and what it copies in."""

    name: str
    """Short name (``base``, ``components``), as ``argosy build NAME`` takes it."""
    repository: str
    """Image repository, without a tag (``argosy/base``)."""
    containerfile: str
    """Path of the Containerfile, relative to the checkout."""
    sources: tuple[str, ...]
    """Files and folders, relative to the checkout, that the build copies (its context)."""
    parent: str | None = None
    """Name of the image this one is built ``FROM`` (passed as ``BASE_IMAGE``)."""


_INSTALL_FILES = (
    "pyproject.toml",
    "constraints.txt",
    "README.md",
    "components/images/requirements.py",
    "components/images/pip-install.sh",
)

IMAGES: dict[str, ImageSpec] = {
    "base": ImageSpec(
        name="base",
        repository="argosy/base",
        containerfile="components/images/base.Containerfile",
        sources=(*_INSTALL_FILES, "platform/argosy"),
    ),
    "components": ImageSpec(
        name="components",
        repository="argosy/components",
        containerfile="components/images/components.Containerfile",
        sources=(*_INSTALL_FILES, "platform/argosy", "components"),
        parent="base",
    ),
}
"""Argosy's images by name, parents before children."""

DEFAULT_IMAGE = "components"
"""The image of steps that name none: it holds every dependency the components use."""


def source_root() -> Path:
    """The checkout Argosy's images are built from (where ``components/images/`` lives)."""
    root = Path(__file__).resolve().parents[3]  # platform/argosy/images/resolve.py
    if not (root / IMAGES["base"].containerfile).is_file():
        raise ConfigError(
            f"no Argosy checkout found at {root} (looked for {IMAGES['base'].containerfile}); "
            "building or naming Argosy's images needs the source tree: run from a clone of the "
            "repository installed with `pip install -e .`, or give steps an explicit image"
        )
    return root


def spec(name: str) -> ImageSpec:
    """The image called ``name``; ConfigError listing the known ones otherwise."""
    try:
        return IMAGES[name]
    except KeyError:
        raise ConfigError(f"unknown image {name!r}; Argosy builds: {', '.join(IMAGES)}") from None


def context_files(image: ImageSpec, root: Path) -> list[str]:
    """Every file of the build context, relative to ``root``, sorted (caches excluded)."""
    files: set[str] = {image.containerfile}
    for source in image.sources:
        path = root / source
        if path.is_file():
            files.add(source)
        elif path.is_dir():
            files.update(
                item.relative_to(root).as_posix()
                for item in path.rglob("*")
                if item.is_file() and _kept(item.relative_to(root))
            )
        else:
            raise ConfigError(f"image {image.name!r} copies {source}, which is missing from {root}")
    return sorted(files)


def _kept(relative: Path) -> bool:
    return not (_SKIPPED_PARTS.intersection(relative.parts) or relative.suffix in _SKIPPED_SUFFIXES)


def content_tag(name: str, root: Path | None = None) -> str:
    """The tag of image ``name``: a digest of its context and of its parent's tag."""
    root = root or source_root()
    return _content_tag(name, root, _fingerprint(root))


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """Path, size and mtime of every file any image copies: the cache key of `_content_tag`."""
    files = sorted({file for image in IMAGES.values() for file in context_files(image, root)})
    stats = ((file, (root / file).stat()) for file in files)
    return tuple((file, stat.st_size, stat.st_mtime_ns) for file, stat in stats)


@cache
def _content_tag(name: str, root: Path, fingerprint: tuple[tuple[str, int, int], ...]) -> str:
    image = spec(name)
    digest = hashlib.sha256()
    if image.parent is not None:
        digest.update(f"parent {_content_tag(image.parent, root, fingerprint)}\n".encode())
    for file in context_files(image, root):
        file_digest = hashlib.sha256((root / file).read_bytes()).hexdigest()
        digest.update(f"{file} {file_digest}\n".encode())
    return digest.hexdigest()[:TAG_LENGTH]


def reference(name: str, root: Path | None = None, registry: str | None = None) -> str:
    """``[registry/]argosy/NAME:TAG`` of one of Argosy's images."""
    return _named(name, content_tag(name, root), registry)


def release_reference(name: str, registry: str | None = None) -> str:
    """``[registry/]argosy/NAME:VERSION``: the image tagged with Argosy's release version."""
    return _named(name, version("argosy"), registry)


def _named(name: str, tag: str, registry: str | None) -> str:
    prefix = f"{registry.rstrip('/')}/" if registry else ""
    return f"{prefix}{spec(name).repository}:{tag}"


def default_image(root: Path | None = None, registry: str | None = None) -> str:
    """The reference of the image steps run in when they name none (the components image)."""
    return reference(DEFAULT_IMAGE, root, registry)


def image_for(step: ir.Step, root: Path | None = None, registry: str | None = None) -> str:
    """The image a step runs in: its own ``image``, else `default_image`."""
    return step.image or default_image(root, registry)


def with_parents(names: Iterable[str]) -> list[str]:
    """The images needed to build ``names``: each one's parents too, parents first."""
    needed: set[str] = set()
    for name in names:
        image: ImageSpec | None = spec(name)
        while image is not None:
            needed.add(image.name)
            image = spec(image.parent) if image.parent else None
    return [name for name in IMAGES if name in needed]


def images_for(pipeline: ir.Pipeline) -> list[str]:
    """Names of Argosy's images a pipeline runs in, with their parents, parents first."""
    if all(step.image for step in pipeline.steps):
        return []
    return with_parents([DEFAULT_IMAGE])


__all__ = [
    "DEFAULT_IMAGE",
    "IMAGES",
    "TAG_LENGTH",
    "ImageSpec",
    "content_tag",
    "context_files",
    "default_image",
    "image_for",
    "images_for",
    "reference",
    "release_reference",
    "source_root",
    "spec",
    "with_parents",
]
