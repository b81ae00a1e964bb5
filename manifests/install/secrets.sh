#!/bin/sh
# The Secrets of manifests/install/argosy.yaml, with fresh random values, as YAML on stdout:
#   sh manifests/install/secrets.sh | kubectl create -f -
# Use `create`, not `apply`: new values for an existing install would lock the metadata
# service out of its database. Needs kubectl (offline: --dry-run=client).
set -eu

namespace="${ARGOSY_NAMESPACE:-argosy}"

random() {
    LC_ALL=C tr -dc 'A-Za-z0-9' </dev/urandom | head -c "$1"
}

secret() {
    kubectl create secret generic "$@" --namespace "$namespace" --dry-run=client -o yaml
}

secret argosy-s3 --from-literal=access-key="$(random 20)" --from-literal=secret-key="$(random 40)"
echo ---
secret argosy-metadata-token --from-literal=token="$(random 40)"
echo ---
secret argosy-postgres --from-literal=username=argosy --from-literal=password="$(random 32)"
