"""``argosy build``: build Argosy's images (or those a pipeline needs) and print their references.

Thin: names become images through `argosy.images.resolve`, `argosy.images.build` builds them
with the first usable builder (or ``--builder``), and ``--kind-cluster`` loads the exported
archives with `argosy.images.kind`. Build output streams to stderr; ``--json`` prints the
references as one JSON object on stdout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from argosy.cli.console import diagnostics, print_json, results
from argosy.errors import ConfigError
from argosy.images.build import BUILDERS, DEFAULT_BASE_IMAGE, build_images, find_builder
from argosy.images.kind import find_kind, load_into_kind
from argosy.images.resolve import IMAGES, images_for


def _image_names(targets: list[str]) -> list[str]:
    """Image names from arguments that are image names or pipeline references."""
    if not targets:
        return list(IMAGES)
    names: list[str] = []
    for target in targets:
        if target in IMAGES:
            names.append(target)
        elif target.endswith(".py") or ":" in target:
            from argosy.dsl import load_pipeline

            names.extend(images_for(load_pipeline(target).ir))
        else:
            raise ConfigError(
                f"{target!r} is neither an image ({', '.join(IMAGES)}) nor a pipeline "
                "(path/to/file.py, file.py:name or module:name)"
            )
    return list(dict.fromkeys(names))


def build(
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[COMPONENT]...",
            help=f"Images ({', '.join(IMAGES)}) or pipelines whose images to build; default all.",
        ),
    ] = None,
    builder: Annotated[
        str | None,
        typer.Option(help=f"One of {', '.join(BUILDERS)}; default: the first that works."),
    ] = None,
    kind_cluster: Annotated[
        str | None, typer.Option(help="Load the images into this kind cluster.")
    ] = None,
    base_image: Annotated[
        str, typer.Option(envvar="ARGOSY_BASE_IMAGE", help="What argosy/base is built FROM.")
    ] = DEFAULT_BASE_IMAGE,
    archive_dir: Annotated[
        Path | None, typer.Option(help="Also write each image as an archive here.")
    ] = None,
    source: Annotated[
        Path | None,
        typer.Option(help="The checkout to build from; default: the one argosy runs from."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
) -> None:
    """Build the container images steps run in, print their references, optionally load them."""
    console = diagnostics()
    names = _image_names(targets or [])
    if not names:
        console.print("every step names its own image: nothing to build")
        return
    chosen = find_builder(builder)
    if kind_cluster:
        find_kind()  # before a long build, not after it
    console.print(f"building {', '.join(names)} with [bold]{chosen.name}[/]")
    with tempfile.TemporaryDirectory(prefix="argosy-archives-") as scratch:
        archives = archive_dir or (Path(scratch) if kind_cluster else None)
        built = build_images(
            names, builder=chosen, base_image=base_image, archive_dir=archives, root=source
        )
        if kind_cluster:
            load_into_kind([image.archive for image in built if image.archive], kind_cluster)
            console.print(f"loaded into kind cluster [bold]{kind_cluster}[/]")
    for image in built:
        results(as_json).print(f"[green]built[/] {image.name}: [bold]{image.reference}[/]")
    if as_json:
        payload = {
            "builder": chosen.name,
            "images": {image.name: image.reference for image in built},
            "archives": {
                image.name: str(image.archive) for image in built if image.archive and archive_dir
            },
            "kind_cluster": kind_cluster,
        }
        print_json(payload)


def register(app: typer.Typer) -> None:
    """Add ``argosy build`` to the ``argosy`` app."""
    app.command("build")(build)


__all__ = ["build", "register"]
