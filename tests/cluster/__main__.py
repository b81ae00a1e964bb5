"""``python -m tests.cluster up|down|env``: the test cluster by hand (``make cluster-up``).

``up`` builds what is missing, starts the cluster (or finds it running), installs the platform
and prints how to use it; ``env`` prints the ``export`` lines for this shell; ``down`` stops it
and removes its files.
"""

from __future__ import annotations

import sys

from tests.cluster import cluster


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "up"
    if command == "up":
        timings: dict[str, float] = {}
        cluster.up(timings)
        env = cluster.state_dir() / "env.sh"
        print(
            f"The cluster is up. In this shell:\n  . {env}\n"
            "  kubectl get nodes; kubectl -n argosy get pods\n"
            "  argosy submit pipelines/kmeans_sweep.py --namespace argosy --watch\n"
            "Stop it with `make cluster-down`.",
            file=sys.stderr,
        )
        for stage, seconds in timings.items():
            print(f"  {stage}: {seconds:.0f} s", file=sys.stderr)
        return 0
    if command == "env":
        found = cluster.running()
        if found is None:
            print("no test cluster is running: make cluster-up", file=sys.stderr)
            return 1
        print((cluster.state_dir() / "env.sh").read_text(), end="")
        return 0
    if command == "down":
        cluster.down()
        return 0
    print("usage: python -m tests.cluster up|down|env", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
