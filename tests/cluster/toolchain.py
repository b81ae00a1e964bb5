"""The test cluster's programs, built from their official Go modules and cached under ``.tools/``.

Each folder of ``tests/cluster/build/`` is a small Go module that pins one component (its
go.mod and go.sum: the versions, and the checksums the Go module proxy's downloads must match).
`ensure_built` builds a component's binaries once into ``.tools/cluster/<component>-<key>/``,
where the key is its version and a digest of its module files, so a second run builds nothing
and a changed pin builds anew. Go's own build cache makes a rebuild after a small change fast.

`module_dir` finds a downloaded module's files: Argo's CRDs come from there, and its JSON schema,
which `argo_schema` copies into ``.tools/argo/`` for the compiler's tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(__file__).with_name("build")
KUBERNETES_VERSION = "v1.35.4"
ARGO_MODULE = "github.com/argoproj/argo-workflows/v4"
ARGO_VERSION = "v4.0.5"


def tools_dir() -> Path:
    """Where built tools live: ``$ARGOSY_TOOLS_DIR`` (the Makefile's), else ``.tools/``."""
    return Path(os.environ.get("ARGOSY_TOOLS_DIR") or ROOT / ".tools")


@dataclass(frozen=True)
class AddedFile:
    """A file a dependency module lacks: the build uses a copy of the module with it added."""

    module: str
    version: str
    path: str
    """Where the file goes inside the module."""
    ours: str
    """Our file, relative to the component's folder."""


@dataclass(frozen=True)
class Component:
    """One Go module under tests/cluster/build/ and the binaries built from it."""

    name: str
    version: str
    binaries: tuple[str, ...]
    packages: str = "tool"
    """What ``go build`` builds: the module's ``tool`` directives, or ``.`` (its own main)."""
    ldflags: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=lambda: {"CGO_ENABLED": "0"})
    added: tuple[AddedFile, ...] = ()

    @property
    def source(self) -> Path:
        return BUILD_DIR / self.name

    def key(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(p for p in self.source.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(self.source)).encode() + b"\0" + path.read_bytes())
        digest.update(" ".join((*self.ldflags, *self.tags)).encode())
        return f"{self.version}-{digest.hexdigest()[:12]}"


_VERSION_FLAGS = tuple(
    f"-X k8s.io/component-base/version.{name}={value}"
    for name, value in (
        ("gitVersion", KUBERNETES_VERSION),
        ("gitMajor", "1"),
        ("gitMinor", KUBERNETES_VERSION.split(".")[1]),
    )
)
"""Without these the binaries say v0.0.0-master, which fails kubeVersion checks (Helm's too)."""

COMPONENTS = {
    component.name: component
    for component in (
        Component(
            "kubernetes",
            KUBERNETES_VERSION,
            (
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kubelet",
                "kube-proxy",
            ),
            ldflags=_VERSION_FLAGS,
            tags=("providerless",),
        ),
        Component("etcd", "v3.6.16", ("etcd",)),
        Component(
            "argo",
            ARGO_VERSION,
            ("workflow-controller", "argoexec"),
            added=(
                AddedFile(
                    ARGO_MODULE,
                    ARGO_VERSION,
                    "workflow/executor/osspecific/signal_linux.go",
                    "overlay/signal_linux.go.txt",
                ),
            ),
        ),
        Component("coredns", "v1.14.7", ("coredns",), packages="."),
        Component("minio", "RELEASE.2026-02-12", ("minio",)),
    )
}
"""Every component, in the order a cold build goes (the cluster's core first)."""


def _log(message: str) -> None:
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def ensure_built(name: str) -> dict[str, Path]:
    """The binaries of component ``name``, built now if the cache lacks this version."""
    component = COMPONENTS[name]
    target = tools_dir() / "cluster" / f"{component.name}-{component.key()}"
    paths = {binary: target / binary for binary in component.binaries}
    if all(path.is_file() for path in paths.values()):
        return paths
    if shutil.which("go") is None:
        raise RuntimeError("Go is not on PATH: the test cluster is built from Go modules")
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    started = time.monotonic()
    _log(f"building {', '.join(component.binaries)} {component.version} (cold: minutes)")
    # one binary: name it (Go would call etcd's "server"); several: Go names them by package
    output = staging / component.binaries[0] if len(component.binaries) == 1 else f"{staging}/"
    command = ["go", "build", "-o", str(output)]
    if component.tags:
        command += ["-tags", ",".join(component.tags)]
    env = {**os.environ, **component.env, "GOFLAGS": "-mod=readonly -buildvcs=false"}
    if component.added:
        env["GOWORK"] = str(_workspace(component, staging.parent / f"{component.name}-work"))
    command += ["-ldflags", " ".join(("-s", "-w", *component.ldflags)), component.packages]
    done = subprocess.run(
        command,
        cwd=component.source,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"go build of {name} failed:\n{done.stderr[-4000:]}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    _log(f"built {name} in {time.monotonic() - started:.0f} s")
    return paths


def _workspace(component: Component, directory: Path) -> Path:
    """A go.work that builds the component with writable copies of the modules it adds to."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    replaces = []
    for added in component.added:
        copy = directory / f"{added.module.replace('/', '_')}@{added.version}"
        if not copy.exists():
            shutil.copytree(module_dir(added.module, added.version), copy)
            for folder in (copy, *(p for p in copy.rglob("*") if p.is_dir())):
                folder.chmod(0o755)
            replaces.append(f"replace {added.module} {added.version} => {copy}\n")
        shutil.copyfile(component.source / added.ours, copy / added.path)
    work = directory / "go.work"
    go_version = (component.source / "go.mod").read_text().split("\ngo ")[1].split()[0]
    work.write_text(f"go {go_version}\n\nuse {component.source}\n\n{''.join(replaces)}")
    return work


def build_all() -> dict[str, Path]:
    """Every component's binaries, by binary name."""
    binaries: dict[str, Path] = {}
    for name in COMPONENTS:
        binaries.update(ensure_built(name))
    return binaries


def module_dir(module: str, version: str) -> Path:
    """The read-only source tree of a module from the Go module proxy (downloaded if needed)."""
    done = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        cwd=BUILD_DIR,
    )
    if done.returncode != 0:
        raise RuntimeError(f"go mod download {module}@{version} failed: {done.stderr[-2000:]}")
    return Path(json.loads(done.stdout)["Dir"])


def argo_file(relative: str) -> Path:
    """A file of Argo's module, e.g. ``manifests/base/crds/full``."""
    return module_dir(ARGO_MODULE, ARGO_VERSION) / relative


def argo_schema() -> Path:
    """Argo's own JSON schema of its objects, copied once from its module into ``.tools/``."""
    target = tools_dir() / "argo" / ARGO_VERSION / "schema.json"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(argo_file("api/jsonschema/schema.json"), partial)
        partial.rename(target)
    return target


__all__ = [
    "ARGO_VERSION",
    "COMPONENTS",
    "KUBERNETES_VERSION",
    "argo_file",
    "argo_schema",
    "build_all",
    "ensure_built",
    "module_dir",
    "tools_dir",
]
