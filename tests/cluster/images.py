"""Every image the test cluster runs, built here with buildah and imported into its containerd.

Nothing is ever pulled: the pause image is compiled from the Kubernetes module's pause.c, the
Argo executor and MinIO images hold the binaries built from their Go modules, PostgreSQL is
Debian's package on a Debian root file system made by mmdebstrap, and ``argosy/base`` and
``argosy/components`` come from ``argosy build`` on that same Debian base, as a user builds them.

Images are kept in a buildah storage under ``.tools/cluster/buildah`` and exported once as OCI
archives under ``.tools/cluster/archives``, named by content or version, so a second run only
imports them (with the command kind runs on its nodes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from argosy.images.build import REGISTRY
from argosy.images.kind import NODE_IMPORT_COMMAND
from argosy.images.resolve import reference, release_reference
from tests.cluster.node import PAUSE_IMAGE, Node
from tests.cluster.toolchain import ARGO_VERSION, KUBERNETES_VERSION, module_dir, tools_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DEBIAN_MIRROR = "http://deb.debian.org/debian"
DEBIAN_IMAGE = "localhost/argosy-test/debian:bookworm"
ARGOEXEC_IMAGE = f"quay.io/argoproj/argoexec:{ARGO_VERSION}"
"""The name Argo's release gives the executor, built here from the same version's source."""
IMAGE_REPOSITORY = "localhost/argosy-test"


def _log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class ClusterImages:
    """References of the images the cluster's workloads use (all imported into the node)."""

    base: str
    components: str
    postgres: str
    minio: str
    argoexec: str = ARGOEXEC_IMAGE


class ImageBuilder:
    """buildah with a storage of its own under the tools directory."""

    def __init__(self) -> None:
        self.home = tools_dir() / "cluster" / "buildah"
        self.archives = tools_dir() / "cluster" / "archives"
        self.archives.mkdir(parents=True, exist_ok=True)
        config = self.home / "storage.conf"
        if not config.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            config.write_text(
                "[storage]\n"
                'driver = "overlay"\n'
                f'graphroot = "{self.home / "graph"}"\n'
                f'runroot = "{self.home / "run"}"\n'
            )
        self.env = {**os.environ, "CONTAINERS_STORAGE_CONF": str(config)}

    def run(self, *command: str | Path, timeout: float = 1800) -> str:
        done = subprocess.run(
            [str(part) for part in command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(str(p) for p in command[:4])} ... exited {done.returncode}:\n"
                f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
            )
        return done.stdout

    def exists(self, image: str) -> bool:
        done = subprocess.run(
            ["buildah", "inspect", "--type", "image", image],
            env=self.env,
            capture_output=True,
        )
        return done.returncode == 0

    def from_files(self, image: str, files: dict[str, Path], entrypoint: list[str]) -> None:
        """An image from scratch holding ``files`` (path in image -> file here) and a /tmp."""
        container = self.run("buildah", "from", "scratch").strip()
        try:
            with tempfile.TemporaryDirectory() as tree:
                for target, source in files.items():
                    destination = Path(tree) / target.lstrip("/")
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(source, destination)
                (Path(tree) / "tmp").mkdir(mode=0o1777)
                (Path(tree) / "tmp").chmod(0o1777)
                self.run("buildah", "add", container, tree, "/")
            self.run("buildah", "config", "--entrypoint", json.dumps(entrypoint),
                     "--env", "PATH=/usr/local/bin:/usr/bin:/bin", container)  # fmt: skip
            self.run("buildah", "commit", "--quiet", container, image)
        finally:
            self.run("buildah", "rm", container)

    def prune(self, repository: str, keep: set[str]) -> None:
        """Remove the images of ``repository`` other than ``keep`` (earlier checkouts' builds)."""
        listed = self.run("buildah", "images", "--format", "{{.Name}}:{{.Tag}}")
        for image in set(listed.split()) - keep:
            if image.rsplit(":", 1)[0] == repository:
                self.run("buildah", "rmi", "--force", image)

    def archive(self, image: str) -> Path:
        """The image as an OCI archive (exported once, named by its reference)."""
        name = image.replace("/", "_").replace(":", "_")
        path = self.archives / f"{name}.tar"
        if not path.exists():
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            self.run("buildah", "push", image, f"oci-archive:{partial}:{image}")
            partial.rename(path)
        return path


def _digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _debian(builder: ImageBuilder) -> str:
    if not builder.exists(DEBIAN_IMAGE):
        _log("bootstrapping a Debian bookworm root file system (mmdebstrap)")
        with tempfile.TemporaryDirectory() as scratch:
            rootfs = Path(scratch) / "rootfs.tar"
            builder.run(
                "mmdebstrap", "--variant=minbase",
                "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm", rootfs, DEBIAN_MIRROR,
            )  # fmt: skip
            container = builder.run("buildah", "from", "scratch").strip()
            builder.run("buildah", "add", container, rootfs, "/")
            builder.run("buildah", "config", "--cmd", "/bin/sh", container)
            builder.run("buildah", "commit", "--quiet", container, DEBIAN_IMAGE)
            builder.run("buildah", "rm", container)
    return DEBIAN_IMAGE


def _pause(builder: ImageBuilder) -> str:
    if not builder.exists(PAUSE_IMAGE):
        _log(f"building {PAUSE_IMAGE} from Kubernetes {KUBERNETES_VERSION}'s pause.c")
        source = module_dir("k8s.io/kubernetes", KUBERNETES_VERSION) / "build/pause/linux/pause.c"
        with tempfile.TemporaryDirectory() as scratch:
            binary = Path(scratch) / "pause"
            tag = PAUSE_IMAGE.rsplit(":", 1)[1]
            subprocess.run(
                ["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{tag}", "-o",
                 str(binary), str(source)],
                check=True, capture_output=True,
            )  # fmt: skip
            builder.from_files(PAUSE_IMAGE, {"/pause": binary}, ["/pause"])
    return PAUSE_IMAGE


def _argoexec(builder: ImageBuilder, binaries: dict[str, Path]) -> str:
    if not builder.exists(ARGOEXEC_IMAGE):
        _log(f"packaging {ARGOEXEC_IMAGE}")
        builder.from_files(
            ARGOEXEC_IMAGE, {"/bin/argoexec": binaries["argoexec"]}, ["/bin/argoexec"]
        )
    return ARGOEXEC_IMAGE


def _minio(builder: ImageBuilder, binaries: dict[str, Path]) -> str:
    image = f"{IMAGE_REPOSITORY}/minio:{_digest(binaries['minio'])}"
    if not builder.exists(image):
        _log(f"packaging {image}")
        builder.from_files(image, {"/usr/bin/minio": binaries["minio"]}, ["/usr/bin/minio"])
    return image


def _postgres(builder: ImageBuilder, debian: str) -> str:
    containerfile = HERE / "images" / "postgres.Containerfile"
    entrypoint = HERE / "images" / "postgres-entrypoint.sh"
    image = f"{IMAGE_REPOSITORY}/postgres:15-{_digest(containerfile, entrypoint)}"
    if not builder.exists(image):
        _log(f"building {image} (Debian's postgresql-15)")
        builder.run(
            "buildah", "bud", "--isolation", "chroot", "--network", "host",
            "--build-arg", f"BASE_IMAGE={debian}", "-f", containerfile, "-t", image,
            HERE / "images",
        )  # fmt: skip
    return image


def _argosy(builder: ImageBuilder, debian: str) -> tuple[str, str]:
    """argosy/base and argosy/components, built by ``argosy build`` as a user would."""
    base, components = (reference(name, registry=REGISTRY) for name in ("base", "components"))
    if not (builder.exists(base) and builder.exists(components)):
        _log("building argosy/base and argosy/components (argosy build, minutes when cold)")
        builder.run(
            sys.executable, "-m", "argosy", "build", "components", "--builder", "buildah",
            "--base-image", debian, "--json",
        )  # fmt: skip
    for name, current in (("base", base), ("components", components)):
        builder.prune(current.rsplit(":", 1)[0], {current, release_reference(name, REGISTRY)})
    return base, components


def build_images(binaries: dict[str, Path]) -> tuple[ClusterImages, list[Path]]:
    """Build (or find) every image; their references and OCI archives."""
    builder = ImageBuilder()
    debian = _debian(builder)
    base, components = _argosy(builder, debian)
    images = ClusterImages(
        base=base,
        components=components,
        postgres=_postgres(builder, debian),
        minio=_minio(builder, binaries),
    )
    every = [_pause(builder), _argoexec(builder, binaries), *vars(images).values()]
    archives = [builder.archive(image) for image in dict.fromkeys(every)]
    for stale in set(builder.archives.glob("*.tar")) - set(archives):
        stale.unlink()  # an earlier checkout's images
    return images, archives


def import_images(node: Node, archives: list[Path]) -> None:
    """Import the archives into the node's containerd exactly as kind does on its nodes."""
    command = [NODE_IMPORT_COMMAND[0], "--address", str(node.containerd_socket),
               *NODE_IMPORT_COMMAND[1:]]  # fmt: skip
    for archive in archives:
        with archive.open("rb") as stdin:
            done = subprocess.run(command, stdin=stdin, capture_output=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"ctr images import {archive.name}: {done.stderr.decode()[-2000:]}")


__all__ = ["ARGOEXEC_IMAGE", "ClusterImages", "build_images", "import_images"]
