"""Build Argosy's images with whichever builder this machine has: docker, podman or buildah.

`build_images` copies each image's context out of the checkout (exactly the files its tag was
computed from), builds parents first, passes this machine's pip settings through (index URLs as
build arguments, the CA bundle as the build secret ``pip-ca``, see
``components/images/pip-install.sh``) and optionally exports an archive per image for
``kind load image-archive`` or ``ctr images import``.

Images are named with their registry, ``docker.io/argosy/NAME:TAG``, which is what Kubernetes
makes of ``argosy/NAME:TAG``; every builder then finds a parent by the same name.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from argosy.errors import ConfigError, ImageError
from argosy.images.resolve import (
    context_files,
    reference,
    release_reference,
    source_root,
    spec,
    with_parents,
)

BUILDERS = ("docker", "podman", "buildah")
"""Builders in the order they are looked for."""

DEFAULT_BASE_IMAGE = "docker.io/library/python:3.11-slim-bookworm"
"""What ``argosy/base`` is built ``FROM`` unless told otherwise."""

REGISTRY = "docker.io"
"""The registry Kubernetes assumes for ``argosy/...`` references; images are named with it."""

CA_SECRET = "pip-ca"
"""The build secret holding a CA bundle for pip (mounted at ``/run/secrets/pip-ca``)."""

_PIP_CONFIG_FILES = ("/etc/pip.conf", ".config/pip/pip.conf", ".pip/pip.conf")
"""pip's global file, then its user files (relative to the home directory)."""
_PIP_BUILD_ARGS = {
    "index-url": "PIP_INDEX_URL",
    "extra-index-url": "PIP_EXTRA_INDEX_URL",
    "trusted-host": "PIP_TRUSTED_HOST",
}


@dataclass(frozen=True)
class Builder:
    """A container image builder found on this machine."""

    name: str
    executable: str

    def build_command(
        self,
        containerfile: Path,
        context: Path,
        tags: Sequence[str],
        build_args: Mapping[str, str],
        secrets: Mapping[str, Path],
    ) -> list[str]:
        """The argv that builds ``containerfile`` in ``context`` as every one of ``tags``."""
        if self.name == "buildah":  # no daemon: chroot isolation works without one, as root
            command = [self.executable, "bud", "--isolation", "chroot"]
        else:
            command = [self.executable, "build"]
        command += ["--network", "host", "-f", str(containerfile)]
        for tag in tags:
            command += ["-t", tag]
        for name, value in sorted(build_args.items()):
            command += ["--build-arg", f"{name}={value}"]
        for name, path in sorted(secrets.items()):
            command += ["--secret", f"id={name},src={path}"]
        return [*command, str(context)]

    def export_command(self, image: str, archive: Path) -> list[str]:
        """The argv that writes ``image`` to an archive that ``ctr images import`` reads."""
        if self.name == "buildah":
            return [self.executable, "push", image, f"oci-archive:{archive}:{image}"]
        if self.name == "podman":
            return [self.executable, "save", "--format", "oci-archive", "-o", str(archive), image]
        return [self.executable, "save", "-o", str(archive), image]

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment the builder runs with: ``env``, plus BuildKit for docker secrets."""
        return {**env, "DOCKER_BUILDKIT": "1"} if self.name == "docker" else dict(env)


def _usable(name: str, executable: str, env: Mapping[str, str]) -> bool:
    """Whether the builder works here (a docker client without a daemon does not)."""
    probe = [executable, "info"] if name in {"docker", "podman"} else [executable, "version"]
    try:
        done = subprocess.run(probe, env=dict(env), capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_builder(preferred: str | None = None, env: Mapping[str, str] | None = None) -> Builder:
    """The first usable builder of `BUILDERS`, or ``preferred``; ConfigError when none works."""
    env = os.environ if env is None else env
    if preferred is not None and preferred not in BUILDERS:
        raise ConfigError(f"unknown builder {preferred!r}; choose one of {', '.join(BUILDERS)}")
    tried = []
    for name in [preferred] if preferred else BUILDERS:
        executable = shutil.which(name, path=env.get("PATH"))
        if executable is None:
            tried.append(f"{name} (not installed)")
        elif _usable(name, executable, env):
            return Builder(name=name, executable=executable)
        else:
            tried.append(f"{name} (installed, but `{name} info` fails: is its daemon running?)")
    raise ConfigError(
        f"no usable image builder: {'; '.join(tried)}. Install and start docker or podman, or "
        "install buildah (`apt-get install buildah`), or choose one with --builder"
    )


@dataclass(frozen=True)
class PipSettings:
    """The pip configuration of this machine that an image build needs to reach its index."""

    build_args: dict[str, str] = field(default_factory=dict)
    """``PIP_INDEX_URL`` and friends; ``file://`` indexes are dropped (not visible in a build)."""
    ca_bundle: Path | None = None
    """A CA bundle pip must trust (a TLS-intercepting proxy, a private index)."""


def pip_settings(env: Mapping[str, str] | None = None) -> PipSettings:
    """Read pip's configuration as pip would: config files, then ``PIP_*`` variables."""
    env = os.environ if env is None else env
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    files = [home / path for path in _PIP_CONFIG_FILES]  # an absolute path stays as it is
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    config = configparser.ConfigParser()
    config.read([path for path in files if path.is_file()])
    values = dict(config["global"]) if config.has_section("global") else {}
    build_args = {}
    for option, variable in _PIP_BUILD_ARGS.items():
        value = env.get(variable, values.get(option, ""))
        kept = [item for item in value.split() if not item.startswith("file:")]
        if kept:
            build_args[variable] = " ".join(kept)
    certificate = (
        env.get("PIP_CERT") or values.get("cert") or env.get("REQUESTS_CA_BUNDLE")
        or env.get("SSL_CERT_FILE")
    )  # fmt: skip
    ca_bundle = Path(certificate) if certificate and Path(certificate).is_file() else None
    return PipSettings(build_args=build_args, ca_bundle=ca_bundle)


@dataclass(frozen=True)
class BuiltImage:
    """An image that was built: its name, full reference, and archive when one was exported."""

    name: str
    reference: str
    archive: Path | None = None


def prepare_context(name: str, root: Path, destination: Path) -> Path:
    """Copy image ``name``'s context (the files its tag covers) under ``destination``."""
    for file in context_files(spec(name), root):
        target = destination / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / file, target)
    return destination


def _run(command: Sequence[str], env: Mapping[str, str], log: TextIO | None, what: str) -> None:
    """Run a builder command, streaming its output to ``log``; ImageError with its tail."""
    tail: deque[str] = deque(maxlen=25)
    try:
        process = subprocess.Popen(
            command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    except OSError as error:
        raise ImageError(f"{what}: cannot start {command[0]}: {error}") from error
    assert process.stdout is not None
    with process:
        for line in process.stdout:
            tail.append(line)
            if log is not None:
                log.write(line)
    if process.returncode != 0:
        raise ImageError(
            f"{what} failed (exit {process.returncode}) running {' '.join(command[:3])} ...; "
            f"the last lines of its output:\n{''.join(tail)}"
        )


def build_images(
    names: Sequence[str],
    *,
    builder: Builder,
    base_image: str = DEFAULT_BASE_IMAGE,
    archive_dir: Path | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: TextIO | None = sys.stderr,
) -> list[BuiltImage]:
    """Build images ``names`` and their parents, parents first; export archives if asked.

    Each image is tagged with its content tag (what compiled workflows reference) and with the
    release version (``argosy/base:0.1.0``, the Helm chart's default image).

    ``base_image`` is what ``argosy/base`` starts from. With ``archive_dir`` each image is also
    written there as ``NAME-TAG.tar`` (OCI, or docker's format from ``docker save``).
    """
    root = root or source_root()
    env = builder.environment(os.environ if env is None else env)
    pip = pip_settings(env)
    secrets = {CA_SECRET: pip.ca_bundle} if pip.ca_bundle else {}
    built: dict[str, BuiltImage] = {}
    for name in with_parents(names):
        image = spec(name)
        full = reference(name, root, registry=REGISTRY)
        release = release_reference(name, registry=REGISTRY)
        parent = built[image.parent].reference if image.parent else base_image
        with tempfile.TemporaryDirectory(prefix=f"argosy-build-{name}-") as context:
            prepare_context(name, root, Path(context))
            command = builder.build_command(
                Path(context) / image.containerfile,
                Path(context),
                (full, release),
                {**pip.build_args, "BASE_IMAGE": parent},
                secrets,
            )
            _run(command, env, log, f"building {full}")
        archive = None
        if archive_dir is not None:
            archive_dir.mkdir(parents=True, exist_ok=True)
            archive = archive_dir / f"{name}-{full.rsplit(':', 1)[1]}.tar"
            archive.unlink(missing_ok=True)
            _run(builder.export_command(full, archive), env, log, f"exporting {full}")
        built[name] = BuiltImage(name=name, reference=full, archive=archive)
    return list(built.values())


__all__ = [
    "BUILDERS",
    "CA_SECRET",
    "DEFAULT_BASE_IMAGE",
    "REGISTRY",
    "Builder",
    "BuiltImage",
    "PipSettings",
    "build_images",
    "find_builder",
    "pip_settings",
    "prepare_context",
]
