"""argosy.images.resolve: content-derived tags, build contexts, the image of each step."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from argosy import ir
from argosy.errors import ConfigError
from argosy.images.resolve import (
    IMAGES,
    content_tag,
    context_files,
    default_image,
    image_for,
    images_for,
    reference,
    source_root,
    spec,
    with_parents,
)


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of the files the images are built from, to change without touching the repo."""
    root = source_root()
    for image in IMAGES.values():
        for file in context_files(image, root):
            target = tmp_path / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / file, target)
    return tmp_path


def test_tags_are_stable_hex_digests(checkout):
    tags = {name: content_tag(name, checkout) for name in IMAGES}
    assert all(len(tag) == 16 and int(tag, 16) >= 0 for tag in tags.values())
    assert tags == {name: content_tag(name, checkout) for name in IMAGES}
    assert tags["base"] != tags["components"]


def test_a_runtime_change_retags_both_images_a_component_change_only_components(checkout):
    before = {name: content_tag(name, checkout) for name in IMAGES}
    with (checkout / "components" / "data.py").open("a") as file:
        file.write("\n# changed\n")
    after_component = {name: content_tag(name, checkout) for name in IMAGES}
    assert after_component["base"] == before["base"]
    assert after_component["components"] != before["components"]
    with (checkout / "platform" / "argosy" / "config.py").open("a") as file:
        file.write("\n# changed\n")
    after_runtime = {name: content_tag(name, checkout) for name in IMAGES}
    assert after_runtime["base"] != before["base"]
    assert after_runtime["components"] != after_component["components"]


def test_caches_do_not_change_tags(checkout):
    before = content_tag("components", checkout)
    (checkout / "components" / "__pycache__").mkdir(exist_ok=True)
    (checkout / "components" / "__pycache__" / "data.cpython-311.pyc").write_bytes(b"\0")
    (checkout / "components" / "cooccurrence.x.nbi").write_bytes(b"\0")
    assert content_tag("components", checkout) == before
    assert "components/__pycache__/data.cpython-311.pyc" not in context_files(
        spec("components"), checkout
    )


def test_contexts_hold_what_the_containerfiles_copy():
    root = source_root()
    base = context_files(spec("base"), root)
    components = context_files(spec("components"), root)
    assert "components/images/base.Containerfile" in base
    assert "platform/argosy/runtime/__init__.py" in base
    component_modules = [file for file in base if file.startswith("components/")]
    assert all(file.startswith("components/images/") for file in component_modules)
    assert "components/cooccurrence.py" in components and "pyproject.toml" in components


def test_a_missing_source_is_a_config_error(checkout):
    (checkout / "constraints.txt").unlink()
    with pytest.raises(ConfigError, match=r"constraints\.txt"):
        content_tag("base", checkout)


def test_references_and_the_image_of_each_step(checkout):
    tag = content_tag("components", checkout)
    assert default_image(checkout) == f"argosy/components:{tag}"
    assert reference("base", checkout, registry="docker.io/") == (
        f"docker.io/argosy/base:{content_tag('base', checkout)}"
    )
    own = ir.Step(name="a", function="m:a", code_digest="0", image="ghcr.io/me/x:1")
    plain = ir.Step(name="b", function="m:b", code_digest="0")
    assert image_for(own, checkout) == "ghcr.io/me/x:1"
    assert image_for(plain, checkout) == default_image(checkout)
    assert images_for(ir.Pipeline(name="p", steps=[own, plain])) == ["base", "components"]
    assert images_for(ir.Pipeline(name="p", steps=[own])) == []


def test_parents_come_first_and_unknown_images_are_named():
    assert with_parents(["components"]) == ["base", "components"]
    assert with_parents(["base"]) == ["base"]
    with pytest.raises(ConfigError, match="base, components"):
        with_parents(["gpu"])
