"""The image CI stage: build both images from nothing, import them as kind does, run a task.

``argosy build components --builder buildah`` builds ``argosy/base`` on a Debian root file
system bootstrapped here, then ``argosy/components``, and exports OCI archives.
`argosy.images.kind` loads them into a containerd started by the test, through a ``kind`` that
runs the exact command kind runs on its nodes, and ``ctr run`` executes component tasks of
``pipelines/incremental.py`` inside the imported image, the store bind-mounted: each output
must have the same digest as the same task run locally.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from argosy.images.build import REGISTRY, prepare_context
from argosy.images.kind import NODE_IMPORT_COMMAND, load_into_kind
from argosy.images.resolve import IMAGES, reference, source_root
from tests.images.conftest import run

pytestmark = [pytest.mark.images, pytest.mark.slow, pytest.mark.timeout(900)]

PIPELINE = "incremental.py"
PARAMETERS = ("n_chunks=2", "chunk_size=400", "epochs=2")
TASKS = (
    ("chunk_indices", 0),
    ("regression_chunk", 0),
    ("regression_chunk", 1),
    ("incremental_fit", 0),
)
"""Component tasks run in both places, in dependency order: JSON, .npy and a pickled model."""


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """A still copy of what the images are built from (the checkout may change meanwhile)."""
    root, copy = source_root(), tmp_path_factory.mktemp("checkout")
    for image in IMAGES.values():
        prepare_context(image.name, root, copy)
    return copy


@pytest.fixture(scope="module")
def built(buildah_env, debian_image, snapshot, tmp_path_factory) -> dict:
    archives = tmp_path_factory.mktemp("archives")
    output = run(
        [
            sys.executable, "-m", "argosy", "build", "components",
            "--builder", "buildah", "--base-image", debian_image, "--source", str(snapshot),
            "--archive-dir", str(archives), "--json",
        ],
        buildah_env,
        timeout=900,
    )  # fmt: skip
    return json.loads(output)


def test_build_prints_content_tagged_references_and_exports_archives(built, snapshot):
    assert built["builder"] == "buildah"
    for name in ("base", "components"):
        assert built["images"][name] == reference(name, snapshot, registry=REGISTRY)
        assert not built["images"][name].endswith(":latest")
        assert Path(built["archives"][name]).stat().st_size > 50_000_000


@pytest.fixture(scope="module")
def kind_env(containerd, tmp_path_factory) -> dict[str, str]:
    """PATH with a `kind` for a one-node cluster whose node containerd is the test's.

    `kind load image-archive ARCHIVE --name CLUSTER` pipes the archive into
    `NODE_IMPORT_COMMAND` on each node; this one does exactly that against our containerd
    (no Docker engine here to run a real node in).
    """
    bin_dir = tmp_path_factory.mktemp("kind-bin")
    node_import = shlex.join(["ctr", "--address", str(containerd.socket), *NODE_IMPORT_COMMAND[1:]])
    kind = bin_dir / "kind"
    kind.write_text(
        "#!/bin/sh\n"
        'if [ "$1 $2 $4 $5" != "load image-archive --name argosy-test" ]; then\n'
        '    echo "unexpected kind arguments: $*" >&2; exit 2\n'
        "fi\n"
        f'exec {node_import} < "$3"\n'
    )
    kind.chmod(0o755)
    return {**containerd.env, "PATH": f"{bin_dir}:{containerd.env['PATH']}"}


@pytest.fixture(scope="module")
def imported(built, kind_env) -> str:
    """Both archives loaded into the cluster by `argosy.images.kind`; the components image."""
    archives = [Path(built["archives"][name]) for name in ("base", "components")]
    load_into_kind(archives, "argosy-test", env=kind_env)
    return built["images"]["components"]


def test_kind_import_makes_the_references_kubernetes_asks_for(
    built, snapshot, imported, containerd
):
    listed = containerd.ctr("--namespace=k8s.io", "images", "list", "--quiet").split()
    for name in ("base", "components"):
        # a pod's `image: argosy/NAME:TAG` resolves to docker.io/argosy/NAME:TAG
        assert built["images"][name] in listed
        assert built["images"][name] == f"docker.io/{reference(name, snapshot)}"


def _task_argv(pipeline: str, step: str, index: int, outputs: str) -> list[str]:
    argv = ["python", "-m", "argosy", "task", "--pipeline", pipeline, "--step", step]
    argv += ["--run-id", "parity", "--index", str(index), "--outputs-dir", outputs]
    for parameter in PARAMETERS:
        argv += ["--param", parameter]
    return argv


def _local_digests(home: Path) -> list[str]:
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "ARGOSY_HOME": str(home)}
    pipeline = str(source_root() / "pipelines" / PIPELINE)
    digests = []
    for number, (step, index) in enumerate(TASKS):
        outputs = home / f"out-{number}"
        argv = _task_argv(pipeline, step, index, str(outputs))
        run([sys.executable, *argv[1:]], env, timeout=300)
        digests.append((outputs / "digest").read_text().strip())
    return digests


def _image_digests(containerd, image: str, home: Path) -> list[str]:
    mounts = [
        ("--mount", f"type=bind,src={home},dst=/data,options=rbind:rw"),
        ("--mount", f"type=bind,src={source_root() / 'pipelines'},dst=/pipelines,options=rbind:ro"),
    ]
    digests = []
    for number, (step, index) in enumerate(TASKS):
        argv = _task_argv(f"/pipelines/{PIPELINE}", step, index, f"/data/out-{number}")
        containerd.ctr(
            "--namespace=k8s.io", "run", "--rm", "--snapshotter=overlayfs",
            *[part for mount in mounts for part in mount],
            "--env", "ARGOSY_HOME=/data", image, f"argosy-parity-{number}", *argv,
            timeout=300,
        )  # fmt: skip
        digests.append((home / f"out-{number}" / "digest").read_text().strip())
    return digests


def test_component_tasks_in_the_image_give_the_local_digests(imported, containerd, tmp_path):
    (tmp_path / "local").mkdir()
    (tmp_path / "image").mkdir()
    local = _local_digests(tmp_path / "local")
    inside = _image_digests(containerd, imported, tmp_path / "image")
    assert len(set(local)) == len(TASKS)
    assert inside == local


def test_the_image_runs_the_numba_kernels(imported, containerd):
    code = (
        "from components.data import bag_of_words; "
        "from components.cooccurrence import VARIANTS, same_counts; "
        "X = bag_of_words(300, 100, 20); r = [f(X) for f in VARIANTS.values()]; "
        "assert all(same_counts(r[0], x) for x in r); print('agree', r[0].nnz)"
    )
    output = containerd.ctr(
        "--namespace=k8s.io", "run", "--rm", "--snapshotter=overlayfs",
        imported, "argosy-numba", "python", "-c", code,
    )  # fmt: skip
    assert output.startswith("agree ")


def test_ctr_is_what_kind_runs():
    # `kind load image-archive` pipes the archive into exactly this on every node
    assert subprocess.list2cmdline(NODE_IMPORT_COMMAND) == (
        "ctr --namespace=k8s.io images import --all-platforms --digests --snapshotter=overlayfs -"
    )
