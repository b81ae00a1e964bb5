"""Benchmark: a wide fan-out on the real test cluster, against the same pipeline run locally.

    python tests/benchmarks/bench_cluster.py [--width 1000]

Starts the cluster of ``tests/cluster`` (or reuses the one ``make cluster-up`` left running),
then runs ``pipelines/wide_foreach.py`` with ``--width`` tasks both ways and prints:

* the wall time of ``argosy submit --watch`` on the cluster (one pod per task, Argo's controller
  scheduling them on the one node) and of ``argosy run`` here (the baseline), and their ratio;
* the wall time per pod on the cluster;
* the metadata service's write requests per pod (from its Prometheus counter
  ``argosy_http_requests``, read before and after).

Needs what ``make test-cluster`` needs (root, Go, Debian's containerd); run it as root from the
repository root with the venv's bin and ``.tools/bin`` on PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from tests.cluster import cluster as test_cluster  # noqa: E402

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
REQUEST_LINE = re.compile(r"^argosy_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")


def metadata_writes(metadata_url: str) -> float:
    """Write requests the metadata service has answered so far (its Prometheus counter)."""
    with urllib.request.urlopen(f"{metadata_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        match = REQUEST_LINE.match(line)
        if match and re.search(r'method="(\w+)"', match["labels"])[1] in WRITES:
            total += float(match["value"])
    return total


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return time.monotonic() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1000)
    args = parser.parse_args()

    platform = test_cluster.up()
    pipeline = ["pipelines/wide_foreach.py", "--param", f"width={args.width}"]
    with tempfile.TemporaryDirectory() as home:
        local_env = {**os.environ, "ARGOSY_HOME": home}
        for name in list(local_env):
            if name.startswith(("ARGOSY_S3", "ARGOSY_METADATA")):
                del local_env[name]
        local_seconds, _ = timed(["argosy", "run", *pipeline, "--json"], local_env)

        env = {**os.environ, **platform.environment(), "ARGOSY_HOME": home}
        writes_before = metadata_writes(platform.metadata_url)
        cluster_seconds, stdout = timed(
            ["argosy", "submit", *pipeline, "-n", "argosy", "--watch", "--json"], env
        )
        writes = metadata_writes(platform.metadata_url) - writes_before
    run_id = json.loads(stdout)["run_id"]
    workflow = json.loads(
        subprocess.run(
            ["kubectl", "get", "workflow", run_id, "-n", "argosy", "-o", "json"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip
    pods = sum(1 for node in workflow["status"]["nodes"].values() if node["type"] == "Pod")

    print(f"wide_foreach, width {args.width}, {pods} pods on one 2-core node")
    print(f"  cluster (argosy submit --watch): {cluster_seconds:8.1f} s")
    print(f"  local   (argosy run, baseline):  {local_seconds:8.1f} s")
    print(f"  ratio cluster / local:           {cluster_seconds / local_seconds:8.1f}x")
    print(f"  wall time per pod:               {1000 * cluster_seconds / pods:8.0f} ms")
    print(f"  metadata writes per pod:         {writes / pods:8.2f}")


if __name__ == "__main__":
    main()
