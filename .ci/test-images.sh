#!/usr/bin/env bash
# The container image stage: build argosy/base and argosy/components from nothing with buildah
# (on a Debian root file system made by mmdebstrap), export OCI archives, import them into a
# containerd started by the test with the exact command kind runs on its nodes, and run component
# tasks inside the imported image, checking their artifact digests against local runs.
# Everything runs from tests/images/ (pytest marker `images`); this script installs the tools.
# Usage: .ci/test-images.sh [PYTEST_ARGS...]   (about 4 to 6 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."

# the project's virtual environment (make install), else whatever python is on PATH
if [[ -z "${PYTHON:-}" && -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; fi
python="${PYTHON:-python}"
.ci/apt-install.sh buildah mmdebstrap containerd runc

started=$SECONDS
ARGOSY_REQUIRE_IMAGE_TOOLS=1 "$python" -m pytest -m images tests/images -q -p no:cacheprovider \
    --durations=8 "$@"
echo "image stage passed in $((SECONDS - started)) s" >&2
