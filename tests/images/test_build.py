"""argosy.images.build and `argosy build`: builder commands, detection, pip settings, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from argosy.errors import ConfigError, ImageError
from argosy.images.build import (
    Builder,
    build_images,
    find_builder,
    pip_settings,
    prepare_context,
)
from argosy.images.kind import load_command, load_into_kind
from argosy.images.resolve import context_files, source_root, spec

CONTEXT = Path("/ctx")
ARGS = {"BASE_IMAGE": "localhost/debian:12", "PIP_INDEX_URL": "https://mirror/simple"}
SECRETS = {"pip-ca": Path("/etc/ca.crt")}


def test_buildah_builds_in_a_chroot_with_args_and_secret():
    command = Builder("buildah", "/usr/bin/buildah").build_command(
        CONTEXT / "base.Containerfile",
        CONTEXT,
        ("docker.io/argosy/base:0123", "b:0.1.0"),
        ARGS,
        SECRETS,
    )
    assert command == [
        "/usr/bin/buildah", "bud", "--isolation", "chroot", "--network", "host",
        "-f", "/ctx/base.Containerfile", "-t", "docker.io/argosy/base:0123", "-t", "b:0.1.0",
        "--build-arg", "BASE_IMAGE=localhost/debian:12",
        "--build-arg", "PIP_INDEX_URL=https://mirror/simple",
        "--secret", "id=pip-ca,src=/etc/ca.crt", "/ctx",
    ]  # fmt: skip


@pytest.mark.parametrize("name", ["docker", "podman"])
def test_docker_and_podman_share_the_build_flags(name):
    command = Builder(name, name).build_command(CONTEXT / "f", CONTEXT, ("img:1",), ARGS, {})
    assert command[:2] == [name, "build"] and "--isolation" not in command
    assert command[-1] == "/ctx" and "--secret" not in command


def test_exports_are_archives_containerd_imports():
    archive = Path("/tmp/a.tar")
    image = "docker.io/argosy/base:1"
    assert Builder("buildah", "buildah").export_command(image, archive) == [
        "buildah",
        "push",
        image,
        f"oci-archive:/tmp/a.tar:{image}",
    ]
    assert Builder("podman", "podman").export_command("i:1", archive)[:4] == [
        "podman",
        "save",
        "--format",
        "oci-archive",
    ]
    assert Builder("docker", "docker").export_command("i:1", archive) == [
        "docker",
        "save",
        "-o",
        "/tmp/a.tar",
        "i:1",
    ]
    assert Builder("docker", "docker").environment({"A": "1"}) == {"A": "1", "DOCKER_BUILDKIT": "1"}


def test_a_docker_client_without_a_daemon_is_not_a_builder(tmp_path):
    if shutil.which("docker") is None:
        pytest.skip("no docker client on this machine")
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    with pytest.raises(ConfigError, match="daemon running"):
        find_builder("docker", env=env)


def test_no_builder_on_path_says_what_to_install(tmp_path):
    with pytest.raises(ConfigError, match="apt-get install buildah"):
        find_builder(env={"PATH": str(tmp_path)})
    with pytest.raises(ConfigError, match="docker, podman, buildah"):
        find_builder("kaniko")


@pytest.mark.images
def test_buildah_is_found_when_installed(image_tools):
    assert find_builder("buildah").name == "buildah"


def test_pip_settings_keep_network_indexes_and_the_ca_bundle(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\n"
        "index-url = https://pypi.mirror/simple\n"
        "extra-index-url = file:///opt/pypi/simple https://extra/simple\n"
        f"cert = {bundle}\n"
    )
    settings = pip_settings({"PIP_CONFIG_FILE": str(config), "HOME": str(tmp_path)})
    assert settings.build_args["PIP_INDEX_URL"] == "https://pypi.mirror/simple"
    assert settings.build_args["PIP_EXTRA_INDEX_URL"] == "https://extra/simple"
    assert settings.ca_bundle == bundle
    environment = {"PIP_CONFIG_FILE": str(config), "HOME": str(tmp_path)}
    overridden = pip_settings({**environment, "PIP_INDEX_URL": "https://env/simple"})
    assert overridden.build_args["PIP_INDEX_URL"] == "https://env/simple"


def test_the_context_is_exactly_the_hashed_files(tmp_path):
    prepare_context("components", source_root(), tmp_path)
    copied = sorted(
        path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()
    )
    assert copied == context_files(spec("components"), source_root())


def test_a_failing_build_raises_image_error_with_the_output_tail(tmp_path):
    failing = tmp_path / "fake-builder"
    failing.write_text("#!/bin/sh\necho 'step 3/7: no space left on device'\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(ImageError, match="no space left on device"):
        build_images(["base"], builder=Builder("buildah", str(failing)), env={}, log=None)


def test_kind_loads_each_archive_by_name(tmp_path):
    assert load_command(Path("/a/base.tar"), "dev") == [
        "kind",
        "load",
        "image-archive",
        "/a/base.tar",
        "--name",
        "dev",
    ]
    with pytest.raises(ConfigError, match="install kind"):
        load_into_kind([Path("/a/base.tar")], "dev", env={"PATH": str(tmp_path)})


def test_the_build_command_refuses_unknown_targets_in_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "argosy", "build", "nonsense"], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "neither an image" in done.stderr and "Traceback" not in done.stderr


def test_the_build_command_skips_a_pipeline_whose_steps_name_their_images(tmp_path):
    pipeline = tmp_path / "own_images.py"
    pipeline.write_text(
        "from argosy import pipeline, step\n"
        "@step(image='ghcr.io/me/tool:1.0')\n"
        "def hello() -> int:\n    return 1\n"
        "@pipeline\n"
        "def own_images():\n    return hello()\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "argosy", "build", str(pipeline)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "nothing to build" in done.stderr
